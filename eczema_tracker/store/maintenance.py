"""The quick check run on open: missing files, crash leftovers, files nobody knows.

- *Missing*: a row whose file is gone (reported; never expected, since rows are committed only
  after their file is in place).
- *Orphans of a crash*: files listed in ``pending_file`` with no row: an import or mask save
  was interrupted between writing the file and committing its row. Removed (writer only), as are
  leftover temp files in ``tmp/``.
- *Names outside the store*: every stored name read from the database is checked to be a plain
  content name (``photos/ab/<sha256><suffix>``, see :mod:`.files`) that resolves inside the store
  before any file is touched; a row naming anything else (``../x``, an absolute path, the
  database itself) is never acted on (its ``pending_file`` row is dropped and it is logged).
- *Unknown files*: files in the content folders that no row and no pending write knows (e.g. a
  database replaced by hand). They are never deleted: a writer moves them to ``orphans/`` (kept
  out of exports) and reports them, so the content folders hold only what the database lists.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from eczema_tracker.store import files
from eczema_tracker.store.records import StoreCheck

ORPHANS = "orphans"
_log = logging.getLogger(__name__)
#: A stored name as :func:`files.content_name` makes it: folder, two hex digits, the sha256
#: starting with them, an optional short suffix. Nothing else is ever a stored name.
STORED_NAME = re.compile(
    r"^(?P<folder>photos|masks|models)/(?P<p>[0-9a-f]{2})/(?P<sha>(?P=p)[0-9a-f]{62})"
    r"(?P<suffix>\.[A-Za-z0-9_-]{1,16}(\.[A-Za-z0-9_-]{1,16})?)?$"
)


def is_plain_stored_name(name: object) -> bool:
    """True for a content file name of the store's own layout (no ``..``, not absolute)."""
    return isinstance(name, str) and STORED_NAME.match(name) is not None


def stored_path(root: Path, name: object) -> Path | None:
    """``root / name`` when ``name`` is a plain stored name resolving inside ``root``, else None.

    The resolve step also catches a content sub-folder replaced by a link to elsewhere.
    """
    if not is_plain_stored_name(name):
        return None
    path = root / str(name)
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # e.g. a symlink loop
        return None
    return path if inside else None


def unsafe_names(conn: sqlite3.Connection) -> list[str]:
    """Every stored name in the database (rows and pending writes) that is not a plain one."""
    bad: list[str] = []
    for sql in (*_REFERENCING, "SELECT stored_name FROM pending_file"):
        bad.extend(str(r[0]) for r in conn.execute(sql) if not is_plain_stored_name(r[0]))
    return bad


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
        path = stored_path(root, name)
        if path is None:
            _log.warning("not touching %r: not a file name inside the photo store", name)
        elif not is_referenced(conn, name) and path.is_file():
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
