"""Export -> restore gives the same store; damaged or hostile zips are refused untouched."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import numpy as np
import pytest

from eczema_tracker.store import BackupError, Store, StoreLockedError, db
from eczema_tracker.store.backup.export import export_store
from eczema_tracker.store.backup.restore import restore_store

TABLES = ("photo", "mask_file", "prompt_mask_version", "prompt", "analysis", "rating",
          "severity_model", "site_prompt_change")  # fmt: skip


def _rows(folder: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(folder / db.DB_NAME)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in TABLES}
    finally:
        conn.close()


@pytest.fixture
def full_store(tmp_path, eczema_photo_paths):
    """A store with photos, a prompt, an analysis with features, a rating and a model."""
    folder = tmp_path / "original"
    with Store.open(folder) as store:
        store.import_paths(eczema_photo_paths[:3], site="neck")
        a, b = store.photos()[:2]
        mask = np.zeros((a.height, a.width), bool)
        mask[5:40, 5:40] = True
        store.set_prompt_mask(a.id, mask)
        store.record_analysis(
            b.id, mask=np.zeros((b.height, b.width), bool), lesion_area_fraction=0.0,
            features=np.ones(8, np.float32), feature_source="dino", probabilities=None,
            score=None, model_sources={"dino": "x"}, k=2,
        )  # fmt: skip
        store.rate(b.id, 2)
        model = tmp_path / "m.safetensors"
        model.write_bytes(b"weights")
        store.add_severity_model(model, {"n_train": 1})
    return folder


def test_export_then_restore_is_identical(full_store, tmp_path):
    out = tmp_path / "backup.zip"
    with Store.open(full_store):  # the app may keep the store open while exporting
        summary = export_store(full_store, out)
    assert summary.files == 3 + 2 + 1 and summary.missing == ()  # photos, masks, model
    target = tmp_path / "restored"
    result = restore_store(out, target)
    assert result.photos == 3
    assert _rows(target) == _rows(full_store)
    with Store.open(full_store, readonly=True) as old, Store.open(target, readonly=True) as new:
        for photo in old.photos():
            assert (new.data_dir / photo.stored_name).read_bytes() == (
                old.data_dir / photo.stored_name
            ).read_bytes()
        assert new.check.ok and new.check.unknown_files == ()
        assert new.thumbnail(new.photos()[0].id).exists()  # caches are rebuilt, not backed up
    assert (target.stat().st_mode & 0o777) == 0o700


def _rewrite(src: Path, dst: Path, change) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info.filename, data)


def test_tampered_or_hostile_zips_are_refused_and_nothing_written(full_store, tmp_path):
    out = tmp_path / "backup.zip"
    export_store(full_store, out)
    target = tmp_path / "restored"

    def flip_photo(name, data):
        return data[:-1] + bytes([data[-1] ^ 1]) if name.startswith("photos/") else data

    def traversal(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["files"]["../evil.txt"] = {"sha256": "0" * 64, "size": 4}
            return json.dumps(manifest).encode()
        return data

    def shrink_recorded_size(name, data):  # a member bigger than the manifest says (zip bomb)
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["files"][db.DB_NAME]["size"] = 10
            return json.dumps(manifest).encode()
        return data

    cases = {
        "size understated": (shrink_recorded_size, "recorded size"),
        "flipped photo byte": (flip_photo, "does not match its recorded hash"),
        "photo removed": (lambda n, d: None if n.startswith("photos/") else d, "missing"),
        "path traversal": (traversal, "missing"),
        "no manifest": (lambda n, d: None if n == "manifest.json" else d, "no manifest.json"),
    }
    for label, (change, message) in cases.items():
        bad = tmp_path / f"{label}.zip"
        _rewrite(out, bad, change)
        with pytest.raises(BackupError, match=message):
            restore_store(bad, target)
        assert not target.exists(), label
        assert list(tmp_path.glob(".restored.*")) == [], label
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(evil, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info))
        zout.writestr("../evil.txt", b"evil")
    with pytest.raises(BackupError, match="unexpected member"):
        restore_store(evil, target)
    not_zip = tmp_path / "not.zip"
    not_zip.write_text("hello")
    with pytest.raises(BackupError, match="not a readable zip"):
        restore_store(not_zip, target)
    assert not (tmp_path / "evil.txt").exists() and not target.exists()


def test_restore_refuses_a_non_empty_store_without_force(full_store, tmp_path, eczema_photo_paths):
    out = tmp_path / "backup.zip"
    export_store(full_store, out)
    other = tmp_path / "other"
    with Store.open(other) as store:
        store.import_paths(eczema_photo_paths[5:6])
        with pytest.raises(StoreLockedError):  # the app has it open: refused
            restore_store(out, other, force=True)
    before = _rows(other)
    with pytest.raises(BackupError, match="--force"):
        restore_store(out, other)
    assert _rows(other) == before
    restore_store(out, other, force=True)
    assert _rows(other) == _rows(full_store)
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".other")] == []


def test_failed_restore_leaves_the_old_store(full_store, tmp_path, monkeypatch):
    out = tmp_path / "backup.zip"
    export_store(full_store, out)
    from eczema_tracker.store.backup import restore

    def broken_check(*args):
        raise BackupError("simulated failure while checking the new store")

    monkeypatch.setattr(restore, "_check_restored", broken_check)
    before = _rows(full_store)
    with pytest.raises(BackupError, match="simulated"):
        restore_store(out, full_store, force=True)
    assert _rows(full_store) == before
    assert [p for p in tmp_path.iterdir() if ".restore-" in p.name] == []


def test_recovery_leaves_a_running_restore_alone(full_store, tmp_path):
    from eczema_tracker.store.backup.recovery import OLD, finish_interrupted_swap, swap_path
    from eczema_tracker.store.lock import WriterLock

    old = swap_path(full_store, OLD, "89abcdef")
    full_store.rename(old)
    running = WriterLock(old)  # the restoring process still holds the old store's lock
    running.acquire()
    try:
        finish_interrupted_swap(full_store)
        assert old.is_dir() and not full_store.exists()
    finally:
        running.release()
    finish_interrupted_swap(full_store)  # once it is gone, the old store is put back
    assert full_store.is_dir() and not old.exists()


def test_restore_counts_binned_photos_apart(full_store, tmp_path):
    with Store.open(full_store) as store:
        binned = store.photos()[-1].id
        store.move_to_bin([binned])
    out = tmp_path / "backup.zip"
    export_store(full_store, out)
    result = restore_store(out, tmp_path / "restored")
    assert (result.photos, result.binned) == (2, 1)
    with Store.open(tmp_path / "restored", readonly=True) as store:
        assert [p.id for p in store.binned_photos()] == [binned] and len(store.photos()) == 2
