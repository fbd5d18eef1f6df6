"""File ▸ Report for my doctor…: choose, ask where to save, build the PDF in the background,
offer to open it.

The report is read from the store and drawn off the GUI thread through the one background
helper (:class:`~eczema_tracker.gui.tasks.BackgroundTask`: progress and Cancel in the status
bar); the file is written atomically, so a cancelled or failed report leaves nothing behind.
Every question goes through a method (``ask_save_path``, ``ask_replace``, ``ask_open``) tests
can answer. The target follows the rules of every output
(:func:`~eczema_tracker.core.output_files.check_output_target`): an existing file is replaced only
after a question (the file dialog's own, or ours when ``.pdf`` was added to the name it asked
about); a target inside the store, a folder, a device or a link is refused in plain words.

The window's menu reaches it with :func:`show_report_dialog` (one flow per window).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QStandardPaths, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from eczema_tracker.app.report.data import gather_report
from eczema_tracker.app.report.pdf import ReportFile, write_report
from eczema_tracker.app.report.request import ReportRequest, default_paper, default_range
from eczema_tracker.core.output_files import OutputFileError, check_output_target
from eczema_tracker.gui.report.dialog import ReportDialog
from eczema_tracker.gui.tasks import BackgroundTask


def suggested_file_name(request: ReportRequest) -> str:
    """``eczema-report-2026-09-01-to-2026-11-30.pdf``."""
    return f"eczema-report-{request.from_day.isoformat()}-to-{request.to_day.isoformat()}.pdf"


class ReportFlow(QObject):
    """The report from the window: dialog → save path → background build → offer to open.

    ``window`` needs ``session.store`` (or ``store``) and ``show_message(kind, title, text)``
    (the main window has them); its status bar shows the progress when it is a task progress host.
    """

    reportWritten = Signal(object)  # noqa: N815 - ReportFile

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.setObjectName("report-flow")
        self.window = window
        self.dialog: ReportDialog | None = None
        self.task: BackgroundTask | None = None
        self._name = ""  # the name typed last time, offered again

    # -- questions (tests answer these) -------------------------------------------------------
    def ask_save_path(self, suggested: str) -> str | None:
        """Where to save the PDF (``None``: cancelled); ``.pdf`` is added when missing."""
        folder = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation
        ) or str(Path.home())
        path, _ = QFileDialog.getSaveFileName(
            self._parent(), "Save the report", str(Path(folder) / suggested), "PDF (*.pdf)"
        )
        return path or None

    def ask_replace(self, path: Path) -> bool:
        """Whether to replace the existing file ``path`` (named after the dialog asked)."""
        answer = QMessageBox.question(
            self._parent(),
            "Replace the file?",
            f"{path.name} already exists in {path.parent}. Replace it with the new report?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def ask_open(self, written: ReportFile) -> bool:
        """Whether to open the written report now."""
        pages = f"{written.pages} page{'s' if written.pages != 1 else ''}"
        answer = QMessageBox.question(
            self._parent(),
            "Report saved",
            f"The report ({pages}) was saved to {written.path}. Open it now?",
        )
        return answer == QMessageBox.StandardButton.Yes

    def open_file(self, path: Path) -> None:
        """Open the PDF in the person's PDF viewer."""
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    # -- the flow -----------------------------------------------------------------------------
    def start(self) -> ReportDialog | None:
        """Show the dialog (not modal: the flow goes on when it is accepted)."""
        if self.task is not None and not self.task.done:
            self.window.show_message(
                "info", "Please wait", "A report is being made; wait for it (or cancel it) first."
            )
            return None
        store = self._store()
        today = date.today()
        start, _ = default_range(store.first_recorded_day(), today)
        self.dialog = ReportDialog(
            store.sites(),
            today=today,
            from_day=start,
            paper=default_paper(),
            name=self._name,
            parent=self._parent(),
        )
        self.dialog.accepted.connect(self._accepted)
        self.dialog.open()
        return self.dialog

    def _accepted(self) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        request = dialog.request()
        self._name = request.name
        target = self.ask_save_path(suggested_file_name(request))
        if not target:
            return
        path = Path(target)
        if path.suffix.lower() != ".pdf":  # a name the file dialog did not ask about
            path = path.with_name(path.name + ".pdf")
            if path.is_file() and not path.is_symlink():
                if not self.ask_replace(path):
                    return
        try:  # at once, in plain words (the writer checks again)
            check_output_target(path, store_root=self._store().data_dir, overwrite=True)
        except OutputFileError as exc:
            self.window.show_message("warning", "Report not made", exc.message)
            return
        self.build(request, path)

    def build(self, request: ReportRequest, path: Path) -> BackgroundTask:
        """Gather and write the report in the background; on success offer to open it."""
        store = self._store()

        def op(progress: Any, cancel: Any) -> ReportFile:  # worker thread: no widgets here
            data = gather_report(store, request, progress=progress, cancel=cancel)
            # the person was asked before an existing file is replaced
            return write_report(data, path, overwrite=True, progress=progress, cancel=cancel)

        def done(written: ReportFile) -> None:
            self.reportWritten.emit(written)
            if self.ask_open(written):
                self.open_file(written.path)

        self.task = (
            BackgroundTask(self._parent(), op, done)
            .with_progress("Making the report for your doctor")
            .titled("Report not made")
        )
        return self.task.run()

    def _store(self) -> Any:
        """The window's store (through its store session when it has one: a restore may have
        replaced the store since the flow was made)."""
        session = getattr(self.window, "session", None)
        return session.store if session is not None else self.window.store

    def _parent(self) -> QWidget | None:
        return self.window if isinstance(self.window, QWidget) else None


def show_report_dialog(window: Any) -> ReportDialog | None:
    """File ▸ Report for my doctor…: the window's report flow (made on first use) starts."""
    flow = window.findChild(ReportFlow, "report-flow")
    if flow is None:
        flow = ReportFlow(window)
    return flow.start()
