"""The :class:`Store`: the one way the app reads and writes photos, masks, ratings and results.

Threading: a ``Store`` may be shared between threads (e.g. the GUI thread and its analysis
worker). The SQLite connection is opened with ``check_same_thread=False`` and every public
method holds the store's own re-entrant lock, so calls are serialised; slow work (decoding,
hashing, copying photos during an import) runs outside that lock. Processes are another matter:
only one process may open a store for writing (see :mod:`eczema_tracker.store.lock`); any
number may open it with ``readonly=True`` at the same time.

Durability: files are written first (temp file, fsync, ``os.replace``, folder fsync) and their
rows committed after; a ``pending_file`` row, committed before a file is touched, tells the next
open which half-written files to remove after a crash.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image

from eczema_tracker.core import imaging, paths
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback
from eczema_tracker.store import db, files
from eczema_tracker.store.annotations import AnnotationsMixin
from eczema_tracker.store.bin import BinMixin
from eczema_tracker.store.errors import StoreError, StoreReadOnlyError
from eczema_tracker.store.lock import WriterLock
from eczema_tracker.store.maintenance import quick_check
from eczema_tracker.store.models import SeverityModelsMixin
from eczema_tracker.store.record import RecordMixin
from eczema_tracker.store.records import (
    ImportResult,
    PhotoRecord,
    RatingRecord,
    StoreCheck,
    TimelinePoint,
    normalise_site,
    now_iso,
)
from eczema_tracker.store.recovery import finish_interrupted_swap

THUMBNAIL_SIZE = 256
#: Longest side a photo is decoded at to rebuild its thumbnail (twice the thumbnail: sharp).
THUMBNAIL_DECODE_SIDE = 512
_PHOTO_COLUMNS = (
    "p.id, p.sha256, p.original_name, p.format, p.byte_size, p.width, p.height, p.taken_at, "
    "p.taken_at_source, p.imported_at, p.site, p.note, p.stored_name, "
    "q.photo_id IS NOT NULL, p.deleted_at"
)
_PHOTO_FROM = "FROM photo p LEFT JOIN prompt q ON q.photo_id = p.id"
_IN_LIBRARY = "p.deleted_at IS NULL"  # not in the bin


class Store(AnnotationsMixin, BinMixin, SeverityModelsMixin, RecordMixin):
    """A person's photo store in one folder. Open with :meth:`Store.open`; close when done."""

    def __init__(self, data_dir: Path, conn: sqlite3.Connection, lock: WriterLock | None) -> None:
        self.data_dir = data_dir
        self.readonly = lock is None
        self._conn = conn
        self._writer_lock = lock
        self._lock = threading.RLock()
        self.check: StoreCheck = StoreCheck()

    # ----------------------------------------------------------------- open / close
    @classmethod
    def open(cls, data_dir: Path | str | None = None, *, readonly: bool = False) -> Store:
        """Open (creating if needed) the store in ``data_dir`` (default: the app's data folder).

        Raises :class:`StoreLockedError` if another process has it open for writing,
        :class:`StoreTooNewError` if a newer app wrote it, :class:`StoreNotFoundError` for a
        read-only open of a folder with no store. ``store.check`` says what the quick check on
        open found (missing files; half-written files removed after a crash).
        """
        folder = paths.data_dir(data_dir)
        finish_interrupted_swap(folder)  # a restore killed mid-swap: finish or undo it first
        db_path = folder / db.DB_NAME
        if readonly:
            conn = db.connect(db_path, readonly=True)
            try:
                version = db.check_not_too_new(conn, folder, db.latest_version())
                if version < db.latest_version():
                    raise StoreError(
                        f"The photo store at {folder} needs an upgrade; open it once for "
                        "writing (without read-only) first."
                    )
            except BaseException:
                conn.close()
                raise
            store = cls(folder, conn, None)
            store.check = quick_check(conn, folder, repair=False)
            return store
        lock = WriterLock(folder)
        try:
            paths.ensure_private_dir(folder)
            lock.acquire()
        except OSError as exc:
            raise StoreError(
                f"Cannot use {folder} as the photo store folder ({exc.strerror or exc})."
            ) from exc
        try:
            conn = db.connect(db_path)
            try:
                db.migrate(conn, folder)
                store = cls(folder, conn, lock)
                store.check = quick_check(conn, folder, repair=True)
            except BaseException:
                conn.close()
                raise
        except BaseException:
            lock.release()
            raise
        return store

    def close(self) -> None:
        """Close the database and release the writer lock (idempotent)."""
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.close()
            finally:
                self._conn = None  # type: ignore[assignment]
                if self._writer_lock is not None:
                    self._writer_lock.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def database_path(self) -> Path:
        return self.data_dir / db.DB_NAME

    # ----------------------------------------------------------------- internals
    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("The photo store is closed.")
        return self._conn

    def _require_writable(self) -> None:
        if self.readonly:
            raise StoreReadOnlyError(f"The photo store at {self.data_dir} is open read-only.")

    @contextmanager
    def _write(self):
        """Hold the store lock and run one write transaction."""
        with self._lock:
            self._require_writable()
            with db.transaction(self._db) as conn:
                yield conn

    def _begin_file(self, stored_name: str, data: bytes) -> None:
        """Record the pending file (committed), then write it atomically. Hold ``_lock``."""
        with db.transaction(self._db) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO pending_file (stored_name, created_at) VALUES (?, ?)",
                (stored_name, now_iso()),
            )
        files.atomic_write_bytes(self.data_dir, stored_name, data)

    def _abandon_file(self, stored_name: str) -> None:
        """Undo :meth:`_begin_file` after the row could not be committed (unless referenced)."""
        from eczema_tracker.store.maintenance import is_referenced

        with self._lock:
            if not is_referenced(self._db, stored_name):
                (self.data_dir / stored_name).unlink(missing_ok=True)
            self._db.execute("DELETE FROM pending_file WHERE stored_name = ?", (stored_name,))

    def _photo_row(self, photo_id: int) -> PhotoRecord:
        row = self._db.execute(
            f"SELECT {_PHOTO_COLUMNS} {_PHOTO_FROM} WHERE p.id = ?", (int(photo_id),)
        ).fetchone()
        if row is None:
            raise KeyError(f"no photo with id {photo_id}")
        return _photo(row)

    # ----------------------------------------------------------------- photos
    def import_paths(
        self,
        paths: Iterable[str | os.PathLike[str]],
        site: str = "unspecified",
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
        restore_binned: bool = False,
    ) -> list[ImportResult]:
        """Import files and folders (recursively); one :class:`ImportResult` per file.

        See :mod:`eczema_tracker.store.importer` for what is tried, skipped and refused. With
        ``restore_binned``, photos found in the bin come back (status ``restored``).
        """
        from eczema_tracker.store.importer import import_paths

        self._require_writable()
        return import_paths(
            self, paths, site, progress=progress, cancel=cancel, restore_binned=restore_binned
        )

    def photos(self, site: str | None = None) -> list[PhotoRecord]:
        """All photos in the library (of one body site if given), newest first by ``taken_at``.

        Photos in the bin are not listed (see :meth:`binned_photos`)."""
        with self._lock:
            if site is None:
                rows = self._db.execute(
                    f"SELECT {_PHOTO_COLUMNS} {_PHOTO_FROM} WHERE {_IN_LIBRARY} "
                    "ORDER BY p.taken_at DESC, p.id DESC"
                )
            else:
                rows = self._db.execute(
                    f"SELECT {_PHOTO_COLUMNS} {_PHOTO_FROM} WHERE p.site = ? AND {_IN_LIBRARY} "
                    "ORDER BY p.taken_at DESC, p.id DESC",
                    (normalise_site(site),),
                )
            return [_photo(r) for r in rows]

    def photo(self, photo_id: int) -> PhotoRecord:
        """One photo (also when it is in the bin); ``KeyError`` if there is none with that id."""
        with self._lock:
            return self._photo_row(photo_id)

    def photo_by_sha256(self, sha256: str) -> PhotoRecord | None:
        """The photo whose original bytes have this sha256, if stored."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_PHOTO_COLUMNS} {_PHOTO_FROM} WHERE p.sha256 = ?", (sha256.lower(),)
            ).fetchone()
            return _photo(row) if row else None

    def photo_file(self, photo_id: int) -> Path:
        """Absolute path of the stored original (byte-identical to what was imported)."""
        return self.data_dir / self.photo(photo_id).stored_name

    def load_image(self, photo_id: int, *, max_side: int | None = None) -> Image.Image:
        """The photo decoded upright (EXIF orientation applied) as 8-bit RGB.

        With ``max_side`` it is decoded reduced (longer side at most ``max_side``, aspect kept):
        what analysis and thumbnails need, at a fraction of the memory of a full decode."""
        return imaging.open_image(self.photo_file(photo_id), max_side=max_side)

    def thumbnail(self, photo_id: int, size: int = THUMBNAIL_SIZE) -> Path:
        """Path of the photo's upright JPEG thumbnail (a cache: made again when missing)."""
        record = self.photo(photo_id)
        target = self.data_dir / _thumbnail_name(record.sha256, size)
        if not target.exists():
            image = imaging.open_image(
                self.data_dir / record.stored_name, max_side=max(THUMBNAIL_DECODE_SIDE, size)
            )
            write_thumbnail(self.data_dir, record.sha256, image, size)
        return target

    def sites(self) -> list[str]:
        """Body sites of the photos in the library, alphabetically."""
        with self._lock:
            return [
                r[0]
                for r in self._db.execute(
                    "SELECT DISTINCT site FROM photo WHERE deleted_at IS NULL ORDER BY site"
                )
            ]

    def rename_site(self, old: str, new: str) -> int:
        """Give every photo of body site ``old`` (bin included) the site ``new``; returns how
        many moved. A prompt change of both sites when ``old`` had prompts."""
        old_site, new_site = normalise_site(old), normalise_site(new)
        with self._write() as conn:
            moved = conn.execute("SELECT COUNT(*) FROM photo WHERE site = ?", (old_site,))
            count = int(moved.fetchone()[0])
            if not count:
                raise ValueError(f"no photo has the body site '{old_site}'")
            if new_site == old_site:
                return 0
            had_prompts = conn.execute(
                "SELECT 1 FROM prompt q JOIN photo p ON p.id = q.photo_id WHERE p.site = ?",
                (old_site,),
            ).fetchone()
            conn.execute("UPDATE photo SET site = ? WHERE site = ?", (new_site, old_site))
            if had_prompts:
                self._bump_prompt_change(old_site)
                self._bump_prompt_change(new_site)
            return count

    def update_photo(
        self,
        photo_id: int,
        *,
        taken_at: str | datetime | None = None,
        site: str | None = None,
        note: str | None = None,
    ) -> PhotoRecord:
        """Change when a photo was taken, its body site or its note; returns the new record.

        Moving a prompt photo to another site counts as a prompt change of both sites.
        """
        with self._write() as conn:
            old = self._photo_row(photo_id)
            if taken_at is not None:
                text = _validate_taken_at(taken_at)
                conn.execute(
                    "UPDATE photo SET taken_at = ?, taken_at_source = 'user' WHERE id = ?",
                    (text, old.id),
                )
            if note is not None:
                conn.execute("UPDATE photo SET note = ? WHERE id = ?", (str(note), old.id))
            if site is not None:
                new_site = normalise_site(site)
                if new_site != old.site:
                    conn.execute("UPDATE photo SET site = ? WHERE id = ?", (new_site, old.id))
                    if old.is_prompt:
                        self._bump_prompt_change(old.site)
                        self._bump_prompt_change(new_site)
            return self._photo_row(old.id)

    def delete_photo(self, photo_id: int) -> None:
        """Remove a photo with its analyses, ratings and prompt masks (the person asked)."""
        from eczema_tracker.store.maintenance import delete_unreferenced

        with self._lock:
            with self._write() as conn:
                old = self._photo_row(photo_id)
                if old.is_prompt and not old.in_bin:  # a binned prompt is no prompt already
                    self._bump_prompt_change(old.site)
                conn.execute("UPDATE photo SET current_analysis_id = NULL WHERE id = ?", (old.id,))
                conn.execute("DELETE FROM photo WHERE id = ?", (old.id,))
                names = [old.stored_name] + [
                    r[0]
                    for r in conn.execute(
                        "SELECT stored_name FROM mask_file m WHERE NOT EXISTS "
                        "(SELECT 1 FROM prompt_mask_version v WHERE v.mask_id = m.id) AND NOT "
                        "EXISTS (SELECT 1 FROM analysis a WHERE a.mask_id = m.id "
                        "OR a.corrected_mask_id = m.id)"
                    )
                ]
                conn.executemany(
                    "DELETE FROM mask_file WHERE stored_name = ?", [(n,) for n in names]
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO pending_file (stored_name, created_at) VALUES (?, ?)",
                    [(n, now_iso()) for n in names],
                )
            delete_unreferenced(self._db, self.data_dir, names)
            for thumb in (self.data_dir / files.THUMBNAILS / old.sha256[:2]).glob(f"{old.sha256}*"):
                thumb.unlink(missing_ok=True)

    # ----------------------------------------------------------------- ratings
    def rate(self, photo_id: int, rating: int | None, when: str | datetime | None = None) -> None:
        """Record the person's own rating 0-3 of a photo (None clears it); history is kept."""
        if rating is not None and (
            isinstance(rating, bool) or not isinstance(rating, int) or not 0 <= rating <= 3
        ):
            raise ValueError(f"a self-rating must be 0, 1, 2 or 3, not {rating!r}")
        when_text = now_iso() if when is None else _validate_taken_at(when)
        with self._write() as conn:
            self._photo_row(photo_id)
            conn.execute(
                "INSERT INTO rating (photo_id, rating, rated_at) VALUES (?, ?, ?)",
                (int(photo_id), rating, when_text),
            )

    def rating(self, photo_id: int) -> int | None:
        """The photo's current self-rating, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT rating FROM rating WHERE photo_id = ? ORDER BY id DESC LIMIT 1",
                (int(photo_id),),
            ).fetchone()
            return None if row is None else row[0]

    def rating_history(self, photo_id: int) -> list[RatingRecord]:
        """Every rating given to the photo, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT photo_id, rating, rated_at FROM rating WHERE photo_id = ? ORDER BY id",
                (int(photo_id),),
            )
            return [RatingRecord(*r) for r in rows]

    # ----------------------------------------------------------------- timeline
    def timeline(self, site: str | None) -> list[TimelinePoint]:
        """Every photo of ``site`` (all sites if None) in the library, oldest first, with its
        current analysis (score, class), its rating and the area of its shown mask: the person's
        own (prompt mask, else correction) before the app's (see :meth:`shown_mask`)."""
        sql = (
            "SELECT p.taken_at, p.id, a.score, a.severity_class, "
            "CASE WHEN pm.id IS NOT NULL THEN pm.area_fraction "
            "ELSE COALESCE(cm.area_fraction, a.lesion_area_fraction) END, "
            "(SELECT r.rating FROM rating r WHERE r.photo_id = p.id ORDER BY r.id DESC LIMIT 1), "
            "a.id, a.site != p.site OR COALESCE(s.seq, 0) > a.prompt_seq, "
            "CASE WHEN pm.id IS NOT NULL THEN 'prompt' WHEN cm.id IS NOT NULL THEN 'corrected' "
            "WHEN a.id IS NOT NULL THEN 'analysis' END "
            "FROM photo p LEFT JOIN analysis a ON a.id = p.current_analysis_id "
            "LEFT JOIN mask_file cm ON cm.id = a.corrected_mask_id "
            "LEFT JOIN site_prompt_change s ON s.site = p.site "
            "LEFT JOIN prompt q ON q.photo_id = p.id "
            "LEFT JOIN prompt_mask_version v ON v.photo_id = q.photo_id AND v.version = "
            "(SELECT MAX(version) FROM prompt_mask_version WHERE photo_id = q.photo_id) "
            "LEFT JOIN mask_file pm ON pm.id = v.mask_id "
            f"WHERE {_IN_LIBRARY} "
        )
        with self._lock:
            if site is None:
                rows = self._db.execute(sql + "ORDER BY p.taken_at, p.id")
            else:
                rows = self._db.execute(
                    sql + "AND p.site = ? ORDER BY p.taken_at, p.id", (normalise_site(site),)
                )
            return [
                TimelinePoint(
                    taken_at=r[0],
                    photo_id=r[1],
                    score=r[2],
                    severity_class=r[3],
                    lesion_area_fraction=r[4],
                    rating=r[5],
                    analysis_id=r[6],
                    stale=bool(r[7]) if r[6] is not None else False,
                    mask_origin=r[8],
                )
                for r in rows
            ]


def _photo(r: Sequence[Any]) -> PhotoRecord:
    return PhotoRecord(
        id=r[0],
        sha256=r[1],
        original_name=r[2],
        format=r[3],
        byte_size=r[4],
        width=r[5],
        height=r[6],
        taken_at=r[7],
        taken_at_source=r[8],
        imported_at=r[9],
        site=r[10],
        note=r[11],
        stored_name=r[12],
        is_prompt=bool(r[13]),
        deleted_at=r[14],
    )


def _validate_taken_at(value: str | datetime) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds" if not value.microsecond else "microseconds")
    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO-8601 date and time") from None
    return parsed.isoformat(timespec="seconds" if not parsed.microsecond else "microseconds")


def _thumbnail_name(sha256: str, size: int) -> str:
    suffix = ".jpg" if size == THUMBNAIL_SIZE else f"-{size}.jpg"
    return f"{files.THUMBNAILS}/{sha256[:2]}/{sha256}{suffix}"


def thumbnail_jpeg(image: Image.Image, size: int = THUMBNAIL_SIZE) -> bytes:
    """JPEG bytes of an upright thumbnail of ``image``."""
    import io

    buf = io.BytesIO()
    imaging.thumbnail(image, size).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def write_thumbnail(
    root: Path, sha256: str, image: Image.Image, size: int = THUMBNAIL_SIZE
) -> Path:
    """Write (atomically) the thumbnail cache file of a photo."""
    return files.atomic_write_bytes(
        root, _thumbnail_name(sha256, size), thumbnail_jpeg(image, size)
    )
