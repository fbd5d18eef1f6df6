"""The quick check run on open: missing files, crash leftovers, files nobody knows.

- *Missing*: a row whose file is gone (reported; never expected, since rows are committed only
  after their file is in place).
- *Orphans of a crash*: files listed in ``pending_file`` with no row: an import or mask save
  was interrupted between writing the file and committing its row. Removed (writer only), as are
  leftover temp files in ``tmp/``.
- *Unknown files*: files in the content folders that no row and no pending write knows (e.g. a
  database replaced by hand). They are never deleted: a writer moves them to ``orphans/`` (kept
  out of exports) and reports them, so the content folders hold only what the database lists.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from eczema_tracker.store import files
from eczema_tracker.store.records import StoreCheck

ORPHANS = "orphans"
_REFERENCING = (
    "SELECT stored_name FROM photo",
    "SELECT stored_name FROM mask_file",
    "SELECT stored_name FROM severity_model",
)


def referenced_names(conn: sqlite3.Connection) -> set[str]:
    """Every stored name a row refers to."""
    names: set[str] = set()
    for sql in _REFERENCING:
        names.update(r[0] for r in conn.execute(sql))
    return names


def is_referenced(conn: sqlite3.Connection, stored_name: str) -> bool:
    """True if a row refers to ``stored_name``."""
    return any(
        conn.execute(sql + " WHERE stored_name = ? LIMIT 1", (stored_name,)).fetchone()
        for sql in _REFERENCING
    )


def delete_unreferenced(conn: sqlite3.Connection, root: Path, names: Iterable[str]) -> list[str]:
    """Delete the pending files in ``names`` that no row refers to; clear their pending rows."""
    removed = []
    for name in names:
        if not is_referenced(conn, name):
            path = root / name
            if path.exists():
                path.unlink()
                removed.append(name)
        conn.execute("DELETE FROM pending_file WHERE stored_name = ?", (name,))
    return removed


def quick_check(conn: sqlite3.Connection, root: Path, *, repair: bool) -> StoreCheck:
    """Compare rows and files; with ``repair`` (writer lock held) clean up after a crash."""
    removed_temp = files.clear_tmp(root) if repair else 0
    pending = [r[0] for r in conn.execute("SELECT stored_name FROM pending_file")]
    removed: list[str] = []
    if repair and pending:
        removed = delete_unreferenced(conn, root, pending)
    referenced = referenced_names(conn)
    on_disk = set(files.iter_content_files(root))
    missing = sorted(referenced - on_disk)
    unknown = sorted(on_disk - referenced - (set() if repair else set(pending)))
    if repair:
        for name in unknown:
            target = root / ORPHANS / name
            files.make_private_dirs(target.parent)
            os.replace(root / name, target)
    return StoreCheck(
        missing_files=tuple(missing),
        removed_orphans=tuple(removed),
        unknown_files=tuple(unknown),
        removed_temp_files=removed_temp,
    )
