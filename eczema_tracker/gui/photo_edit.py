"""Edit a photo's date taken, body site and note (Photo ▸ Edit date, site and note…)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QWidget,
)

from eczema_tracker.gui.screen_fit import keep_on_screen
from eczema_tracker.gui.widgets.past_dates import limit_to_today


@dataclass(frozen=True)
class PhotoEdit:
    """What the person chose; a field left None is not changed."""

    taken_at: datetime | None = None
    site: str | None = None
    note: str | None = None


class PhotoEditDialog(QDialog):
    """Date and time taken, body site (any text, with the sites in use offered) and a note."""

    def __init__(
        self,
        *,
        taken_at: datetime | None,
        site: str,
        note: str,
        sites: list[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        keep_on_screen(self)
        self.setWindowTitle("Edit photo")
        self._original = (taken_at, site, note)
        self.when = QDateTimeEdit()
        self.when.setDisplayFormat("d MMMM yyyy, HH:mm")
        self.when.setToolTip("When the photo was taken")
        # A camera clock set wrong may have dated the photo later: keep that date as it is
        # (the edit must not change it unasked), but offer no later day than that.
        last = max(date.today(), taken_at.date()) if taken_at else date.today()
        limit_to_today(self.when, last)
        # PySide6 takes a datetime here at run time; its stubs do not list that overload.
        shown = QDateTime(taken_at) if taken_at else QDateTime.currentDateTime()  # type: ignore[call-overload]
        self.when.setDateTime(shown)
        self.site = QComboBox()
        self.site.setEditable(True)
        self.site.addItems(sorted(set(sites) | {site}))
        self.site.setCurrentText(site)
        self.note = QPlainTextEdit(note)
        self.note.setPlaceholderText("e.g. after two days of the new cream")
        self.note.setFixedHeight(80)
        form = QFormLayout(self)
        form.addRow("Taken on:", self.when)
        form.addRow("Body site:", self.site)
        form.addRow("Note:", self.note)
        hint = QLabel("Moving a photo to another body site makes it count for that site.")
        hint.setWordWrap(True)
        form.addRow(hint)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def edit(self) -> PhotoEdit:
        """The changes made (unchanged fields are None)."""
        taken, site, note = self._original
        new_when = cast(datetime, self.when.dateTime().toPython()).replace(second=0, microsecond=0)
        if taken is not None:
            old = taken.replace(tzinfo=None, second=0, microsecond=0)
            when_changed = new_when != old
        else:
            when_changed = True
        new_site = self.site.currentText().strip()
        new_note = self.note.toPlainText()
        if taken is not None and taken.tzinfo is not None:
            new_when = new_when.replace(tzinfo=taken.tzinfo)  # keep the photo's time zone
        return PhotoEdit(
            taken_at=new_when if when_changed else None,
            site=new_site if new_site and new_site != site else None,
            note=new_note if new_note != note else None,
        )
