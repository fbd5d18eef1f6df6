"""One writer at a time: an exclusive lock on ``<store>/.lock`` holding the writer's pid.

The OS releases the lock when the process exits, even on SIGKILL, so a crash never leaves the
store locked. Readers (``Store.open(readonly=True)``) take no lock: SQLite's WAL lets them read
a consistent snapshot while the writer works.
"""

from __future__ import annotations

import os
from pathlib import Path

from eczema_tracker.core import file_locks
from eczema_tracker.store.errors import StoreLockedError

LOCK_NAME = ".lock"


def read_holder_pid(folder: Path) -> int | None:
    """The pid written in the lock file, if any (it may be stale when nobody holds the lock)."""
    try:
        text = (folder / LOCK_NAME).read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class WriterLock:
    """Exclusive writer lock on a store folder; use :meth:`acquire` / :meth:`release`."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise :class:`StoreLockedError` naming the holder's pid."""
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not file_locks.try_lock(fd):
            os.close(fd)
            pid = read_holder_pid(self.folder)
            who = f" (process {pid})" if pid else ""
            raise StoreLockedError(
                f"The photo store at {self.folder} is already open in another Eczema Tracker "
                f"window or command{who}; close it and try again.",
                pid,
            )
        # Record who holds it (after locking, so a loser never overwrites the winner's pid).
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            file_locks.unlock(fd)
        finally:
            os.close(fd)
