"""The patient's record a date at a time: every date with something recorded, deleting parts
of a date, and putting a date back exactly as it was (the app's undo).

A date's parts are its POEM check-in (in an old store, possibly several), its daily numbers
(itch and sleep loss) and its mark (a flare flag and a note). Each method is one transaction;
a refusal (:class:`~eczema_tracker.store.errors.RecordInputError`) changes nothing.
"""

from __future__ import annotations

import sqlite3
from datetime import date

from eczema_tracker.core.poem import POEM_ITEMS
from eczema_tracker.store.base import StoreBase
from eczema_tracker.store.errors import RecordInputError
from eczema_tracker.store.record.values import (
    CHECKIN_COLUMNS,
    CheckinRecord,
    DailyRecord,
    DayMarkRecord,
    RecordedDay,
    check_range,
    checkin_from_row,
    daily_from_row,
    mark_from_row,
    parse_day,
)
from eczema_tracker.store.records import now_iso

__all__ = ["RecordDaysMixin"]


class RecordDaysMixin(StoreBase):
    """Record methods of the Store that work on whole dates (see the module docstring)."""

    def first_recorded_day(self) -> date | None:
        """The earliest date the record holds anything: a photo (not in the bin), a check-in,
        daily numbers, a flare or note, or the start of a treatment course; None when empty."""
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(day) FROM ("
                " SELECT MIN(substr(taken_at, 1, 10)) AS day FROM photo WHERE deleted_at IS NULL"
                " UNION ALL SELECT MIN(day) FROM checkin"
                " UNION ALL SELECT MIN(day) FROM daily_numbers"
                " UNION ALL SELECT MIN(day) FROM day_mark"
                " UNION ALL SELECT MIN(start_day) FROM course)"
            ).fetchone()
        if row is None or row[0] is None:
            return None
        try:
            return parse_day(row[0], allow_future=True)
        except RecordInputError:
            return None  # a malformed date (hand-edited database): no default from it

    def recorded_days(
        self, from_day: date | str | None = None, to_day: date | str | None = None
    ) -> list[RecordedDay]:
        """Every date from ``from_day`` to ``to_day`` (inclusive; open ends: all) with anything
        recorded, oldest first."""
        low, high = check_range(from_day, to_day)
        with self._lock:
            checkins = [
                checkin_from_row(r)
                for r in self._db.execute(
                    f"SELECT {CHECKIN_COLUMNS} FROM checkin WHERE day BETWEEN ? AND ? "
                    "ORDER BY day, id",
                    (low, high),
                ).fetchall()
            ]
            daily = [
                daily_from_row(r)
                for r in self._db.execute(
                    "SELECT day, itch, sleep_loss FROM daily_numbers WHERE day BETWEEN ? AND ?",
                    (low, high),
                ).fetchall()
            ]
            marks = [
                mark_from_row(r)
                for r in self._db.execute(
                    "SELECT day, flare, note FROM day_mark WHERE day BETWEEN ? AND ?", (low, high)
                ).fetchall()
            ]
        by_day: dict[date, list[CheckinRecord]] = {}
        for checkin in checkins:
            by_day.setdefault(checkin.day, []).append(checkin)
        daily_by_day = {d.day: d for d in daily}
        mark_by_day = {m.day: m for m in marks}
        days = sorted(set(by_day) | set(daily_by_day) | set(mark_by_day))
        return [
            RecordedDay(
                day, tuple(by_day.get(day, ())), daily_by_day.get(day), mark_by_day.get(day)
            )
            for day in days
        ]

    def recorded_day(self, day: date | str) -> RecordedDay:
        """Everything recorded on ``day`` (an empty :class:`RecordedDay` when nothing is)."""
        when = parse_day(day, allow_future=True)
        found = self.recorded_days(when, when)
        return found[0] if found else RecordedDay(when, (), None, None)

    def remove_from_day(
        self,
        day: date | str,
        *,
        poem: bool = False,
        numbers: bool = False,
        flare: bool = False,
        note: bool = False,
    ) -> RecordedDay:
        """Delete parts of what is recorded on ``day``: ``poem`` its check-in(s), ``numbers``
        the itch and sleep-loss numbers, ``flare`` the flare mark, ``note`` the note.

        Returns the date as it was (to say what went, and for :meth:`put_back_day`). Naming no
        part, or only parts the date does not have, is refused and removes nothing.
        """
        when = parse_day(day, allow_future=True)
        if not (poem or numbers or flare or note):
            raise RecordInputError(
                "Say what to delete: the POEM check-in, the numbers, the flare mark or the note."
            )
        key = when.isoformat()
        with self._lock:  # the read and the write, with no other thread between
            before = self.recorded_day(when)
            if not (
                (poem and before.checkins)
                or (numbers and before.daily is not None)
                or (flare and before.flare)
                or (note and before.note)
            ):
                raise RecordInputError(
                    f"Nothing of that is recorded on {when.day} {when:%b %Y}; nothing was deleted."
                )
            with self._write() as conn:
                if poem:
                    conn.execute("DELETE FROM checkin WHERE day = ?", (key,))
                if numbers:
                    conn.execute("DELETE FROM daily_numbers WHERE day = ?", (key,))
                if flare or note:
                    kept = (before.flare and not flare, "" if note else before.note)
                    if kept == (False, ""):
                        conn.execute("DELETE FROM day_mark WHERE day = ?", (key,))
                    else:
                        conn.execute(
                            "UPDATE day_mark SET flare = ?, note = ?, updated_at = ? WHERE day = ?",
                            (int(kept[0]), kept[1], now_iso(), key),
                        )
        return before

    def put_back_day(self, before: RecordedDay) -> None:
        """Make ``before.day`` exactly as ``before`` (read with :meth:`recorded_day`, or what
        :meth:`remove_from_day` returned): the check-ins with their ids and times, the numbers
        and the mark. Undoes a deletion or an edit of the date."""
        key = before.day.isoformat()
        stamp = now_iso()
        with self._write() as conn:
            conn.execute("DELETE FROM checkin WHERE day = ?", (key,))
            ids = [c.id for c in before.checkins]
            taken = conn.execute(
                f"SELECT count(*) FROM checkin WHERE id IN ({', '.join('?' * len(ids))})", ids
            ).fetchone()[0]
            for checkin in before.checkins:
                # Their ids again, unless a later check-in of another date has one of them
                # (SQLite gives a deleted highest id out again): then new ids, in the same order.
                _insert_checkin(conn, checkin, with_id=not taken)
            _put_daily(conn, key, before.daily, stamp)
            _put_mark(conn, key, before.mark, stamp)


def _insert_checkin(conn: sqlite3.Connection, checkin: CheckinRecord, *, with_id: bool) -> None:
    columns = ["day", *POEM_ITEMS, "created_at"]
    values: list[object] = [checkin.day.isoformat(), *checkin.answers, checkin.created_at]
    if with_id:
        columns.insert(0, "id")
        values.insert(0, checkin.id)
    conn.execute(
        f"INSERT INTO checkin ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        values,
    )


def _put_daily(conn: sqlite3.Connection, key: str, daily: DailyRecord | None, stamp: str) -> None:
    conn.execute("DELETE FROM daily_numbers WHERE day = ?", (key,))
    if daily is not None:
        conn.execute(
            "INSERT INTO daily_numbers (day, itch, sleep_loss, updated_at) VALUES (?, ?, ?, ?)",
            (key, daily.itch, daily.sleep_loss, stamp),
        )


def _put_mark(conn: sqlite3.Connection, key: str, mark: DayMarkRecord | None, stamp: str) -> None:
    conn.execute("DELETE FROM day_mark WHERE day = ?", (key,))
    if mark is not None:
        conn.execute(
            "INSERT INTO day_mark (day, flare, note, updated_at) VALUES (?, ?, ?, ?)",
            (key, int(mark.flare), mark.note, stamp),
        )
