"""Helpers for the hostile-backup tests: rewrite a backup zip as an attacker would.

An attacker can change anything in a zip and recompute the manifest's hashes, so these helpers
always produce a backup whose manifest matches its members: only the app's own checks of what
the members *contain* can refuse it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from eczema_tracker.store import db

MANIFEST = "manifest.json"


def read_manifest(backup: Path) -> dict:
    """The parsed ``manifest.json`` of a backup zip."""
    with zipfile.ZipFile(backup) as zf:
        return json.loads(zf.read(MANIFEST))


def rebuild_backup(
    src: Path,
    dst: Path,
    *,
    change_db: Callable[[sqlite3.Connection], None] | None = None,
    add: dict[str, bytes] | None = None,
    drop: Callable[[str], bool] | None = None,
    change_manifest: Callable[[dict], None] | None = None,
) -> Path:
    """Copy the backup ``src`` to ``dst`` with its database, members and manifest altered.

    ``change_db`` runs on a copy of the backup's database; ``add`` adds members (recorded in the
    manifest with their true hash and size); ``drop`` removes members (and their manifest
    entries); ``change_manifest`` edits the manifest last. Hashes are recomputed throughout.
    """
    add = add or {}
    with zipfile.ZipFile(src) as zin:
        manifest = json.loads(zin.read(MANIFEST))
        members = {i.filename: zin.read(i) for i in zin.infolist() if i.filename != MANIFEST}
    if change_db is not None:
        with tempfile.TemporaryDirectory() as work:
            path = Path(work) / db.DB_NAME
            path.write_bytes(members[db.DB_NAME])
            conn = sqlite3.connect(path, isolation_level=None)
            try:
                change_db(conn)
            finally:
                conn.close()
            members[db.DB_NAME] = path.read_bytes()
    members.update(add)
    if drop is not None:
        members = {n: d for n, d in members.items() if not drop(n)}
    manifest["files"] = {
        n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)} for n, d in members.items()
    }
    if change_manifest is not None:
        change_manifest(manifest)
    with zipfile.ZipFile(dst, "w") as zout:
        for name, data in members.items():
            kind = zipfile.ZIP_DEFLATED if name == db.DB_NAME else zipfile.ZIP_STORED
            zout.writestr(name, data, compress_type=kind)
        zout.writestr(MANIFEST, json.dumps(manifest))
    return dst
