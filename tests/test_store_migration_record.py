"""Schema 3 (the record) on a store made by the schema-2 code: every photo, mask, analysis and
rating is kept; the backup zip carries the new records."""

from __future__ import annotations

import numpy as np
import pytest

from eczema_tracker.store import Store, db
from eczema_tracker.store.backup.export import export_store
from eczema_tracker.store.backup.restore import restore_store


@pytest.fixture()
def schema_2_store(tmp_path, eczema_photo_paths, monkeypatch):
    """A populated store written while only migrations 1-2 exist (as the current release)."""
    bundled = db.bundled_migrations()
    assert [m.version for m in bundled][:2] == [1, 2]
    with monkeypatch.context() as patch:
        patch.setattr(db, "bundled_migrations", lambda: bundled[:2])
        folder = tmp_path / "store"
        with Store.open(folder) as store:
            store.import_paths(eczema_photo_paths[:3], site="left arm")
            store.import_paths(eczema_photo_paths[3:4], site="face")
            photos = store.photos()
            for photo in photos[:2]:
                mask = np.zeros((photo.height, photo.width), bool)
                mask[5:40, 5:50] = True
                store.set_prompt_mask(photo.id, mask)
            target = photos[2]
            mask = np.zeros((target.height, target.width), bool)
            mask[10:30, 10:30] = True
            analysis_id = store.record_analysis(
                target.id,
                mask=mask,
                lesion_area_fraction=0.05,
                features=np.arange(4, dtype=np.float32),
                feature_source="dino:test",
                probabilities=[0.1, 0.7, 0.1, 0.1],
                score=1.2,
                model_sources={"dino": "test"},
                k=2,
                prompt_photo_ids=[photos[0].id, photos[1].id],
            )
            store.save_corrected_mask(analysis_id, mask[::-1].copy())
            store.rate(target.id, 2)
            store.rate(target.id, 3)
            store.move_to_bin([photos[3].id])
            assert db.schema_version(store._db) == 2
            snapshot = _snapshot(store)
    return folder, snapshot


def _snapshot(store: Store) -> dict:
    """Everything the store's API says about its photos, masks, analyses and ratings."""
    photos = store.photos() + store.binned_photos()
    return {
        "photos": photos,
        "binned": [p.id for p in store.binned_photos()],
        "prompts": {s: store.prompts(s) for s in ("left arm", "face")},
        "mask_versions": {p.id: store.prompt_mask_versions(p.id) for p in photos},
        "analyses": {p.id: store.analyses(p.id) for p in photos},
        "shown": {p.id: store.shown_mask(p.id) for p in photos},
        "ratings": {p.id: store.rating_history(p.id) for p in photos},
        "masks": {
            a.id: store.load_mask(a.mask).tobytes() for p in photos for a in store.analyses(p.id)
        },
    }


def _equal(a: object, b: object) -> bool:
    """Deep equality that also compares numpy arrays (analysis features) element-wise."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if hasattr(a, "__dataclass_fields__") and type(a) is type(b):
        return all(_equal(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    return a == b


def test_opening_a_schema_2_store_migrates_it_and_keeps_everything(schema_2_store):
    folder, before = schema_2_store
    assert len(before["photos"]) == 4 and before["binned"]
    assert sum(len(v) for v in before["analyses"].values()) == 1
    assert sum(len(v) for v in before["ratings"].values()) == 2
    with Store.open(folder) as store:
        assert db.schema_version(store._db) == db.latest_version() >= 3
        assert _equal(_snapshot(store), before)
        for photo in before["photos"]:
            assert store.photo_file(photo.id).is_file()
        assert store.checkins() == [] and store.treatments() == []
        store.add_checkin("2026-01-05", [1] * 7)  # the new tables work on the migrated store
        assert store.check.ok and not store.check.removed_orphans
    with Store.open(folder, readonly=True) as store:
        assert _equal(_snapshot(store), before)
        assert store.checkins()[0].total == 7
        # exactly what the migrations create
        assert db.check_own_schema(store._db, folder) == db.latest_version()


def test_a_readonly_open_of_a_schema_2_store_asks_for_an_upgrade(schema_2_store):
    folder, _ = schema_2_store
    with pytest.raises(Exception, match="needs an upgrade"):
        Store.open(folder, readonly=True)


def test_the_backup_zip_carries_the_record(tmp_path):
    source = tmp_path / "source"
    with Store.open(source) as store:
        store.record_day("2026-06-01", answers=[3] * 7, itch=6, sleep_loss=4, note="beach")
        cream = store.add_treatment("Betnovate", "topical_corticosteroid", "potent")
        store.add_course(cream.id, "2026-05-20", "2026-06-03", times_a_day=1)
        before = (
            store.checkins(),
            store.daily(),
            store.treatments(),
            store.courses(),
            store.day_marks(),
        )
    export_store(source, tmp_path / "backup.zip")
    restore_store(tmp_path / "backup.zip", tmp_path / "restored")
    with Store.open(tmp_path / "restored", readonly=True) as store:
        after = (
            store.checkins(),
            store.daily(),
            store.treatments(),
            store.courses(),
            store.day_marks(),
        )
    assert after == before


def test_a_backup_made_by_the_schema_2_code_restores_and_migrates(
    schema_2_store, tmp_path, monkeypatch
):
    folder, before = schema_2_store
    bundled = db.bundled_migrations()
    with monkeypatch.context() as patch:  # the backup is written by the schema-2 code too
        patch.setattr(db, "bundled_migrations", lambda: bundled[:2])
        export_store(folder, tmp_path / "old.zip")
    restore_store(tmp_path / "old.zip", tmp_path / "restored")
    with Store.open(tmp_path / "restored") as store:
        assert db.schema_version(store._db) == db.latest_version()
        after = _snapshot(store)
    assert [p.sha256 for p in after["photos"]] == [p.sha256 for p in before["photos"]]
    assert after["binned"] == before["binned"]
    assert [a.lesion_area_fraction for v in after["analyses"].values() for a in v] == [0.05]
    assert after["ratings"] == before["ratings"] and after["masks"] == before["masks"]
