"""Finishing or rolling back an interrupted store swap (restore) before the store is opened.

A restore (see :mod:`.backup`) builds the new store in a sibling folder and swaps it in:

1. ``.<name>.restore-<token>/`` is filled and checked, its writer lock held throughout;
2. the marker file ``.restore-complete`` is written into it (fsynced): the new store is whole;
3. the old store is renamed to ``.<name>.old-<token>/`` (its writer lock still held);
4. the staging folder is renamed to ``<name>``;
5. the old store is deleted, then the marker.

A process killed anywhere in there leaves a state :func:`finish_interrupted_swap` (called by
``Store.open`` first thing, readonly or not) resolves to exactly one whole store:

- no ``<name>`` but a complete staging folder (killed between 3 and 4): the swap is finished;
- no ``<name>``, an old store and no complete staging folder: the old store is put back;
- ``<name>`` holding the marker (killed during 5): the old store's remains are deleted;
- an incomplete staging folder (killed while extracting): deleted; the store was never touched.

Folders whose writer lock is still held belong to a restore that is running now and are left
alone. A state that fits none of these (an old store beside a store without the marker) is never
guessed at: nothing is deleted and a warning is logged.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

from eczema_tracker.core.atomic import fsync_dir
from eczema_tracker.store.errors import StoreError, StoreLockedError
from eczema_tracker.store.lock import WriterLock

#: Written into the staging folder once the new store is whole; removed after the swap.
COMPLETE_MARKER = ".restore-complete"
STAGING = "restore"
OLD = "old"
_log = logging.getLogger(__name__)


def swap_path(folder: Path, kind: str, token: str) -> Path:
    """``.<name>.restore-<token>`` or ``.<name>.old-<token>`` beside ``folder``."""
    return folder.parent / f".{folder.name}.{kind}-{token}"


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


def finish_interrupted_swap(folder: Path) -> None:
    """Complete or undo a restore into ``folder`` that was killed between its steps.

    Raises :class:`StoreError` (one sentence) only when a needed rename fails, e.g. on a
    read-only disk; the folders are then left exactly as they were.
    """
    folder = Path(os.path.realpath(folder))
    leftovers = _leftovers(folder)
    for token in sorted(leftovers):
        _resolve(folder, leftovers[token].get(STAGING), leftovers[token].get(OLD))
    if not leftovers and (folder / COMPLETE_MARKER).is_file():
        _remove_marker(folder)


def _resolve(folder: Path, staging: Path | None, old: Path | None) -> None:
    locks = [WriterLock(p) for p in (old, staging) if p is not None]
    taken: list[WriterLock] = []
    try:
        for lock in locks:
            try:
                lock.acquire()
            except (StoreLockedError, OSError):
                return  # a restore is running right now (or the folder just went): not ours
            taken.append(lock)
        _act(folder, staging, old)
    finally:
        for lock in taken:
            lock.release()


def _act(folder: Path, staging: Path | None, old: Path | None) -> None:
    if not os.path.lexists(folder):
        if staging is not None and is_complete(staging):
            _rename(staging, folder, "finish the interrupted restore")
            _remove_marker(folder)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        elif old is not None:
            _rename(old, folder, "put the store back after an interrupted restore")
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
        elif staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        return
    if (folder / COMPLETE_MARKER).is_file():  # the swap happened; only the cleanup was cut
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        _remove_marker(folder)
    elif old is not None:
        _log.warning("%s is left as it is: %s is not known to be the restored store", old, folder)
    if staging is not None:  # never swapped in: the store in `folder` was not touched
        shutil.rmtree(staging, ignore_errors=True)


def _rename(src: Path, dst: Path, what: str) -> None:
    try:
        os.replace(src, dst)
    except OSError as exc:
        raise StoreError(
            f"Could not {what} in {dst.parent} ({exc.strerror or exc}); the store is safe in {src}."
        ) from exc
    fsync_dir(dst.parent)


def _remove_marker(folder: Path) -> None:
    try:
        (folder / COMPLETE_MARKER).unlink(missing_ok=True)
    except OSError:  # e.g. a read-only disk: harmless, removed by the next writable open
        pass
