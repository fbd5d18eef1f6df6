"""Progress reporting and cancellation shared by every long job (no Qt here).

Long functions in ``ml``, ``store`` and ``research`` take two optional keyword arguments:

- ``progress: ProgressCallback | None`` -- called as ``progress(done, total, message)``;
  ``total`` may be 0 when unknown.
- ``cancel: CancelCheck | None`` -- a no-argument callable returning True once the user
  asked to stop; the job calls :func:`raise_if_cancelled` at safe points.

The GUI's one background-task helper passes both; the CLI passes a tqdm-backed progress.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ProgressCallback = Callable[[int, int, str], None]
CancelCheck = Callable[[], bool]


class Cancelled(Exception):
    """The user asked to stop; nothing half-done was kept."""


def raise_if_cancelled(cancel: CancelCheck | None) -> None:
    """Raise :class:`Cancelled` if ``cancel`` says so."""
    if cancel is not None and cancel():
        raise Cancelled("cancelled")


def report(progress: ProgressCallback | None, done: int, total: int, message: str = "") -> None:
    """Call ``progress`` if one was given."""
    if progress is not None:
        progress(done, total, message)


def acquire(lock: threading.Lock | threading.RLock, cancel: CancelCheck | None = None) -> None:
    """Take ``lock``, checking ``cancel`` every tenth of a second while another holds it."""
    while not lock.acquire(timeout=0.1):
        raise_if_cancelled(cancel)


@contextmanager
def held(
    lock: threading.Lock | threading.RLock, cancel: CancelCheck | None = None
) -> Iterator[None]:
    """Hold ``lock`` for the block, waiting for it cancellably (:func:`acquire`)."""
    acquire(lock, cancel)
    try:
        yield
    finally:
        lock.release()
