"""The GUI's one way to the store: writes run in the background, in order, then say what changed.

In the spirit of Anki's ``CollectionOp``: a flow or dialog hands :meth:`StoreSession.write` an
operation of the store (most are in :mod:`eczema_tracker.app.edits`) that returns an
:class:`~eczema_tracker.app.changes.OpResult`: its value and the
:class:`~eczema_tracker.app.changes.StoreChanges` it made. The session runs it through the one background helper (:mod:`eczema_tracker.gui.tasks`), one write
at a time in the order asked (20 ratings keyed quickly land in that order), and when it is done
emits :attr:`StoreSession.changed` with the changes the operation reported, on the GUI
thread (no caller names them, so a new operation cannot forget a view). Views subscribe to ``changed`` and
refresh what they show; no flow refreshes another's view. Reads that may be slow (decoding,
bulk queries) go through :meth:`StoreSession.read`. A failed write shows its plain message (the
store's own transactions keep the store whole) and the writes queued after it still run. Long
jobs with their own worker (an analysis, training) announce what they wrote with
:meth:`StoreSession.notify`; :meth:`StoreSession.finish` lets queued writes land before the
window closes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QEventLoop, QObject, Signal
from PySide6.QtWidgets import QWidget

from eczema_tracker.app.changes import CancelledAfterWriting, OpResult, StoreChanges
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.store import Store

T = TypeVar("T")


class StoreSession(QObject):
    """Owns the GUI's access to one open :class:`Store` (replaceable after a restore)."""

    #: Emitted on the GUI thread after each finished write (and on :meth:`replace_store`).
    changed = Signal(object)  # StoreChanges
    #: Emitted on the GUI thread when the last queued write finished (nothing waits any more).
    idle = Signal()

    def __init__(self, store: Store, host: QWidget | None = None) -> None:
        super().__init__(host)
        self._store = store
        self._host = host
        self._queue: deque[BackgroundTask] = deque()
        self._running: BackgroundTask | None = None

    @property
    def store(self) -> Store:
        """The open store, for quick reads on the GUI thread (small queries, no decoding)."""
        return self._store

    def replace_store(self, store: Store) -> None:
        """Use ``store`` from now on (after a restore); every view is told everything changed."""
        self._store = store
        self.changed.emit(StoreChanges.everything())

    @property
    def busy(self) -> bool:
        """True while a write is running or waiting."""
        return self._running is not None or bool(self._queue)

    @property
    def queued(self) -> int:
        """Writes waiting behind the one running (0 while the last one delivers its result)."""
        return len(self._queue)

    def notify(self, changes: StoreChanges) -> None:
        """Tell every view about ``changes`` a long job wrote on its own worker (an analysis,
        a training run) rather than through :meth:`write`."""
        if changes:
            self.changed.emit(changes)

    def write(
        self,
        op: Callable[[Store], OpResult[T]],
        *,
        on_done: Callable[[T], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
        error_title: str = "Could not save",
        progress_label: str | None = None,
    ) -> BackgroundTask:
        """Queue the operation ``op(store)`` to run in the background after the writes queued
        before it.

        When it returns its :class:`~eczema_tracker.app.changes.OpResult`, :attr:`changed` is
        emitted with the changes it reported, then ``on_done(result.value)`` runs, both on the
        GUI thread and before the next write starts. On failure the plain message is shown
        (titled ``error_title``) unless ``on_failure`` takes it; the writes queued after it
        still run.
        """
        return self.write_job(
            lambda store, _progress, _cancel: op(store),
            on_done=on_done,
            on_failure=on_failure,
            error_title=error_title,
            progress_label=progress_label,
            cancellable=False,
        )

    def write_job(
        self,
        op: Callable[[Store, ProgressCallback, CancelCheck], OpResult[T]],
        *,
        on_done: Callable[[T], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
        error_title: str = "Could not save",
        progress_label: str | None = None,
        cancellable: bool = True,
    ) -> BackgroundTask:
        """:meth:`write` for a longer write that reports progress and may be cancelled:
        ``op(store, progress, cancel)``. A cancelled job emits what it reported too (by
        raising :class:`~eczema_tracker.app.changes.CancelledAfterWriting`, or by returning
        after the Cancel): what it wrote before it stopped stays written."""
        wrote: list[StoreChanges] = []  # what a job that was then cancelled reported

        def run(progress: ProgressCallback, cancel: CancelCheck) -> OpResult[T]:
            try:
                result = op(self._store, progress, cancel)
            except CancelledAfterWriting as stop:
                wrote.append(stop.changes)
                raise
            wrote.append(result.changes)
            return result

        def succeeded(result: OpResult[T]) -> None:
            if result.changes:
                self.changed.emit(result.changes)
            if on_done is not None:
                on_done(result.value)

        def cancelled() -> None:
            if wrote and wrote[0]:
                self.changed.emit(wrote[0])

        task = BackgroundTask(self._host, run, succeeded).titled(error_title)
        task.on_cancelled(cancelled)
        if on_failure is not None:
            task.failure(on_failure)
        if progress_label:
            task.with_progress(progress_label, cancellable=cancellable)
        task.finished.connect(self._next)
        self._queue.append(task)
        if self._running is None:
            self._next()
        return task

    def read(
        self,
        op: Callable[[Store], T],
        on_done: Callable[[T], None],
        *,
        on_failure: Callable[[str], None] | None = None,
        error_title: str = "Could not read the photo store",
    ) -> BackgroundTask:
        """Run ``op(store)`` in the background now (reads don't wait for writes); deliver
        ``on_done(result)`` on the GUI thread. ``op`` must not touch a widget."""

        def run(_progress: ProgressCallback, _cancel: CancelCheck) -> T:
            return op(self._store)

        task = BackgroundTask(self._host, run, on_done).titled(error_title)
        if on_failure is not None:
            task.failure(on_failure)
        return task.run()

    def finish(self, timeout_ms: int = 10_000) -> bool:
        """Before the window closes: let the queued writes land (a rating keyed just before
        closing is kept) while long jobs that can stop (an import, a re-scoring) are
        cancelled. Runs the event loop until done or ``timeout_ms``; True when nothing is
        left."""
        for task in [*self._queue, *([self._running] if self._running else [])]:
            if task.show_progress and task.cancellable:
                task.cancel()
        self._queue = deque(t for t in self._queue if not t.is_cancel_requested())
        clock = QElapsedTimer()
        clock.start()
        while self.busy and clock.elapsed() < timeout_ms:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        return not self.busy

    def _next(self) -> None:
        was_running = self._running is not None
        self._running = None
        if self._queue:
            self._running = self._queue.popleft()
            self._running.run()
        elif was_running:
            self.idle.emit()
