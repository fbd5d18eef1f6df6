"""The main window's questions: import, models, settings, fixing mistakes and backups (tests
replace these methods on the window to answer without modal dialogs)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from eczema_tracker.app.settings import Settings
from eczema_tracker.core import imaging
from eczema_tracker.gui.dialogs.site_dialog import SiteDialog, site_choices
from eczema_tracker.store import Store
from eczema_tracker.store.records import COMMON_SITES

if TYPE_CHECKING:
    from eczema_tracker.gui.models.status_dialog import ModelStatusReport
    from eczema_tracker.gui.photo_edit import PhotoEdit
    from eczema_tracker.gui.trust.flow import TrustFlow
    from eczema_tracker.gui.widgets.photo_view import PhotoDetails
    from eczema_tracker.ml.sources import SourceStatus

#: Every suffix the importer tries (MPO and GIF included), then all files.
IMPORT_FILE_FILTER = (
    "Photos (" + " ".join(f"*{s}" for s in sorted(imaging.IMAGE_SUFFIXES)) + ");;All files (*)"
)


if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow as _Window
else:
    _Window = object


class EditQuestionsMixin(_Window):
    """``ask_site``, ``ask_import_files``, ``ask_model_action``, ``ask_model_status``,
    ``ask_settings``, ``ask_move_site``, ``ask_photo_edit``, ``ask_rename_site``,
    ``ask_backup_file``, ``ask_restore_file`` and ``ask_replace_library`` of the main window
    (which has ``store`` and ``settings``)."""

    settings: Settings

    if TYPE_CHECKING:  # the window's
        trust: TrustFlow

        @property
        def store(self) -> Store: ...

        def show_message(self, kind: str, title: str, text: str, details: str = "") -> None: ...

    @staticmethod
    def _common_sites() -> tuple[str, ...]:
        return COMMON_SITES

    def ask_site(self, count: int) -> str | None:
        """The body site of photos being imported (None: cancelled)."""
        sites = self.store.sites()
        last = self.settings.last_site if self.settings.last_site in sites else ""
        dialog = SiteDialog(
            site_choices(self._common_sites(), sites), count=count, last_used=last, parent=self
        )
        return dialog.site() if dialog.exec() else None

    def ask_import_files(self) -> list[str]:
        """Files chosen in a file dialog."""
        files, _ = QFileDialog.getOpenFileNames(
            self, "Import photos", str(Path.home()), IMPORT_FILE_FILTER
        )
        return files

    def ask_model_action(self, missing: list[tuple[str, SourceStatus]]) -> str | None:
        """ "download", "local" or None for models that are not on this computer."""
        from eczema_tracker.gui.models.status_dialog import ModelsDialog

        dialog = ModelsDialog(missing, self)
        dialog.exec()
        return dialog.choice

    def ask_model_status(self, report: ModelStatusReport) -> str | None:
        """Models ▸ Model status: "download", "local" (choose folders) or None (closed)."""
        from eczema_tracker.gui.models.status_dialog import ModelStatusDialog

        dialog = ModelStatusDialog(report, self)
        dialog.exec()
        return dialog.choice

    def ask_settings(self) -> bool:
        """Open the settings dialog; True when the user changed something."""
        from eczema_tracker.gui.dialogs.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, self)
        if not dialog.exec():
            return False
        dialog.apply_to(self.settings)
        self.save_settings()
        self.trust.refresh()  # other models or K: the kept agreements may not fit any more
        return True

    def save_settings(self) -> None:
        """Write the settings; a failure is told, never fatal."""
        try:
            self.settings.save()
        except OSError as exc:
            self.show_message(
                "warning", "Settings not saved", f"The settings could not be saved ({exc})."
            )

    def ask_move_site(self, count: int, current: str | None = None) -> str | None:
        """The body site to move ``count`` photos to (None: cancelled)."""
        choices = site_choices(self._common_sites(), self.store.sites())
        dialog = SiteDialog(choices, current or "", count=count, parent=self)
        dialog.setWindowTitle("Move to another body site")
        return dialog.site() if dialog.exec() else None

    def ask_photo_edit(self, details: PhotoDetails) -> PhotoEdit | None:
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

    def _backup_folder(self) -> Path:
        """Where the backup file dialogs open: the folder of the last backup saved or restored,
        while it exists, else the home folder."""
        last = self.settings.last_backup_folder
        return Path(last) if last and Path(last).is_dir() else Path.home()

    def ask_backup_file(self, name: str | None = None) -> str | None:
        """Where to save a backup, suggesting the file name ``name`` (default: a backup
        dated today) in the backup folder (None: cancelled)."""
        name = name or f"eczema-tracker-backup-{date.today().isoformat()}.zip"
        name, _ = QFileDialog.getSaveFileName(
            self, "Save a backup", str(self._backup_folder() / name), "Backup (*.zip)"
        )
        return name or None

    def ask_restore_file(self) -> str | None:
        """A backup file to restore (None: cancelled)."""
        name, _ = QFileDialog.getOpenFileName(
            self,
            "Restore from a backup",
            str(self._backup_folder()),
            "Backup (*.zip);;All files (*)",
        )
        return name or None

    def ask_replace_library(self, text: str) -> str | None:
        """Before a restore replaces the library: "backup" (save a backup first, the default
        button), "replace" or None (Cancel, or the box closed)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Replace the library?", text, parent=self)
        backup = box.addButton("Back up first…", QMessageBox.ButtonRole.AcceptRole)
        replace = box.addButton("Replace now", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(backup)
        box.exec()
        clicked = box.clickedButton()
        return "backup" if clicked is backup else "replace" if clicked is replace else None
