"""The SQLite database: connection settings, numbered migrations, and the schema-version gate.

- WAL journal (readers never block the writer), ``synchronous=FULL`` (a committed row survives
  power loss), foreign keys on, a busy timeout.
- ``PRAGMA user_version`` is the schema version. Migrations are ``migrations/NNNN_name.sql``;
  each runs in one ``BEGIN EXCLUSIVE`` transaction together with its ``user_version`` bump, so a
  failure leaves the database exactly as it was.
- A database with a ``user_version`` above the newest migration was written by a newer app and
  is refused with :class:`StoreTooNewError`; this version never touches it.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from eczema_tracker.store.errors import StoreError, StoreNotFoundError, StoreTooNewError

DB_NAME = "store.sqlite3"
#: The database and SQLite's companion files; all owner-only (0600), like the store folder.
DB_FILES = (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal")
#: SQLite's own bookkeeping tables (statistics, AUTOINCREMENT counters): not part of the schema.
_SQLITE_INTERNAL = re.compile(r"^sqlite_(stat\d|sequence)$")
_MIGRATION_NAME = re.compile(r"^(\d{4})_[\w-]+\.sql$")


@dataclass(frozen=True)
class Migration:
    """One schema step: applying it brings the database to ``version``."""

    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The migrations shipped in ``eczema_tracker/store/migrations``, in order."""
    found = []
    for entry in resources.files("eczema_tracker.store").joinpath("migrations").iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mig: mig.version)
    for expected, mig in enumerate(found, start=1):
        if mig.version != expected:
            raise RuntimeError(f"migrations are not numbered 1..N: {[m.name for m in found]}")
    return found


def latest_version(migrations: Sequence[Migration] | None = None) -> int:
    """The schema version this app writes."""
    migs = bundled_migrations() if migrations is None else migrations
    return migs[-1].version if migs else 0


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open the database file with the store's settings (autocommit; use :func:`transaction`).

    The connection may be used from any thread (``check_same_thread=False``); the
    :class:`~eczema_tracker.store.Store` serialises access with its own lock.
    """
    if not readonly:
        make_owner_only(path)
    if readonly:
        if not path.exists():
            raise StoreNotFoundError(f"There is no photo store at {path.parent}.")
        uri = f"{path.resolve().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":  # pragma: no cover - e.g. a network filesystem
                raise StoreError(f"The photo store at {path.parent} cannot use SQLite's WAL mode.")
            conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"The photo store database {path} cannot be opened ({exc}).") from exc
    except BaseException:
        conn.close()
        raise
    return conn


_SQLITE_MAGIC = b"SQLite format 3\x00"


def never_set_up(path: Path) -> bool:
    """True when the database file was created but never set up: a kill while the store was
    being made left it empty (0 bytes, maybe beside a journal) or with a header and no table.

    Such a store holds nothing; any open for writing sets it up. Read without writing: the
    header first, SQLite (read-only) only when a write-ahead log could hold the first tables.
    """
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError:
        return False
    if header == b"":
        return True
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        return False  # not SQLite: damaged or replaced, not new
    schema_cookie = int.from_bytes(header[40:44], "big")
    user_version = int.from_bytes(header[60:64], "big")
    if schema_cookie or user_version:
        return False
    wal = path.with_name(path.name + "-wal")
    if not wal.is_file() or wal.stat().st_size == 0:
        return True
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        return int(tables) == 0 and schema_version(conn) == 0
    except (sqlite3.Error, StoreError):
        return False
    finally:
        conn.close()


def make_owner_only(path: Path) -> None:
    """Create the database file owner-only (0600) and tighten it and its companions if needed.

    SQLite gives the ``-wal``/``-shm`` files the mode of the database file, so a 0600 database
    keeps them private too; files an older version left 0644 are tightened here.
    """
    if os.name != "posix":  # pragma: no cover - Windows has no such modes
        return
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600))
    except OSError:
        return  # connect() reports the problem in its own words
    for name in DB_FILES:
        companion = path.with_name(path.name + name[len(DB_NAME) :])
        try:
            mode = companion.lstat().st_mode
        except OSError:
            continue
        if mode & 0o077 and not companion.is_symlink():
            try:
                os.chmod(companion, mode & 0o700)
            except OSError:
                pass


@contextmanager
def transaction(conn: sqlite3.Connection, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
    """``BEGIN <mode>`` ... ``COMMIT``, or ``ROLLBACK`` on any exception."""
    conn.execute(f"BEGIN {mode}")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def schema_version(conn: sqlite3.Connection) -> int:
    """``PRAGMA user_version`` of the database."""
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"The photo store database is not readable ({exc}).") from exc


def check_not_too_new(conn: sqlite3.Connection, where: Path, latest: int) -> int:
    """Return the schema version, refusing one newer than ``latest``."""
    version = schema_version(conn)
    if version > latest:
        raise StoreTooNewError(
            f"The photo store at {where} was written by a newer version of Eczema Tracker "
            f"(schema {version}; this version understands up to {latest}). "
            "Update Eczema Tracker to open it; nothing was changed."
        )
    return version


def migrate(
    conn: sqlite3.Connection, where: Path, migrations: Sequence[Migration] | None = None
) -> int:
    """Apply every pending migration, each in one exclusive transaction; return the version."""
    migs = bundled_migrations() if migrations is None else list(migrations)
    version = check_not_too_new(conn, where, latest_version(migs))
    for mig in migs:
        if mig.version <= version:
            continue
        script = f"BEGIN EXCLUSIVE;\n{mig.sql}\n;PRAGMA user_version = {mig.version};\nCOMMIT;"
        try:
            conn.executescript(script)
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreError(
                f"Upgrading the photo store at {where} to schema {mig.version} ({mig.name}) "
                f"failed and was undone: {exc}"
            ) from exc
        version = mig.version
    return version


def schema_objects(conn: sqlite3.Connection) -> set[tuple[str, str, str, str | None]]:
    """Every SQL object of the database as ``(type, name, table, sql)`` from ``sqlite_master``."""
    rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    return {
        (str(t), str(n), str(tbl), None if sql is None else str(sql))
        for t, n, tbl, sql in rows
        if not (t == "table" and _SQLITE_INTERNAL.match(str(n)))
    }


def expected_schema(version: int) -> set[tuple[str, str, str, str | None]]:
    """What the bundled migrations create for schema ``version`` (built in memory)."""
    migs = [m for m in bundled_migrations() if m.version <= version]
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(conn, Path(":memory:"), migs)
        return schema_objects(conn)
    finally:
        conn.close()


def check_own_schema(conn: sqlite3.Connection, where: Path) -> int:
    """Refuse a database whose tables, indexes, triggers or views differ from the app's own.

    A database that came from outside (a backup) could carry e.g. a trigger that deletes rows on
    every import; it passes ``integrity_check``, so its ``sqlite_master`` is compared, object by
    object and SQL text by SQL text, with what the migrations create for its ``user_version``.
    Returns that version.
    """
    version = check_not_too_new(conn, where, latest_version())
    try:
        found = schema_objects(conn)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"The database in {where} is not readable ({exc}).") from exc
    expected = expected_schema(version)
    if version < 1 or found != expected:
        extra = sorted(f"{t} {n}" for t, n, _, _ in found - expected)
        absent = sorted(f"{t} {n}" for t, n, _, _ in expected - found)
        detail = "; ".join(
            part
            for part in (
                f"unexpected or changed: {', '.join(extra[:3])}" if extra else "",
                f"missing or changed: {', '.join(absent[:3])}" if absent else "",
            )
            if part
        )
        raise StoreError(
            f"The database in {where} is not the schema this app creates "
            f"(schema {version}; {detail or 'no tables'}); refused."
        )
    return version
