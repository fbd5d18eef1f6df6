"""Today's numbers in one row of the main window: peak itch over the last 24 h and sleep loss
(NRS 0-10 each, "—": not given).

The boxes change the diary only by an edit the person clearly made: they take the focus by a
click or Tab (the window's :class:`~eczema_tracker.gui.keyboard_home.KeyboardHome` sends focus
that Qt hands them by itself back to the library), Enter keeps the change and gives the
keyboard back to the library, Escape puts the stored numbers back. A change is saved a moment
after the last key or click (so stepping 0→7 writes once), and only when it differs from what
is stored, through the ``save(day, itch, sleep_loss)`` callable the window gives (the record
flow: the store session, in the background, one undo step); the row then shows what changed
(:meth:`DailyNumbersRow.show_saved`). :meth:`DailyNumbersRow.show_values` shows what is
stored. The row follows the calendar: after midnight it shows the new day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from eczema_tracker.gui.record.checkin_dialog import NOT_GIVEN, nrs_spin_box, spin_value

#: How long after the last change the numbers are saved (ms).
SAVE_DELAY_MS = 700
EDITING_HINT = "Enter: done · Esc: put back"

DailyNumbers = tuple[int | None, int | None]  # itch, sleep loss (None: not given)


def daily_change_text(before: DailyNumbers, after: DailyNumbers) -> str:
    """What changed, in words: "peak itch 5 → 2", "sleep loss — → 4" ("" when nothing did)."""
    parts = [
        f"{name} {NOT_GIVEN if old is None else old} → {NOT_GIVEN if new is None else new}"
        for name, old, new in zip(("peak itch", "sleep loss"), before, after, strict=True)
        if old != new
    ]
    return ", ".join(parts)


class DailyNumbersRow(QWidget):
    """Peak itch and sleep loss for today, saved as they change."""

    #: The person is done with the row (Enter or Escape in a box): the keyboard may go back.
    finished = Signal()

    def __init__(
        self,
        save: Callable[[date, int | None, int | None], None],
        parent: QWidget | None = None,
        *,
        today: Callable[[], date] = date.today,
        read: Callable[[date], DailyNumbers] | None = None,
        open_checkin: Callable[[], object] | None = None,
    ) -> None:
        """``save(day, itch, sleep_loss)`` stores a day's numbers; ``today()`` is the date;
        ``read(day)`` the stored numbers of a day, read again when an edit comes after
        midnight (None: the new day starts empty)."""
        super().__init__(parent)
        self._save = save
        self._today = today
        self._read = read
        self._day = today()
        self._stored: DailyNumbers = (None, None)  # what the store holds for the day shown
        self._loading = False
        self.title = QLabel()
        self.itch = nrs_spin_box("Worst itch over the last 24 hours: 0 none, 10 worst imaginable")
        self.sleep = nrs_spin_box("Sleep lost last night to eczema: 0 none, 10 no sleep at all")
        self.itch.setAccessibleName("Peak itch today, 0 to 10")
        self.sleep.setAccessibleName("Sleep loss last night, 0 to 10")
        self.state = QLabel()
        self.state.setStyleSheet("color: #555;")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.save_now)
        for box in self.boxes():
            box.valueChanged.connect(lambda _v, edited=box: self._changed(edited))
            box.installEventFilter(self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.title)
        layout.addWidget(QLabel("peak itch (0–10)"))
        layout.addWidget(self.itch)
        layout.addSpacing(10)
        layout.addWidget(QLabel("sleep loss (0–10)"))
        layout.addWidget(self.sleep)
        layout.addWidget(self.state)
        if open_checkin is not None:
            self.checkin_button = QPushButton("Weekly check-in…")
            self.checkin_button.setToolTip("Answer the 7 POEM questions about the last week")
            self.checkin_button.clicked.connect(open_checkin)
            layout.addSpacing(10)
            layout.addWidget(self.checkin_button)
        layout.addStretch(1)
        self._set_title()

    def boxes(self) -> tuple[QSpinBox, QSpinBox]:
        """The two number boxes (itch, sleep loss): they edit the diary."""
        return self.itch, self.sleep

    def day(self) -> date:
        """The date the row is for."""
        return self._day

    def values(self) -> DailyNumbers:
        """Itch and sleep loss as shown (None: not given)."""
        return spin_value(self.itch), spin_value(self.sleep)

    def show_values(self, itch: int | None, sleep_loss: int | None) -> None:
        """Show the stored numbers of :meth:`day` (not while a change waits to be saved)."""
        if self._timer.isActive():
            return
        self._day = self._today()
        self._set_title()
        self._stored = (itch, sleep_loss)
        self._put(self._stored)

    def show_saved(self, text: str, *, undone: bool = False) -> None:
        """Say what the last save (or its undo) changed ("peak itch 5 → 2")."""
        self.state.setText(f"{'undone' if undone else 'saved'}: {text}" if text else "")

    def pending(self) -> bool:
        """True while a change waits to be saved."""
        return self._timer.isActive()

    def save_now(self) -> None:
        """Save the numbers shown now, if they differ from the stored ones (the timer does this
        by itself)."""
        self._timer.stop()
        if self.values() == self._stored:
            self.state.setText(EDITING_HINT if self._editing() else "")
            return
        self._stored = self.values()
        self.state.setText("saving…")
        self._save(self._day, *self._stored)

    def put_back(self) -> None:
        """Forget a change not saved yet: show the stored numbers again."""
        self._timer.stop()
        self._put(self._stored)
        self.state.setText("")

    # -- Qt ------------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        kind = event.type()
        if kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.save_now()
                self.finished.emit()
                return True
            if event.key() == Qt.Key.Key_Escape:
                self.put_back()
                self.finished.emit()
                return True
        elif kind == QEvent.Type.FocusIn:
            if not self.pending():
                self.state.setText(EDITING_HINT)
        elif kind == QEvent.Type.FocusOut and not self._editing():
            if self.pending():
                self.save_now()  # leaving the row: save now, not a moment later elsewhere
            elif self.state.text() == EDITING_HINT:
                self.state.setText("")
        return False

    # -- internals -----------------------------------------------------------------------------
    def _editing(self) -> bool:
        return any(box.hasFocus() for box in self.boxes())

    def _put(self, numbers: DailyNumbers) -> None:
        self._loading = True
        for box, value in zip(self.boxes(), numbers, strict=True):
            box.setValue(-1 if value is None else value)
        self._loading = False

    def _changed(self, edited: QSpinBox) -> None:
        if self._loading:
            return
        if self._today() != self._day:  # past midnight: a change is for the new day
            self._day = self._today()
            self._stored = self._read(self._day) if self._read is not None else (None, None)
            self._set_title()
            # the box not edited shows the new day's number, not yesterday's (saved with it)
            self._loading = True
            for box, value in zip(self.boxes(), self._stored, strict=True):
                if box is not edited:
                    box.setValue(-1 if value is None else value)
            self._loading = False
        self.state.setText("…")
        self._timer.start()

    def _set_title(self) -> None:
        self.title.setText(f"<b>Today</b> ({self._day.day} {self._day:%b}):")
