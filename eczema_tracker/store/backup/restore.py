"""Restore the store from a backup zip (see :mod:`eczema_tracker.store.backup.export`), never risking it.

The source must be a regular file (``/dev/zero`` and pipes are refused at once) and is read
through a byte cap. Member names are checked (no paths outside the store, no links), sizes
bounded (photos and masks must be stored uncompressed and within the import limit; every read
stops at the manifest's size) and every hash verified. The database comes first: SQLite's
integrity check, the app's own schema object by object (no foreign trigger or view), every stored
name plain and inside the store, every member referred to by a row. The store folder's writer
lock is held throughout; the new store is built in a locked sibling folder and swapped in entry
by entry as :mod:`.recovery` describes, so a kill at any moment leaves the old store whole or the
new one complete, and files a person keeps in the folder stay where they are. A non-empty store
is replaced only with ``force``, and is first kept as a dated backup zip beside the folder
(``<name>-replaced-<date>.zip``, made by the export). A folder without a store that holds files
the app did not make is refused. If anything fails, the old store is untouched.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import sqlite3
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from eczema_tracker.core import paths
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled, report
from eczema_tracker.store import db, files
from eczema_tracker.store.backup.recovery import (
    COMPLETE_MARKER,
    OLD,
    STAGING,
    dispose_of_old,
    finish_interrupted_swap,
    move_aside,
    move_in,
    replaced_name,
    start_old_folder,
    swap_leftovers,
    swap_path,
)
from eczema_tracker.store.backup.zip_format import (
    BACKUP_FORMAT,
    BACKUP_FORMAT_VERSION,
    CHUNK,
    MANIFEST,
    MAX_IMAGE_MEMBER_BYTES,
    MAX_MANIFEST_BYTES,
    MAX_MODEL_MEMBER_BYTES,
    human_size,
    os_error_text,
)
from eczema_tracker.store.errors import BackupError, StoreError
from eczema_tracker.store.layout import (
    REPLACED_BY_RESTORE,
    has_database,
    refuse_a_folder_not_ours,
)
from eczema_tracker.store.lock import LOCK_NAME, WriterLock
from eczema_tracker.store.maintenance import (
    is_plain_stored_name,
    quick_check,
    referenced_names,
    unsafe_names,
)

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RestoreSummary:
    """What a restore put in place."""

    data_dir: Path
    files: int
    photos: int  # photos in the library (not counting those in the bin)
    missing: tuple[str, ...] = ()  # files the backup recorded as missing: rows kept, no file
    binned: int = 0  # photos in the bin (restored too, still in the bin)
    #: Where the store this restore replaced is kept: a dated backup zip beside the data folder
    #: (a folder of its files when no zip could be made); None when there was none.
    replaced: Path | None = None


def restore_store(
    backup: Path | str,
    data_dir: Path | str | None = None,
    *,
    force: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> RestoreSummary:
    """Replace (or create) the store in ``data_dir`` with the backup zip ``backup``.

    ``RestoreSummary.missing`` lists files the backup recorded as missing when it was made:
    their rows are restored, the files are not (the quick check on open reports them too).
    ``RestoreSummary.replaced`` says where the replaced store is kept.
    """
    backup = Path(backup)
    target = Path(os.path.realpath(paths.data_dir(data_dir)))
    _check_restore_target(target, backup)
    with _open_backup(backup) as zf:
        try:
            return _restore(zf, backup, target, force, progress, cancel)
        except OSError as exc:
            raise BackupError(
                f"Could not restore into {target} ({os_error_text(exc)}); the store was not changed."
            ) from exc


def _check_restore_target(target: Path, backup: Path) -> None:
    for folder in (target, *target.parents):
        if os.path.lexists(folder):
            if not folder.is_dir():
                what = "" if folder == target else f", so {target} cannot hold the store"
                raise BackupError(f"{folder} is not a folder{what}; refused (nothing was moved).")
            break
    if Path(os.path.realpath(backup)).is_relative_to(target):
        raise BackupError(
            f"{backup} is inside the store folder it would replace; move it elsewhere first."
        )
    if not swap_leftovers(target):  # else checked again once they are put right
        refuse_a_folder_not_ours(target, BackupError)


class _CappedReader:
    """A read-only binary file that never yields more than ``limit`` bytes (its size when
    opened): a backup that grows while it is read cannot make the restore read without end."""

    def __init__(self, raw: BinaryIO, limit: int, name: str) -> None:
        self._raw = raw
        self._limit = limit
        self.name = name

    def read(self, n: int = -1) -> bytes:
        left = max(0, self._limit - self._raw.tell())
        return self._raw.read(left if n is None or n < 0 else min(n, left))

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_END:
            return self._raw.seek(self._limit + offset, os.SEEK_SET)
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()


@contextmanager
def _open_backup(backup: Path) -> Iterator[zipfile.ZipFile]:
    """Open the backup zip: a regular file only (no device, pipe or folder), read capped."""
    try:
        fd = os.open(backup, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise BackupError(f"{backup} does not exist.") from None
    except OSError as exc:
        raise BackupError(f"{backup} cannot be read ({os_error_text(exc)}).") from exc
    raw = os.fdopen(fd, "rb")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BackupError(
                f"{backup} is not a regular file (a device, pipe or folder); refused."
            )
        try:
            zf = zipfile.ZipFile(_CappedReader(raw, info.st_size, str(backup)))
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise BackupError(
                f"{backup} is not an Eczema Tracker backup (not a readable zip: {exc})."
            ) from exc
        with zf:
            yield zf
    finally:
        raw.close()


def _restore(
    zf: zipfile.ZipFile,
    backup: Path,
    target: Path,
    force: bool,
    progress: ProgressCallback | None,
    cancel: CancelCheck | None,
) -> RestoreSummary:
    manifest, declared_missing = _read_manifest(zf, backup)
    _check_members(zf, manifest, backup, target)
    created = not os.path.lexists(target)
    files.make_private_dirs(target)
    lock = WriterLock(target)  # held to the end: no reader or writer acts on what we make
    try:
        lock.acquire()
        finish_interrupted_swap(target)  # what a killed restore left goes first
        refuse_a_folder_not_ours(target, BackupError)
        _drop_a_database_never_set_up(target)
        if not force and any(os.path.lexists(target / n) for n in REPLACED_BY_RESTORE):
            raise BackupError(
                f"The photo store at {target} is not empty; restoring would replace it. "
                "Use --force to replace it (export it first if unsure)."
            )
        token = secrets.token_hex(4)
        staging = swap_path(target, STAGING, token)
        staging.mkdir(mode=0o700)
        staging_lock = WriterLock(staging)
        swapping = False
        try:
            staging_lock.acquire()
            _stream_member(zf, db.DB_NAME, manifest[db.DB_NAME], backup, staging)
            gap = _check_database(staging, manifest, declared_missing, backup)
            others = sorted(n for n in manifest if n != db.DB_NAME)
            for i, name in enumerate(others, start=1):
                raise_if_cancelled(cancel)
                _stream_member(zf, name, manifest[name], backup, staging)
                report(progress, i, len(others), f"restored {name}")
            photos, binned = _check_restored(staging, gap)
            (staging / COMPLETE_MARKER).write_bytes(b"")
            files.fsync_dir(staging)
            raise_if_cancelled(cancel)
            zipped = _keep_as_backup(target, progress) if has_database(target) else None
            swapping = True  # from here on a failure is finished by the next writer's open
            replaced = _swap_in(staging, target, token, zipped)
        except BaseException:
            if not swapping:
                shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            staging_lock.release()
    except BaseException:
        lock.release()
        if created and os.path.isdir(target) and os.listdir(target) in ([], [LOCK_NAME]):
            shutil.rmtree(target, ignore_errors=True)  # refused: leave no folder behind
        raise
    lock.release()
    return RestoreSummary(target, len(manifest) - 1, photos, gap, binned, replaced)


def _drop_a_database_never_set_up(target: Path) -> None:
    """A database a kill left before any table was made holds nothing: it is not a store."""
    if has_database(target) and db.never_set_up(target / db.DB_NAME):
        for name in db.DB_FILES:
            (target / name).unlink(missing_ok=True)


def _keep_as_backup(target: Path, progress: ProgressCallback | None) -> Path | None:
    """Export the store about to be replaced to a dated zip beside it (holding its writer lock).

    Returns the zip, or None when none could be made (say, a damaged database or a full disk):
    the swap then keeps the old files as a dated folder instead, so nothing is lost."""
    from eczema_tracker.store.backup.export import export_store

    out = replaced_name(target, ".zip")

    def said(done: int, total: int, message: str) -> None:
        report(progress, done, total, f"keeping the replaced store: {message}")

    try:
        conn = db.connect(target / db.DB_NAME)  # an older schema is upgraded, as any open does
        try:
            db.migrate(conn, target)
        finally:
            conn.close()
        export_store(target, out, progress=said)
    except (StoreError, OSError, sqlite3.Error) as exc:
        _log.warning("could not back up the replaced store as %s: %s", out, exc)
        return None
    return out


def _read_manifest(zf: zipfile.ZipFile, backup: Path) -> tuple[dict[str, dict], set[str] | None]:
    """The manifest's entries, and the files it says were missing (None: an older export)."""
    try:
        info = zf.getinfo(MANIFEST)
    except KeyError:
        raise BackupError(f"{backup} is not an Eczema Tracker backup (no {MANIFEST}).") from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise BackupError(f"{backup}: its {MANIFEST} is implausibly large; refused.")
    try:
        with zf.open(info) as fh:
            data = json.loads(fh.read(MAX_MANIFEST_BYTES + 1))
    except (ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BackupError(f"{backup}: its {MANIFEST} is unreadable ({exc}).") from exc
    if not isinstance(data, dict) or data.get("format") != BACKUP_FORMAT:
        raise BackupError(f"{backup} is not an Eczema Tracker backup.")
    version = data.get("format_version", 0)
    if not isinstance(version, int) or version > BACKUP_FORMAT_VERSION:
        raise BackupError(f"{backup} was made by a newer Eczema Tracker; update to restore it.")
    entries = data.get("files")
    if not isinstance(entries, dict) or db.DB_NAME not in entries:
        raise BackupError(f"{backup}: its manifest lists no database; refused.")
    for name, entry in entries.items():
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("sha256"), str)
            or not isinstance(entry.get("size"), int)
            or entry["size"] < 0
        ):
            raise BackupError(f"{backup}: its manifest entry for {name!r} is malformed.")
    missing = data.get("missing")
    if missing is None:
        return entries, None
    if not isinstance(missing, list) or not all(is_plain_stored_name(n) for n in missing):
        raise BackupError(f"{backup}: its manifest's list of missing files is malformed.")
    return entries, set(missing)


def _member_limit(name: str) -> int | None:
    if name.startswith(("photos/", "masks/")):
        return MAX_IMAGE_MEMBER_BYTES
    if name.startswith("models/"):
        return MAX_MODEL_MEMBER_BYTES
    return None  # the database: bounded by the free space only


def _check_members(zf: zipfile.ZipFile, manifest: dict, backup: Path, target: Path) -> None:
    """Names, kinds and sizes: no traversal, no links, no bombs, fits on the disk."""
    seen: set[str] = set()
    total = 0
    for info in zf.infolist():
        name = info.filename
        if name == MANIFEST:
            continue
        mode = info.external_attr >> 16
        if (
            info.is_dir()
            or stat.S_ISLNK(mode)
            or not (name == db.DB_NAME or is_plain_stored_name(name))
        ):
            raise BackupError(f"{backup}: unexpected member {name!r}; refused (nothing written).")
        if name in seen:
            raise BackupError(f"{backup}: member {name!r} appears twice; refused.")
        seen.add(name)
        entry = manifest.get(name)
        if entry is None:
            raise BackupError(f"{backup}: member {name!r} is not in the manifest; refused.")
        if info.file_size != entry["size"]:
            raise BackupError(f"{backup}: {name} does not have its recorded size; refused.")
        limit = _member_limit(name)
        if limit is not None and info.file_size > limit:
            raise BackupError(
                f"{backup}: {name} claims {human_size(info.file_size)}, more than any file the "
                "app stores; refused."
            )
        if name.startswith(("photos/", "masks/")) and info.compress_type != zipfile.ZIP_STORED:
            raise BackupError(
                f"{backup}: {name} is compressed, which exports never do to photos and masks; "
                "refused."
            )
        total += info.file_size
    absent = sorted(set(manifest) - seen)
    if absent:
        raise BackupError(
            f"{backup}: {len(absent)} file(s) listed in the manifest are missing, "
            f"e.g. {absent[0]}; refused."
        )
    probe = next((p for p in (target, *target.parents) if p.exists()), Path(target.anchor or "/"))
    free = shutil.disk_usage(probe).free
    if total > free:
        raise BackupError(
            f"{backup} needs {human_size(total)} but only {human_size(free)} is free in {probe}; refused."
        )


def _stream_member(
    zf: zipfile.ZipFile, name: str, entry: dict, backup: Path, dest_root: Path
) -> None:
    """Extract a member (at most its recorded size) to ``dest_root``, checking its hash."""
    digest = hashlib.sha256()
    size = 0
    dest = dest_root / name
    files.make_private_dirs(dest.parent)
    out = os.fdopen(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
    try:
        with zf.open(name) as fh:
            while True:
                chunk = fh.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > entry["size"]:
                    raise BackupError(f"{backup}: {name} is larger than recorded; refused.")
                digest.update(chunk)
                out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    except (zipfile.BadZipFile, EOFError) as exc:
        raise BackupError(f"{backup}: {name} cannot be read ({exc}); refused.") from exc
    finally:
        out.close()
    sha = digest.hexdigest()
    own = name.split("/")[-1][:64] if name != db.DB_NAME else None
    if size != entry["size"] or sha != entry["sha256"] or (own is not None and own != sha):
        raise BackupError(
            f"{backup}: {name} does not match its recorded hash; the backup is damaged or was "
            "altered, and nothing was restored."
        )


def _check_database(
    staging: Path, manifest: dict, declared_missing: set[str] | None, backup: Path
) -> tuple[str, ...]:
    """Before any other file is extracted: the database is sound, the app's own, and names only
    files inside the store; every member is one of its files. Returns the recorded gap."""
    path = staging / db.DB_NAME
    try:
        conn = sqlite3.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise BackupError(f"{backup}: its database cannot be opened ({exc}); refused.") from exc
    try:
        conn.execute("PRAGMA trusted_schema = OFF")  # SQLite's advice for untrusted files
        conn.execute("PRAGMA cell_size_check = ON")
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"The backup's database is damaged ({result}); nothing restored.")
        db.check_own_schema(conn, backup)
        bad = unsafe_names(conn)
        if bad:
            raise BackupError(
                f"{backup}: its database names a file outside the store ({bad[0]!r}); refused."
            )
        conn.execute("DELETE FROM pending_file")  # nothing is being written in a new store
        referenced = referenced_names(conn)
        sizes = dict(conn.execute("SELECT stored_name, byte_size FROM photo").fetchall())
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"The backup's database is damaged ({exc}); nothing restored.") from exc
    except StoreError as exc:
        raise BackupError(str(exc)) from exc
    finally:
        conn.close()
    members = set(manifest) - {db.DB_NAME}
    strays = sorted(members - referenced)
    if strays:
        raise BackupError(
            f"{backup}: it holds {len(strays)} file(s) its database does not refer to, "
            f"e.g. {strays[0]}; refused."
        )
    for name, size in sizes.items():
        if name in manifest and manifest[name]["size"] != size:
            raise BackupError(f"{backup}: {name} does not have the size its row records; refused.")
    gap = sorted(referenced - members)
    undeclared = [n for n in gap if declared_missing is not None and n not in declared_missing]
    if undeclared:
        raise BackupError(
            f"The backup lacks {len(undeclared)} file(s) its database refers to, "
            f"e.g. {undeclared[0]}; nothing restored."
        )
    return tuple(gap)


def _check_restored(staging: Path, gap: tuple[str, ...]) -> tuple[int, int]:
    """Bring the restored database to the current schema; every file but the gap present.

    Returns the number of photos in the library and in the bin."""
    try:
        conn = db.connect(staging / db.DB_NAME)
    except StoreError as exc:
        raise BackupError(f"The backup's database cannot be opened ({exc}).") from exc
    try:
        db.migrate(conn, staging)
        check = quick_check(conn, staging, repair=False)
        absent = [n for n in check.missing_files if n not in gap]
        if absent:
            raise BackupError(
                f"The backup lacks {len(absent)} file(s) its database refers to, "
                f"e.g. {absent[0]}; nothing restored."
            )
        photos, binned = conn.execute(
            "SELECT COUNT(*) - COUNT(deleted_at), COUNT(deleted_at) FROM photo"
        ).fetchone()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    for folder in [staging, *(p for p in staging.rglob("*") if p.is_dir())]:
        files.fsync_dir(folder)
    return int(photos), int(binned)


def _swap_in(staging: Path, target: Path, token: str, zipped: Path | None) -> Path | None:
    """Put the complete ``staging`` store in place of ``target``'s own entries (see
    :mod:`.recovery` for each step's kill safety); return where the replaced store is kept."""
    old = swap_path(target, OLD, token)
    start_old_folder(old, zipped)
    move_aside(target, old)
    move_in(staging, target)
    shutil.rmtree(staging, ignore_errors=True)
    return dispose_of_old(target, old)
