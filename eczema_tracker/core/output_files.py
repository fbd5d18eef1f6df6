"""Files the app writes for a person (the doctor's report, a backup, a timeline image, CSV):
where they may go, and how they are written so that nothing is left behind.

:func:`check_output_target` is the one set of target rules for every output:

- never inside the photo store (after following links in the folders on the way);
- never a device, pipe, socket, folder or symbolic link;
- an existing file only when the person said so (``overwrite=True``: the GUI asked, or
  ``--force`` on the command line);
- the folder must exist (or ``make_folder=True``) and be a folder.

:func:`writing_output` writes one output atomically: into a hidden temp file beside the target
(``.NAME.eczema-XXXXXXXX.tmp``), fsynced, then renamed onto the target. The temp file holds the
whole record, maybe on a USB stick or in a synced folder, so it must not outlive the write: it
is removed on every exit Python sees (an error, Ctrl+C, ``SystemExit`` from SIGTERM in the CLI,
interpreter exit through :mod:`atexit`). A SIGKILL or a power cut cannot be caught, so each temp
file (or work folder, :func:`tracked_temp`) is also written down in a small ledger in the cache
folder, locked by the writing process while it runs; the next output written anywhere
(:func:`sweep_stale_outputs`) removes what a dead writer left, wherever it was.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import secrets
import shutil
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from eczema_tracker.core import file_locks, paths
from eczema_tracker.core.atomic import fsync_dir, fsync_file
from eczema_tracker.core.errors import UserError

#: What the app names the temp files of its outputs: ``.<target name>.eczema-<8 chars>.tmp``.
TEMP_FILE_NAME = re.compile(r"^\..+\.eczema-[a-z0-9]{8}\.tmp$")
#: Work folders of backups (``store/backup/export.py``: ``.export-<random>``) and CSV exports
#: (``store/csv_export.py``: ``.eczema-record-<random>.partial``).
WORK_FOLDER_NAME = re.compile(r"^\.(export-[A-Za-z0-9_]+|eczema-record-[A-Za-z0-9_]+\.partial)$")
#: The ledger of outputs being written (in the cache folder): one locked entry per write.
LEDGER_FOLDER = "outputs-in-progress"


class OutputFileError(UserError):
    """An output that may not be written there, or could not be written (one sentence)."""


def os_error_words(exc: OSError) -> str:
    """``no space left on the disk`` and the like: an OS error in plain words."""
    import errno

    words = {
        errno.ENOSPC: "no space left on the disk",
        errno.EACCES: "permission denied",
        errno.EPERM: "not permitted",
        errno.EROFS: "the disk is read-only",
        errno.ENOENT: "no such file or folder",
        errno.EDQUOT: "the disk quota is used up",
        errno.EIO: "the disk could not be read or written",
    }
    return words.get(exc.errno or -1, exc.strerror or str(exc))


# -- the rules ------------------------------------------------------------------------------------
def check_output_target(
    target: str | os.PathLike[str],
    *,
    store_root: str | os.PathLike[str] | None,
    overwrite: bool = False,
    make_folder: bool = False,
) -> Path:
    """The target as an absolute path, or :class:`OutputFileError` saying why it is refused.

    ``store_root``: the photo store's folder (``None`` only where no store is involved).
    ``overwrite``: an existing regular file may be replaced (the person was asked, or gave
    ``--force``). ``make_folder``: a missing folder will be created by the caller.
    """
    out = Path(os.path.abspath(Path(target).expanduser()))
    for ancestor in out.parents:
        if os.path.lexists(ancestor):
            if not ancestor.is_dir():
                raise OutputFileError(f"{ancestor} is not a folder, so {out} cannot be written.")
            break
    if not make_folder and not out.parent.is_dir():
        raise OutputFileError(f"The folder {out.parent} does not exist; create it first.")
    if store_root is not None:
        refuse_inside_store(out, store_root)
    try:
        mode = out.lstat().st_mode
    except FileNotFoundError:
        return out
    except OSError as exc:
        raise OutputFileError(f"{out} cannot be checked ({os_error_words(exc)}).") from exc
    if stat.S_ISLNK(mode):
        raise OutputFileError(f"{out} is a symbolic link; give a plain file name instead.")
    if stat.S_ISDIR(mode):
        raise OutputFileError(f"{out} is a folder; give a file name in it instead.")
    if not stat.S_ISREG(mode):
        raise OutputFileError(f"{out} is not a regular file (a device or a pipe); refused.")
    if not overwrite:
        raise OutputFileError(
            f"{out} already exists; give another name, or add --force to replace it."
        )
    return out


def refuse_inside_store(out: Path, store_root: str | os.PathLike[str]) -> None:
    """:class:`OutputFileError` when ``out`` is the photo store's folder or lies inside it (after
    following links in the folders on the way, and ``out`` itself if it is a link)."""
    store = Path(os.path.realpath(store_root))
    where = (Path(os.path.realpath(out.parent)) / out.name, Path(os.path.realpath(out)))
    if any(p == store or p.is_relative_to(store) for p in where):
        raise OutputFileError(
            f"{out} is inside the photo store {store_root}; save it somewhere else."
        )


# -- the ledger of writes in progress -------------------------------------------------------------
def _lock_held_by_us(fd: int) -> bool:
    """Take the ledger entry's lock; False when its writer still runs (or locks fail here)."""
    try:
        return file_locks.try_lock(fd)
    except OSError:
        return False


_live: dict[Path, Path] = {}  # temp path -> its ledger entry, of this process
_live_lock = threading.Lock()


def _ledger_folder() -> Path:
    return paths.cache_dir() / LEDGER_FOLDER


def _remove_temp(path: Path) -> None:
    """Remove a temp file or work folder of the app's naming (never anything else)."""
    if TEMP_FILE_NAME.match(path.name):
        with contextlib.suppress(OSError):
            if not path.is_symlink() and path.is_file():
                path.unlink()
    elif WORK_FOLDER_NAME.match(path.name):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


def _remove_live_temps() -> None:
    """At interpreter exit: remove this process's temp files and work folders."""
    with _live_lock:
        items = list(_live.items())
        _live.clear()
    for temp, entry in items:
        _remove_temp(temp)
        with contextlib.suppress(OSError):
            entry.unlink()


atexit.register(_remove_live_temps)


def sweep_stale_outputs() -> int:
    """Remove temp files and work folders that writers which died (SIGKILL, power cut) left,
    wherever they were; returns how many. A write still running holds its entry's lock and is
    left alone."""
    folder = _ledger_folder()
    try:
        entries = list(folder.glob("*.json"))
    except OSError:
        return 0
    removed = 0
    for entry in entries:
        try:
            fd = os.open(entry, os.O_RDWR)
        except OSError:
            continue
        try:
            if not _lock_held_by_us(fd):
                continue  # its writer is running
            try:
                recorded = Path(json.loads(os.read(fd, 65536).decode("utf-8"))["path"])
            except (ValueError, KeyError, TypeError, OSError):
                recorded = None
            if recorded is not None and os.path.lexists(recorded):
                _remove_temp(recorded)
                removed += 1
            with contextlib.suppress(OSError):
                entry.unlink()
        finally:
            os.close(fd)
    return removed


@contextlib.contextmanager
def tracked_temp(temp: Path) -> Iterator[Path]:
    """Write ``temp`` (a name matching :data:`TEMP_FILE_NAME` or :data:`WORK_FOLDER_NAME`, made
    by the caller) down in the ledger while the block runs; remove it on every exit."""
    if not (TEMP_FILE_NAME.match(temp.name) or WORK_FOLDER_NAME.match(temp.name)):
        raise ValueError(f"not a temp name of the app: {temp.name}")
    entry: Path | None = None
    fd: int | None = None
    try:
        folder = paths.ensure_private_dir(_ledger_folder())
        token = secrets.token_hex(8)
        # Written and locked under a name the sweep does not read, then renamed into view: a
        # sweep never finds an entry that is not yet locked (it would take it for a dead one).
        staging = folder / f".{token}.new"
        fd = os.open(staging, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        if not _lock_held_by_us(fd):
            raise OSError("the ledger entry could not be locked")
        os.write(fd, json.dumps({"path": str(temp.absolute()), "pid": os.getpid()}).encode())
        entry = folder / f"{token}.json"
        os.replace(staging, entry)
    except OSError:  # no ledger (a read-only cache): the write still goes on, cleaned on exit
        if entry is None and fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(folder / f".{token}.new")
        entry = None
    if entry is not None:
        with _live_lock:
            _live[temp] = entry
    try:
        yield temp
    finally:
        _remove_temp(temp)
        with _live_lock:
            _live.pop(temp, None)
        if entry is not None:
            with contextlib.suppress(OSError):
                entry.unlink()
        if fd is not None:
            os.close(fd)


def new_temp_name(target: Path) -> Path:
    """A fresh temp file name beside ``target`` (not created)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    token = "".join(secrets.choice(alphabet) for _ in range(8))
    return target.with_name(f".{target.name}.eczema-{token}.tmp")


#: How long a temp file of an older version's naming must have been left before it is removed: a
#: writer of that version may still be running (a big report takes seconds, never minutes).
OLD_TEMP_AGE_SECONDS = 600


def remove_old_version_temps(target: Path) -> list[Path]:
    """Remove what a killed write of ``target`` by an earlier version left beside it.

    Versions before the ledger wrote ``.<target name>.<8 random characters>.tmp`` (``mkstemp``)
    beside the target; only that exact name pattern, only for this target's name, only regular
    files not changed for :data:`OLD_TEMP_AGE_SECONDS`, are removed. Returns what was removed.
    """
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.[a-z0-9_]{{8}}\.tmp$")
    now = time.time()
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.match(entry.name) or TEMP_FILE_NAME.match(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime > OLD_TEMP_AGE_SECONDS:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


@contextlib.contextmanager
def writing_output(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path beside ``target`` to write; on success it replaces ``target``.

    Sweeps what dead writers left first. Any ``OSError`` (a folder that cannot be written, a
    full disk) becomes an :class:`OutputFileError` naming the target; nothing is left behind
    and an older file of that name is as it was.
    """
    out = Path(target)
    sweep_stale_outputs()
    remove_old_version_temps(out)
    temp = new_temp_name(out)
    try:
        with tracked_temp(temp):
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            yield temp
            fsync_file(temp)
            os.replace(temp, out)
            fsync_dir(out.parent)
    except OSError as exc:
        raise OutputFileError(
            f"Could not write {out} ({os_error_words(exc)}); nothing was written."
        ) from exc
