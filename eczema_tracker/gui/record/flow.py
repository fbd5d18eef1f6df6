"""The patient's record from the main window: check-ins, today's numbers, treatments, flares and
notes, and the list of the days recorded (edit, delete). Opens the dialogs and writes only
through the window's store session
(:class:`~eczema_tracker.gui.store_session.StoreSession`: in the background, in order; the
edits of :mod:`eczema_tracker.app.edits` report that the record changed, which the timeline,
today's row and the list follow). A check-in saved from its dialog, today's numbers and a day
deleted from the list push a command on the window's undo stack (Ctrl+Z puts the day back as
it was, Ctrl+Shift+Z makes the edit again).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import Qt

from eczema_tracker.app import edits
from eczema_tracker.app.changes import OpResult, StoreChanges
from eczema_tracker.core.poem import POEM_MAX_TOTAL
from eczema_tracker.gui.record.checkin_dialog import CheckinDialog, CheckinValues, DayValues
from eczema_tracker.gui.record.daily_numbers_row import (
    DailyNumbers,
    DailyNumbersRow,
    daily_change_text,
)
from eczema_tracker.gui.record.day_dialog import DayDialog
from eczema_tracker.gui.record.days_dialog import DayRow, RecordDaysDialog, poem_text
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.undo import EditHistory
from eczema_tracker.store.record.values import DayEntry, RecordedDay


class RecordFlow:
    """Record ▸ … of the main window ``w`` (which has ``store``, ``status`` and, from helper
    B, ``session``; without one the flow makes its own session on ``w.store``)."""

    def __init__(self, window: Any, *, today: Callable[[], date] = date.today) -> None:
        self.w = window
        self._today = today
        self._own_session: StoreSession | None = None
        self._connected: Any = None
        self.treatments_dialog: Any = None
        self.days_dialog: RecordDaysDialog | None = None
        self.daily_row = DailyNumbersRow(
            self.save_daily,
            today=today,
            read=lambda day: edits.daily_numbers(self.w.store, day),
            open_checkin=lambda: self.open_checkin(),
        )
        self._connect()
        self.refresh()

    # -- the session -------------------------------------------------------------------------
    @property
    def session(self) -> StoreSession:
        """The window's store session (or this flow's own, following ``w.store``)."""
        session = getattr(self.w, "session", None)
        if session is None:
            if self._own_session is None:
                self._own_session = StoreSession(self.w.store, self.w)
                panel = getattr(self.w, "timeline_panel", None)
                if panel is not None:  # nobody else tells the timeline
                    self._own_session.changed.connect(panel.on_store_changed)
            elif self._own_session.store is not self.w.store:
                self._own_session.replace_store(self.w.store)
            session = self._own_session
        if session is not self._connected:
            self._connect(session)
        return session

    def _connect(self, session: Any = None) -> None:
        session = session or getattr(self.w, "session", None)
        if session is None or session is self._connected:
            return
        session.changed.connect(self._store_changed)
        self._connected = session

    def _store_changed(self, changes: StoreChanges) -> None:
        if changes.record:
            self.refresh()
            if self.treatments_dialog is not None and self.treatments_dialog.pending == 0:
                self.treatments_dialog.reload()
            if self.days_dialog is not None and self.days_dialog.isVisible():
                self.days_dialog.reload()  # a hidden list is read again when it is opened

    def refresh(self) -> None:
        """Show today's stored numbers in the row."""
        entry = self.w.store.day_entry(self._today())
        daily = entry.daily
        self.daily_row.show_values(
            None if daily is None else daily.itch, None if daily is None else daily.sleep_loss
        )

    def day_values(self, day: date) -> DayValues:
        """What is stored for ``day``: POEM answers, numbers, flare, note (for the dialogs to
        start from)."""
        entry: DayEntry = self.session.store.day_entry(day)
        daily, mark = entry.daily, entry.mark
        return DayValues(
            None if daily is None else daily.itch,
            None if daily is None else daily.sleep_loss,
            False if mark is None else mark.flare,
            "" if mark is None else mark.note,
            None if entry.checkin is None else entry.checkin.answers,
        )

    def _tell(self, text: str) -> None:
        status = getattr(self.w, "status", None)
        if status is not None:
            status(text)

    # -- check-in ----------------------------------------------------------------------------
    def open_checkin(self, day: date | None = None, parent: Any = None) -> CheckinDialog:
        """Record ▸ Weekly check-in…: the POEM dialog of ``day`` (default today), with what the
        day has already (window-modal, not blocking)."""
        dialog = CheckinDialog(
            parent or self.w, today=self._today(), day=day, day_values=self.day_values
        )
        dialog.accepted.connect(lambda: self.save_checkin(dialog.values()))
        dialog.open()
        return dialog

    def save_checkin(self, values: CheckinValues) -> None:
        """Store the day's check-in (replacing the one it had) and its numbers, flare and note,
        all or nothing; Ctrl+Z puts the day back as it was."""
        answers = values.answers if any(a is not None for a in values.answers) else None

        def op(store: Any) -> OpResult[tuple[RecordedDay, DayEntry]]:
            return edits.record_day(
                store,
                values.day,
                answers=answers,
                replace_checkin=True,
                remove_checkin=values.remove_checkin,
                itch=values.itch,
                sleep_loss=values.sleep_loss,
                flare=values.flare,
                note=values.note,
            )

        def done(result: tuple[RecordedDay, DayEntry]) -> None:
            before, entry = result
            self._checkin_saved(entry, replaced=before.checkin is not None, cleared=answers is None)
            self._undoable(f"check-in of {_day_text(values.day)}", before, op)

        self.session.write(op, on_done=done, error_title="Check-in not saved")

    def _checkin_saved(self, entry: DayEntry, *, replaced: bool, cleared: bool) -> None:
        day = _day_text(entry.day)
        undo = " Ctrl+Z undoes it."
        if entry.checkin is None:
            what = "Removed the check-in" if replaced and cleared else "Saved the numbers"
            self._tell(f"{what} of {day}.{undo}")
            return
        score = entry.checkin.score
        saved = "changed" if replaced else "saved"
        if score.total is None:
            self._tell(
                f"Check-in of {day} {saved}, not scored ({score.unanswered} unanswered).{undo}"
            )
        else:
            self._tell(
                f"Check-in of {day} {saved}: POEM {score.total}/{POEM_MAX_TOTAL}, "
                f"{score.band}.{undo}"
            )

    def _undoable(
        self, what: str, before: RecordedDay, redo_op: Callable[[Any], OpResult[Any]]
    ) -> None:
        """Push "put ``before.day`` back as ``before``" on the window's undo stack (``redo_op``
        makes the edit again)."""
        history: EditHistory | None = getattr(self.w, "history", None)
        if history is None:
            return
        history.push(
            what,
            before,
            undo_op=lambda store, _value: edits.put_day_back(store, before),
            redo_op=redo_op,
        )

    # -- the days recorded -------------------------------------------------------------------
    def open_record_days(self) -> RecordDaysDialog:
        """Record ▸ Days recorded…: the list of every day recorded, to edit or delete (non-modal)."""
        if self.days_dialog is None:
            undo = getattr(self.w, "undo", None)
            self.days_dialog = RecordDaysDialog(
                lambda: self.session.store.recorded_days(), self.w, undo=undo
            )
            self.days_dialog.editRequested.connect(self._edit_day)
            self.days_dialog.deleteRequested.connect(self.delete_day_row)
        else:
            self.days_dialog.reload()
        self.days_dialog.show()
        self.days_dialog.raise_()
        self.days_dialog.activateWindow()
        self.days_dialog.table.setFocus(Qt.FocusReason.OtherFocusReason)
        return self.days_dialog

    def _edit_day(self, day: date) -> None:
        self.open_checkin(day, parent=self.days_dialog)

    def delete_day_row(self, row: DayRow) -> None:
        """Delete what a row of the list stands for: the whole day, or one older check-in of
        it; Ctrl+Z puts the day back."""

        def op(store: Any) -> OpResult[RecordedDay]:
            return edits.delete_recorded(store, row.day, row.older_checkin_id)

        def done(before: RecordedDay) -> None:
            day = _day_text(row.day)
            if row.older_checkin_id is None:
                what = _parts_text(before)
                self._tell(f"Deleted everything recorded on {day} ({what}). Ctrl+Z undoes it.")
                self._undoable(f"deletion of {day}", before, op)
            else:
                self._tell(f"Deleted an older check-in of {day}. Ctrl+Z undoes it.")
                self._undoable(f"deletion of an older check-in of {day}", before, op)

        self.session.write(op, on_done=done, error_title="Not deleted")

    # -- today's numbers ---------------------------------------------------------------------
    def save_daily(self, day: date, itch: int | None, sleep_loss: int | None) -> None:
        """Store the itch and sleep-loss numbers of ``day`` (None: clear): one undo step
        (Ctrl+Z), and the row and the status bar say what changed."""
        after: DailyNumbers = (itch, sleep_loss)

        def op(store: Any) -> OpResult[DailyNumbers]:
            return edits.set_daily_numbers(store, day, itch, sleep_loss)

        def done(before: DailyNumbers) -> None:
            what = daily_change_text(before, after)
            self.daily_row.show_saved(what)
            if not what:
                return
            when = "Today's" if day == self._today() else f"{day.day} {day:%b}:"
            history: EditHistory | None = getattr(self.w, "history", None)
            if history is not None:
                history.push(
                    f"{what} ({day.day} {day:%b})",
                    before,
                    undo_op=lambda store, _value: edits.set_daily_numbers(store, day, *before),
                    redo_op=op,
                    undone=lambda: self.daily_row.show_saved(what, undone=True),
                    redone=lambda: self.daily_row.show_saved(what),
                )
            self._tell(f"{when} {what} — Ctrl+Z undoes it.")

        self.session.write(op, on_done=done, error_title="Today's numbers not saved")

    # -- treatments, flares, notes -----------------------------------------------------------
    def open_treatments(self) -> Any:
        """Record ▸ Treatments…: the list and courses (non-modal)."""
        from eczema_tracker.gui.record.treatments_dialog import TreatmentsDialog

        if self.treatments_dialog is None:
            self.treatments_dialog = TreatmentsDialog(self.session, self.w, today=self._today())
        else:
            self.treatments_dialog.session = self.session
            self.treatments_dialog.reload()
        self.treatments_dialog.show()
        self.treatments_dialog.raise_()
        self.treatments_dialog.activateWindow()
        return self.treatments_dialog

    def mark_flare_today(self) -> None:
        """Record ▸ Mark today as a flare."""
        day = self._today()
        self.session.write(
            lambda store: edits.mark_day(store, day, flare=True),
            on_done=lambda _mark: self._tell("Today is marked as a flare (see the timeline)."),
            error_title="Flare not saved",
        )

    def open_day_note(self, day: date | None = None) -> DayDialog:
        """Record ▸ Note for a day…: a date's flare mark and note (window-modal)."""
        dialog = DayDialog(self.w, today=self._today(), day=day, day_values=self.day_values)
        dialog.accepted.connect(lambda: self.save_day_mark(*dialog.values()))
        dialog.open()
        return dialog

    def save_day_mark(self, day: date, flare: bool, note: str) -> None:
        """Store a date's flare mark and note."""
        self.session.write(
            lambda store: edits.record_day(store, day, flare=flare, note=note),
            on_done=lambda _e: self._tell(f"Saved the flare mark and note of {day.day} {day:%b}."),
            error_title="Note not saved",
        )


def _day_text(day: date) -> str:
    """``2 Mar 2026``."""
    return f"{day.day} {day:%b %Y}"


def _parts_text(day: RecordedDay) -> str:
    """``POEM 18 (severe), itch 6, flare, a note``: what the day had."""
    parts = [f"POEM {poem_text(c)}" for c in reversed(day.checkins)]
    if day.itch is not None:
        parts.append(f"itch {day.itch}")
    if day.sleep_loss is not None:
        parts.append(f"sleep loss {day.sleep_loss}")
    if day.flare:
        parts.append("flare")
    if day.note:
        parts.append("a note")
    return ", ".join(parts) or "nothing"
