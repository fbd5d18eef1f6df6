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

import json
import os
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from PIL import Image

from eczema_tracker.core import imaging, paths
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled
from eczema_tracker.core.severity_scale import expected_score
from eczema_tracker.store import db, thumbnails
from eczema_tracker.store.agreements import AgreementsMixin
from eczema_tracker.store.backup.recovery import finish_interrupted_swap, swap_leftovers
from eczema_tracker.store.bin import BinMixin
from eczema_tracker.store.errors import StoreError
from eczema_tracker.store.layout import refuse_a_folder_not_ours
from eczema_tracker.store.lock import WriterLock
from eczema_tracker.store.maintenance import quick_check
from eczema_tracker.store.models import SeverityModelsMixin
from eczema_tracker.store.prompts import PromptsMixin
from eczema_tracker.store.record.days import RecordDaysMixin
from eczema_tracker.store.record.diary import RecordMixin
from eczema_tracker.store.records import (
    TAKEN_AT_SOURCES,
    ImportResult,
    PhotoRecord,
    RatingRecord,
    TimelinePoint,
    normalise_site,
    now_iso,
)
from eczema_tracker.store.rows import (
    IN_LIBRARY,
    PHOTO_COLUMNS,
    PHOTO_FROM,
    fetch_all,
    fetch_one,
    photo_from_row,
)
from eczema_tracker.store.thumbnails import THUMBNAIL_SIZE


class Store(
    PromptsMixin, BinMixin, SeverityModelsMixin, RecordMixin, RecordDaysMixin, AgreementsMixin
):
    """A person's photo store in one folder. Open with :meth:`Store.open`; close when done.

    Its parts: photos, ratings and the timeline here; masks, analyses and prompts in
    :mod:`.masks`, :mod:`.analyses` and :mod:`.prompts`; the bin in :mod:`.bin`; severity models
    in :mod:`.models`; the patient record in :mod:`.record`; all on :class:`.base.StoreBase`.
    """

    # ----------------------------------------------------------------- open / close
    @classmethod
    def open(cls, data_dir: Path | str | None = None, *, readonly: bool = False) -> Store:
        """Open (creating if needed) the store in ``data_dir`` (default: the app's data folder).

        Raises :class:`StoreLockedError` if another process has it open for writing,
        :class:`StoreTooNewError` if a newer app wrote it, :class:`StoreNotFoundError` for a
        read-only open of a folder with no store, :class:`StoreError` for a folder without a
        store that holds files the app did not make (nothing is written into it).
        ``store.check`` says what the quick check on open found (missing files; half-written
        files removed after a crash).

        A read-only open never writes, moves or deletes anything: a restore cut short is
        finished by the next open for writing (under the writer lock), and a store whose
        creation was cut short reads as the empty store it is.
        """
        folder = paths.data_dir(data_dir)
        db_path = folder / db.DB_NAME
        if readonly:
            return cls._open_readonly(folder)
        if not swap_leftovers(folder):  # else checked once the restore is put right
            refuse_a_folder_not_ours(folder)
        lock = WriterLock(folder)
        try:
            paths.ensure_private_dir(folder)
            lock.acquire()
        except OSError as exc:
            raise StoreError(
                f"Cannot use {folder} as the photo store folder ({exc.strerror or exc})."
            ) from exc
        try:
            finish_interrupted_swap(folder)  # a restore killed mid-swap: finish or undo it
            refuse_a_folder_not_ours(folder)
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

    @classmethod
    def _open_readonly(cls, folder: Path) -> Store:
        db_path = folder / db.DB_NAME
        if not db_path.is_file() and swap_leftovers(folder):
            raise StoreError(_restore_under_way(folder))
        try:
            return cls._read_only_store(folder, db_path)
        except sqlite3.Error as exc:  # e.g. its files renamed by a restore while opening
            if swap_leftovers(folder):
                raise StoreError(_restore_under_way(folder)) from exc
            raise StoreError(f"The photo store at {folder} cannot be read ({exc}).") from exc

    @classmethod
    def _read_only_store(cls, folder: Path, db_path: Path) -> Store:
        if db.never_set_up(db_path):  # created, never set up: the empty store it is
            conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            db.migrate(conn, folder)
        else:
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
        try:
            check = quick_check(conn, folder, repair=False)
        except BaseException:
            conn.close()
            raise
        store = cls(folder, conn, None)
        store.check = check
        return store

    def close(self) -> None:
        """Close the database and release the writer lock (idempotent)."""
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.close()
            finally:
                self._conn = None
                if self._writer_lock is not None:
                    self._writer_lock.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def database_path(self) -> Path:
        return self.data_dir / db.DB_NAME

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
        sql = f"SELECT {PHOTO_COLUMNS} {PHOTO_FROM} WHERE {IN_LIBRARY} "
        args: tuple[str, ...] = ()
        if site is not None:
            sql += "AND p.site = ? "
            args = (normalise_site(site),)
        with self._lock:
            rows = fetch_all(self._db, sql + "ORDER BY p.taken_at DESC, p.id DESC", args)
            return [photo_from_row(row) for row in rows]

    def photo(self, photo_id: int) -> PhotoRecord:
        """One photo (also when it is in the bin); ``KeyError`` if there is none with that id."""
        with self._lock:
            return self._photo_row(photo_id)

    def photo_by_sha256(self, sha256: str) -> PhotoRecord | None:
        """The photo whose original bytes have this sha256, if stored."""
        with self._lock:
            row = fetch_one(
                self._db,
                f"SELECT {PHOTO_COLUMNS} {PHOTO_FROM} WHERE p.sha256 = ?",
                (sha256.lower(),),
            )
            return None if row is None else photo_from_row(row)

    def photo_file(self, photo_id: int) -> Path:
        """Absolute path of the stored original (byte-identical to what was imported)."""
        return self.data_dir / self.photo(photo_id).stored_name

    def load_image(self, photo_id: int, *, max_side: int | None = None) -> Image.Image:
        """The photo decoded upright (EXIF orientation applied) as 8-bit RGB.

        With ``max_side`` it is decoded reduced (longer side at most ``max_side``, aspect kept):
        what analysis and thumbnails need, at a fraction of the memory of a full decode."""
        return imaging.open_image(self.photo_file(photo_id), max_side=max_side)

    def make_missing_thumbnails(self, *, cancel: CancelCheck | None = None) -> int:
        """Make the thumbnail of every library photo that has none yet (after a restore: backups
        hold no thumbnails); return how many were made. A photo that cannot be decoded is left
        for the check to report. Safe beside other readers: each file is written atomically."""
        made = 0
        for photo in self.photos():
            raise_if_cancelled(cancel)
            if (self.data_dir / thumbnails.thumbnail_name(photo.sha256)).exists():
                continue
            try:
                thumbnails.ensure_thumbnail(self.data_dir, photo.sha256, photo.stored_name)
            except (OSError, ValueError):  # a missing or undecodable photo: not a cache matter
                continue
            made += 1
        return made

    def thumbnail(self, photo_id: int, size: int = THUMBNAIL_SIZE) -> Path:
        """Path of the photo's upright JPEG thumbnail (a cache: made again when missing)."""
        record = self.photo(photo_id)
        return thumbnails.ensure_thumbnail(self.data_dir, record.sha256, record.stored_name, size)

    def cached_thumbnail(self, photo: PhotoRecord, size: int = THUMBNAIL_SIZE) -> Path | None:
        """The photo's thumbnail file when it is already made, else None: never decodes the
        photo, so it is quick enough for the GUI thread (:meth:`thumbnail` makes a missing one)."""
        path = self.data_dir / thumbnails.thumbnail_name(photo.sha256, size)
        return path if path.is_file() else None

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
        taken_at_source: str = "user",
    ) -> PhotoRecord:
        """Change when a photo was taken, its body site or its note; returns the new record.

        A date given is the person's (``taken_at_source`` 'user': no longer guessed); undo
        passes the source the date had before ('exif', 'file' or 'user').
        Moving a prompt photo to another site counts as a prompt change of both sites.
        """
        if taken_at_source not in TAKEN_AT_SOURCES:
            raise ValueError(f"{taken_at_source!r} is not one of {', '.join(TAKEN_AT_SOURCES)}")
        with self._write() as conn:
            old = self._photo_row(photo_id)
            if taken_at is not None:
                text = _validate_taken_at(taken_at)
                conn.execute(
                    "UPDATE photo SET taken_at = ?, taken_at_source = ? WHERE id = ?",
                    (text, taken_at_source, old.id),
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
            rows = fetch_all(
                self._db,
                "SELECT photo_id, rating, rated_at FROM rating WHERE photo_id = ? ORDER BY id",
                (int(photo_id),),
            )
            return [
                RatingRecord(
                    photo_id=row["photo_id"], rating=row["rating"], rated_at=row["rated_at"]
                )
                for row in rows
            ]

    # ----------------------------------------------------------------- timeline
    def timeline(self, site: str | None) -> list[TimelinePoint]:
        """Every photo of ``site`` (all sites if None) in the library, oldest first, with its
        current analysis (score, class, the area of the analysis' own mask), its rating and the
        area of the mask the person painted (prompt mask, else correction), kept apart: the
        two kinds of area are never mixed (``app.photo_result``)."""
        sql = (
            "SELECT p.taken_at AS taken_at, p.id AS photo_id, a.score AS score, "
            "a.probabilities AS probabilities, "
            "a.severity_class AS severity_class, "
            "a.lesion_area_fraction AS lesion_area_fraction, "
            "COALESCE(pm.area_fraction, cm.area_fraction) AS painted_area_fraction, "
            "(SELECT r.rating FROM rating r WHERE r.photo_id = p.id ORDER BY r.id DESC LIMIT 1) "
            "AS rating, a.id AS analysis_id, "
            "a.site != p.site OR COALESCE(s.seq, 0) > a.prompt_seq AS stale, "
            "CASE WHEN pm.id IS NOT NULL THEN 'prompt' WHEN cm.id IS NOT NULL THEN 'corrected' "
            "WHEN a.id IS NOT NULL THEN 'analysis' END AS mask_origin, "
            + ("a.familiar AS familiar, " if self._has_familiarity() else "NULL AS familiar, ")
            + (
                "a.lesion_share_of_skin AS lesion_share_of_skin, "
                "CASE WHEN COALESCE(pm.skin_fraction, cm.skin_fraction) > 0 THEN "
                "COALESCE(pm.area_fraction, cm.area_fraction) / (COALESCE(pm.area_fraction, "
                "cm.area_fraction) + COALESCE(pm.skin_fraction, cm.skin_fraction)) "
                "END AS painted_share_of_skin "
                if self._has_skin_share()
                else "NULL AS lesion_share_of_skin, NULL AS painted_share_of_skin "
            )
            + "FROM photo p LEFT JOIN analysis a ON a.id = p.current_analysis_id "
            "LEFT JOIN mask_file cm ON cm.id = a.corrected_mask_id "
            "LEFT JOIN site_prompt_change s ON s.site = p.site "
            "LEFT JOIN prompt q ON q.photo_id = p.id "
            "LEFT JOIN prompt_mask_version v ON v.photo_id = q.photo_id AND v.version = "
            "(SELECT MAX(version) FROM prompt_mask_version WHERE photo_id = q.photo_id) "
            "LEFT JOIN mask_file pm ON pm.id = v.mask_id "
            f"WHERE {IN_LIBRARY} "
        )
        args: tuple[str, ...] = ()
        if site is not None:
            sql += "AND p.site = ? "
            args = (normalise_site(site),)
        with self._lock:
            rows = fetch_all(self._db, sql + "ORDER BY p.taken_at, p.id", args)
            return [
                TimelinePoint(
                    taken_at=row["taken_at"],
                    photo_id=row["photo_id"],
                    score=_score_of(row["score"], row["probabilities"]),
                    severity_class=row["severity_class"],
                    lesion_area_fraction=row["lesion_area_fraction"],
                    painted_area_fraction=row["painted_area_fraction"],
                    rating=row["rating"],
                    analysis_id=row["analysis_id"],
                    stale=bool(row["stale"]) if row["analysis_id"] is not None else False,
                    mask_origin=row["mask_origin"],
                    familiar=None if row["familiar"] is None else bool(row["familiar"]),
                    lesion_share_of_skin=row["lesion_share_of_skin"],
                    painted_share_of_skin=row["painted_share_of_skin"],
                )
                for row in rows
            ]


def _score_of(score: float | None, probabilities: str | None) -> float | None:
    """The stored score, else the expected score of the stored probabilities (an analysis
    recorded with probabilities only), else None."""
    if score is not None or probabilities is None:
        return score
    return expected_score(json.loads(probabilities))


def _validate_taken_at(value: str | datetime) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds" if not value.microsecond else "microseconds")
    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO-8601 date and time") from None
    return parsed.isoformat(timespec="seconds" if not parsed.microsecond else "microseconds")


def _restore_under_way(folder: Path) -> str:
    return (
        f"A restore into {folder} is under way or was cut short; wait for it, or open the store "
        "for writing (the app, or 'eczema-tracker check --repair') to finish it."
    )
