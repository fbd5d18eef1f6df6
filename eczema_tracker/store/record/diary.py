"""The patient's record beside the photos: POEM check-ins, daily numbers, treatments, day marks.

- A **check-in** is a POEM for the whole body on a date: seven answers 0-4 (``None``:
  unanswered); its total and band are computed on read by :mod:`eczema_tracker.core.poem`. A date
  has one check-in: a second is refused (:class:`CheckinExistsError`) unless it replaces the
  first. Stores from before that rule may hold several for a date; they are kept (nobody's entry
  is deleted behind their back), :meth:`RecordMixin.checkins` gives the newest of each date
  (``every_row=True``: all), and the person deletes the ones they don't want.
- **Daily numbers** (one row a date): peak itch over the last 24 h and sleep loss, NRS 0-10,
  each optional.
- **Treatments** (unique names, case-insensitively) of a kind in :data:`TREATMENT_KINDS`; a
  potency (:data:`POTENCIES`) only for a topical corticosteroid. **Courses** of a treatment
  run from a start date to an optional end date, not before the start.
- A **day mark** (one a date): a flare flag and a free-text note.

Every date is a calendar date (``datetime.date`` or ISO ``YYYY-MM-DD`` text); a date in the
future is refused. Bad input raises :class:`~eczema_tracker.store.errors.RecordInputError` with
one sentence, and nothing is stored: each method is one transaction (:meth:`RecordMixin.record_day`
writes a check-in, daily numbers and a day mark together, all or nothing).
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from typing import Any

from eczema_tracker.core.poem import POEM_ITEMS, check_poem_answers
from eczema_tracker.store.base import StoreBase
from eczema_tracker.store.errors import RecordInputError
from eczema_tracker.store.record.values import (
    CHECKIN_COLUMNS,
    COURSE_SELECT,
    MAX_TIMES_A_DAY,
    UNCHANGED,
    CheckinExistsError,
    CheckinRecord,
    CourseRecord,
    DailyRecord,
    DayEntry,
    DayMarkRecord,
    TreatmentRecord,
    Unchanged,
    check_kind_and_potency,
    check_note,
    check_nrs,
    check_range,
    check_treatment_name,
    check_whole_number,
    checkin_from_row,
    course_from_row,
    course_span_text,
    daily_from_row,
    mark_from_row,
    parse_day,
    treatment_from_row,
)
from eczema_tracker.store.records import now_iso
from eczema_tracker.store.rows import last_id

__all__ = ["RecordMixin"]


class RecordMixin(StoreBase):
    """Record methods of the Store (see the module docstring)."""

    # ------------------------------------------------------------------ check-ins
    def add_checkin(
        self,
        day: date | str,
        answers: list[int | None] | tuple[int | None, ...],
        *,
        replace: bool = False,
    ) -> CheckinRecord:
        """Store the POEM check-in (seven answers 0-4, ``None`` unanswered) of ``day``.

        A date that has one already: :class:`CheckinExistsError`, unless ``replace`` (then its
        answers become these; it keeps its id).
        """
        entry = self.record_day(day, answers=answers, replace_checkin=replace)
        return entry.checkin  # type: ignore[return-value]

    def checkins(
        self,
        from_day: date | str | None = None,
        to_day: date | str | None = None,
        *,
        every_row: bool = False,
    ) -> list[CheckinRecord]:
        """The check-ins from ``from_day`` to ``to_day`` (inclusive; open ends: all), oldest first.

        One a date: the newest, for a date that has several from before one a day was the rule
        (``every_row=True``: all of them, in the order made, e.g. for an export).
        """
        low, high = check_range(from_day, to_day)
        newest_only = "" if every_row else "AND id IN (SELECT max(id) FROM checkin GROUP BY day) "
        with self._lock:
            rows = self._db.execute(
                f"SELECT {CHECKIN_COLUMNS} FROM checkin WHERE day BETWEEN ? AND ? "
                f"{newest_only}ORDER BY day, id",
                (low, high),
            ).fetchall()
        return [checkin_from_row(r) for r in rows]

    def delete_checkin(self, checkin_id: int) -> None:
        """Delete one check-in (a mistake)."""
        with self._write() as conn:
            if conn.execute("DELETE FROM checkin WHERE id = ?", (int(checkin_id),)).rowcount == 0:
                raise RecordInputError(f"There is no check-in {checkin_id}.")

    # ------------------------------------------------------------------ daily numbers
    def set_daily(
        self,
        day: date | str,
        *,
        itch: int | None | Unchanged = UNCHANGED,
        sleep_loss: int | None | Unchanged = UNCHANGED,
    ) -> DailyRecord | None:
        """Set the itch and/or sleep-loss number (NRS 0-10, ``None``: clear) of ``day``.

        A field left :data:`UNCHANGED` keeps its stored value. Returns the date's numbers, or
        ``None`` when neither is set any more (the row is removed).
        """
        return self.record_day(day, itch=itch, sleep_loss=sleep_loss).daily

    def daily(
        self, from_day: date | str | None = None, to_day: date | str | None = None
    ) -> list[DailyRecord]:
        """The daily numbers from ``from_day`` to ``to_day`` (inclusive), oldest first."""
        low, high = check_range(from_day, to_day)
        with self._lock:
            rows = self._db.execute(
                "SELECT day, itch, sleep_loss FROM daily_numbers WHERE day BETWEEN ? AND ? "
                "ORDER BY day",
                (low, high),
            ).fetchall()
        return [daily_from_row(r) for r in rows]

    # ------------------------------------------------------------------ day marks
    def set_day_mark(
        self,
        day: date | str,
        *,
        flare: bool | Unchanged = UNCHANGED,
        note: str | Unchanged = UNCHANGED,
    ) -> DayMarkRecord | None:
        """Mark ``day`` as a flare (or not) and/or set its note (``""``: none).

        A field left :data:`UNCHANGED` keeps its stored value. Returns the mark, or ``None``
        when the date has neither a flare nor a note any more (the row is removed).
        """
        return self.record_day(day, flare=flare, note=note).mark

    def day_marks(
        self, from_day: date | str | None = None, to_day: date | str | None = None
    ) -> list[DayMarkRecord]:
        """The day marks from ``from_day`` to ``to_day`` (inclusive), oldest first."""
        low, high = check_range(from_day, to_day)
        with self._lock:
            rows = self._db.execute(
                "SELECT day, flare, note FROM day_mark WHERE day BETWEEN ? AND ? ORDER BY day",
                (low, high),
            ).fetchall()
        return [mark_from_row(r) for r in rows]

    # ------------------------------------------------------------------ one day, all or nothing
    def record_day(
        self,
        day: date | str,
        *,
        answers: list[int | None] | tuple[int | None, ...] | None = None,
        replace_checkin: bool = False,
        remove_checkin: bool = False,
        itch: int | None | Unchanged = UNCHANGED,
        sleep_loss: int | None | Unchanged = UNCHANGED,
        flare: bool | Unchanged = UNCHANGED,
        note: str | Unchanged = UNCHANGED,
    ) -> DayEntry:
        """In one transaction: the date's check-in (if ``answers``), numbers and mark.

        A date has one check-in: ``answers`` for a date that has one already raise
        :class:`CheckinExistsError` unless ``replace_checkin`` (then the newest check-in of the
        date takes these answers and keeps its id). ``remove_checkin`` (without ``answers``)
        deletes the date's newest check-in. Everything is checked before anything is written;
        bad input stores nothing.
        """
        if remove_checkin and answers is not None:
            raise RecordInputError("A check-in cannot be given and removed at once.")
        when = parse_day(day)
        items = None
        if answers is not None:
            try:
                items = check_poem_answers(answers)
            except ValueError as exc:
                raise RecordInputError(f"{exc}.") from None
        itch = check_nrs(itch, "the itch number")
        sleep_loss = check_nrs(sleep_loss, "the sleep-loss number")
        if flare is not UNCHANGED and not isinstance(flare, bool):
            raise RecordInputError(f"A flare mark is true or false, not {flare!r}.")
        if note is not UNCHANGED:
            note = check_note(note)
        key = when.isoformat()
        stamp = now_iso()
        with self._write() as conn:
            old = conn.execute(
                f"SELECT {CHECKIN_COLUMNS} FROM checkin WHERE day = ? ORDER BY id DESC LIMIT 1",
                (key,),
            ).fetchone()
            newest = None if old is None else checkin_from_row(old)
            checkin = None  # the check-in written, if any
            if items is not None:
                checkin = self._put_checkin(conn, when, items, newest, replace_checkin, stamp)
            elif remove_checkin and newest is not None:
                conn.execute("DELETE FROM checkin WHERE id = ?", (newest.id,))
            daily = self._upsert_daily(conn, key, itch, sleep_loss, stamp)
            mark = self._upsert_mark(conn, key, flare, note, stamp)
        return DayEntry(when, checkin, daily, mark)

    @staticmethod
    def _put_checkin(
        conn: sqlite3.Connection,
        when: date,
        items: tuple[int | None, ...],
        old: CheckinRecord | None,
        replace: bool,
        stamp: str,
    ) -> CheckinRecord:
        """Insert the date's check-in, or give ``old`` (the date's newest) these answers."""
        if old is None:
            cur = conn.execute(
                f"INSERT INTO checkin (day, {', '.join(POEM_ITEMS)}, created_at) "
                f"VALUES (?, {', '.join('?' * len(POEM_ITEMS))}, ?)",
                (when.isoformat(), *items, stamp),
            )
            return CheckinRecord(last_id(cur), when, items, stamp)
        if not replace:
            raise CheckinExistsError(old)
        conn.execute(
            f"UPDATE checkin SET {', '.join(f'{name} = ?' for name in POEM_ITEMS)} WHERE id = ?",
            (*items, old.id),
        )
        return CheckinRecord(old.id, when, items, old.created_at)

    def day_entry(self, day: date | str) -> DayEntry:
        """The date's newest check-in, daily numbers and day mark (each ``None`` if absent)."""
        key = parse_day(day, allow_future=True).isoformat()
        with self._lock:
            c = self._db.execute(
                f"SELECT {CHECKIN_COLUMNS} FROM checkin WHERE day = ? ORDER BY id DESC LIMIT 1",
                (key,),
            ).fetchone()
            d = self._db.execute(
                "SELECT day, itch, sleep_loss FROM daily_numbers WHERE day = ?", (key,)
            ).fetchone()
            m = self._db.execute(
                "SELECT day, flare, note FROM day_mark WHERE day = ?", (key,)
            ).fetchone()
        return DayEntry(
            date.fromisoformat(key),
            None if c is None else checkin_from_row(c),
            None if d is None else daily_from_row(d),
            None if m is None else mark_from_row(m),
        )

    @staticmethod
    def _upsert_daily(
        conn: sqlite3.Connection,
        key: str,
        itch: int | None | Unchanged,
        sleep_loss: int | None | Unchanged,
        stamp: str,
    ) -> DailyRecord | None:
        row = conn.execute(
            "SELECT day, itch, sleep_loss FROM daily_numbers WHERE day = ?", (key,)
        ).fetchone()
        old = (None, None) if row is None else (row[1], row[2])
        new = (
            old[0] if itch is UNCHANGED else itch,
            old[1] if sleep_loss is UNCHANGED else sleep_loss,
        )
        if new == old and row is None:
            return None
        if new == (None, None):
            conn.execute("DELETE FROM daily_numbers WHERE day = ?", (key,))
            return None
        if new != old:
            conn.execute(
                "INSERT INTO daily_numbers (day, itch, sleep_loss, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (day) DO UPDATE SET itch = excluded.itch, "
                "sleep_loss = excluded.sleep_loss, updated_at = excluded.updated_at",
                (key, *new, stamp),
            )
        return DailyRecord(date.fromisoformat(key), new[0], new[1])

    @staticmethod
    def _upsert_mark(
        conn: sqlite3.Connection,
        key: str,
        flare: bool | Unchanged,
        note: str | Unchanged,
        stamp: str,
    ) -> DayMarkRecord | None:
        row = conn.execute("SELECT flare, note FROM day_mark WHERE day = ?", (key,)).fetchone()
        old = (False, "") if row is None else (bool(row[0]), str(row[1]))
        new = (old[0] if flare is UNCHANGED else flare, old[1] if note is UNCHANGED else note)
        if new == (False, ""):
            conn.execute("DELETE FROM day_mark WHERE day = ?", (key,))
            return None
        if new != old or row is None:
            conn.execute(
                "INSERT INTO day_mark (day, flare, note, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (day) DO UPDATE SET flare = excluded.flare, note = excluded.note, "
                "updated_at = excluded.updated_at",
                (key, int(new[0]), new[1], stamp),
            )
        return DayMarkRecord(date.fromisoformat(key), new[0], new[1])

    # ------------------------------------------------------------------ treatments
    def add_treatment(self, name: str, kind: str, potency: str | None = None) -> TreatmentRecord:
        """Add a treatment to the list; its name must not be on it already (in any case)."""
        text = check_treatment_name(name)
        kind, potency = check_kind_and_potency(kind, potency)
        stamp = now_iso()
        with self._write() as conn:
            self._refuse_taken_name(conn, text, None)
            cur = conn.execute(
                "INSERT INTO treatment (name, kind, potency, created_at) VALUES (?, ?, ?, ?)",
                (text, kind, potency, stamp),
            )
            return TreatmentRecord(last_id(cur), text, kind, potency, stamp)

    def treatments(self) -> list[TreatmentRecord]:
        """The treatments, by name."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, name, kind, potency, created_at FROM treatment ORDER BY name, id"
            ).fetchall()
        return [treatment_from_row(r) for r in rows]

    def treatment(self, treatment_id: int) -> TreatmentRecord:
        """One treatment by id (``RecordInputError`` when there is none)."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, name, kind, potency, created_at FROM treatment WHERE id = ?",
                (int(treatment_id),),
            ).fetchone()
        if row is None:
            raise RecordInputError(f"There is no treatment {treatment_id}.")
        return treatment_from_row(row)

    def find_treatment(self, name: str) -> TreatmentRecord | None:
        """The treatment of this name (case and extra spaces ignored), or ``None``."""
        text = " ".join(str(name).split())
        with self._lock:
            row = self._db.execute(
                "SELECT id, name, kind, potency, created_at FROM treatment WHERE name = ?",
                (text,),
            ).fetchone()
        return None if row is None else treatment_from_row(row)

    def update_treatment(
        self,
        treatment_id: int,
        *,
        name: str | Unchanged = UNCHANGED,
        kind: str | Unchanged = UNCHANGED,
        potency: str | None | Unchanged = UNCHANGED,
    ) -> TreatmentRecord:
        """Change a treatment's name, kind and/or potency; its courses stay with it.

        Changing the kind away from topical corticosteroid drops the potency (unless one is
        given, which is refused).
        """
        with self._lock:  # the row read and the write, with no other thread between
            old = self.treatment(treatment_id)
            text = old.name if name is UNCHANGED else check_treatment_name(name)
            new_kind = old.kind if kind is UNCHANGED else kind
            if potency is UNCHANGED:
                potency = old.potency if new_kind == "topical_corticosteroid" else None
            new_kind, potency = check_kind_and_potency(new_kind, potency)
            with self._write() as conn:
                self._refuse_taken_name(conn, text, old.id)
                conn.execute(
                    "UPDATE treatment SET name = ?, kind = ?, potency = ? WHERE id = ?",
                    (text, new_kind, potency, old.id),
                )
            return TreatmentRecord(old.id, text, new_kind, potency, old.created_at)

    def delete_treatment(self, treatment_id: int, *, with_courses: bool = False) -> int:
        """Delete a treatment. One with courses is refused unless ``with_courses`` (then its
        courses go too, in the same transaction). Returns how many courses were deleted."""
        with self._lock:  # the row read and the write, with no other thread between
            old = self.treatment(treatment_id)
            with self._write() as conn:
                n = conn.execute(
                    "SELECT count(*) FROM course WHERE treatment_id = ?", (old.id,)
                ).fetchone()[0]
                if n and not with_courses:
                    raise RecordInputError(
                        f"'{old.name}' has {n} course(s) in the record; delete them first "
                        "(or delete the treatment with its courses)."
                    )
                conn.execute("DELETE FROM course WHERE treatment_id = ?", (old.id,))
                conn.execute("DELETE FROM treatment WHERE id = ?", (old.id,))
            return int(n)

    @staticmethod
    def _refuse_taken_name(conn: sqlite3.Connection, name: str, own_id: int | None) -> None:
        row = conn.execute("SELECT id, name FROM treatment WHERE name = ?", (name,)).fetchone()
        if row is not None and row[0] != own_id:
            raise RecordInputError(f"There is already a treatment called '{row[1]}'.")

    # ------------------------------------------------------------------ courses
    def add_course(
        self,
        treatment_id: int,
        start: date | str,
        end: date | str | None = None,
        times_a_day: int | None = None,
    ) -> CourseRecord:
        """Record a course of a treatment from ``start`` to ``end`` (``None``: still going)."""
        with self._lock:  # the row read and the write, with no other thread between
            treatment = self.treatment(treatment_id)
            first = parse_day(start, "the start date")
            last = None if end is None else parse_day(end, "the end date")
            if last is not None and last < first:
                raise RecordInputError(
                    f"A course cannot end ({last.isoformat()}) before it starts ({first.isoformat()})."
                )
            if times_a_day is not None:
                check_whole_number(times_a_day, "times a day", 1, MAX_TIMES_A_DAY)
            self._refuse_overlap(treatment.id, treatment.name, first, last, None)
            stamp = now_iso()
            with self._write() as conn:
                cur = conn.execute(
                    "INSERT INTO course (treatment_id, start_day, end_day, times_a_day, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        treatment.id,
                        first.isoformat(),
                        None if last is None else last.isoformat(),
                        times_a_day,
                        stamp,
                    ),
                )
            return CourseRecord(
                last_id(cur), treatment.id, treatment.name, first, last, times_a_day, stamp
            )

    def _refuse_overlap(
        self, treatment_id: int, name: str, first: date, last: date | None, own_id: int | None
    ) -> None:
        """Refuse a course of a treatment from ``first`` to ``last`` (``None``: ongoing) that
        shares a day with another of its courses: naming it (``end`` must know which one)."""
        for other in self.courses(treatment_id, first, last):
            if other.id != own_id:
                mine = CourseRecord(0, treatment_id, name, first, last, None, "")
                raise RecordInputError(
                    f"'{name}' already has a course {course_span_text(other)}, which overlaps "
                    f"this one ({course_span_text(mine).removeprefix('from ')}); end or change "
                    "that course first."
                )

    def course(self, course_id: int) -> CourseRecord:
        """One course by id (``RecordInputError`` when there is none)."""
        with self._lock:
            row = self._db.execute(COURSE_SELECT + "WHERE c.id = ?", (int(course_id),)).fetchone()
        if row is None:
            raise RecordInputError(f"There is no course {course_id}.")
        return course_from_row(row)

    def end_course(self, course_id: int, end: date | str | None) -> CourseRecord:
        """Set (or with ``None`` clear) the end date of a course; not before its start."""
        with self._lock:  # the row read and the write, with no other thread between
            old = self.course(course_id)
            last = None if end is None else parse_day(end, "the end date")
            if last is not None and last < old.start:
                raise RecordInputError(
                    f"A course cannot end ({last.isoformat()}) before it starts "
                    f"({old.start.isoformat()})."
                )
            # Ending a course earlier never makes it overlap another; running it longer (or
            # making it ongoing again) must not. Overlaps stored before this rule are kept.
            longer = old.end is not None and (last is None or last > old.end)
            if longer:  # only the added days count: an old overlap never blocks a change
                assert old.end is not None
                added = old.end + timedelta(days=1)
                self._refuse_overlap(old.treatment_id, old.treatment_name, added, last, old.id)
            with self._write() as conn:
                conn.execute(
                    "UPDATE course SET end_day = ? WHERE id = ?",
                    (None if last is None else last.isoformat(), old.id),
                )
            return CourseRecord(
                old.id,
                old.treatment_id,
                old.treatment_name,
                old.start,
                last,
                old.times_a_day,
                old.created_at,
            )

    def delete_course(self, course_id: int) -> None:
        """Delete one course (a mistake)."""
        with self._write() as conn:
            if conn.execute("DELETE FROM course WHERE id = ?", (int(course_id),)).rowcount == 0:
                raise RecordInputError(f"There is no course {course_id}.")

    def courses(
        self,
        treatment_id: int | None = None,
        from_day: date | str | None = None,
        to_day: date | str | None = None,
    ) -> list[CourseRecord]:
        """The courses (of one treatment if given) that ran on any day from ``from_day`` to
        ``to_day`` (inclusive; open ends: all), by start date."""
        low, high = check_range(from_day, to_day)
        sql = COURSE_SELECT + "WHERE c.start_day <= ? AND (c.end_day IS NULL OR c.end_day >= ?) "
        params: list[Any] = [high, low]
        if treatment_id is not None:
            sql += "AND c.treatment_id = ? "
            params.append(int(treatment_id))
        with self._lock:
            rows = self._db.execute(sql + "ORDER BY c.start_day, c.id", params).fetchall()
        return [course_from_row(r) for r in rows]
