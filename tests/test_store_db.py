"""Schema gate, migrations in one transaction, one writer at a time, readers alongside."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from eczema_tracker.store import (
    Store,
    StoreError,
    StoreLockedError,
    StoreNotFoundError,
    StoreTooNewError,
    db,
)


def test_new_store_is_private_wal_and_current(tmp_path):
    folder = tmp_path / "store"
    with Store.open(folder) as store:
        assert store.check.ok
        conn = sqlite3.connect(folder / db.DB_NAME)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == db.latest_version() >= 1
        conn.close()
    assert (folder.stat().st_mode & 0o777) == 0o700


def test_newer_schema_is_refused_untouched(tmp_path):
    folder = tmp_path / "store"
    Store.open(folder).close()
    conn = sqlite3.connect(folder / db.DB_NAME)
    conn.execute(f"PRAGMA user_version = {db.latest_version() + 1}")
    conn.close()
    before = (folder / db.DB_NAME).read_bytes()
    for readonly in (False, True):
        with pytest.raises(StoreTooNewError, match="newer version"):
            Store.open(folder, readonly=readonly)
    assert (folder / db.DB_NAME).read_bytes() == before
    # The refused writer released its lock.
    with pytest.raises(StoreTooNewError):
        Store.open(folder)


def test_failed_migration_is_rolled_back_completely(tmp_path):
    good = db.bundled_migrations()
    broken = db.Migration(
        len(good) + 1,
        "9999_broken.sql",
        "CREATE TABLE half_done (x INTEGER);\nALTER TABLE photo ADD COLUMN extra TEXT;\n"
        "INSERT INTO no_such_table VALUES (1);",
    )
    conn = db.connect(tmp_path / db.DB_NAME)
    assert db.migrate(conn, tmp_path, good) == len(good)
    with pytest.raises(StoreError, match="failed and was undone"):
        db.migrate(conn, tmp_path, [*good, broken])
    assert db.schema_version(conn) == len(good)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "half_done" not in tables and "photo" in tables
    columns = {r[1] for r in conn.execute("PRAGMA table_info(photo)")}
    assert "extra" not in columns
    conn.close()


def test_bundled_migrations_are_numbered_from_one():
    migrations = db.bundled_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))


def test_readonly_open_of_missing_store(tmp_path):
    with pytest.raises(StoreNotFoundError):
        Store.open(tmp_path / "nothing", readonly=True)


HOLDER = textwrap.dedent(
    """
    import sys
    from eczema_tracker.store import Store
    store = Store.open(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    store.close()
    """
)


def test_second_writer_process_is_refused_but_readers_work(tmp_path, eczema_photo_paths):
    folder = tmp_path / "store"
    with Store.open(folder) as store:
        store.import_paths(eczema_photo_paths[:1])
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreLockedError) as info:
            Store.open(folder)
        assert info.value.pid == holder.pid
        assert f"process {holder.pid}" in str(info.value) and "close it" in str(info.value)
        with Store.open(folder, readonly=True) as reader:
            assert len(reader.photos()) == 1
        cli = subprocess.run(
            [sys.executable, "-m", "eczema_tracker", "import", "--data-dir", str(folder),
             str(eczema_photo_paths[1])],
            capture_output=True, text=True, env={**os.environ},
        )  # fmt: skip
        assert cli.returncode == 2 and "already open" in cli.stderr
        assert len(cli.stderr.strip().splitlines()) == 1
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
    with Store.open(folder) as store:  # free again once the holder exits
        assert len(store.photos()) == 1


WRITER = textwrap.dedent(
    """
    import sys
    from eczema_tracker.store import Store, importer
    importer.BATCH_FILES = 1
    with Store.open(sys.argv[1]) as store:
        print("ready", flush=True)
        store.import_paths(sys.argv[2:])
    """
)


def test_readers_see_consistent_snapshots_while_another_process_writes(
    tmp_path, eczema_photo_paths
):
    folder = tmp_path / "store"
    Store.open(folder).close()
    photos = [str(p) for p in eczema_photo_paths[:20]]
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(folder), *photos], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout.readline().strip() == "ready"
    counts = []
    while writer.poll() is None or not counts or counts[-1] < 20:
        with Store.open(folder, readonly=True) as reader:
            listed = reader.photos()
            assert all((reader.data_dir / p.stored_name).is_file() for p in listed)
            counts.append(len(listed))
        if writer.poll() is not None and counts[-1] < 20:
            break
    assert writer.wait(timeout=60) == 0
    assert counts == sorted(counts) and counts[-1] == 20
