"""Ask for the body site of photos (editable: any text is fine).

The import asks with nothing chosen, so Enter alone never files new photos under the site used
last time (knees under "left elbow crease"): the last site is first in the list (↓ picks it)
and named in the empty box, and OK waits for a site. Moving photos starts from their current
site, selected, so typing replaces it.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from eczema_tracker.gui.screen_fit import keep_on_screen


def site_choices(common: Sequence[str], existing: Sequence[str]) -> list[str]:
    """The user's sites first, then the common suggestions, without repeats."""
    seen: dict[str, None] = {}
    for site in (*existing, *common):
        if site:
            seen.setdefault(site, None)
    return list(seen)


class SiteDialog(QDialog):
    """An editable combo of body sites: ``default`` pre-filled and selected, or (no default)
    empty, with ``last_used`` first in the list and OK enabled once a site is given."""

    def __init__(
        self,
        choices: Sequence[str],
        default: str = "",
        *,
        count: int = 0,
        last_used: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        keep_on_screen(self)
        self.setWindowTitle("Body site")
        what = f"these {count} photos" if count > 1 else "this photo"
        last = f" Last time: {last_used} (↓ picks it)." if last_used and not default else ""
        label = QLabel(
            f"Which body site do {what} show? Photos of the same site are compared "
            f"with each other and share prompt masks. Type a new name if it is not listed.{last}"
        )
        label.setWordWrap(True)
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        listed = [last_used, *(c for c in choices if c != last_used)] if last_used else choices
        self.combo.addItems(list(listed))
        line = self.combo.lineEdit()  # an editable combo box always has one
        if default:
            self.combo.setCurrentText(default)
            if line is not None:
                line.selectAll()  # typing replaces it
        else:
            self.combo.setCurrentIndex(-1)
            self.combo.clearEditText()
            if line is not None:
                line.setPlaceholderText("Type or choose a site")
        self.label = label
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.combo.editTextChanged.connect(lambda _text: self._enable_ok())
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.combo)
        layout.addWidget(self.buttons)
        self._enable_ok()
        self.combo.setFocus()

    def site(self) -> str:
        """The chosen or typed site."""
        return self.combo.currentText().strip()

    def accept(self) -> None:
        """OK or Enter: only with a site given."""
        if self.site():
            super().accept()

    def _enable_ok(self) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.site()))
