"""Ask for the body site of photos being imported (editable: any text is fine)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget


def site_choices(common: Sequence[str], existing: Sequence[str]) -> list[str]:
    """The user's sites first, then the common suggestions, without repeats."""
    seen: dict[str, None] = {}
    for site in (*existing, *common):
        if site:
            seen.setdefault(site, None)
    return list(seen)


class SiteDialog(QDialog):
    """An editable combo of body sites, with the last one used preselected."""

    def __init__(
        self, choices: Sequence[str], default: str, *, count: int = 0, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Body site")
        what = f"these {count} photos" if count > 1 else "this photo"
        label = QLabel(
            f"Which body site do {what} show? Photos of the same site are compared "
            "with each other and share prompt masks. Type a new name if it is not listed."
        )
        label.setWordWrap(True)
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.addItems(list(choices))
        self.combo.setCurrentText(default)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.combo)
        layout.addWidget(buttons)

    def site(self) -> str:
        """The chosen or typed site."""
        return self.combo.currentText().strip()
