"""The store check's look at the database and the folders (read-only; see :mod:`.check`)."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from eczema_tracker.core.jobs import ProgressCallback
from eczema_tracker.store import db, files
from eczema_tracker.store.check.files import check_row_files, read_file_rows
from eczema_tracker.store.check.records import FileHasher, Problem, UnusableFile
from eczema_tracker.store.lock import LOCK_NAME
from eczema_tracker.store.maintenance import ORPHANS
from eczema_tracker.store.thumbnails import thumbnail_name

MAX_LISTED = 10  # database messages shown one per line, then "...and N more"


@dataclass
class Findings:
    """What one look at the store found (nothing changed)."""

    problems: tuple[Problem, ...]
    missing: tuple[UnusableFile, ...]
    counts: dict[str, int]
    photo_files: dict[int, tuple[str, str]]  # usable photos: id -> (sha256, stored_name)
    recoverable: dict[str, str]  # stored name -> sha256 of a missing/damaged file in orphans/
    #: Usable photos whose thumbnail is not made yet (a cache miss, not a problem): id -> name.
    unmade_thumbnails: dict[int, str] = field(default_factory=dict)


def inspect_store(
    root: Path,
    *,
    full: bool,
    hasher: FileHasher,
    progress: ProgressCallback | None = None,
    writer_is_us: bool = False,
) -> Findings:
    """Look at everything, change nothing."""
    # Files are listed before rows are read: a file written by a concurrent writer after this
    # listing is not seen, and one seen here has its row or pending row committed already.
    on_disk = set(files.iter_content_files(root))
    thumbs_on_disk = set(iter_thumbnails(root))
    someone_writes = False if writer_is_us else writer_active(root)
    conn = db.connect(root / db.DB_NAME, readonly=True)
    try:
        problems = database_problems(conn, full)
        conn.execute("BEGIN")  # one snapshot for every row read below
        try:
            rows = read_file_rows(conn)
            pending = {r[0] for r in conn.execute("SELECT stored_name FROM pending_file")}
        except sqlite3.DatabaseError as exc:
            problems.append(Problem("database", f"The rows cannot be read ({exc})."))
            return Findings(tuple(problems), (), {}, {}, {})
        files_state = check_row_files(root, conn, rows, full, hasher, progress)
        conn.execute("COMMIT")
    finally:
        conn.close()
    problems += files_state.problems
    referenced = {r["stored_name"] for table_rows in rows.values() for r in table_rows}
    for name in sorted(on_disk - referenced - pending):
        problems.append(
            Problem(
                "orphan",
                f"{name}: no record refers to this file (--repair moves it to {ORPHANS}/).",
                True,
                name,
            )
        )
    if not someone_writes:
        problems += _leftovers(root, sorted((pending - referenced) & on_disk))
    all_shas = {str(r["sha256"]).lower() for r in rows["photo"]}
    unmade = {
        photo_id: thumbnail_name(sha)
        for photo_id, (sha, _) in sorted(files_state.photo_files.items())
        if thumbnail_name(sha) not in thumbs_on_disk
    }
    problems += _thumbnail_problems(root, files_state.photo_files, thumbs_on_disk, all_shas, full)
    counts = {
        "photos": len(rows["photo"]),
        "masks": len(rows["mask_file"]),
        "models": len(rows["severity_model"]),
        "files_hashed": hasher.files,
        "bytes_hashed": hasher.bytes,
    }
    return Findings(
        tuple(problems),
        files_state.missing,
        counts,
        files_state.photo_files,
        files_state.recoverable,
        unmade,
    )


def database_problems(conn: sqlite3.Connection, full: bool) -> list[Problem]:
    """integrity_check (or quick_check), foreign_key_check and the schema, one line each."""
    out: list[Problem] = []
    try:
        pragma = "integrity_check" if full else "quick_check"
        messages = [r[0] for r in conn.execute(f"PRAGMA {pragma}")]
        if messages != ["ok"]:
            out += [
                Problem("database", f"The database is damaged: {m}.") for m in messages[:MAX_LISTED]
            ]
            if len(messages) > MAX_LISTED:
                out.append(
                    Problem("database", f"...and {len(messages) - MAX_LISTED} more damage reports.")
                )
        for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check").fetchmany(
            MAX_LISTED
        ):
            out.append(
                Problem(
                    "database",
                    f"Row {rowid} of table {table} refers to a {parent} row that does not exist.",
                )
            )
        out += _schema_problems(conn)
    except sqlite3.DatabaseError as exc:
        out.append(Problem("database", f"The database is damaged ({exc}); restore a backup."))
    return out


def _schema_problems(conn: sqlite3.Connection) -> list[Problem]:
    """The schema version, and every table/index/trigger/view the migrations did not create."""
    version, latest = db.schema_version(conn), db.latest_version()
    if version < latest:
        return [
            Problem(
                "schema",
                f"The database has schema {version}; this app writes {latest} (--repair, or "
                "opening the store in the app, upgrades it).",
                True,
            )
        ]
    expected = _expected_schema()
    found = {
        (t, n): sql
        for t, n, sql in conn.execute("SELECT type, name, sql FROM sqlite_master")
        if not n.startswith("sqlite_")
    }
    out = []
    for (kind, name), sql in sorted(found.items()):
        if (kind, name) not in expected:
            out.append(
                Problem(
                    "schema",
                    f"The database has a {kind} '{name}' this app never creates (restore a backup).",
                )
            )
        elif expected[(kind, name)] != sql:
            out.append(
                Problem(
                    "schema",
                    f"The {kind} '{name}' differs from what this app creates (restore a backup).",
                )
            )
    for kind, name in sorted(set(expected) - set(found)):
        out.append(Problem("schema", f"The database lacks the {kind} '{name}' (restore a backup)."))
    return out


def _expected_schema() -> dict[tuple[str, str], str | None]:
    """sqlite_master of a fresh database built by the bundled migrations."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        db.migrate(conn, Path(":memory:"))
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
    finally:
        conn.close()
    return {(t, n): sql for t, n, sql in rows if not n.startswith("sqlite_")}


def _leftovers(root: Path, pending_names: list[str]) -> list[Problem]:
    """Files of interrupted writes (only reported when no writer is at work)."""
    out = [
        Problem(
            "leftover",
            f"{name} was left by an interrupted write (never recorded); --repair removes it, "
            "as opening the store for writing does.",
            True,
            name,
        )
        for name in pending_names
    ]
    tmp = root / files.TMP
    n = sum(1 for _ in os.scandir(tmp)) if tmp.is_dir() else 0
    if n:
        out.append(
            Problem(
                "leftover",
                f"{n} temporary file(s) in {files.TMP}/ were left by an interrupted write; "
                "--repair removes them.",
                True,
            )
        )
    return out


def iter_thumbnails(root: Path) -> Iterator[str]:
    """Stored names (``thumbnails/ab/...``) of every thumbnail file."""
    base = root / files.THUMBNAILS
    try:
        subs = list(os.scandir(base))
    except (FileNotFoundError, NotADirectoryError):  # none yet, or moved by a restore
        return
    for sub in subs:
        if sub.is_dir(follow_symlinks=False):
            try:
                entries = list(os.scandir(sub.path))
            except FileNotFoundError:
                continue
            for entry in entries:
                yield f"{files.THUMBNAILS}/{sub.name}/{entry.name}"


def _thumbnail_problems(
    root: Path,
    photo_files: dict[int, tuple[str, str]],
    on_disk: set[str],
    all_shas: set[str],
    full: bool,
) -> list[Problem]:
    """Each thumbnail made is whole and belongs to a photo. A thumbnail not made (yet) is a
    cache miss, not a problem: backups hold none, and the app makes each when it is shown."""
    out = []
    for photo_id, (sha, _) in sorted(photo_files.items()):
        name = thumbnail_name(sha)
        if name in on_disk and not _jpeg_is_whole(root / name, full):
            out.append(
                Problem(
                    "thumbnail",
                    f"Photo {photo_id}'s thumbnail is damaged; --repair makes it again.",
                    True,
                    name,
                )
            )
    for name in sorted(on_disk):
        if PurePosixPath(name).name[:64] not in all_shas:
            out.append(
                Problem(
                    "thumbnail",
                    f"{name} belongs to no photo (--repair moves it to {ORPHANS}/).",
                    True,
                    name,
                )
            )
    return out


def _jpeg_is_whole(path: Path, full: bool) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
            fh.seek(-2, os.SEEK_END)
            if head != b"\xff\xd8" or fh.read(2) != b"\xff\xd9":
                return False
        if full:
            from PIL import Image

            with Image.open(path) as im:
                im.load()
    except Exception:  # any decode or read failure means: make it again
        return False
    return True


def writer_active(root: Path) -> bool:
    """True if another process (or this one) holds the writer lock; never takes it."""
    lock_path = root / LOCK_NAME
    if not lock_path.exists():
        return False
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: cannot tell, assume a writer
        return True
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
