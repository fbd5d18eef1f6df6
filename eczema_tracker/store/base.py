"""What every part of the :class:`~eczema_tracker.store.Store` stands on: its internal interface.

The Store is composed of mixins, one per thing it owns (:mod:`.masks`, :mod:`.analyses`,
:mod:`.prompts`, :mod:`.bin`, :mod:`.models`, :mod:`.record`). They reach the database only
through what :class:`StoreBase` declares here: the folder, the connection, the lock, the write
transaction, the two halves of a durable file write, a photo's row, and the store-wide counter
of prompt changes. Nothing else of another mixin is assumed.

Two public methods, :meth:`StoreBase.add_photos` and :meth:`StoreBase.copy_database_to`, are
for the store's own modules (the importer, the backup) and not for the app.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from eczema_tracker.store import db, files, maintenance
from eczema_tracker.store.errors import StoreError, StoreReadOnlyError
from eczema_tracker.store.lock import WriterLock
from eczema_tracker.store.records import PhotoRecord, StoreCheck, now_iso
from eczema_tracker.store.rows import (
    PHOTO_COLUMNS,
    PHOTO_FROM,
    fetch_one,
    last_id,
    photo_from_row,
)


@dataclass(frozen=True)
class NewPhoto:
    """A decoded photo the importer hands to :meth:`StoreBase.add_photos` (bytes in memory)."""

    sha256: str
    stored_name: str
    original_name: str
    format: str
    data: bytes
    width: int  # upright
    height: int
    taken_at: str
    taken_at_source: str


class StoreBase:
    """The connection, lock and file-writing internals every Store mixin uses."""

    data_dir: Path
    readonly: bool
    check: StoreCheck

    def __init__(self, data_dir: Path, conn: sqlite3.Connection, lock: WriterLock | None) -> None:
        self.data_dir = data_dir
        self.readonly = lock is None
        self._conn: sqlite3.Connection | None = conn
        self._writer_lock = lock
        #: Held by every public method: calls from several threads are serialised.
        self._lock = threading.RLock()
        self.check = StoreCheck()

    # ----------------------------------------------------------------- connection
    @property
    def _db(self) -> sqlite3.Connection:
        """The open connection (rows as tuples); :class:`StoreError` once closed."""
        if self._conn is None:
            raise StoreError("The photo store is closed.")
        return self._conn

    def _require_writable(self) -> None:
        if self.readonly:
            raise StoreReadOnlyError(f"The photo store at {self.data_dir} is open read-only.")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """Hold the store lock and run one write transaction."""
        with self._lock:
            self._require_writable()
            with db.transaction(self._db) as conn:
                yield conn

    # ----------------------------------------------------------------- durable files
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
        with self._lock:
            if not maintenance.is_referenced(self._db, stored_name):
                (self.data_dir / stored_name).unlink(missing_ok=True)
            self._db.execute("DELETE FROM pending_file WHERE stored_name = ?", (stored_name,))

    # ----------------------------------------------------------------- shared rows
    def _has_mask_skin(self) -> bool:
        """Whether the database has the schema-6 ``mask_file.skin_fraction`` column (asked
        once; only the migration tests hold a store at an older schema open)."""
        known = self.__dict__.get("_mask_skin_column")
        if known is None:
            with self._lock:
                names = {row[1] for row in self._db.execute("PRAGMA table_info(mask_file)")}
            known = self.__dict__["_mask_skin_column"] = "skin_fraction" in names
        return bool(known)

    def _photo_row(self, photo_id: int) -> PhotoRecord:
        """One photo (bin included); ``KeyError`` if absent. Hold ``_lock``."""
        row = fetch_one(
            self._db, f"SELECT {PHOTO_COLUMNS} {PHOTO_FROM} WHERE p.id = ?", (int(photo_id),)
        )
        if row is None:
            raise KeyError(f"no photo with id {photo_id}")
        return photo_from_row(row)

    def _bump_prompt_change(self, site: str) -> int:
        """Record a change of ``site``'s prompt set (call inside a write transaction).

        Analyses remember the counter when they were made; a later change makes them stale."""
        seq = self._db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM site_prompt_change"
        ).fetchone()[0]
        self._db.execute(
            "INSERT INTO site_prompt_change (site, seq, changed_at) VALUES (?, ?, ?) "
            "ON CONFLICT (site) DO UPDATE SET seq = excluded.seq, changed_at = excluded.changed_at",
            (site, seq, now_iso()),
        )
        return int(seq)

    # ----------------------------------------------------------------- for the store's modules
    def add_photos(self, photos: Sequence[NewPhoto], site: str) -> dict[str, tuple[int, bool]]:
        """Store new photos: files first (durably, pending rows committed before), then all
        their rows in one transaction. For the importer.

        Returns sha256 -> (photo id, True when this call stored it). A photo already in the
        store, or a second one with the same sha256, is not written again. On any failure
        nothing of the batch is kept; an ``OSError`` becomes :class:`StoreError`.
        """
        with self._lock:
            self._require_writable()
            conn = self._db
            answer: dict[str, tuple[int, bool]] = {}
            new: list[NewPhoto] = []
            for photo in photos:
                if photo.sha256 in answer or any(p.sha256 == photo.sha256 for p in new):
                    continue
                existing = conn.execute(
                    "SELECT id FROM photo WHERE sha256 = ?", (photo.sha256,)
                ).fetchone()
                if existing is not None:
                    answer[photo.sha256] = (int(existing[0]), False)
                else:
                    new.append(photo)
            names = [photo.stored_name for photo in new]
            try:
                with db.transaction(conn):
                    conn.executemany(
                        "INSERT OR REPLACE INTO pending_file (stored_name, created_at) "
                        "VALUES (?, ?)",
                        [(n, now_iso()) for n in names],
                    )
                folders = set()
                for photo in new:
                    target = files.write_file_durably(self.data_dir, photo.stored_name, photo.data)
                    folders.add(target.parent)
                for folder in folders:
                    files.fsync_dir(folder)
                with db.transaction(conn):
                    for photo in new:
                        cur = conn.execute(
                            "INSERT INTO photo (sha256, stored_name, original_name, format, "
                            "byte_size, width, height, taken_at, taken_at_source, imported_at, "
                            "site) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (
                                photo.sha256,
                                photo.stored_name,
                                photo.original_name,
                                photo.format,
                                len(photo.data),
                                photo.width,
                                photo.height,
                                photo.taken_at,
                                photo.taken_at_source,
                                now_iso(),
                                site,
                            ),
                        )
                        answer[photo.sha256] = (last_id(cur), True)
                    conn.executemany(
                        "DELETE FROM pending_file WHERE stored_name = ?", [(n,) for n in names]
                    )
            except BaseException as exc:
                for name in names:
                    self._abandon_file(name)
                if isinstance(exc, OSError):
                    raise StoreError(
                        f"Could not write into the photo store at {self.data_dir} "
                        f"({exc.strerror or exc}); nothing of this batch was kept."
                    ) from exc
                raise
            return answer

    def copy_database_to(self, dest: sqlite3.Connection) -> None:
        """Copy the whole database into ``dest`` (SQLite's online backup), holding the store
        lock so no write of this store lands half-way. For the backup."""
        with self._lock:
            self._db.backup(dest)
