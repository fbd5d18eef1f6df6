"""Advisory, non-blocking exclusive locks on open files (``flock`` on POSIX, ``msvcrt`` on
Windows): the store's writer lock and the ledger of outputs being written both stand on them.
A lock dies with the process that held it, so a lock that can be taken means its holder is gone.
"""

from __future__ import annotations

import os
import sys

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def try_lock(fd: int) -> bool:
        """Take the exclusive lock on ``fd``; False when another process holds it."""
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
            return True
        except OSError:
            return False

    def unlock(fd: int) -> None:
        """Let go of the lock on ``fd``."""
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]

else:
    import fcntl

    def try_lock(fd: int) -> bool:
        """Take the exclusive lock on ``fd``; False when another process holds it."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def unlock(fd: int) -> None:
        """Let go of the lock on ``fd``."""
        fcntl.flock(fd, fcntl.LOCK_UN)
