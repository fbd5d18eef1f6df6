"""Export the whole store to one zip, and restore it, without ever risking the data.

Export (here): a consistent snapshot of the database (SQLite's online backup API, so the app may
keep running), every photo, mask and model file the snapshot refers to, and ``manifest.json``
with the sha256 and size of each member and the referenced files that were missing (a gap is
recorded, not fatal). Everything is written inside a locked ``.export-*`` folder beside the
target, fsynced, then renamed onto the target: a partial zip never appears under the final name,
and the next export to that folder (or the next output anywhere, through the ledger of
:mod:`eczema_tracker.core.output_files`) deletes what a killed one left. The target follows the
rules of every output (:func:`~eczema_tracker.core.output_files.check_output_target`): never
inside the store, never a device, pipe, folder or symbolic link, an existing file only when
``overwrite`` says so.

Restore: :mod:`eczema_tracker.store.backup.restore` (re-exported here: ``restore_store``,
``RestoreSummary``); the format both share: :mod:`eczema_tracker.store.backup.zip_format`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from eczema_tracker import __version__
from eczema_tracker.core import paths
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled, report
from eczema_tracker.core.output_files import (
    OutputFileError,
    check_output_target,
    sweep_stale_outputs,
    tracked_temp,
)
from eczema_tracker.store import db, files
from eczema_tracker.store.backup.recovery import swap_leftovers
from eczema_tracker.store.backup.zip_format import (
    BACKUP_FORMAT,
    BACKUP_FORMAT_VERSION,
    CHUNK,
    MANIFEST,
    human_size,
    os_error_text,
)
from eczema_tracker.store.errors import BackupError, StoreError
from eczema_tracker.store.lock import LOCK_NAME, WriterLock
from eczema_tracker.store.maintenance import referenced_names, stored_path, unsafe_names

__all__ = ["ExportSummary", "export_store"]

_WORK_PREFIX = ".export-"
#: What a (killed) export may leave inside its work folder; anything else keeps it.
_WORK_FILES = re.compile(rf"^({re.escape(LOCK_NAME)}|store\.sqlite3(-journal|-wal|-shm)?|.+\.tmp)$")
#: A temp zip an older version left beside the target: ``.<name>.<8 random chars>.tmp``.
_OLD_TEMP_ZIP = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    path: Path
    files: int  # photo, mask and model files (the database not counted)
    bytes: int
    missing: tuple[str, ...]  # referenced files that were absent and could not be exported


def export_store(
    data_dir: Path | str | None,
    out: Path | str,
    *,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> ExportSummary:
    """Write a complete backup zip of the store in ``data_dir`` to ``out`` (atomically).

    The target follows the rules of every output (:func:`~eczema_tracker.core.output_files.
    check_output_target`); an existing file is replaced only with ``overwrite=True`` (the
    person was asked, or gave ``--force``). Raises :class:`BackupError` (one sentence) for a
    refused target, a database naming files outside the store, too little free space or a
    write error (disk full, read-only disk).
    """
    root = paths.data_dir(data_dir)
    try:
        out = check_output_target(out, store_root=root, overwrite=overwrite, make_folder=True)
    except OutputFileError as exc:
        raise BackupError(exc.message) from None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale_outputs()
        _clean_export_leftovers(out.parent)
        return _export(root, out, progress, cancel)
    except OSError as exc:
        raise BackupError(
            f"Could not write the backup {out} ({os_error_text(exc)}); nothing was written."
        ) from exc


def _clean_export_leftovers(folder: Path) -> None:
    """Delete what killed exports left in ``folder`` (never one that is still running)."""
    for entry in os.scandir(folder):
        path = Path(entry.path)
        if entry.name.startswith(_WORK_PREFIX) and entry.is_dir(follow_symlinks=False):
            lock = WriterLock(path)
            try:
                lock.acquire()
            except (StoreError, OSError):
                continue  # an export running now
            try:
                if all(_WORK_FILES.match(n) for n in os.listdir(path)):
                    shutil.rmtree(path, ignore_errors=True)
            finally:
                lock.release()
        elif _OLD_TEMP_ZIP.match(entry.name) and entry.is_file(follow_symlinks=False):
            with open(path, "rb") as fh:
                head = fh.read(4)
            if head in (b"", b"PK\x03\x04"):  # only zips (what exports write), empty or not
                path.unlink(missing_ok=True)


def _export(
    root: Path, out: Path, progress: ProgressCallback | None, cancel: CancelCheck | None
) -> ExportSummary:
    work = Path(tempfile.mkdtemp(dir=out.parent, prefix=_WORK_PREFIX))
    work_lock = WriterLock(work)  # tells a later export this folder is not a leftover
    try:
        with tracked_temp(work):  # removed on any exit Python sees; else swept by the next output
            work_lock.acquire()
            return _export_in(work, root, out, progress, cancel)
    finally:
        work_lock.release()
        shutil.rmtree(work, ignore_errors=True)


def _export_in(
    work: Path, root: Path, out: Path, progress: ProgressCallback | None, cancel: CancelCheck | None
) -> ExportSummary:
    from eczema_tracker.store.repository import Store

    snapshot = work / db.DB_NAME
    db.make_owner_only(snapshot)
    with Store.open(root, readonly=True) as store:
        dest = sqlite3.connect(snapshot)
        try:
            store.copy_database_to(dest)
            dest.execute("PRAGMA journal_mode = DELETE")
            dest.execute("DELETE FROM pending_file")  # in-flight writes are not data
            dest.commit()
            bad = unsafe_names(dest)
            names = sorted(referenced_names(dest))
            schema = db.schema_version(dest)
        finally:
            dest.close()
    if bad:
        raise BackupError(
            f"The photo store's database names a file outside the store ({bad[0]!r}); "
            "nothing was exported."
        )
    sources: dict[str, Path | None] = {}
    for name in names:
        path = stored_path(root, name)
        if path is None:
            raise BackupError(
                f"The photo store's file {name} leads outside the store; nothing was exported."
            )
        sources[name] = path if path.is_file() else None
    if any(p is None for p in sources.values()):
        _refuse_during_a_restore(root)
    needed = snapshot.stat().st_size + sum(p.stat().st_size for p in sources.values() if p)
    free = shutil.disk_usage(out.parent).free
    if needed > free:
        raise BackupError(
            f"The backup needs about {human_size(needed)} but only {human_size(free)} "
            f"is free in {out.parent}; nothing was written."
        )
    tmp_zip = work / f"{out.name}.tmp"
    try:
        manifest, missing, total = _write_zip(tmp_zip, snapshot, sources, schema, progress, cancel)
    except FileNotFoundError:  # a file moved away while being read: by a restore, if any
        _refuse_during_a_restore(root)
        raise
    if missing:  # files a restore moved aside meanwhile are not missing from the store
        _refuse_during_a_restore(root)
    files.fsync_dir(work)
    os.replace(tmp_zip, out)
    files.fsync_dir(out.parent)
    return ExportSummary(out, len(manifest) - 1, total, tuple(missing))


def _refuse_during_a_restore(root: Path) -> None:
    """BackupError when a restore into ``root`` is under way (its files are being moved, so a
    backup now would call them missing)."""
    if swap_leftovers(root):
        raise BackupError(
            f"A restore into {root} is under way; make the backup once it has finished. "
            "Nothing was written."
        )


def _write_zip(
    tmp_zip: Path,
    snapshot: Path,
    sources: dict[str, Path | None],
    schema: int,
    progress: ProgressCallback | None,
    cancel: CancelCheck | None,
) -> tuple[dict[str, dict], list[str], int]:
    manifest: dict[str, dict] = {}
    missing: list[str] = []
    total = 0
    fd = os.open(tmp_zip, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw:
        with zipfile.ZipFile(raw, "w", allowZip64=True) as zf:
            manifest[db.DB_NAME] = _add_member(zf, snapshot, db.DB_NAME, zipfile.ZIP_DEFLATED)
            for i, (name, source) in enumerate(sources.items(), start=1):
                raise_if_cancelled(cancel)
                if source is None:
                    missing.append(name)
                    continue
                kind = zipfile.ZIP_DEFLATED if name.startswith("models/") else zipfile.ZIP_STORED
                manifest[name] = _add_member(zf, source, name, kind)
                total += manifest[name]["size"]
                report(progress, i, len(sources), name)
            document = {
                "format": BACKUP_FORMAT,
                "format_version": BACKUP_FORMAT_VERSION,
                "app_version": __version__,
                "schema_version": schema,
                "files": manifest,
                "missing": missing,
            }
            zf.writestr(
                MANIFEST,
                json.dumps(document, indent=1, sort_keys=True),
                compress_type=zipfile.ZIP_DEFLATED,
            )
        raw.flush()
        os.fsync(raw.fileno())
    return manifest, missing, total


def _add_member(zf: zipfile.ZipFile, source: Path, name: str, compress: int) -> dict:
    digest = hashlib.sha256()
    size = 0
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = compress
    info.external_attr = 0o600 << 16
    with open(source, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
        for chunk in iter(lambda: src.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
            dst.write(chunk)
    return {"sha256": digest.hexdigest(), "size": size}
