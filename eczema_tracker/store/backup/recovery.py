"""The swap that puts a restored store in place, and finishing one a kill interrupted.

A restore (see :mod:`.restore`) holds the store folder's writer lock from start to end. It
builds the new store in a sibling folder and swaps the app's own entries (the database,
``photos/``, ``masks/``, ``models/``, ``thumbnails/``, ``tmp/``; see :mod:`.layout`), one rename
each, never the folder itself, so a person's files beside the store stay where they are:

1. ``.<name>.restore-<token>/`` is made and locked, filled and checked;
2. the marker ``.restore-complete`` is written into it (fsynced): the new store is whole;
3. ``.<name>.old-<token>/`` is made, with ``.replaced-store`` naming the dated backup zip of
   the old store (empty when there is none), and the old entries are moved into it, the
   database first; then the marker ``.moved-aside``;
4. the new entries are moved into the store folder, the database last; the staging folder goes;
5. the old entries are deleted when the zip holds them (``.moved-aside`` last), else the old
   folder is renamed to a visible ``<name>-replaced-<date>`` beside the store.

A kill anywhere in there leaves a state :func:`finish_interrupted_swap` resolves to exactly one
whole store, the person's files untouched: no old folder yet (before 3): the staging folder is
deleted and the store was never touched; an old folder (3 started): the swap is finished, or,
when the staging folder is not complete (never the case for this version), the old entries are
moved back. It runs only while holding the store folder's writer lock (``Store.open`` for
writing, a restore), so a restore that is running (it holds that lock) is never touched;
read-only opens never move or delete anything (:func:`swap_leftovers` lets them say why the
store looks odd).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

from eczema_tracker.core.atomic import fsync_dir
from eczema_tracker.store import files
from eczema_tracker.store.errors import StoreError, StoreLockedError
from eczema_tracker.store.layout import LEGACY_RESTORE_MARKER, REPLACED_BY_RESTORE
from eczema_tracker.store.lock import LOCK_NAME, WriterLock
from eczema_tracker.store.maintenance import ORPHANS

#: Written into the staging folder once the new store is whole.
COMPLETE_MARKER = ".restore-complete"
#: Written into the old folder once every old entry is in it.
MOVED_ASIDE_MARKER = ".moved-aside"
#: In the old folder: the name of the backup zip of the old store beside the store ("" if none).
REPLACED_STORE_NOTE = ".replaced-store"
STAGING = "restore"
OLD = "old"
_MARKERS = (COMPLETE_MARKER, MOVED_ASIDE_MARKER, REPLACED_STORE_NOTE, LOCK_NAME)
_log = logging.getLogger(__name__)


def swap_path(folder: Path, kind: str, token: str) -> Path:
    """``.<name>.restore-<token>`` or ``.<name>.old-<token>`` beside ``folder``."""
    return folder.parent / f".{folder.name}.{kind}-{token}"


def replaced_name(folder: Path, suffix: str = "") -> Path:
    """A new, dated name beside ``folder`` for the store a restore replaced:
    ``<name>-replaced-2026-12-07T1530<suffix>`` (``-2``, ``-3``... when taken)."""
    stamp = datetime.now().strftime("%Y-%m-%dT%H%M")
    base = folder.parent / f"{folder.name}-replaced-{stamp}"
    candidate, n = Path(f"{base}{suffix}"), 1
    while os.path.lexists(candidate):
        n += 1
        candidate = Path(f"{base}-{n}{suffix}")
    return candidate


def is_complete(staging: Path) -> bool:
    """True when the staging folder was fully built and checked (its marker is in place)."""
    return (staging / COMPLETE_MARKER).is_file()


def _leftovers(folder: Path) -> dict[str, dict[str, Path]]:
    """``{token: {"restore": path, "old": path}}`` for the swap folders beside ``folder``."""
    pattern = re.compile(rf"^\.{re.escape(folder.name)}\.({STAGING}|{OLD})-([0-9a-f]{{8,64}})$")
    found: dict[str, dict[str, Path]] = {}
    try:
        entries = list(os.scandir(folder.parent))
    except OSError:
        return found
    for entry in entries:
        m = pattern.match(entry.name)
        if m and entry.is_dir(follow_symlinks=False):
            found.setdefault(m.group(2), {})[m.group(1)] = Path(entry.path)
    return found


def swap_leftovers(folder: Path) -> bool:
    """True when a restore into ``folder`` is under way or was cut short (for readers' words)."""
    folder = Path(os.path.realpath(folder))
    return bool(_leftovers(folder)) or (folder / LEGACY_RESTORE_MARKER).is_file()


def finish_interrupted_swap(folder: Path) -> None:
    """Complete or undo a restore into ``folder`` that was killed between its steps.

    Call only while holding ``folder``'s writer lock. Raises :class:`StoreError` (one sentence)
    when a needed rename fails, e.g. on a read-only disk; what is left is resolved next time.
    """
    folder = Path(os.path.realpath(folder))
    leftovers = _leftovers(folder)
    for token in sorted(leftovers):
        _resolve(folder, leftovers[token].get(STAGING), leftovers[token].get(OLD))
    if (folder / LEGACY_RESTORE_MARKER).is_file():  # an older version's swap, cut in cleanup
        _remove(folder / LEGACY_RESTORE_MARKER)


def _resolve(folder: Path, staging: Path | None, old: Path | None) -> None:
    locks = [WriterLock(p) for p in (old, staging) if p is not None]
    taken: list[WriterLock] = []
    try:
        for lock in locks:
            try:
                lock.acquire()
            except (StoreLockedError, OSError):  # held: not a leftover (an older version's)
                return
            taken.append(lock)
        _act(folder, staging, old)
    finally:
        for lock in taken:
            lock.release()


def _act(folder: Path, staging: Path | None, old: Path | None) -> None:
    complete = staging is not None and is_complete(staging)
    if old is None:  # the store was never touched: drop the new one (complete or not)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        return
    if complete and staging is not None:
        if not (old / MOVED_ASIDE_MARKER).is_file():
            move_aside(folder, old)
        move_in(staging, folder)
        shutil.rmtree(staging, ignore_errors=True)
        dispose_of_old(folder, old)
    elif (old / MOVED_ASIDE_MARKER).is_file() or (folder / LEGACY_RESTORE_MARKER).is_file():
        if staging is not None:  # the new store was moved in; only the cleanup was cut
            shutil.rmtree(staging, ignore_errors=True)
        dispose_of_old(folder, old)
    else:  # an old store set aside for a new one that is not whole: put the old one back
        _move_back(old, folder)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


# ------------------------------------------------------------------- the steps (restore too)
def start_old_folder(old: Path, replaced_zip: Path | None) -> None:
    """Step 3's start: the old folder, naming the zip that holds the old store (if any)."""
    old.mkdir(mode=0o700)
    (old / REPLACED_STORE_NOTE).write_text(
        "" if replaced_zip is None else replaced_zip.name, encoding="utf-8"
    )
    fsync_dir(old)
    fsync_dir(old.parent)


def move_aside(folder: Path, old: Path) -> None:
    """Step 3: every entry a restore replaces, from ``folder`` into ``old``, the database first."""
    folder.mkdir(mode=0o700, exist_ok=True)
    for name in reversed(REPLACED_BY_RESTORE):
        if os.path.lexists(folder / name):
            target = old / name
            if os.path.lexists(target):  # never over an entry already moved
                target = _free_name(target)
            _rename(folder / name, target, "set the replaced store aside")
    (old / MOVED_ASIDE_MARKER).write_bytes(b"")
    fsync_dir(old)


def move_in(staging: Path, folder: Path) -> None:
    """Step 4: the new store's entries into ``folder``, the database last. The caller then
    deletes ``staging`` before :func:`dispose_of_old`."""
    for name in REPLACED_BY_RESTORE:
        if os.path.lexists(staging / name):
            _rename(staging / name, folder / name, "finish the restore")
    fsync_dir(folder)


def dispose_of_old(folder: Path, old: Path) -> Path | None:
    """Step 5 (once the staging folder is gone): delete the old entries when the backup zip
    beside the store holds them, else keep them as a visible dated folder beside the store.
    Returns where the old store is kept. ``.moved-aside`` goes last (or with the rename), so a
    kill in here is resumed, never read as a swap that has not happened."""
    kept = [e for e in os.listdir(old) if e not in _MARKERS]
    try:
        zip_name = (old / REPLACED_STORE_NOTE).read_text(encoding="utf-8").strip()
    except OSError:
        zip_name = ""
    zipped = folder.parent / zip_name if zip_name else None
    if not kept or (zipped is not None and zipped.is_file()):
        if zipped is not None and zipped.is_file():
            keep_what_the_zip_lacks(old, zipped, folder)
        for name in (*kept, REPLACED_STORE_NOTE, LOCK_NAME, COMPLETE_MARKER, MOVED_ASIDE_MARKER):
            path = old / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                _remove(path)
        shutil.rmtree(old, ignore_errors=True)
        return zipped if kept else None
    visible = replaced_name(folder)
    _rename(old, visible, "keep the replaced store")
    for marker in _MARKERS:
        _remove(visible / marker)
    _log.warning("the store a restore replaced is kept in %s", visible)
    return visible


def keep_what_the_zip_lacks(old: Path, zipped: Path, folder: Path) -> list[str]:
    """Move every content file of the replaced store that its backup zip does not hold (a file
    no record referred to: the zip holds only referenced ones) into ``folder/orphans/``, which a
    restore never replaces, so nothing of the person's is deleted. Returns the names moved."""
    try:
        with zipfile.ZipFile(zipped) as archive:
            in_zip = set(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        in_zip = set()
    moved = []
    for name in files.iter_content_files(old):
        if name in in_zip:
            continue
        target = folder / ORPHANS / name
        if os.path.lexists(target):
            target = _free_name(target)
        files.make_private_dirs(target.parent)
        _rename(old / name, target, "keep a file the backup of the replaced store lacks")
        moved.append(name)
    if moved:
        _log.warning("%d file(s) no record referred to were kept in %s", len(moved), ORPHANS)
    return moved


def _move_back(old: Path, folder: Path) -> None:
    folder.mkdir(mode=0o700, exist_ok=True)
    for name in os.listdir(old):
        if name in _MARKERS or os.path.lexists(folder / name):
            continue
        _rename(old / name, folder / name, "put the store back after an interrupted restore")
    if any(name not in _MARKERS for name in os.listdir(old)):
        _log.warning("%s is kept: it holds entries %s already has", old, folder)
        return
    shutil.rmtree(old, ignore_errors=True)


def _free_name(path: Path) -> Path:
    n = 1
    while os.path.lexists(f"{path}.{n}"):
        n += 1
    return Path(f"{path}.{n}")


def _rename(src: Path, dst: Path, what: str) -> None:
    try:
        os.replace(src, dst)
    except OSError as exc:
        raise StoreError(
            f"Could not {what} in {dst.parent} ({exc.strerror or exc}); nothing was deleted "
            f"({src} is still there)."
        ) from exc
    fsync_dir(dst.parent)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:  # e.g. a read-only disk: harmless, removed by the next writable open
        pass
