"""Schema 5: kept prompt-agreement results (store/agreements.py) and the migration to it."""

from __future__ import annotations

import numpy as np
import pytest

from eczema_tracker.store import Store, db
from eczema_tracker.store.agreements import KEPT_PER_SITE
from eczema_tracker.store.backup.export import export_store
from eczema_tracker.store.backup.restore import restore_store
from eczema_tracker.store.check.checker import check_store

RESULT = {
    "photo_ids": [3, 1, 2],
    "ious": [0.5, 1.0, 0.25],
    "used": [[1, 2], [0, 2], [0, 1]],
    "k_used": 2,
    "note": "each example was segmented with the 2 other example(s) nearest to it",
}


def keep(store: Store, site="left arm", prompts="p1", models="m1", **changes) -> None:
    store.keep_prompt_agreement(site, prompts, models, **{**RESULT, **changes})


def test_a_kept_result_reads_back_under_exactly_its_keys():
    with Store.open() as store:
        keep(store, site="  Left   ARM ")
        kept = store.kept_prompt_agreement("left arm", "p1", "m1")
        assert kept is not None and kept.site == "left arm"
        assert kept.photo_ids == (3, 1, 2) and kept.ious == (0.5, 1.0, 0.25)
        assert kept.used == ((1, 2), (0, 2), (0, 1)) and kept.k_used == 2
        assert kept.note == RESULT["note"] and kept.computed_at
        assert store.kept_prompt_agreement("left arm", "p2", "m1") is None
        assert store.kept_prompt_agreement("left arm", "p1", "m2") is None
        assert store.kept_prompt_agreement("face", "p1", "m1") is None
        keep(store, ious=[0.1, 0.2, 0.3])  # the same keys: replaced
        assert store.kept_prompt_agreement("left arm", "p1", "m1").ious == (0.1, 0.2, 0.3)
        assert store.forget_prompt_agreements("left arm") == 1
        assert store.kept_prompt_agreement("left arm", "p1", "m1") is None


@pytest.mark.parametrize(
    "changes",
    [
        {"photo_ids": [1]},  # one prompt checks nothing
        {"photo_ids": [1, 1, 2]},
        {"ious": [0.5, 1.5, 0.2]},
        {"ious": [0.5, float("nan"), 0.2]},
        {"ious": [0.5, 0.2]},
        {"used": [[0, 2], [0, 2], [0, 1]]},  # checked with itself
        {"used": [[1], [0], [0]]},  # fewer than k_used
        {"k_used": 3},
    ],
)
def test_keeping_a_malformed_result_is_refused(changes):
    with Store.open() as store:
        with pytest.raises(ValueError, match="not a prompt agreement result"):
            keep(store, **changes)
        assert store.kept_prompt_agreement("left arm", "p1", "m1") is None


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        '{"photo_ids": [1, 2]}',
        '{"photo_ids": [1, 2], "ious": [0.5, "a"], "used": [[1], [0]], "k_used": 1, "note": ""}',
        '{"photo_ids": [1, 2], "ious": [0.5, 2], "used": [[1], [0]], "k_used": 1, "note": ""}',
        '{"photo_ids": [1, 2], "ious": [0.5, 1], "used": [[1], [5]], "k_used": 1, "note": ""}',
        '{"photo_ids": [1, true], "ious": [0.5, 1], "used": [[1], [0]], "k_used": 1, "note": ""}',
        '{"photo_ids": [1, 2], "ious": [0.5, 1], "used": [[1], [0]], "k_used": 1, "note": 7}',
        '{"photo_ids": [1, 2], "ious": [0.5, NaN], "used": [[1], [0]], "k_used": 1, "note": ""}',
        "[" * 100_000,
    ],
)
def test_a_row_that_does_not_parse_is_no_kept_result(text):
    with Store.open() as store:
        keep(store)
        with store._write() as conn:
            conn.execute("UPDATE prompt_agreement SET result = ?", (text,))
        assert store.kept_prompt_agreement("left arm", "p1", "m1") is None


def test_a_blob_or_a_null_date_is_no_kept_result():
    with Store.open() as store:
        keep(store)
        with store._write() as conn:
            conn.execute("UPDATE prompt_agreement SET result = CAST(result AS BLOB)")
        assert store.kept_prompt_agreement("left arm", "p1", "m1") is None


def test_only_the_newest_results_of_a_site_are_kept():
    with Store.open() as store:
        for n in range(KEPT_PER_SITE + 3):
            keep(store, prompts=f"p{n}")
        keep(store, site="face", prompts="p0")
        kept = [
            n
            for n in range(KEPT_PER_SITE + 3)
            if store.kept_prompt_agreement("left arm", f"p{n}", "m1")
        ]
        assert kept == list(range(3, KEPT_PER_SITE + 3))
        assert store.kept_prompt_agreement("face", "p0", "m1") is not None  # another site


def test_a_readonly_store_reads_but_does_not_keep(tmp_path):
    with Store.open(tmp_path / "s") as store:
        keep(store)
    with Store.open(tmp_path / "s", readonly=True) as store:
        assert store.kept_prompt_agreement("left arm", "p1", "m1") is not None
        with pytest.raises(Exception, match="read-only"):
            keep(store, prompts="p2")


@pytest.fixture()
def schema_4_store(tmp_path, eczema_photo_paths, monkeypatch):
    """A store with photos, prompts, an analysis and retrieval features, written by the
    schema-4 code (migrations 1-4 only)."""
    bundled = db.bundled_migrations()
    assert [m.version for m in bundled][:5] == [1, 2, 3, 4, 5]
    assert bundled[4].name == "0005_prompt_agreement.sql"
    folder = tmp_path / "store"
    with monkeypatch.context() as patch:
        patch.setattr(db, "bundled_migrations", lambda: bundled[:4])
        with Store.open(folder) as store:
            store.import_paths(eczema_photo_paths[:3], "left arm")
            photos = store.photos()
            for photo in photos[:2]:
                mask = np.zeros((photo.height, photo.width), bool)
                mask[5:40, 5:50] = True
                store.set_prompt_mask(photo.id, mask)
            store.keep_retrieval_features(
                {p.id: np.arange(4, dtype=np.float32) + p.id for p in photos}, "tiny@1024"
            )
            assert db.schema_version(store._db) == 4
            before = (store.photos(), store.prompts("left arm"))
    return folder, before


def test_a_schema_4_store_migrates_to_5_and_keeps_everything(schema_4_store):
    folder, (photos, prompts) = schema_4_store
    with Store.open(folder) as store:
        assert db.schema_version(store._db) == db.latest_version() >= 5
        assert store.photos() == photos and store.prompts("left arm") == prompts
        assert sorted(store.kept_retrieval_features([p.id for p in photos], "tiny@1024")) == sorted(
            p.id for p in photos
        )
        assert store.kept_prompt_agreement("left arm", "p1", "m1") is None
        keep(store)  # the new table works on the migrated store
        assert store.kept_prompt_agreement("left arm", "p1", "m1") is not None
        assert store.check.ok
    with Store.open(folder, readonly=True) as store:
        assert (
            db.check_own_schema(store._db, folder) == db.latest_version()
        )  # exactly what the migrations make
    result = check_store(folder)
    assert result.healthy and result.schema_version == db.latest_version(), result.lines()


def test_a_readonly_open_of_a_schema_4_store_asks_for_an_upgrade(schema_4_store):
    folder, _ = schema_4_store
    with pytest.raises(Exception, match="needs an upgrade"):
        Store.open(folder, readonly=True)


def test_the_backup_carries_kept_results_and_a_schema_4_backup_restores(
    schema_4_store, tmp_path, monkeypatch
):
    folder, (photos, _prompts) = schema_4_store
    bundled = db.bundled_migrations()
    with monkeypatch.context() as patch:  # a backup written by the schema-4 code
        patch.setattr(db, "bundled_migrations", lambda: bundled[:4])
        export_store(folder, tmp_path / "old.zip")
    restore_store(tmp_path / "old.zip", tmp_path / "old")
    with Store.open(tmp_path / "old") as store:
        assert db.schema_version(store._db) == db.latest_version()
        assert [p.sha256 for p in store.photos()] == [p.sha256 for p in photos]
        keep(store)
    export_store(tmp_path / "old", tmp_path / "new.zip")
    restore_store(tmp_path / "new.zip", tmp_path / "new")
    with Store.open(tmp_path / "new", readonly=True) as store:
        kept = store.kept_prompt_agreement("left arm", "p1", "m1")
        assert kept is not None and kept.ious == (0.5, 1.0, 0.25)
