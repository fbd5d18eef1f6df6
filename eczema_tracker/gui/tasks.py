"""The one way the app runs work in the background (like Anki's ``QueryOp``).

Usage::

    BackgroundTask(window, op, on_success).with_progress("Analysing photos").run()

``op(progress, cancel)`` runs on a worker thread. It must never touch a widget: it gets a
``progress(done, total, message)`` callable and a ``cancel()`` check (see
:mod:`eczema_tracker.core.jobs`) and returns a value, which ``on_success(value)`` receives back on
the GUI thread. An exception raised by ``op`` is relayed to the user in plain words (or to
``on_failure`` when one is given); :class:`~eczema_tracker.core.jobs.Cancelled` is reported quietly.

While a task with progress runs, the nearest :class:`TaskProgressHost` up the parent chain
(the main window's status bar) shows its label, a progress bar and a Cancel button.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any, Protocol

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QWidget

from eczema_tracker.core.errors import UserError
from eczema_tracker.core.jobs import CancelCheck, Cancelled, ProgressCallback

log = logging.getLogger(__name__)

Op = Callable[[ProgressCallback, CancelCheck], Any]


class TaskProgressHost(Protocol):
    """A widget that can show a running task's progress (the main window is one)."""

    def show_task(self, task: BackgroundTask) -> None: ...


class MessageSink(Protocol):
    """A widget that tells the user things (the main window's ``show_message``)."""

    def show_message(self, kind: str, title: str, text: str) -> None: ...


def plain_error_message(exc: BaseException) -> str:
    """One or two plain sentences saying what went wrong, for a person, not a programmer."""
    if isinstance(exc, UserError):
        return exc.message or type(exc).__name__  # written for people already
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, MemoryError):
        return (
            "The computer ran out of memory. Close other programs or analyse fewer photos at once."
        )
    if isinstance(exc, FileNotFoundError):
        return f"A file or folder was not found: {exc.filename or text}."
    if isinstance(exc, PermissionError):
        return f"The app is not allowed to read or write {exc.filename or 'a file'}."
    if isinstance(exc, OSError):
        return f"A file could not be read or written ({text})."
    if isinstance(exc, ValueError):
        return text
    return f"Something unexpected went wrong ({type(exc).__name__}: {text}). Details were written to the log."


class _TaskSignals(QObject):
    # Created on the GUI thread, so connections to GUI objects are queued from the worker.
    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(object, str)
    cancelled = Signal()


class _Runnable(QRunnable):
    def __init__(self, task: BackgroundTask) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._task = task

    def run(self) -> None:  # worker thread: no widget access here
        task = self._task
        signals = task._signals
        try:
            result = task._op(task._report_progress, task.is_cancel_requested)
        except Cancelled:
            signals.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - every failure is relayed to the user
            log.error("background task %r failed:\n%s", task.label, traceback.format_exc())
            signals.failed.emit(exc, traceback.format_exc())
        else:
            if task.is_cancel_requested():
                signals.cancelled.emit()
            else:
                signals.succeeded.emit(result)


class BackgroundTask(QObject):
    """Run ``op(progress, cancel)`` off the GUI thread; deliver its result on the GUI thread.

    Signals (GUI thread): ``progressed(done, total, message)``, ``succeeded(result)``,
    ``failed(message)`` (plain words), ``cancelled()``, and ``finished()`` after any of them.
    """

    progressed = Signal(int, int, str)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    #: Tasks that are still running, so Python keeps them alive until they finish.
    _running: set[BackgroundTask] = set()

    def __init__(
        self,
        parent: QWidget | None,
        op: Op,
        on_success: Callable[[Any], None] | None = None,
    ) -> None:
        # No Qt parent: the task must outlive a closed window long enough to finish cleanly.
        super().__init__(None)
        self._parent_widget = parent
        self._op = op
        self._on_success = on_success
        self._on_failure: Callable[[str], None] | None = None
        self._on_cancel: Callable[[], None] | None = None
        self._cancel_event = threading.Event()
        self.label = ""
        self.show_progress = False
        self.cancellable = True
        self.error_title = "Something went wrong"
        self.done = False
        self._signals = _TaskSignals()
        self._signals.progressed.connect(self.progressed)
        self._signals.succeeded.connect(self._deliver_success)
        self._signals.failed.connect(self._deliver_failure)
        self._signals.cancelled.connect(self._deliver_cancel)

    # -- builder -------------------------------------------------------------------------
    def with_progress(self, label: str, *, cancellable: bool = True) -> BackgroundTask:
        """Show ``label``, a progress bar and (when ``cancellable``) a Cancel button while running."""
        self.label = label
        self.show_progress = True
        self.cancellable = cancellable
        return self

    def failure(self, on_failure: Callable[[str], None]) -> BackgroundTask:
        """Call ``on_failure(plain_message)`` instead of showing the message to the user."""
        self._on_failure = on_failure
        return self

    def on_cancelled(self, on_cancel: Callable[[], None]) -> BackgroundTask:
        """Call ``on_cancel()`` (GUI thread) when the task stopped because it was cancelled."""
        self._on_cancel = on_cancel
        return self

    def titled(self, error_title: str) -> BackgroundTask:
        """The title of the message shown if the task fails."""
        self.error_title = error_title
        return self

    def run(self, pool: QThreadPool | None = None) -> BackgroundTask:
        """Start the task on ``pool`` (the global thread pool by default) and return it."""
        BackgroundTask._running.add(self)
        if self.show_progress:
            host = self._find_parent_with("show_task")
            if host is not None:
                host.show_task(self)
        (pool or QThreadPool.globalInstance()).start(_Runnable(self))
        return self

    # -- cancellation and progress ---------------------------------------------------------
    def cancel(self) -> None:
        """Ask the task to stop at its next safe point (safe to call from any thread)."""
        self._cancel_event.set()

    def is_cancel_requested(self) -> bool:
        """True once :meth:`cancel` was called; this is the ``cancel`` check given to ``op``."""
        return self._cancel_event.is_set()

    def _report_progress(self, done: int, total: int, message: str = "") -> None:
        self._signals.progressed.emit(int(done), int(total), str(message))

    # -- delivery on the GUI thread -------------------------------------------------------
    def _parent_gone(self) -> bool:
        parent = self._parent_widget
        return parent is not None and not shiboken6.isValid(parent)

    def _deliver_success(self, result: object) -> None:
        if self._parent_gone():  # the window closed meanwhile: nobody to tell
            self._finish()
            return
        try:
            if self._on_success is not None:
                self._on_success(result)
            self.succeeded.emit(result)
        except Exception as exc:  # a bug in the GUI callback: still tell the user
            log.exception("handling the result of %r failed", self.label)
            self._relay_failure(plain_error_message(exc))
        finally:
            self._finish()

    def _deliver_failure(self, exc: BaseException, _trace: str) -> None:
        if self._parent_gone():
            self._finish()
            return
        try:
            self._relay_failure(plain_error_message(exc))
        finally:
            self._finish()

    def _relay_failure(self, message: str) -> None:
        self.failed.emit(message)
        if self._on_failure is not None:
            self._on_failure(message)
            return
        sink = self._find_parent_with("show_message")
        if sink is not None:
            sink.show_message("error", self.error_title, message)
        else:
            log.error("%s: %s", self.error_title, message)

    def _deliver_cancel(self) -> None:
        if self._parent_gone():
            self._finish()
            return
        try:
            if self._on_cancel is not None:
                self._on_cancel()
            self.cancelled.emit()
        finally:
            self._finish()

    def _finish(self) -> None:
        self.done = True
        self.finished.emit()
        BackgroundTask._running.discard(self)

    def _find_parent_with(self, attribute: str) -> Any:
        widget = None if self._parent_gone() else self._parent_widget
        while widget is not None:
            if hasattr(widget, attribute):
                return widget
            widget = widget.parentWidget()
        return None
