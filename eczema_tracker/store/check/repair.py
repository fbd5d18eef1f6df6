"""What ``eczema-tracker check --repair`` does, each step safe (see :mod:`.check`).

Run only with the writer lock held (the repair opens the store for writing). Nothing is ever
deleted here except thumbnails being made again: files no row refers to, and damaged files
replaced by a verified copy, are moved to ``orphans/``.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from eczema_tracker.core import imaging
from eczema_tracker.core.atomic import fsync_dir
from eczema_tracker.store import files
from eczema_tracker.store.check.inspection import Findings
from eczema_tracker.store.check.records import Problem
from eczema_tracker.store.maintenance import ORPHANS
from eczema_tracker.store.records import StoreCheck


def opened_store_repairs(check: StoreCheck) -> tuple[list[Problem], list[str]]:
    """What opening the store for writing found and cleaned, as problems and repair lines."""
    problems: list[Problem] = []
    repairs: list[str] = []
    for name in check.unknown_files:
        problems.append(Problem("orphan", f"{name}: no record referred to this file.", True, name))
        repairs.append(f"Moved {name} to {ORPHANS}/{name} (no record referred to it).")
    for name in check.removed_orphans:
        problems.append(
            Problem("leftover", f"{name} was left by an interrupted write.", True, name)
        )
        repairs.append(f"Removed {name}, left by an interrupted write (it was never recorded).")
    if check.removed_temp_files:
        n = check.removed_temp_files
        problems.append(
            Problem("leftover", f"{n} temporary file(s) were left in {files.TMP}/.", True)
        )
        repairs.append(f"Removed {n} temporary file(s) left in {files.TMP}/.")
    return problems, repairs


def repair_findings(root: Path, found: Findings) -> list[str]:
    """Fix the repairable problems of one look at the store; one line per thing done."""
    done: list[str] = []
    for name, _sha in sorted(found.recoverable.items()):
        target = root / name
        if target.exists() or target.is_symlink():
            aside = move_to_orphans(root, name, under="damaged")
            done.append(f"Moved the damaged {name} to {aside}.")
        files.make_private_dirs(target.parent)
        os.replace(root / ORPHANS / name, target)  # its SHA-256 was checked to match the row
        fsync_dir(target.parent)
        done.append(f"Put back {name} from {ORPHANS}/ (its SHA-256 matches the record).")
    by_sha = {sha: (photo_id, stored) for photo_id, (sha, stored) in found.photo_files.items()}
    for photo_id, name in sorted(found.unmade_thumbnails.items()):  # a cache, made while here
        if _make_thumbnail(root, name, *by_sha[_sha_of(name)]):
            done.append(f"Made the thumbnail of photo {photo_id} again.")
    for problem in found.problems:
        stored = problem.stored_name
        if not problem.repairable or stored is None or stored in found.recoverable:
            continue
        if problem.kind == "orphan" and (root / stored).exists():
            done.append(
                f"Moved {stored} to {move_to_orphans(root, stored)} (no record referred to it)."
            )
        elif problem.kind == "thumbnail":
            photo = by_sha.get(_sha_of(stored))
            if photo is None:
                done.append(
                    f"Moved {stored} to {move_to_orphans(root, stored)} (it belongs to no photo)."
                )
            elif _make_thumbnail(root, stored, *photo):
                done.append(f"Made the thumbnail of photo {photo[0]} again.")
    return done


def _sha_of(thumbnail: str) -> str:
    return PurePosixPath(thumbnail).name[:64]


def _make_thumbnail(root: Path, name: str, photo_id: int, stored_name: str) -> bool:
    """Write the thumbnail ``name`` from the photo's file; False if the photo cannot be decoded."""
    from eczema_tracker.store.thumbnails import thumbnail_jpeg

    try:
        image = imaging.open_image(root / stored_name)
        files.write_cache_file(root, name, thumbnail_jpeg(image))
    except Exception:  # noqa: BLE001 - left as a problem; the after-check reports it
        return False
    return True


def move_to_orphans(root: Path, name: str, *, under: str = "") -> str:
    """Move ``root/name`` into ``orphans/`` (never over another file); return where it went."""
    relative = PurePosixPath(ORPHANS, under, name) if under else PurePosixPath(ORPHANS, name)
    target = root / relative
    n = 0
    while target.exists() or target.is_symlink():
        n += 1
        target = root / f"{relative}.{n}"
    files.make_private_dirs(target.parent)
    os.replace(root / name, target)
    fsync_dir(target.parent)
    return target.relative_to(root).as_posix()
