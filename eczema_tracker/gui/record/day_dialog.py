"""A day's flare mark and note (Record ▸ Note for a day…): a date, a tick and a text.

Starts from what is stored for the date (read again when the date changes); the caller stores
:meth:`DayDialog.values`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.gui.record.checkin_dialog import DayValues, from_qdate, to_qdate
from eczema_tracker.gui.screen_fit import keep_on_screen
from eczema_tracker.gui.widgets.past_dates import limit_to_today


class DayDialog(QDialog):
    """Flare mark and note of one date (default today, not in the future)."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        today: date | None = None,
        day: date | None = None,
        day_values: Callable[[date], DayValues] | None = None,
    ) -> None:
        super().__init__(parent)
        keep_on_screen(self)
        self.setWindowTitle("Flare and note for a day")
        self._today = today or date.today()
        self._day_values = day_values
        self.date_edit = QDateEdit(to_qdate(day or self._today))
        self.date_edit.setDisplayFormat("d MMM yyyy")
        limit_to_today(self.date_edit, self._today)
        self.flare = QCheckBox("This day was a &flare")
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("What happened, what you tried, what you noticed…")
        self.note.setTabChangesFocus(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("&Date:", self.date_edit)
        form.addRow("", self.flare)
        form.addRow("&Note:", self.note)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.date_edit.dateChanged.connect(lambda _d: self._load())
        self.resize(460, 300)
        self._load()
        self.note.setFocus()

    def day(self) -> date:
        return from_qdate(self.date_edit.date())

    def values(self) -> tuple[date, bool, str]:
        """The date, its flare mark and its note (stripped)."""
        return self.day(), self.flare.isChecked(), self.note.toPlainText().strip()

    def _load(self) -> None:
        loaded = self._day_values(self.day()) if self._day_values else DayValues()
        self.flare.setChecked(loaded.flare)
        self.note.setPlainText(loaded.note)
