"""Hostile backups, hostile targets and faults: each ends in one clear refusal, nothing lost.

Every case here was reproduced against the code before the fix (issue 13, items 1-6, 9, 11).
"""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
from backup_tampering import read_manifest, rebuild_backup

from eczema_tracker.cli import main
from eczema_tracker.store import BackupError, Store, StoreError, db
from eczema_tracker.store.backup.export import export_store
from eczema_tracker.store.backup.restore import restore_store

POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes and special files")


def _rows(folder: Path) -> list[tuple]:
    conn = sqlite3.connect(folder / db.DB_NAME)
    try:
        return conn.execute("SELECT id, sha256, stored_name FROM photo ORDER BY id").fetchall()
    finally:
        conn.close()


@pytest.fixture
def small_store(tmp_path, eczema_photo_paths):
    """A store with two photos and one prompt mask."""
    folder = tmp_path / "store"
    with Store.open(folder) as store:
        store.import_paths(eczema_photo_paths[:2], site="neck")
        photo = store.photos()[0]
        mask = np.zeros((photo.height, photo.width), bool)
        mask[3:30, 3:30] = True
        store.set_prompt_mask(photo.id, mask)
    return folder


@pytest.fixture
def backup(small_store, tmp_path):
    out = tmp_path / "backup.zip"
    export_store(small_store, out)
    return out


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("eczema-tracker: error:"), err
    assert len(err.splitlines()) == 1, err
    return err


# ----------------------------------------------------------------- 1. names outside the store
UNSAFE_NAMES = ("../victim.txt", "photos/../../victim.txt", "photos/ab/../../../victim.txt")


def test_backup_with_pending_names_outside_the_store_is_refused(backup, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("someone else's file")
    rows = [*UNSAFE_NAMES, str(victim)]

    def plant(conn):
        conn.executemany(
            "INSERT INTO pending_file (stored_name, created_at) VALUES (?, 'x')",
            [(n,) for n in rows],
        )

    bad = rebuild_backup(backup, tmp_path / "bad.zip", change_db=plant)
    target = tmp_path / "restored"
    with pytest.raises(BackupError, match="outside the store"):
        restore_store(bad, target)
    assert not target.exists()
    Store.open(target).close()  # even had it been restored, the sweep touches nothing outside
    assert victim.read_text() == "someone else's file"


def test_open_sweep_never_deletes_outside_the_store(small_store, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("someone else's file")
    inside = small_store / "notes.txt"  # inside the folder but not a content file
    inside.write_text("keep me")
    conn = sqlite3.connect(small_store / db.DB_NAME)
    conn.executemany(
        "INSERT INTO pending_file (stored_name, created_at) VALUES (?, 'x')",
        [(n,) for n in (*UNSAFE_NAMES, str(victim), "notes.txt", db.DB_NAME)],
    )
    conn.commit()
    conn.close()
    with Store.open(small_store) as store:
        assert store.check.removed_orphans == ()
        assert len(store.photos()) == 2
    assert victim.read_text() == "someone else's file" and inside.read_text() == "keep me"
    conn = sqlite3.connect(small_store / db.DB_NAME)  # the bogus rows are gone (not user data)
    assert conn.execute("SELECT COUNT(*) FROM pending_file").fetchone()[0] == 0
    conn.close()


def test_backup_whose_rows_point_outside_the_store_is_refused(backup, tmp_path):
    def point_out(conn):
        conn.execute("UPDATE photo SET stored_name = '../../etc/passwd' WHERE id = 1")

    bad = rebuild_backup(backup, tmp_path / "bad.zip", change_db=point_out)
    with pytest.raises(BackupError, match="outside the store"):
        restore_store(bad, tmp_path / "restored")


def test_export_refuses_a_database_naming_files_outside_the_store(small_store, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not part of the store")
    conn = sqlite3.connect(small_store / db.DB_NAME)
    conn.execute("UPDATE photo SET stored_name = ? WHERE id = 1", (str(secret),))
    conn.commit()
    conn.close()
    out = tmp_path / "out.zip"
    with pytest.raises(BackupError, match="outside the store"):
        export_store(small_store, out)
    assert not out.exists()


# ----------------------------------------------------------------- 2. only the app's own schema
HOSTILE_SQL = {
    "trigger": "CREATE TRIGGER wipe AFTER INSERT ON photo BEGIN DELETE FROM photo; END",
    "view": "CREATE VIEW everything AS SELECT * FROM photo",
    "index": "CREATE INDEX photo_by_note ON photo (note)",
    "table": "CREATE TABLE extra (x)",
    "changed table": "DROP INDEX rating_by_photo; DROP TABLE rating; "
    "CREATE TABLE rating (id INTEGER PRIMARY KEY, photo_id INTEGER, rating INTEGER, rated_at)",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_SQL))
def test_backup_with_foreign_sql_objects_is_refused(backup, tmp_path, kind):
    bad = rebuild_backup(
        backup, tmp_path / "bad.zip", change_db=lambda c: c.executescript(HOSTILE_SQL[kind])
    )
    target = tmp_path / "restored"
    with pytest.raises(BackupError, match="not the schema this app"):
        restore_store(bad, target)
    assert not target.exists()


def test_own_schema_check_accepts_a_real_store_and_refuses_an_extra_trigger(tmp_path):
    conn = db.connect(tmp_path / db.DB_NAME)
    db.migrate(conn, tmp_path)
    db.check_own_schema(conn, tmp_path)  # a store this app made passes
    conn.execute(HOSTILE_SQL["trigger"])
    with pytest.raises(StoreError, match="not the schema this app"):
        db.check_own_schema(conn, tmp_path)
    conn.close()


# ----------------------------------------------------------------- 3. export targets
def test_export_refuses_targets_inside_the_store(small_store, tmp_path):
    before = (small_store / db.DB_NAME).read_bytes()
    link = tmp_path / "link.zip"
    link.symlink_to(small_store / db.DB_NAME)
    link_dir = tmp_path / "store-link"
    link_dir.symlink_to(small_store)
    for out in (small_store / db.DB_NAME, small_store / "b.zip", small_store / "photos" / "b.zip",
                link, link_dir / "b.zip"):  # fmt: skip
        with pytest.raises(BackupError, match="inside the photo store"):
            export_store(small_store, out)
    assert (small_store / db.DB_NAME).read_bytes() == before
    assert not (small_store / "b.zip").exists()
    with Store.open(small_store, readonly=True) as store:
        assert len(store.photos()) == 2


@POSIX
def test_export_refuses_special_and_linked_targets(small_store, tmp_path):
    fifo = tmp_path / "pipe.zip"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.zip"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere.zip"
    elsewhere.write_bytes(b"old")
    link = tmp_path / "link.zip"
    link.symlink_to(elsewhere)
    cases = [(fifo, "not a regular file"), (folder, "folder"), (link, "symbolic link")]
    if os.geteuid() == 0:  # only root can make a device node
        device = tmp_path / "null.zip"
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        cases.append((device, "not a regular file"))
    for out, message in cases:
        with pytest.raises(BackupError, match=message):
            export_store(small_store, out)
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and link.is_symlink()
    assert elsewhere.read_bytes() == b"old"
    if os.geteuid() == 0:
        assert stat.S_ISCHR(device.lstat().st_mode)


# ----------------------------------------------------------------- 5. a gap in the backup
def test_export_with_a_missing_file_restores_everything_else(small_store, tmp_path):
    gone = _rows(small_store)[1][2]
    (small_store / gone).unlink()
    out = tmp_path / "gap.zip"
    summary = export_store(small_store, out)
    assert summary.missing == (gone,)
    assert read_manifest(out)["missing"] == [gone]
    target = tmp_path / "restored"
    result = restore_store(out, target)
    assert result.missing == (gone,) and result.photos == 2
    assert _rows(target) == _rows(small_store)
    with Store.open(target, readonly=True) as store:
        assert store.check.missing_files == (gone,)
        (kept,) = [p for p in store.photos() if p.stored_name != gone]
        assert files_sha(target / kept.stored_name) == kept.sha256


def test_an_undeclared_gap_is_still_refused(backup, tmp_path):
    """A file the manifest does not call missing but the zip lacks: damaged, refused."""
    name = _rows_from_backup(backup)[0]
    bad = rebuild_backup(
        backup,
        tmp_path / "bad.zip",
        drop=lambda n: n == name,
        change_manifest=lambda m: m.update(missing=[]),
    )
    with pytest.raises(BackupError, match="lacks"):
        restore_store(bad, tmp_path / "restored")


def test_restore_onto_a_regular_file_is_refused_without_moving_it(backup, tmp_path, capsys):
    plain = tmp_path / "diary.txt"
    plain.write_text("my notes")
    with pytest.raises(BackupError, match="not a folder"):
        restore_store(backup, plain, force=True)
    assert plain.read_text() == "my notes"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".diary")] == []
    assert main(["restore", "--data-dir", str(plain), "--force", str(backup)]) == 2
    _one_line_error(capsys)
    assert plain.read_text() == "my notes"


# ----------------------------------------------------------------- 6. leftovers, modes
def test_a_killed_exports_leftovers_are_cleaned_by_the_next_export(small_store, tmp_path):
    out = tmp_path / "backup.zip"
    old_tmp = tmp_path / ".backup.zip.k3j_x9a2.tmp"
    old_tmp.write_bytes(b"PK\x03\x04 half a zip with health data")
    old_work = tmp_path / ".export-a1b2c3d4"
    old_work.mkdir()
    (old_work / db.DB_NAME).write_bytes(b"SQLite format 3\x00...")
    someone_elses = tmp_path / ".notes.txt.abcdefgh.tmp"  # not ours: left alone
    someone_elses.write_text("x")
    export_store(small_store, out)
    assert not old_tmp.exists() and not old_work.exists()
    assert someone_elses.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [
        someone_elses.name
    ]


def test_a_killed_restores_staging_folder_is_removed_by_the_next_writer(small_store, tmp_path):
    staging = tmp_path / ".store.restore-deadbeef"
    (staging / "photos").mkdir(parents=True)
    (staging / db.DB_NAME).write_bytes(b"half")
    with Store.open(small_store, readonly=True) as store:  # a reader leaves it alone
        assert len(store.photos()) == 2
    assert staging.exists()
    with Store.open(small_store) as store:
        assert len(store.photos()) == 2
    assert not staging.exists()


@POSIX
def test_database_files_are_owner_only(tmp_path, eczema_photo_paths):
    old = os.umask(0o022)
    try:
        folder = tmp_path / "store"
        with Store.open(folder) as store:
            store.import_paths(eczema_photo_paths[:1])
            for name in (db.DB_NAME, db.DB_NAME + "-wal", db.DB_NAME + "-shm"):
                assert (folder / name).stat().st_mode & 0o777 == 0o600, name
        (folder / db.DB_NAME).chmod(0o644)  # a store made by an older version is tightened
        Store.open(folder, readonly=True).close()
        Store.open(folder).close()
        assert (folder / db.DB_NAME).stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


@POSIX
def test_research_cache_is_owner_only(tmp_path):
    from eczema_tracker.research.cache import ResearchCache

    old = os.umask(0o022)
    try:
        cache = ResearchCache(tmp_path / "cache")
        cache.put_array("features", "ab" * 32, np.ones(3))
        cache.put_json("retrieval", "cd" * 32, {"a": 1})
    finally:
        os.umask(old)
    for path in [cache.root, *cache.root.rglob("*")]:
        want = 0o700 if path.is_dir() else 0o600
        assert path.stat().st_mode & 0o777 == want, path
    assert cache.get_array("features", "ab" * 32).tolist() == [1, 1, 1]


# ----------------------------------------------------------------- 9. zip bombs, special sources
def test_a_one_gib_member_is_refused_before_it_is_inflated(backup, tmp_path):
    size = 1 << 30
    digest = hashlib.sha256()
    chunk = bytes(1 << 20)
    for _ in range(size // len(chunk)):
        digest.update(chunk)
    sha = digest.hexdigest()
    name = f"photos/{sha[:2]}/{sha}.jpg"
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(backup) as zin, zipfile.ZipFile(bomb, "w") as zout:
        manifest = read_manifest(backup)
        for info in zin.infolist():
            if info.filename != "manifest.json":
                zout.writestr(info, zin.read(info))
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with zout.open(info, "w", force_zip64=True) as fh:
            for _ in range(size // len(chunk)):
                fh.write(chunk)
        manifest["files"][name] = {"sha256": sha, "size": size}
        zout.writestr("manifest.json", __import__("json").dumps(manifest))
    assert bomb.stat().st_size < 10 << 20
    target = tmp_path / "restored"
    with pytest.raises(BackupError, match="refused"):
        restore_store(bomb, target)
    assert not target.exists()


RESTORE_CHILD = textwrap.dedent(
    """
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    from eczema_tracker.cli import main
    sys.exit(main(["restore", "--data-dir", sys.argv[2], sys.argv[1]]))
    """
)


@POSIX
def test_restore_from_dev_zero_or_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "backup.zip"
    os.mkfifo(fifo)
    for source in ("/dev/zero", str(fifo)):
        child = subprocess.run(
            [sys.executable, "-c", RESTORE_CHILD, source, str(tmp_path / "restored")],
            capture_output=True,
            text=True,
            timeout=30,
        )
        err = child.stderr.strip()
        assert child.returncode == 2, err[-500:]
        assert err.startswith("eczema-tracker: error:") and len(err.splitlines()) == 1, err
        assert "not a regular file" in err
    assert not (tmp_path / "restored").exists()


# ----------------------------------------------------------------- 11. faults: one line each
def test_disk_full_during_export_is_one_line_and_leaves_nothing(small_store, tmp_path,
                                                               monkeypatch, capsys):  # fmt: skip
    from eczema_tracker.store.backup import export as backup_module

    real = backup_module._add_member
    calls = []

    def fill_disk(zf, source, name, compress):
        calls.append(name)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(zf, source, name, compress)

    monkeypatch.setattr(backup_module, "_add_member", fill_disk)
    out = tmp_path / "out" / "backup.zip"
    assert main(["export", "--data-dir", str(small_store), "--out", str(out)]) == 2
    err = _one_line_error(capsys)
    assert "No space left" in err
    assert list(out.parent.iterdir()) == []


def test_export_refuses_early_when_the_disk_is_too_small(small_store, tmp_path, monkeypatch):
    import shutil

    from eczema_tracker.store.backup import export as backup_module

    monkeypatch.setattr(
        backup_module.shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10, 10, 10)
    )
    with pytest.raises(BackupError, match="free"):
        export_store(small_store, tmp_path / "b.zip")
    assert [p for p in tmp_path.iterdir() if p.name != "store"] == []


def _read_only_fs(monkeypatch, folder: Path) -> None:
    """Every creation under ``folder`` fails with EROFS (a read-only mount, without root)."""
    real_mkdir, real_open = os.mkdir, os.open

    def under(path) -> bool:
        return Path(os.path.abspath(path)).is_relative_to(folder)

    def mkdir(path, *args, **kwargs):
        if under(path):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_mkdir(path, *args, **kwargs)

    def open_(path, flags, *args, **kwargs):
        if under(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "open", open_)


def test_export_and_restore_on_a_read_only_filesystem(small_store, backup, tmp_path,
                                                     monkeypatch, capsys):  # fmt: skip
    ro = tmp_path / "ro"
    ro.mkdir()
    _read_only_fs(monkeypatch, ro)
    assert main(["export", "--data-dir", str(small_store), "--out", str(ro / "b.zip")]) == 2
    assert "Read-only file system" in _one_line_error(capsys)
    assert main(["restore", "--data-dir", str(ro / "store"), str(backup)]) == 2
    assert "Read-only file system" in _one_line_error(capsys)
    assert list(ro.iterdir()) == []


def test_targets_under_a_regular_file_are_one_line(small_store, backup, tmp_path, capsys):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert main(["export", "--data-dir", str(small_store), "--out", str(plain / "b.zip")]) == 2
    assert "not a folder" in _one_line_error(capsys)
    assert main(["restore", "--data-dir", str(plain / "store"), str(backup)]) == 2
    assert "not a folder" in _one_line_error(capsys)
    assert plain.read_text() == "x"


# ----------------------------------------------------------------- helpers
def files_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows_from_backup(backup: Path) -> list[str]:
    return sorted(n for n in read_manifest(backup)["files"] if n.startswith("photos/"))


def test_a_backup_from_an_older_schema_is_accepted_and_upgraded(backup, tmp_path):
    old_db = tmp_path / "v1.sqlite3"
    conn = sqlite3.connect(old_db, isolation_level=None)
    db.migrate(conn, tmp_path, db.bundled_migrations()[:1])
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    old = rebuild_backup(
        backup,
        tmp_path / "v1.zip",
        add={db.DB_NAME: old_db.read_bytes()},
        drop=lambda n: n != db.DB_NAME,
        change_manifest=lambda m: m.update(missing=[]),
    )
    target = tmp_path / "restored"
    assert restore_store(old, target).photos == 0
    conn = sqlite3.connect(target / db.DB_NAME)
    assert db.schema_version(conn) == db.latest_version()
    conn.close()


def test_a_member_no_row_refers_to_is_refused(backup, tmp_path):
    data = b"not a photo of this store"
    sha = hashlib.sha256(data).hexdigest()
    bad = rebuild_backup(backup, tmp_path / "stray.zip", add={f"photos/{sha[:2]}/{sha}.jpg": data})
    with pytest.raises(BackupError, match="does not refer to"):
        restore_store(bad, tmp_path / "restored")
    assert not (tmp_path / "restored").exists()
