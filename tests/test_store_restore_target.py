"""Restore and the first write touch only what the app made; readers never undo a live restore.

- A restore replaces the app's own entries of the data folder (the database, ``photos/``,
  ``masks/``, ``models/``, ``thumbnails/``, ``tmp/``); a person's files there stay, and the
  replaced store is kept as a dated backup zip beside the folder.
- A folder holding files the app did not make is refused as the data folder at the first write,
  in one sentence, with nothing written into it.
- A read-only open (``photos``, ``check``, the report, the GUI's quick check) during a restore
  deletes and moves nothing: a reader at the worst moment (between the staging folder's creation
  and its lock) leaves the restore whole.
"""

# ruff: noqa: F811  (full_store comes from tests.test_store_backup)

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from eczema_tracker.cli import main
from eczema_tracker.store import BackupError, Store, StoreError
from eczema_tracker.store.backup.export import export_store
from eczema_tracker.store.backup.restore import restore_store
from eczema_tracker.store.check.checker import check_store
from tests.test_store_backup import _rows, full_store  # noqa: F401


def _listing(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its bytes (None for folders)."""
    return {
        p.relative_to(folder).as_posix(): (None if p.is_dir() else p.read_bytes())
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def other_backup(tmp_path, eczema_photo_paths) -> tuple[Path, Path]:
    """A backup zip of another store (two other photos), and that store's folder."""
    folder = tmp_path / "other"
    with Store.open(folder) as store:
        store.import_paths(eczema_photo_paths[40:42], site="hand")
    out = tmp_path / "other.zip"
    export_store(folder, out)
    return out, folder


def _plant_own_files(folder: Path) -> dict[str, bytes | None]:
    """A thesis folder and a tax file the person keeps in the data folder."""
    (folder / "thesis").mkdir()
    (folder / "thesis" / "chapter1.txt").write_text("my thesis")
    (folder / "taxes.pdf").write_bytes(b"%PDF-1.4 taxes")
    return {
        "taxes.pdf": b"%PDF-1.4 taxes",
        "thesis": None,
        "thesis/chapter1.txt": b"my thesis",
    }


# --------------------------------------------------------------------- item 1: restore --force
def test_restore_force_keeps_the_persons_files_and_a_dated_zip_of_the_replaced_store(
    full_store, other_backup, tmp_path
):
    backup, other = other_backup
    before = _rows(full_store)
    own = _plant_own_files(full_store)
    summary = restore_store(backup, full_store, force=True)
    listing = _listing(full_store)
    assert {k: listing.get(k) for k in own} == own  # the person's files stay where they were
    assert _rows(full_store) == _rows(other)  # the store is the backup's
    zips = sorted(tmp_path.glob("original-replaced-*.zip"))
    assert len(zips) == 1 and summary.replaced == zips[0], (summary, zips)
    assert zips[0].parent == full_store.parent  # beside the data folder, not inside it
    kept = tmp_path / "kept"
    restore_store(zips[0], kept)  # the replaced store comes back whole from that zip
    assert _rows(kept) == before
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".original")]
    assert leftovers == []


def test_cli_restore_force_says_where_the_replaced_store_was_kept(full_store, other_backup, capsys):
    backup, _ = other_backup
    assert main(["restore", "--data-dir", str(full_store), "--force", str(backup)]) == 0
    out = capsys.readouterr().out
    kept = next(full_store.parent.glob("original-replaced-*.zip"))
    assert str(kept) in out, out


def test_restore_into_an_empty_or_new_folder_keeps_no_replaced_copy(other_backup, tmp_path):
    backup, _ = other_backup
    empty = tmp_path / "empty"
    empty.mkdir()
    assert restore_store(backup, empty).replaced is None
    assert restore_store(backup, tmp_path / "new" / "store").replaced is None
    assert list(tmp_path.rglob("*-replaced-*")) == []


# --------------------------------------------------------------------- item 1: the first write
def test_a_folder_holding_other_files_is_refused_at_the_first_write(
    other_backup, tmp_path, eczema_photo_paths, capsys
):
    backup, _ = other_backup
    documents = tmp_path / "Documents"
    documents.mkdir(mode=0o755)
    own = _plant_own_files(documents)
    mode = documents.stat().st_mode
    expected = (
        f"{documents} holds files Eczema Tracker did not make (taxes.pdf, thesis/); "
        "choose an empty folder or the app's own."
    )
    with pytest.raises(StoreError) as opened:
        Store.open(documents)
    assert str(opened.value) == expected
    with pytest.raises(BackupError) as restored:
        restore_store(backup, documents, force=True)
    assert str(restored.value) == expected
    assert main(["import", "--data-dir", str(documents), str(eczema_photo_paths[0])]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"eczema-tracker: error: {expected}"
    assert _listing(documents) == own and documents.stat().st_mode == mode  # nothing written
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".Documents")] == []


def test_an_empty_folder_or_an_existing_store_with_other_files_is_fine(full_store, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    Store.open(empty).close()
    assert (empty / "store.sqlite3").is_file()
    _plant_own_files(full_store)  # files the person put in after the store was made
    with Store.open(full_store) as store:
        assert len(store.photos()) == 3


# --------------------------------------------------------------------- item 5: readers
def test_a_reader_between_the_staging_folder_and_its_lock_leaves_the_restore_alone(
    full_store, other_backup, monkeypatch
):
    """The worst moment: the staging folder exists, its lock is not taken yet."""
    from eczema_tracker.store.backup import restore
    from eczema_tracker.store.lock import WriterLock

    backup, other = other_backup
    seen: list[object] = []

    class ReaderFirst(WriterLock):
        def acquire(self) -> None:
            if ".restore-" in self.folder.name and not seen:
                assert self.folder.is_dir()
                with Store.open(full_store, readonly=True) as reader:
                    seen.append(len(reader.photos()))
                checked = check_store(full_store, full=False)  # says so, touches nothing
                seen.append(checked.could_not_run)
            super().acquire()

    monkeypatch.setattr(restore, "WriterLock", ReaderFirst)
    restore_store(backup, full_store, force=True)
    assert seen[0] == 3  # the reader saw the old store, whole
    assert seen[1] == f"A restore into {full_store} is under way; check again once it has finished."
    assert _rows(full_store) == _rows(other)


def test_readers_during_repeated_restores_never_spoil_one(full_store, other_backup, tmp_path):
    """A bounded stress run: readers open and check the store while it is restored 4 times."""
    backup, _ = other_backup
    before = _rows(full_store)
    first = tmp_path / "first.zip"
    export_store(full_store, first)
    stop = threading.Event()
    failures: list[BaseException] = []
    reads = [0]

    def reader() -> None:
        while not stop.is_set():
            try:
                with Store.open(full_store, readonly=True) as store:
                    store.photos()
                check_store(full_store, full=False)
                reads[0] += 1
            except StoreError:
                pass  # e.g. "a restore is under way": said in words, nothing touched
            except BaseException as exc:  # noqa: BLE001 - what the test looks for
                failures.append(exc)
                return

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(4):
            restore_store(backup if i % 2 == 0 else first, full_store, force=True)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert failures == [], failures
    assert _rows(full_store) == before  # the last restore was of ``first``
    assert reads[0] > 0


def test_a_reader_neither_finishes_nor_undoes_an_interrupted_restore(full_store, tmp_path):
    """What a killed restore left is put right by the next writer, never by a reader."""
    from eczema_tracker.store.backup.recovery import OLD, STAGING, swap_path

    before = _rows(full_store)
    old = swap_path(full_store, OLD, "0123abcd")
    full_store.rename(old)  # a restore killed after moving the old store aside ...
    staging = swap_path(full_store, STAGING, "0123abcd")
    (staging / "photos").mkdir(parents=True)  # ... and before its new store was complete
    shape = sorted(os.listdir(tmp_path))
    with pytest.raises(StoreError, match="restore"):
        Store.open(full_store, readonly=True)
    assert check_store(full_store).exit_code == 2
    assert sorted(os.listdir(tmp_path)) == shape  # the readers moved nothing
    with Store.open(full_store) as store:  # the first writer puts the old store back
        assert len(store.photos()) == 3
    assert _rows(full_store) == before
    assert not old.exists() and not staging.exists()


def test_a_content_file_no_record_refers_to_is_kept_in_orphans_not_deleted(
    full_store, other_backup
):
    """The replaced store's zip holds only files a record refers to; anything else in its
    photos/ is moved to orphans/ (which restores never replace), never deleted."""
    backup, _ = other_backup
    data = b"a photo file no record refers to"
    digest = hashlib.sha256(data).hexdigest()
    stray = full_store / "photos" / digest[:2] / f"{digest}.jpg"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(data)
    restore_store(backup, full_store, force=True)
    kept = full_store / "orphans" / "photos" / digest[:2] / f"{digest}.jpg"
    assert kept.read_bytes() == data


def test_a_backup_made_while_a_restore_moves_the_files_is_refused_not_called_missing(
    full_store, tmp_path
):
    """Found in review: photos a restore had moved aside were recorded as missing, and the
    zip (with no photos) looked like a good backup."""
    from eczema_tracker.store.layout import LEGACY_RESTORE_MARKER

    (full_store / LEGACY_RESTORE_MARKER).write_bytes(b"")  # what readers see during a swap
    photos = full_store / "photos"
    photos.rename(full_store.parent / "photos-moved-aside")
    out = tmp_path / "nightly.zip"
    with pytest.raises(BackupError, match="restore .* is under way"):
        export_store(full_store, out)
    assert not out.exists()
