"""Export the whole store to one zip, and restore it, without ever risking the data.

Export: a consistent snapshot of the database (SQLite's online backup API, so the app may keep
running), every photo, mask and model file the snapshot refers to, and ``manifest.json`` with the
sha256 and size of each member. Written to a temp file next to the target, fsynced, then renamed.

Restore: before anything is written, every member name is checked (no paths outside the store,
no links), sizes are bounded (zip bombs) and every hash is verified against the manifest (and
content-addressed files against their own names). The new store is then built in a sibling temp
folder, checked (SQLite integrity check, schema version, every referenced file present), and only
then swapped in. A non-empty store is replaced only with ``force``; if anything fails, the old
store is untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from eczema_tracker import __version__, paths
from eczema_tracker.jobs import CancelCheck, ProgressCallback, raise_if_cancelled, report
from eczema_tracker.store import db, files
from eczema_tracker.store.errors import BackupError, StoreError
from eczema_tracker.store.lock import LOCK_NAME, WriterLock
from eczema_tracker.store.maintenance import quick_check, referenced_names

MANIFEST = "manifest.json"
BACKUP_FORMAT = "eczema-tracker-backup"
BACKUP_FORMAT_VERSION = 1
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_CHUNK = 1 << 20
_SAFE_NAME = re.compile(
    r"^(store\.sqlite3"
    r"|(photos|masks|models)/(?P<p>[0-9a-f]{2})/(?P<sha>(?P=p)[0-9a-f]{62})(\.[A-Za-z0-9_.-]{1,16})?)$"
)


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    path: Path
    files: int  # photo, mask and model files (the database not counted)
    bytes: int
    missing: tuple[str, ...]  # referenced files that were absent and could not be exported


@dataclass(frozen=True)
class RestoreSummary:
    """What a restore put in place."""

    data_dir: Path
    files: int
    photos: int


def export_store(
    data_dir: Path | str | None,
    out: Path | str,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> ExportSummary:
    """Write a complete backup zip of the store in ``data_dir`` to ``out`` (atomically)."""
    from eczema_tracker.store.repository import Store

    out = Path(out)
    if out.is_dir():
        raise BackupError(f"{out} is a folder; give the backup a file name such as backup.zip.")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".export-") as work:
        snapshot = Path(work) / db.DB_NAME
        with Store.open(data_dir, readonly=True) as store:
            root = store.data_dir
            with store._lock:  # noqa: SLF001 - the backup is part of the store
                dest = sqlite3.connect(snapshot)
                try:
                    store._db.backup(dest)  # noqa: SLF001
                    dest.execute("PRAGMA journal_mode = DELETE")
                    names = sorted(referenced_names(dest))
                    schema = db.schema_version(dest)
                finally:
                    dest.close()
        manifest: dict[str, dict] = {}
        missing: list[str] = []
        total_bytes = 0
        fd, tmp_zip = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp_zip, "w", allowZip64=True) as zf:
                manifest[db.DB_NAME] = _add_member(zf, snapshot, db.DB_NAME, zipfile.ZIP_DEFLATED)
                for i, name in enumerate(names, start=1):
                    raise_if_cancelled(cancel)
                    source = root / name
                    if not source.is_file():
                        missing.append(name)
                        continue
                    kind = (
                        zipfile.ZIP_DEFLATED if name.startswith("models/") else zipfile.ZIP_STORED
                    )
                    manifest[name] = _add_member(zf, source, name, kind)
                    total_bytes += manifest[name]["size"]
                    report(progress, i, len(names), name)
                zf.writestr(
                    MANIFEST,
                    json.dumps(
                        {
                            "format": BACKUP_FORMAT,
                            "format_version": BACKUP_FORMAT_VERSION,
                            "app_version": __version__,
                            "schema_version": schema,
                            "files": manifest,
                        },
                        indent=1,
                        sort_keys=True,
                    ),
                    compress_type=zipfile.ZIP_DEFLATED,
                )
            with open(tmp_zip, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp_zip, out)
            files.fsync_dir(out.parent)
        except BaseException:
            Path(tmp_zip).unlink(missing_ok=True)
            raise
    return ExportSummary(out, len(manifest) - 1, total_bytes, tuple(missing))


def _add_member(zf: zipfile.ZipFile, source: Path, name: str, compress: int) -> dict:
    digest = hashlib.sha256()
    size = 0
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = compress
    info.external_attr = 0o600 << 16
    with open(source, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
        for chunk in iter(lambda: src.read(_CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def restore_store(
    backup: Path | str,
    data_dir: Path | str | None = None,
    *,
    force: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> RestoreSummary:
    """Replace (or create) the store in ``data_dir`` with the backup zip ``backup``."""
    backup = Path(backup)
    target = paths.data_dir(data_dir)
    try:
        zf = zipfile.ZipFile(backup)
    except FileNotFoundError:
        raise BackupError(f"{backup} does not exist.") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupError(
            f"{backup} is not an Eczema Tracker backup (not a readable zip: {exc})."
        ) from exc
    with zf:
        manifest = _read_manifest(zf, backup)
        _check_members(zf, manifest, backup, target)
        # Pass 1: verify every hash before writing anything.
        for i, (name, entry) in enumerate(sorted(manifest.items()), start=1):
            raise_if_cancelled(cancel)
            _stream_member(zf, name, entry, backup, None)
            report(progress, i, 2 * len(manifest), f"verified {name}")
        lock = WriterLock(target) if target.is_dir() else None
        if lock is not None:
            lock.acquire()
        try:
            if (
                target.is_dir()
                and any(e.name != LOCK_NAME for e in os.scandir(target))
                and not force
            ):
                raise BackupError(
                    f"The photo store at {target} is not empty; restoring would replace it. "
                    "Use --force to replace it (export it first if unsure)."
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = target.parent / f".{target.name}.restore-{secrets.token_hex(4)}"
            paths.ensure_private_dir(staging)
            try:
                # Pass 2: extract into the staging folder, hashing again while writing.
                for i, (name, entry) in enumerate(sorted(manifest.items()), start=1):
                    raise_if_cancelled(cancel)
                    _stream_member(zf, name, entry, backup, staging)
                    report(progress, len(manifest) + i, 2 * len(manifest), f"restored {name}")
                photos = _check_restored(staging)
                _swap_in(staging, target)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        finally:
            if lock is not None:
                lock.release()
    return RestoreSummary(target, len(manifest) - 1, photos)


def _read_manifest(zf: zipfile.ZipFile, backup: Path) -> dict[str, dict]:
    try:
        info = zf.getinfo(MANIFEST)
    except KeyError:
        raise BackupError(f"{backup} is not an Eczema Tracker backup (no {MANIFEST}).") from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise BackupError(f"{backup}: its {MANIFEST} is implausibly large; refused.")
    try:
        with zf.open(info) as fh:
            data = json.loads(fh.read(MAX_MANIFEST_BYTES + 1))
    except (ValueError, zipfile.BadZipFile, OSError) as exc:
        raise BackupError(f"{backup}: its {MANIFEST} is unreadable ({exc}).") from exc
    if not isinstance(data, dict) or data.get("format") != BACKUP_FORMAT:
        raise BackupError(f"{backup} is not an Eczema Tracker backup.")
    if int(data.get("format_version", 0)) > BACKUP_FORMAT_VERSION:
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
    return entries


def _check_members(zf: zipfile.ZipFile, manifest: dict, backup: Path, target: Path) -> None:
    """Names, kinds and sizes: no traversal, no links, no surprises, fits on the disk."""
    seen: set[str] = set()
    total = 0
    for info in zf.infolist():
        name = info.filename
        if name == MANIFEST:
            continue
        mode = info.external_attr >> 16
        if info.is_dir() or stat.S_ISLNK(mode) or not _SAFE_NAME.match(name):
            raise BackupError(f"{backup}: unexpected member {name!r}; refused (nothing written).")
        if name in seen:
            raise BackupError(f"{backup}: member {name!r} appears twice; refused.")
        seen.add(name)
        entry = manifest.get(name)
        if entry is None:
            raise BackupError(f"{backup}: member {name!r} is not in the manifest; refused.")
        if info.file_size != entry["size"]:
            raise BackupError(f"{backup}: {name} does not have its recorded size; refused.")
        total += info.file_size
    absent = sorted(set(manifest) - seen)
    if absent:
        raise BackupError(
            f"{backup}: {len(absent)} file(s) listed in the manifest are missing, "
            f"e.g. {absent[0]}; refused."
        )
    probe = target.parent if target.parent.exists() else Path(target.anchor or "/")
    free = shutil.disk_usage(probe).free
    if total > free:
        raise BackupError(
            f"{backup} needs {total / 1e9:.1f} GB but only {free / 1e9:.1f} GB is free; refused."
        )


def _stream_member(
    zf: zipfile.ZipFile, name: str, entry: dict, backup: Path, dest_root: Path | None
) -> None:
    """Read a member (at most its recorded size), check its hash; write it when ``dest_root``."""
    digest = hashlib.sha256()
    size = 0
    out = None
    if dest_root is not None:
        dest = dest_root / name
        files.make_private_dirs(dest.parent)
        out = os.fdopen(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
    try:
        with zf.open(name) as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > entry["size"]:
                    raise BackupError(f"{backup}: {name} is larger than recorded; refused.")
                digest.update(chunk)
                if out is not None:
                    out.write(chunk)
        if out is not None:
            out.flush()
            os.fsync(out.fileno())
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BackupError(f"{backup}: {name} cannot be read ({exc}); refused.") from exc
    finally:
        if out is not None:
            out.close()
    sha = digest.hexdigest()
    match = _SAFE_NAME.match(name)
    own = match.group("sha") if match else None
    if size != entry["size"] or sha != entry["sha256"] or (own is not None and own != sha):
        raise BackupError(
            f"{backup}: {name} does not match its recorded hash; the backup is damaged or was "
            "altered, and nothing was restored."
        )


def _check_restored(staging: Path) -> int:
    """Open the restored database: integrity, schema, every referenced file present."""
    try:
        conn = db.connect(staging / db.DB_NAME)
    except StoreError as exc:
        raise BackupError(f"The backup's database cannot be opened ({exc}).") from exc
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"The backup's database is damaged ({result}); nothing restored.")
        db.migrate(conn, staging)
        check = quick_check(conn, staging, repair=False)
        if check.missing_files:
            raise BackupError(
                f"The backup lacks {len(check.missing_files)} file(s) its database refers to, "
                f"e.g. {check.missing_files[0]}; nothing restored."
            )
        photos = conn.execute("SELECT COUNT(*) FROM photo").fetchone()[0]
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    for folder in [staging, *(p for p in staging.rglob("*") if p.is_dir())]:
        files.fsync_dir(folder)
    return int(photos)


def _swap_in(staging: Path, target: Path) -> None:
    """Put ``staging`` where ``target`` is; the old store is removed only afterwards."""
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{secrets.token_hex(4)}"
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    files.fsync_dir(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
