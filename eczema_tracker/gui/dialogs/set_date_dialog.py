"""Set one date for photos whose dates were guessed from their files (after an import).

Phone photos copied by some tools all carry the day they were copied; the person knows the
day they were taken. The picker offers no day in the future (greyed out).
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QLabel, QWidget

from eczema_tracker.gui.screen_fit import keep_on_screen
from eczema_tracker.gui.widgets.past_dates import limit_to_today


class SetDateDialog(QDialog):
    """One date for ``count`` photos; :meth:`day` is the one chosen."""

    def __init__(self, count: int, parent: QWidget | None = None, *, today: date | None = None):
        super().__init__(parent)
        keep_on_screen(self)
        self.setWindowTitle("Set one date")
        today = today or date.today()
        photos = "this photo" if count == 1 else f"these {count} photos"
        intro = QLabel(
            f"The date of {photos} came from the file, not the camera. Choose the day "
            f"{'it was' if count == 1 else 'they were'} taken; each keeps its time of day."
        )
        intro.setWordWrap(True)
        self.day_edit = QDateEdit(QDate(today.year, today.month, today.day))
        self.day_edit.setDisplayFormat("d MMM yyyy")
        self.day_edit.setToolTip("The day the photos were taken")
        limit_to_today(self.day_edit, today)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(intro)
        form.addRow("&Taken on:", self.day_edit)
        form.addRow(buttons)
        self.day_edit.setFocus()

    def day(self) -> date:
        """The day chosen."""
        value = self.day_edit.date()
        return date(value.year(), value.month(), value.day())
