"""Atomic file writes: a file either keeps its old content or has all of the new one.

Every writer in the app (store files, settings, severity models, masks, caches, exports) goes
through :func:`atomic_path`: write to a temp file beside the target (or in ``tmp_dir``), fsync,
``os.replace`` onto the target; on any error the temp file is removed and the target untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def fsync_file(path: str | os.PathLike[str]) -> None:
    """Flush a written file's data to disk."""
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (a rename inside it) to disk, where the platform allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(
    target: str | os.PathLike[str],
    *,
    sync: bool = True,
    tmp_dir: str | os.PathLike[str] | None = None,
) -> Iterator[Path]:
    """Yield a temp path to write; on success it replaces ``target`` in one step.

    ``sync=False`` skips the fsync (for caches that can be rebuilt). ``tmp_dir`` must be on the
    same filesystem as ``target``; by default the temp file sits beside the target.
    """
    target = Path(target)
    folder = Path(tmp_dir) if tmp_dir is not None else target.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if sync:
            fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes, *, sync: bool = True) -> Path:
    """Write ``data`` to ``target`` atomically; return the target path."""
    with atomic_path(target, sync=sync) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: str | os.PathLike[str], text: str, *, sync: bool = True) -> Path:
    """UTF-8 text variant of :func:`atomic_write_bytes`."""
    return atomic_write_bytes(target, text.encode("utf-8"), sync=sync)
