"""Today's numbers in one row of the main window: peak itch over the last 24 h and sleep loss
(NRS 0-10 each, "—": not given).

A change is saved a moment after the last key or click (so stepping 0→7 writes once), through
the ``save(day, itch, sleep_loss)`` callable the window gives (the record flow: the store
session, in the background); :meth:`DailyNumbersRow.show_values` shows what is stored. The row
follows the calendar: after midnight it shows the new day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from eczema_tracker.gui.dialogs.checkin_dialog import nrs_spin_box, spin_value

#: How long after the last change the numbers are saved (ms).
SAVE_DELAY_MS = 700


class DailyNumbersRow(QWidget):
    """Peak itch and sleep loss for today, saved as they change."""

    def __init__(
        self,
        save: Callable[[date, int | None, int | None], None],
        parent: QWidget | None = None,
        *,
        today: Callable[[], date] = date.today,
        open_checkin: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(parent)
        self._save = save
        self._today = today
        self._day = today()
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
        for box in (self.itch, self.sleep):
            box.valueChanged.connect(lambda _v: self._changed())
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

    def day(self) -> date:
        """The date the row is for."""
        return self._day

    def values(self) -> tuple[int | None, int | None]:
        """Itch and sleep loss as shown (None: not given)."""
        return spin_value(self.itch), spin_value(self.sleep)

    def show_values(self, itch: int | None, sleep_loss: int | None) -> None:
        """Show the stored numbers of :meth:`day` (not while a change waits to be saved)."""
        if self._timer.isActive():
            return
        self._day = self._today()
        self._set_title()
        self._loading = True
        self.itch.setValue(-1 if itch is None else itch)
        self.sleep.setValue(-1 if sleep_loss is None else sleep_loss)
        self._loading = False

    def pending(self) -> bool:
        """True while a change waits to be saved."""
        return self._timer.isActive()

    def save_now(self) -> None:
        """Save the numbers shown now (the timer does this by itself)."""
        self._timer.stop()
        itch, sleep = self.values()
        self._save(self._day, itch, sleep)
        self.state.setText("saved")

    def _changed(self) -> None:
        if self._loading:
            return
        if self._today() != self._day:  # past midnight: a change is for the new day
            self._day = self._today()
            self._set_title()
        self.state.setText("…")
        self._timer.start()

    def _set_title(self) -> None:
        self.title.setText(f"<b>Today</b> ({self._day.day} {self._day:%b}):")
