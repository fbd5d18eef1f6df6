"""The store check (eczema_tracker.store.check.checker): each planted fault found, the safe ones repaired.

Every test plants one fault behind the app's back in a copy of a small store holding photos,
a painted prompt mask, an analysis with the person's correction, a rating and a severity model.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from eczema_tracker.store import Store, db
from eczema_tracker.store.check.checker import check_store, quick_check_store
from tests.store_check_support import build_store, copy_of, flip_byte, snapshot


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, dict[str, object]]:
    folder = tmp_path_factory.mktemp("template") / "store"
    return folder, build_store(folder)


@pytest.fixture
def store(template, tmp_path) -> tuple[Path, dict[str, object]]:
    """A fresh copy of the template store."""
    return copy_of(template[0], tmp_path), template[1]


def kinds(problems) -> list[str]:
    return [p.kind for p in problems]


def test_a_healthy_store_passes_and_the_check_writes_nothing(store):
    folder, _ = store
    before = snapshot(folder)
    for result in (check_store(folder), quick_check_store(folder)):
        assert result.healthy and result.exit_code == 0, result.lines()
        assert result.problems == () and result.missing == ()
        assert result.checked["photos"] == 3 and result.checked["masks"] == 3
        assert result.checked["models"] == 1
        assert result.lines()[-1] == "The store is healthy."
        assert result.plain_summary() == "The photo store is healthy."
    assert check_store(folder).checked["files_hashed"] == 7  # every file, full SHA-256
    assert quick_check_store(folder).checked["files_hashed"] == 0  # sizes only
    assert check_store(folder, repair=True).exit_code == 0
    assert snapshot(folder) == before


def test_a_photo_deleted_behind_the_apps_back(store):
    folder, info = store
    photo = info["ids"][1]
    name = info["photo_files"][photo]
    saved = (folder / name).read_bytes()
    (folder / name).unlink()
    sha = info["shas"][photo]
    (folder / "thumbnails" / sha[:2] / f"{sha}.jpg").unlink()  # gone too: made after put-back
    for result in (check_store(folder), quick_check_store(folder)):
        assert result.exit_code == 1 and kinds(result.problems) == ["missing"]
        (gone,) = result.missing
        assert (gone.table, gone.row_id, gone.stored_name, gone.state) == (
            "photo",
            photo,
            name,
            "missing",
        )
        assert "1 rating(s)" in gone.keeps and "1 corrected mask(s)" in gone.keeps
        assert "missing" in result.plain_summary()
    repaired = check_store(folder, repair=True)
    assert repaired.exit_code == 1 and kinds(repaired.remaining) == ["missing"]
    assert repaired.missing[0].row_id == photo  # marked, never deleted
    with Store.open(folder, readonly=True) as s:
        assert s.rating(photo) == 2 and s.current_analysis(photo).corrected_mask is not None
    # a verified copy in orphans/ (e.g. moved there when the database was swapped) comes back
    (folder / "orphans" / name).parent.mkdir(parents=True)
    (folder / "orphans" / name).write_bytes(saved)
    found = check_store(folder)
    assert found.problems[0].repairable and "puts back" in found.problems[0].message
    repaired = check_store(folder, repair=True)
    assert any("Put back" in line for line in repaired.repairs)
    assert f"Made the thumbnail of photo {photo} again." in repaired.repairs
    assert (folder / name).read_bytes() == saved and check_store(folder).exit_code == 0


def test_a_truncated_mask_is_found_in_both_forms_and_kept(store):
    folder, info = store
    path = folder / info["prompt_mask"]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    for result in (check_store(folder), quick_check_store(folder)):
        assert result.exit_code == 1 and kinds(result.problems) == ["damaged"]
        assert "cut short" in result.problems[0].message
        (bad,) = result.missing
        assert bad.table == "mask_file" and bad.state == "damaged"
        assert bad.keeps == (f"the painted prompt mask of photo {info['ids'][0]} (version 1)",)
    repaired = check_store(folder, repair=True)
    assert repaired.exit_code == 1 and kinds(repaired.remaining) == ["damaged"]
    assert repaired.repairs == ()
    assert path.read_bytes() == data[: len(data) // 2]  # the person's mask is never discarded


def test_a_flipped_byte_in_a_photo_needs_the_full_check(store):
    folder, info = store
    photo = info["ids"][2]
    flip_byte(folder / info["photo_files"][photo])
    result = check_store(folder)
    assert result.exit_code == 1 and kinds(result.problems) == ["damaged"]
    assert "SHA-256 no longer matches" in result.problems[0].message
    assert result.missing[0].row_id == photo
    assert quick_check_store(folder).healthy  # same size: only the hash can tell
    assert check_store(folder, repair=True).exit_code == 1


def test_damaged_models_and_masks_by_size_in_the_quick_form(store):
    folder, info = store
    model = folder / info["model"]
    model.write_bytes(model.read_bytes()[:-4])
    correction = folder / info["correction"]
    correction.write_bytes(b"")
    result = quick_check_store(folder)
    assert sorted(m.table for m in result.missing) == ["mask_file", "severity_model"]
    by_table = {m.table: m for m in result.missing}
    assert "the active severity model" in by_table["severity_model"].keeps
    assert any("correction of analysis" in k for k in by_table["mask_file"].keeps)


def test_an_orphan_file_is_moved_to_orphans(store):
    folder, _ = store
    orphan = folder / "photos" / "ab" / ("ab" + "0" * 62 + ".jpg")
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"not referenced")
    result = check_store(folder)
    assert result.exit_code == 1 and kinds(result.problems) == ["orphan"]
    assert result.problems[0].repairable
    repaired = check_store(folder, repair=True)
    assert repaired.exit_code == 0 and repaired.remaining == ()
    assert not orphan.exists()
    moved = folder / "orphans" / orphan.relative_to(folder)
    assert moved.read_bytes() == b"not referenced"
    assert check_store(folder).exit_code == 0


def test_thumbnails_missing_damaged_or_stale_are_remade_or_moved(store):
    folder, info = store
    a, b, _ = info["ids"]
    thumb = lambda i: folder / "thumbnails" / info["shas"][i][:2] / f"{info['shas'][i]}.jpg"  # noqa: E731
    thumb(a).unlink()
    thumb(b).write_bytes(thumb(b).read_bytes()[:100])
    stale = folder / "thumbnails" / "cd" / ("cd" + "1" * 62 + ".jpg")
    stale.parent.mkdir()
    stale.write_bytes(b"\xff\xd8old\xff\xd9")
    result = check_store(folder)
    assert kinds(result.problems) == ["thumbnail"] * 2 and all(
        p.repairable for p in result.problems
    )  # the missing one is a cache miss, not a problem
    assert "1 thumbnail(s) are made again" in result.lines()[1]
    repaired = check_store(folder, repair=True)
    assert repaired.exit_code == 0, repaired.lines()
    assert sum("Made the thumbnail" in line for line in repaired.repairs) == 2
    for i in (a, b):
        with Image.open(thumb(i)) as im:
            im.load()
            assert max(im.size) <= 256
    assert not stale.exists() and (folder / "orphans" / stale.relative_to(folder)).exists()


def test_a_garbage_database_cannot_be_checked_and_is_left_alone(store):
    folder, _ = store
    (folder / db.DB_NAME).write_bytes(b"this is not a database at all" * 100)
    before = snapshot(folder)
    for repair in (False, True):
        result = check_store(folder, repair=repair)
        assert result.exit_code == 2 and "not an SQLite database" in result.could_not_run
        assert "\n" not in result.could_not_run and result.problems == ()
    assert snapshot(folder) == before


def test_a_newer_schema_is_refused_and_the_store_left_untouched(store):
    folder, _ = store
    conn = sqlite3.connect(folder / db.DB_NAME)
    conn.execute(f"PRAGMA user_version = {db.latest_version() + 1}")
    conn.close()
    before = snapshot(folder)
    for repair in (False, True):
        result = check_store(folder, repair=repair)
        assert result.exit_code == 2 and "newer version" in result.could_not_run
        assert "Nothing was changed" in result.could_not_run
    assert quick_check_store(folder).exit_code == 2
    assert snapshot(folder) == before


def test_no_store_is_not_created_by_a_check(tmp_path):
    result = check_store(tmp_path / "nothing")
    assert result.exit_code == 2 and "There is no photo store" in result.could_not_run
    assert not (tmp_path / "nothing").exists()


def test_repair_needs_the_writer_lock_but_the_check_does_not(store):
    folder, _ = store
    (folder / "photos" / "zz-orphan").write_bytes(b"x")
    with Store.open(folder) as app:  # the app has the store open (its open moved the orphan)
        assert app.check.unknown_files == ("photos/zz-orphan",)
        (folder / "photos" / "zz-orphan").write_bytes(b"x")
        assert check_store(folder).exit_code == 1  # read-only: works alongside the app
        refused = check_store(folder, repair=True)
        assert refused.exit_code == 2 and "already open" in refused.could_not_run
        assert (folder / "photos" / "zz-orphan").exists()
    assert check_store(folder, repair=True).exit_code == 0


def test_a_foreign_trigger_is_reported_and_blocks_repair(store):
    folder, _ = store
    conn = sqlite3.connect(folder / db.DB_NAME)
    conn.execute("CREATE TRIGGER evil AFTER INSERT ON photo BEGIN DELETE FROM photo; END")
    conn.close()
    (folder / "photos" / "zz-orphan").write_bytes(b"x")
    result = check_store(folder)
    assert "The database has a trigger 'evil' this app never creates" in " ".join(
        p.message for p in result.problems
    )
    repaired = check_store(folder, repair=True)
    assert repaired.exit_code == 1 and repaired.repairs == ()
    assert "Nothing was repaired" in repaired.remaining[-1].message
    assert (folder / "photos" / "zz-orphan").exists()


def test_a_row_naming_a_path_outside_the_store_is_never_followed(store, tmp_path):
    folder, info = store
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    conn = sqlite3.connect(folder / db.DB_NAME)
    conn.execute("UPDATE photo SET stored_name = ? WHERE id = ?", ("../victim.txt", info["ids"][2]))
    conn.commit()
    conn.close()
    result = check_store(folder)
    assert "outside" in kinds(result.problems)
    assert any("not a file of this store" in p.message for p in result.problems)
    check_store(folder, repair=True)
    assert victim.read_text() == "keep me"


def test_leftovers_of_an_interrupted_write_are_removed_by_repair(store):
    folder, _ = store
    name = "photos/ee/ee" + "2" * 62 + ".jpg"
    (folder / name).parent.mkdir()
    (folder / name).write_bytes(b"half an import")
    (folder / "tmp" / ".x.tmp").write_bytes(b"temp")
    conn = sqlite3.connect(folder / db.DB_NAME)
    conn.execute("INSERT INTO pending_file VALUES (?, '2026-01-01T00:00:00')", (name,))
    conn.commit()
    conn.close()
    result = check_store(folder)
    assert kinds(result.problems) == ["leftover", "leftover"]
    repaired = check_store(folder, repair=True)
    assert repaired.exit_code == 0 and len(repaired.repairs) == 2
    assert not (folder / name).exists() and not (folder / "tmp" / ".x.tmp").exists()


def test_the_summary_for_the_app_says_what_to_do(store):
    folder, info = store
    (folder / info["photo_files"][info["ids"][0]]).unlink()
    (folder / "photos" / "zz-orphan").write_bytes(b"x")
    summary = quick_check_store(folder).plain_summary()
    assert summary.startswith("The photo store has 2 problem(s).")
    assert "is missing" in summary and "check --repair" in summary
    payload = quick_check_store(folder).to_json()
    assert payload["exit_code"] == 1 and payload["missing"][0]["state"] == "missing"


def test_a_damaged_database_page_is_found_and_never_written_to(store):
    folder, _ = store
    path = folder / db.DB_NAME
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'photo_by_taken'")
    page, page_size = root.fetchone()[0], conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(path, "r+b") as fh:  # scribble over the index page's header
        fh.seek((page - 1) * page_size + 8)
        fh.write(b"\x00\x05" + b"\xff" * 200)
    (folder / "photos" / "zz-orphan").write_bytes(b"x")
    result = check_store(folder)
    assert result.exit_code == 1 and result.problems[0].kind == "database"
    assert "The database is damaged" in result.problems[0].message
    before = snapshot(folder)
    repaired = check_store(folder, repair=True)
    assert repaired.exit_code == 1 and repaired.repairs == ()
    assert repaired.lines()[-1].startswith("Nothing was repaired;")
    assert snapshot(folder) == before


# -- a fresh restore, a store never set up ---------------------------------------------------
def test_a_fresh_complete_restore_is_healthy(store, tmp_path):
    """Backups hold no thumbnails (a cache): their absence is a note, not a problem."""
    from eczema_tracker.store.backup.export import export_store
    from eczema_tracker.store.backup.restore import restore_store

    folder, _ = store
    export_store(folder, tmp_path / "backup.zip")
    restored = tmp_path / "restored"
    restore_store(tmp_path / "backup.zip", restored)
    assert not (restored / "thumbnails").exists()
    for result in (check_store(restored), quick_check_store(restored)):
        assert result.exit_code == 0 and result.problems == (), result.lines()
        assert result.plain_summary() == "The photo store is healthy."
        assert "3 thumbnail(s) are made again when the photos are shown" in result.lines()[1]
        assert result.lines()[-1] == "The store is healthy."
    assert check_store(restored, repair=True).exit_code == 0


def _never_set_up(folder: Path, how: str) -> None:
    """What a kill while the store was being created leaves."""
    folder.mkdir()
    path = folder / db.DB_NAME
    if how == "header only":
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode = WAL")  # page 1 written, no table yet
        conn.close()
        return
    path.write_bytes(b"")
    if how == "empty with a journal":
        (folder / f"{db.DB_NAME}-journal").write_bytes(b"\0" * 512)


@pytest.mark.parametrize("how", ["empty", "empty with a journal", "header only"])
def test_a_store_killed_while_being_created_is_new_not_damaged(tmp_path, how):
    folder = tmp_path / "store"
    _never_set_up(folder, how)
    before = snapshot(folder)
    result = check_store(folder)
    assert result.exit_code == 0 and result.could_not_run is None, result.lines()
    assert "never set up" in result.lines()[0] and "holds no photos" in result.lines()[0]
    assert quick_check_store(folder).exit_code == 0
    with Store.open(folder, readonly=True) as reader:  # photos, report, GUI: nothing to list
        assert reader.photos() == [] and reader.timeline(None) == []
    assert snapshot(folder) == before  # readers wrote nothing
    with Store.open(folder) as writer:  # any write finishes the set-up
        assert writer.photos() == []
    after = check_store(folder)
    assert after.healthy and after.schema_version == db.latest_version(), after.lines()


def test_an_empty_database_beside_stored_files_is_a_problem(store):
    folder, _ = store
    (folder / db.DB_NAME).write_bytes(b"")
    for name in ("-wal", "-shm"):
        (folder / f"{db.DB_NAME}{name}").unlink(missing_ok=True)
    result = check_store(folder)
    assert result.exit_code == 1 and kinds(result.problems) == ["database"], result.lines()
    assert "restore a backup" in result.problems[0].message
