"""Status-bar widget showing the running background tasks: label, progress bar, Cancel."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from eczema_tracker.gui.tasks import BackgroundTask


class TaskProgressWidget(QWidget):
    """Shows the most recently started task that is still running; hidden when none runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks: list[BackgroundTask] = []
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(
            "Stop this job at the next safe point; nothing half-done is kept"
        )
        self.cancel_button.clicked.connect(self.cancel_current)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.hide()

    def show_task(self, task: BackgroundTask) -> None:
        """Start showing ``task`` until it finishes."""
        self._tasks.append(task)
        task.progressed.connect(
            lambda done, total, msg, t=task: self._on_progress(t, done, total, msg)
        )
        task.finished.connect(lambda t=task: self._on_finished(t))
        self._show(task)

    @property
    def current(self) -> BackgroundTask | None:
        """The task whose progress is shown, if any."""
        return self._tasks[-1] if self._tasks else None

    def cancel_current(self) -> None:
        """Cancel the task shown."""
        task = self.current
        if task is not None:
            task.cancel()
            self.label.setText(f"{task.label} — stopping…")
            self.cancel_button.setEnabled(False)

    def _show(self, task: BackgroundTask) -> None:
        self.label.setText(task.label + "…")
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.cancel_button.setVisible(task.cancellable)
        self.cancel_button.setEnabled(not task.is_cancel_requested())
        self.show()

    def _on_progress(self, task: BackgroundTask, done: int, total: int, message: str) -> None:
        if task is not self.current:
            return
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
        else:
            self.bar.setRange(0, 0)
        if not task.is_cancel_requested():
            self.label.setText(f"{task.label}: {message}" if message else task.label)

    def _on_finished(self, task: BackgroundTask) -> None:
        if task in self._tasks:
            self._tasks.remove(task)
        if self._tasks:
            self._show(self._tasks[-1])
        else:
            self.hide()
