"""Importing photos: every file named or found gets exactly one :class:`ImportResult`.

What is tried:

- A file named explicitly is always tried, whatever its suffix.
- A folder is searched recursively (symlinked folders are not followed). Inside folders, only
  files with a photo suffix (:data:`eczema_tracker.core.imaging.IMAGE_SUFFIXES`) are tried; other
  files and hidden entries (names starting with ``.``, such as macOS ``._IMG_1.jpg`` resource
  forks) are skipped silently, so a camera folder with sidecar files imports cleanly.
- A folder with a photo's name (``holiday.jpg/``), named or found, is searched like any folder.
- Only regular files are read (a symlink to one is fine): a device, FIFO or socket, named or
  found, is refused with its reason without blocking, and no file is read past
  :data:`MAX_FILE_BYTES` (counted while reading: ``st_size`` is 0 for devices).
- A file name that is not valid UTF-8 is kept losslessly in readable form
  (:func:`eczema_tracker.store.files.readable_name`); results name files the same way.

Each photo is read once; its bytes are hashed (sha256: the identity of a photo), fully decoded
(a truncated, corrupt, over-100-megapixel or unsupported file is refused with its reason, also
one a decoder would silently patch up: see :mod:`eczema_tracker.core.image_integrity`) and stored
byte-identical. JPEGs are decoded reduced (to :data:`DECODE_SIDE`): the thumbnail is all the
import needs, and every byte of the file is still decoded. A photo already in the store is
reported as ``duplicate``; one that is in the bin is brought back from it and reported as
``restored`` when the import is asked to (``restore_binned``: importing a deleted photo again
means the person wants it back). Capture time: EXIF DateTimeOriginal (+ OffsetTimeOriginal),
else the file's modification time.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from eczema_tracker.core import imaging
from eczema_tracker.core.jobs import (
    CancelCheck,
    Cancelled,
    ProgressCallback,
    raise_if_cancelled,
    report,
)
from eczema_tracker.store import files
from eczema_tracker.store.base import NewPhoto
from eczema_tracker.store.records import ImportResult, PhotoRecord, normalise_site
from eczema_tracker.store.thumbnails import (
    THUMBNAIL_DECODE_SIDE,
    thumbnail_jpeg,
    write_cached_thumbnail,
)


class PhotoIntake(Protocol):
    """What importing needs of a store (:class:`~eczema_tracker.store.repository.Store` is one)."""

    data_dir: Path

    def photo_by_sha256(self, sha256: str) -> PhotoRecord | None:
        """The photo whose original bytes have this sha256, if stored."""
        ...

    def add_photos(self, photos: Sequence[NewPhoto], site: str) -> dict[str, tuple[int, bool]]:
        """Store new photos (files first, then their rows in one transaction).

        Returns sha256 -> (photo id, True when this call stored it)."""
        ...

    def binned_photos(self) -> list[PhotoRecord]:
        """The photos in the bin."""
        ...

    def restore_from_bin(self, photo_ids: Iterable[int]) -> list[int]:
        """Take ``photo_ids`` out of the bin; the ids restored."""
        ...


#: Files larger than this are refused before reading (no phone photo comes close).
MAX_FILE_BYTES = 512 * 1024 * 1024
#: Photos are committed in batches (one fsync'd transaction each) of at most this many files
#: or bytes; each photo is still complete on disk before its row exists.
BATCH_FILES = 32
BATCH_BYTES = 64 * 1024 * 1024
#: Longer side the import decodes photos to (for the 256-px thumbnail); sizes stored are full.
DECODE_SIDE = THUMBNAIL_DECODE_SIDE


@dataclass(frozen=True)
class _Prepared:
    """A decoded photo waiting to be written (bytes in memory), and where it came from."""

    index: int  # of its file among the import's results
    label: str
    photo: NewPhoto
    thumbnail: bytes  # JPEG

    @property
    def sha256(self) -> str:
        return self.photo.sha256


def collect(paths: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[Path, str | None]]:
    """Yield ``(path, refusal)`` for every file to try; ``refusal`` is set when it cannot be."""
    for given in paths:
        path = Path(given)
        if path.is_dir():
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
            yield from _walk(path)
        elif imaging.is_image_name(path):
            yield path, None


def import_paths(
    store: PhotoIntake,
    paths: Iterable[str | os.PathLike[str]],
    site: str = "unspecified",
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    restore_binned: bool = False,
) -> list[ImportResult]:
    """Import ``paths`` into ``store`` (see the module docstring).

    With ``restore_binned``, a photo found in the bin is restored (one transaction, after the
    new photos are stored) and its first file is reported as ``restored``. On cancel, :class:`~eczema_tracker.core.jobs.Cancelled` is raised between files; the photos
    decoded so far are stored first, and the exception's ``results`` attribute lists them.
    A failure to write into the store itself (disk full...) raises :class:`StoreError`.
    """
    site_name = normalise_site(site)
    todo = list(collect(paths))
    results: list[ImportResult | None] = [None] * len(todo)
    batch: list[_Prepared] = []
    report(progress, 0, len(todo), "")
    try:
        for index, (path, refusal) in enumerate(todo):
            raise_if_cancelled(cancel)
            if refusal is not None:
                results[index] = ImportResult(_label(path), "refused", refusal, None)
            else:
                outcome = prepare_file(store, path, index)
                if isinstance(outcome, ImportResult):
                    results[index] = outcome
                else:
                    batch.append(outcome)
                    if (
                        len(batch) >= BATCH_FILES
                        or sum(len(p.photo.data) for p in batch) >= BATCH_BYTES
                    ):
                        _commit_batch(store, batch, site_name, results)
                        batch = []
            report(progress, index + 1, len(todo), files.readable_name(path.name))
    except Cancelled as exc:
        _commit_batch(store, batch, site_name, results)
        done = [r for r in results if r is not None]
        exc.results = _restore_binned(store, done) if restore_binned else done  # type: ignore[attr-defined]
        raise
    _commit_batch(store, batch, site_name, results)
    done = [r for r in results if r is not None]
    return _restore_binned(store, done) if restore_binned else done


def _restore_binned(store: PhotoIntake, results: list[ImportResult]) -> list[ImportResult]:
    """Bring the duplicates that are in the bin back; their first result becomes ``restored``."""
    binned = {photo.id for photo in store.binned_photos()}
    wanted = {r.photo_id for r in results if r.status == "duplicate" and r.photo_id in binned}
    if not wanted:
        return results
    back = set(store.restore_from_bin(sorted(wanted)))
    answered: list[ImportResult] = []
    for result in results:
        if result.status == "duplicate" and result.photo_id in back:
            back.discard(result.photo_id)  # the same file named twice: restored once
            result = replace(result, status="restored")
        answered.append(result)
    return answered


def _label(path: Path) -> str:
    """How results name a file: its path, readable whatever bytes the name holds."""
    return files.readable_name(str(path))


def prepare_file(store: PhotoIntake, path: Path, index: int = 0) -> _Prepared | ImportResult:
    """Read, hash and decode one file; a refusal or duplicate comes back as its result."""
    label = _label(path)
    try:
        data, info = imaging.read_regular_file(path, max_bytes=MAX_FILE_BYTES, label=label)
    except imaging.ImageLoadError as exc:
        return ImportResult(label, "refused", exc.reason, None)
    mtime = info.st_mtime
    sha = files.sha256_bytes(data)
    existing = store.photo_by_sha256(sha)
    if existing is not None:
        return ImportResult(label, "duplicate", None, existing.id)
    try:
        decoded = imaging.decode_photo(data, label=label, max_side=DECODE_SIDE)
    except imaging.ImageLoadError as exc:
        return ImportResult(label, "refused", exc.reason, None)
    if decoded.taken_at is not None:
        taken_at, taken_source = decoded.taken_at, "exif"
    else:
        try:
            when = datetime.fromtimestamp(mtime).astimezone()
        except (OverflowError, ValueError, OSError):  # a file time far outside the calendar
            when = datetime.now().astimezone()
        taken_at = when.isoformat(timespec="seconds")
        taken_source = "file"
    photo = NewPhoto(
        sha256=sha,
        stored_name=files.content_name(
            files.PHOTOS, sha, imaging.FORMAT_SUFFIX.get(decoded.format, ".img")
        ),
        original_name=files.readable_name(path.name),
        format=decoded.format,
        data=data,
        width=decoded.width,
        height=decoded.height,
        taken_at=taken_at,
        taken_at_source=taken_source,
    )
    return _Prepared(index, label, photo, thumbnail_jpeg(decoded.image))


def _commit_batch(
    store: PhotoIntake, batch: list[_Prepared], site: str, results: list[ImportResult | None]
) -> None:
    """Store the batch (files first, then all rows at once) and answer each of its files.

    A photo already stored, or met earlier in the batch, is a ``duplicate``; a failure to write
    raises :class:`~eczema_tracker.store.errors.StoreError` and keeps nothing of the batch."""
    if not batch:
        return
    stored = store.add_photos([item.photo for item in batch], site)
    answered: set[str] = set()
    for item in batch:
        photo_id, is_new = stored[item.sha256]
        if is_new and item.sha256 not in answered:
            guessed = item.photo.taken_at_source == "file"
            results[item.index] = ImportResult(item.label, "imported", None, photo_id, guessed)
            write_cached_thumbnail(store.data_dir, item.sha256, item.thumbnail)
        else:
            results[item.index] = ImportResult(item.label, "duplicate", None, photo_id)
        answered.add(item.sha256)
