"""File ▸ Save a backup… and File ▸ Restore from a backup…: the store's own export and restore
in the background with progress.

A restore replaces the whole store, so the window lets go of it first: the store is closed, the
window is disabled while the backup is checked and put in place, and the store is opened again
afterwards (the old one, untouched, when the restore failed) and handed to the store session
(:meth:`~eczema_tracker.gui.store_session.StoreSession.replace_store`: every view is told
everything changed). The message says where the replaced library is kept (a dated backup zip
beside the library folder), and the thumbnails are made again in the background.

Before a restore replaces anything, the person is asked a three-way question: save a backup of
the library now where they choose (on another disk, say) and then restore, restore now (the
dated zip beside the library folder is still kept), or cancel. The folder of the last backup
saved or restored is remembered in the settings; both file dialogs open there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from eczema_tracker.app.settings import Settings
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback
from eczema_tracker.gui.flow_host import Messages
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.store import Store
from eczema_tracker.store.backup.export import ExportSummary, export_store
from eczema_tracker.store.backup.restore import RestoreSummary, restore_store


class BackupHost(Messages, Protocol):
    """What backup and restore need of the window."""

    def ask_backup_file(self, name: str | None = None) -> str | None:
        """Where to save a backup, suggesting the file name ``name`` (None: cancelled)."""
        ...

    def ask_restore_file(self) -> str | None: ...

    def ask_replace_library(self, text: str) -> str | None:
        """Before a restore: "backup" (save a backup first), "replace" or None (cancel)."""
        ...

    def save_settings(self) -> None:
        """Write the settings (a failure is told, never fatal)."""
        ...

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
        self,
        session: StoreSession,
        host: BackupHost,
        settings: Settings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.host = host
        self.settings = settings
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

    def _remember_folder(self, backup_file: str | Path) -> None:
        """Keep the folder of a backup saved or restored: the next file dialog opens there."""
        folder = str(Path(backup_file).resolve().parent)
        if self.settings.last_backup_folder != folder:
            self.settings.last_backup_folder = folder
            self.host.save_settings()

    def export_dialog(self) -> BackgroundTask | None:
        """Ask where, then write a backup zip of the whole store."""
        w = self.host
        target = w.ask_backup_file()
        if not target or self._busy():
            return None

        def done(summary: ExportSummary) -> None:
            w.show_message(
                "info",
                "Backup saved",
                f"The backup was saved to {summary.path} ({summary.files} files, "
                f"{summary.bytes / 1e6:.1f} MB).{_missing_text(summary)}",
            )

        return self._save_backup(target, done)

    def _save_backup(self, target: str, then: Callable[[ExportSummary], None]) -> BackgroundTask:
        """Write a backup zip of the whole store to ``target`` in the background, remember its
        folder, then ``then(summary)``; a failure is shown as "Backup not saved"."""
        data_dir = self.session.store.data_dir

        def op(progress: ProgressCallback, cancel: CancelCheck) -> ExportSummary:
            # the file dialog asked before an existing file is replaced
            return export_store(data_dir, target, overwrite=True, progress=progress, cancel=cancel)

        def done(summary: ExportSummary) -> None:
            self._remember_folder(summary.path)
            then(summary)

        self.task = (
            BackgroundTask(self._parent, op, done)
            .with_progress("Saving a backup")
            .titled("Backup not saved")
        )
        return self.task.run()

    def restore_dialog(self) -> BackgroundTask | None:
        """Ask for a backup zip and, after a clear question (back up first, replace, or
        cancel), replace the store with it."""
        w = self.host
        source = w.ask_restore_file()
        if not source or self._busy():
            return None
        question = _replace_question(self.session.store, Path(source).name)
        if question is None:  # an empty library: nothing to lose
            return self._restore(source)
        answer = w.ask_replace_library(question)
        if answer == "replace":
            return self._restore(source)
        if answer != "backup":
            return None
        target = self._ask_safety_backup_file(source)
        if not target:
            w.status("Library not restored: no backup was saved.")
            return None

        def backed_up(summary: ExportSummary) -> None:
            w.status(f"Backup saved to {summary.path}; restoring…")
            self._when_idle(lambda: self._restore(source, backup=summary))

        return self._save_backup(target, backed_up)

    def _ask_safety_backup_file(self, source: str) -> str | None:
        """Where to save the backup of the library before ``source`` is restored, under a
        name of its own; the backup being restored is refused (saving over it would lose it)
        and the person is asked again (None: cancelled)."""
        name = f"eczema-tracker-before-restore-{datetime.now():%Y-%m-%d-%H%M}.zip"
        while True:
            target = self.host.ask_backup_file(name)
            if not target or not _same_file(target, source):
                return target
            self.host.show_message(
                "warning",
                "Choose another file",
                f"{Path(source).name} is the backup being restored; "
                "save the library before it to another file.",
            )

    def _when_idle(self, then: Callable[[], object]) -> None:
        """``then()`` now, or once the writes queued meanwhile are stored (a restore lets go
        of the store)."""
        if not self.session.busy:
            then()
            return

        def fire() -> None:
            self.session.idle.disconnect(fire)
            then()

        self.session.idle.connect(fire)

    def _restore(self, source: str, backup: ExportSummary | None = None) -> BackgroundTask:
        """Replace the store with the backup ``source`` in the background; ``backup`` is the
        one saved just before, named in the message at the end."""
        w = self.host
        data_dir = self.session.store.data_dir
        w.release_store()  # the restore needs the store's writer lock

        def op(progress: ProgressCallback, cancel: CancelCheck) -> RestoreSummary:
            return restore_store(source, data_dir, force=True, progress=progress, cancel=cancel)

        def reopen() -> None:
            w.adopt_store(Store.open(data_dir))

        saved = f" The library before was saved to {backup.path}." if backup is not None else ""

        def done(summary: RestoreSummary) -> None:
            reopen()
            self._make_thumbnails()
            self._remember_folder(source)
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
                + f".{missing}{kept}{saved}",
            )
            self.restored.emit(summary)

        def failed(message: str) -> None:
            reopen()  # the old store is untouched when a restore fails
            w.show_message(
                "error", "Library not restored", f"{message} The library is as it was.{saved}"
            )

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


def _missing_text(summary: ExportSummary) -> str:
    """ " N file(s) were missing and are not in it." or ""."""
    if not summary.missing:
        return ""
    return f" {len(summary.missing)} file(s) were missing and are not in it."


def _replace_question(store: Store, backup_name: str) -> str | None:
    """The question before ``backup_name`` replaces the library (None: the library holds
    nothing, neither photos nor a record, so nothing can be lost)."""
    photos = len(store.photos()) + len(store.binned_photos())
    days = len(store.recorded_days())
    treatments = len(store.treatments())
    if not (photos or days or treatments):
        return None
    held = [f"{_count(photos, 'photo')}, with their masks, results and ratings"] if photos else []
    if days:
        held.append(f"{_count(days, 'day')} of check-ins, numbers and notes")
    if treatments:
        held.append(_count(treatments, "treatment"))
    return (
        f"Restoring replaces everything in the library now ({'; '.join(held)}) by what "
        f"{backup_name} holds. Files of your own in the library folder stay.\n\n"
        "The app keeps the library it replaces as a dated zip beside the library folder. "
        "You can also save a backup of it first, where you choose (on another disk, say)."
    )


def _count(n: int, noun: str) -> str:
    """ "1 photo", "3 photos"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _same_file(a: str, b: str) -> bool:
    """Whether the paths ``a`` and ``b`` name the same file (through links, too)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them is not there (yet)
        return Path(a).resolve() == Path(b).resolve()
