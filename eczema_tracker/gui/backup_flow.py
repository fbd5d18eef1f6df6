"""File ▸ Save a backup… and File ▸ Restore from a backup…: the store's own export and restore
(through :mod:`eczema_tracker.app.store_api`), in the background with progress.

A restore replaces the whole store, so the window lets go of it first: the store is closed, the
window is disabled while the backup is checked and put in place, and the store is opened again
afterwards (the old one, untouched, when the restore failed) and handed to the store session
(:meth:`~eczema_tracker.gui.store_session.StoreSession.replace_store`: every view is told
everything changed). The message says where the replaced library is kept (a dated backup zip
beside the library folder), and the thumbnails are made again in the background.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from eczema_tracker.app.store_api import (
    ExportSummary,
    RestoreSummary,
    Store,
    export_store,
    open_store,
    restore_store,
)
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback
from eczema_tracker.gui.flow_host import Messages
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.tasks import BackgroundTask


class BackupHost(Messages, Protocol):
    """What backup and restore need of the window."""

    def ask_backup_file(self) -> str | None: ...

    def ask_restore_file(self) -> str | None: ...

    def release_store(self) -> None:
        """Let go of the store (a restore replaces it); wait disabled for :meth:`adopt_store`."""
        ...

    def adopt_store(self, store: Store) -> None:
        """Use ``store`` (opened again after the restore) everywhere."""
        ...


class BackupFlow(QObject):
    """Backup and restore from the main window."""

    restored = Signal(object)  # noqa: N815 - RestoreSummary, after the store was opened again
    thumbnails_made = Signal(int)  # noqa: N815 - after a restore, once every thumbnail is there

    def __init__(
        self, session: StoreSession, host: BackupHost, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.host = host
        self._parent = parent
        self.task: BackgroundTask | None = None

    def _busy(self) -> bool:
        running = [t for t in BackgroundTask._running if t.show_progress and not t.done]
        if running or self.session.busy:
            self.host.show_message(
                "info",
                "Please wait",
                "Another job is running; wait for it to finish (or cancel it) first.",
            )
        return bool(running) or self.session.busy

    def export_dialog(self) -> BackgroundTask | None:
        """Ask where, then write a backup zip of the whole store."""
        w = self.host
        target = w.ask_backup_file()
        if not target or self._busy():
            return None
        data_dir = self.session.store.data_dir

        def op(progress: ProgressCallback, cancel: CancelCheck) -> ExportSummary:
            # the file dialog asked before an existing file is replaced
            return export_store(data_dir, target, overwrite=True, progress=progress, cancel=cancel)

        def done(summary: ExportSummary) -> None:
            missing = (
                f" {len(summary.missing)} file(s) were missing and are not in it."
                if summary.missing
                else ""
            )
            w.show_message(
                "info",
                "Backup saved",
                f"The backup was saved to {summary.path} ({summary.files} files, "
                f"{summary.bytes / 1e6:.1f} MB).{missing}",
            )

        self.task = (
            BackgroundTask(self._parent, op, done)
            .with_progress("Saving a backup")
            .titled("Backup not saved")
        )
        return self.task.run()

    def restore_dialog(self) -> BackgroundTask | None:
        """Ask for a backup zip and, after a clear question, replace the store with it."""
        w = self.host
        source = w.ask_restore_file()
        if not source or self._busy():
            return None
        store = self.session.store
        count = len(store.photos()) + len(store.binned_photos())
        if count and not w.ask_question(
            "Replace the library?",
            f"Restoring replaces everything in the library now ({count} photos, with their "
            f"masks, results and ratings) by what {Path(source).name} holds; files of your own "
            "in the library folder stay, and the library now is kept as a dated backup beside "
            "that folder. Replace it?",
        ):
            return None
        data_dir = store.data_dir
        w.release_store()  # the restore needs the store's writer lock

        def op(progress: ProgressCallback, cancel: CancelCheck) -> RestoreSummary:
            return restore_store(source, data_dir, force=True, progress=progress, cancel=cancel)

        def reopen() -> None:
            w.adopt_store(open_store(data_dir))

        def done(summary: RestoreSummary) -> None:
            reopen()
            self._make_thumbnails()
            gap = tuple(getattr(summary, "missing", ()) or ())
            missing = (
                f" {len(gap)} file(s) were missing from the backup; their records were kept"
                " without the file."
                if gap
                else ""
            )
            kept = (
                f" The library it replaced is kept in {summary.replaced} (restore it from "
                "there, or delete it when you no longer need it)."
                if summary.replaced is not None
                else ""
            )
            w.show_message(
                "warning" if gap else "info",
                "Library restored",
                f"{summary.photos} photos were restored from {Path(source).name}"
                + (
                    f" ({binned} more are in the bin)"
                    if (binned := getattr(summary, "binned", 0))
                    else ""
                )
                + f".{missing}{kept}",
            )
            self.restored.emit(summary)

        def failed(message: str) -> None:
            reopen()  # the old store is untouched when a restore fails
            w.show_message("error", "Library not restored", f"{message} The library is as it was.")

        self.task = (
            BackgroundTask(self._parent, op, done)
            .with_progress("Restoring the backup", cancellable=True)
            .failure(failed)
            .on_cancelled(reopen)
        )
        return self.task.run()

    def _make_thumbnails(self) -> None:
        """A restored library has no thumbnails (backups hold none): make them in the
        background, so the library fills in at once and the store check finds none missing."""
        self.session.read(
            lambda store: store.make_missing_thumbnails(),
            self.thumbnails_made.emit,
            on_failure=lambda _message: None,  # a cache: the library makes each when shown
        )
