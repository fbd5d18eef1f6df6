"""The main window's questions for fixing mistakes and for backups (tests replace these
methods on the window to answer without modal dialogs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QInputDialog

from eczema_tracker.gui.dialogs.site_dialog import SiteDialog, site_choices


class EditQuestionsMixin:
    """``ask_move_site``, ``ask_photo_edit``, ``ask_rename_site``, ``ask_backup_file`` and
    ``ask_restore_file`` of the main window."""

    def ask_move_site(self, count: int, current: str | None = None) -> str | None:
        """The body site to move ``count`` photos to (None: cancelled)."""
        choices = site_choices(self._common_sites(), self.store.sites())
        dialog = SiteDialog(choices, current or "", count=count, parent=self)
        dialog.setWindowTitle("Move to another body site")
        return dialog.site() if dialog.exec() else None

    def ask_photo_edit(self, details: Any):
        """Date taken, body site and note of the photo shown (a PhotoEdit; None: cancelled)."""
        from eczema_tracker.gui.photo_edit import PhotoEditDialog

        dialog = PhotoEditDialog(
            taken_at=details.taken_at,
            site=details.site,
            note=details.note,
            sites=self.store.sites(),
            parent=self,
        )
        return dialog.edit() if dialog.exec() else None

    def ask_rename_site(self, old: str) -> str | None:
        """The new name of body site ``old`` (None: cancelled)."""
        text, ok = QInputDialog.getText(
            self, "Rename body site", f"New name for '{old}' (every photo of it moves):", text=old
        )
        return text if ok else None

    def ask_backup_file(self) -> str | None:
        """Where to save a backup (None: cancelled)."""
        name, _ = QFileDialog.getSaveFileName(
            self, "Save a backup", str(Path.home() / "eczema-tracker-backup.zip"), "Backup (*.zip)"
        )
        return name or None

    def ask_restore_file(self) -> str | None:
        """A backup file to restore (None: cancelled)."""
        name, _ = QFileDialog.getOpenFileName(
            self, "Restore from a backup", str(Path.home()), "Backup (*.zip);;All files (*)"
        )
        return name or None
