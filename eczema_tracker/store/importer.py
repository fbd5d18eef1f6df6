"""Importing photos: every file named or found gets exactly one :class:`ImportResult`.

What is tried:

- A file named explicitly is always tried, whatever its suffix.
- A folder is searched recursively (symlinked folders are not followed). Inside folders, only
  files with a photo suffix (:data:`eczema_tracker.imaging.IMAGE_SUFFIXES`) are tried; other
  files and hidden entries (names starting with ``.``, such as macOS ``._IMG_1.jpg`` resource
  forks) are skipped silently, so a camera folder with sidecar files imports cleanly.
- A folder with a photo's name (``holiday.jpg/``), named or found, is refused: it is not a photo.

Each photo is read once; its bytes are hashed (sha256: the identity of a photo), fully decoded
(a truncated, corrupt, over-100-megapixel or unsupported file is refused with its reason) and
stored byte-identical. A photo already in the store is reported as ``duplicate``. Capture time:
EXIF DateTimeOriginal (+ OffsetTimeOriginal), else the file's modification time.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from eczema_tracker import imaging
from eczema_tracker.jobs import CancelCheck, Cancelled, ProgressCallback, raise_if_cancelled, report
from eczema_tracker.store import db, files
from eczema_tracker.store.records import ImportResult, normalise_site, now_iso

if TYPE_CHECKING:
    from eczema_tracker.store.repository import Store

#: Files larger than this are refused before reading (no phone photo comes close).
MAX_FILE_BYTES = 512 * 1024 * 1024


def collect(paths: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[Path, str | None]]:
    """Yield ``(path, refusal)`` for every file to try; ``refusal`` is set when it cannot be."""
    for given in paths:
        path = Path(given)
        if path.is_dir():
            if imaging.is_image_name(path):
                yield path, "is a folder, not an image file"
                continue
            yield from _walk(path)
        elif path.exists() or path.is_symlink():
            yield path, None
        else:
            yield path, "does not exist"


def _walk(folder: Path) -> Iterator[tuple[Path, str | None]]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        yield folder, f"folder cannot be read ({exc.strerror or exc})"
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        if is_dir:
            if imaging.is_image_name(path):
                yield path, "is a folder, not an image file"
            else:
                yield from _walk(path)
        elif imaging.is_image_name(path):
            yield path, None


def import_paths(
    store: Store,
    paths: Iterable[str | os.PathLike[str]],
    site: str = "unspecified",
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> list[ImportResult]:
    """Import ``paths`` into ``store`` (see the module docstring).

    On cancel, :class:`~eczema_tracker.jobs.Cancelled` is raised between files; photos imported
    before it stay, and the exception's ``results`` attribute lists them.
    """
    site_name = normalise_site(site)
    todo = list(collect(paths))
    results: list[ImportResult] = []
    report(progress, 0, len(todo), "")
    for done, (path, refusal) in enumerate(todo, start=1):
        try:
            raise_if_cancelled(cancel)
        except Cancelled as exc:
            exc.results = results  # type: ignore[attr-defined]
            raise
        if refusal is not None:
            results.append(ImportResult(str(path), "refused", refusal, None))
        else:
            results.append(import_file(store, path, site_name))
        report(progress, done, len(todo), path.name)
    return results


def import_file(store: Store, path: Path, site: str) -> ImportResult:
    """Import one file; never raises for a bad file (it is refused with its reason)."""
    label = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return ImportResult(label, "refused", f"is too large a file ({size} bytes)", None)
        data = path.read_bytes()
        mtime = path.stat().st_mtime
    except IsADirectoryError:
        return ImportResult(label, "refused", "is a folder, not an image file", None)
    except OSError as exc:
        return ImportResult(label, "refused", f"cannot be read ({exc.strerror or exc})", None)
    sha = files.sha256_bytes(data)
    existing = store.photo_by_sha256(sha)
    if existing is not None:
        return ImportResult(label, "duplicate", None, existing.id)
    try:
        decoded = imaging.decode_photo(data, label=label)
    except imaging.ImageLoadError as exc:
        return ImportResult(label, "refused", exc.reason, None)
    if decoded.taken_at is not None:
        taken_at, taken_source = decoded.taken_at, "exif"
    else:
        taken_at = datetime.fromtimestamp(mtime).astimezone().isoformat(timespec="seconds")
        taken_source = "file"
    from eczema_tracker.store.repository import thumbnail_jpeg

    thumb = thumbnail_jpeg(decoded.image)
    suffix = imaging.FORMAT_SUFFIX.get(decoded.format, ".img")
    name = files.content_name(files.PHOTOS, sha, suffix)
    with store._lock:  # noqa: SLF001 - the importer is part of the store
        store._require_writable()  # noqa: SLF001
        again = store.photo_by_sha256(sha)
        if again is not None:  # imported meanwhile (the same file twice in one batch)
            return ImportResult(label, "duplicate", None, again.id)
        store._begin_file(name, data)  # noqa: SLF001
        try:
            with db.transaction(store._db) as conn:  # noqa: SLF001
                cur = conn.execute(
                    "INSERT INTO photo (sha256, stored_name, original_name, format, byte_size, "
                    "width, height, taken_at, taken_at_source, imported_at, site) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        sha,
                        name,
                        path.name,
                        decoded.format,
                        len(data),
                        decoded.width,
                        decoded.height,
                        taken_at,
                        taken_source,
                        now_iso(),
                        site,
                    ),
                )
                conn.execute("DELETE FROM pending_file WHERE stored_name = ?", (name,))
                photo_id = int(cur.lastrowid)
        except BaseException:
            store._abandon_file(name)  # noqa: SLF001
            raise
    try:  # the thumbnail is a cache: failing to write it loses nothing
        files.atomic_write_bytes(store.data_dir, f"{files.THUMBNAILS}/{sha[:2]}/{sha}.jpg", thumb)
    except OSError:
        pass
    return ImportResult(label, "imported", None, photo_id)
