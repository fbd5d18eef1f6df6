"""The store's parts after the split: rows read by name, one thumbnail home, the internal API."""

from __future__ import annotations

import csv
import sqlite3
from dataclasses import fields, replace

import numpy as np
import pytest

from eczema_tracker.store import Store, StoreError, files, thumbnails
from eczema_tracker.store.base import NewPhoto
from eczema_tracker.store.csv_export import export_csv


@pytest.fixture
def store(eczema_photo_paths):
    with Store.open() as s:
        results = s.import_paths(eczema_photo_paths[:3], site="left arm")
        assert all(r.status == "imported" for r in results)
        yield s


def _box(photo, top: int, bottom: int) -> np.ndarray:
    mask = np.zeros((photo.height, photo.width), bool)
    mask[top:bottom, 10:50] = True
    return mask


def _analyse(store: Store, photo_id: int, *, source: str = "dino:test", top: int = 5) -> int:
    photo = store.photo(photo_id)
    return store.record_analysis(
        photo_id,
        mask=_box(photo, top, top + 40),
        lesion_area_fraction=0.25,
        features=np.arange(12, dtype=np.float32).reshape(3, 4) + photo_id,
        feature_source=source,
        probabilities=[0.1, 0.2, 0.3, 0.4],
        score=2.0,
        model_sources={"dino": "a", "seggpt": "b"},
        k=3,
        severity_model_id=None,
        prompt_photo_ids=[photo_id + 10, photo_id + 20],
    )


def test_every_analysis_field_comes_from_its_own_column(store):
    pid = store.photos()[-1].id
    first = _analyse(store, pid, top=0)
    correction = store.save_corrected_mask(first, _box(store.photo(pid), 60, 70))
    second = _analyse(store, pid, top=20)  # the correction carries over
    record = store.current_analysis(pid)
    assert (record.id, record.photo_id, record.site, record.k) == (second, pid, "left arm", 3)
    assert record.mask.id != correction.id and record.corrected_mask == correction
    assert record.mask.area_fraction == pytest.approx(_box(store.photo(pid), 20, 60).mean())
    assert record.lesion_area_fraction == 0.25 and record.score == 2.0
    assert record.probabilities == (0.1, 0.2, 0.3, 0.4) and record.severity_class == 3
    assert record.features.shape == (3, 4) and record.features[0, 0] == pid
    assert record.feature_source == "dino:test" and record.model_sources == {
        "dino": "a",
        "seggpt": "b",
    }
    assert record.prompt_photo_ids == (pid + 10, pid + 20) and record.severity_model_id is None
    assert not record.stale and record.created_at >= store.analysis(first).created_at
    assert [a.id for a in store.analyses(pid)] == [first, second]


def test_the_bulk_read_equals_the_single_reads_without_features(store):
    ids = [p.id for p in store.photos()]
    for pid in ids[:2]:
        _analyse(store, pid, source=f"src{pid}")
    store.set_prompt_mask(ids[2], _box(store.photo(ids[2]), 0, 30))  # staleness must match too
    bulk = store.current_analyses()
    assert sorted(bulk) == sorted(ids[:2])
    for pid, listed in bulk.items():
        single = store.current_analysis(pid)
        assert listed.features is None and single.features is not None
        for field in fields(single):
            if field.name != "features":
                assert getattr(listed, field.name) == getattr(single, field.name), field.name
        assert listed.stale and single.stale
    full = store.current_analyses("left arm", with_features=True)
    assert all(np.array_equal(full[p].features, store.current_analysis(p).features) for p in bulk)


def test_training_examples_are_the_newest_analysis_with_features_of_the_asked_backbone(store):
    ids = [p.id for p in store.photos()]
    _analyse(store, ids[0], source="old")
    _analyse(store, ids[0], source="new")
    _analyse(store, ids[1], source="old")
    store.rate(ids[0], 2)
    store.rate(ids[1], 1)
    store.rate(ids[2], 3)  # rated, never analysed: no example
    examples = {e.photo_id: e for e in store.analyses_for_training()}
    assert sorted(examples) == sorted(ids[:2])
    assert examples[ids[0]].rating == 2 and examples[ids[0]].features[0, 0] == ids[0]
    only_old = store.analyses_for_training(feature_source="old")
    assert sorted(e.photo_id for e in only_old) == sorted(ids[:2])
    assert [e.photo_id for e in store.analyses_for_training(feature_source="new")] == [ids[0]]


def test_the_thumbnail_has_one_home(store):
    photo = store.photos()[0]
    made_by_import = store.data_dir / thumbnails.thumbnail_name(photo.sha256)
    assert made_by_import.is_file()
    before = made_by_import.stat().st_mtime_ns
    assert store.thumbnail(photo.id) == made_by_import  # found, not made again
    assert store.cached_thumbnail(photo) == made_by_import
    assert store.cached_thumbnail(photo, size=400) is None  # not made by a quick look
    assert made_by_import.stat().st_mtime_ns == before
    big = store.thumbnail(photo.id, size=400)
    assert big == store.data_dir / thumbnails.thumbnail_name(photo.sha256, 400) and big.is_file()
    assert sorted(thumbnails.thumbnail_files(store.data_dir, photo.sha256)) == sorted(
        [made_by_import, big]
    )
    store.delete_photo(photo.id)
    assert not made_by_import.exists() and not big.exists()


def _new_photo(data: bytes) -> NewPhoto:
    sha = files.sha256_bytes(data)
    return NewPhoto(
        sha256=sha,
        stored_name=files.content_name(files.PHOTOS, sha, ".jpg"),
        original_name="x.jpg",
        format="JPEG",
        data=data,
        width=4,
        height=3,
        taken_at="2024-05-01T10:00:00",
        taken_at_source="file",
    )


def test_add_photos_stores_each_photo_once(store):
    existing = store.photos()[0]
    already = replace(_new_photo(b"x"), sha256=existing.sha256)
    one, other = _new_photo(b"one"), _new_photo(b"other")
    answer = store.add_photos([one, already, one, other], "face")
    assert answer[existing.sha256] == (existing.id, False)
    assert answer[one.sha256][1] and answer[other.sha256][1]
    assert answer[one.sha256][0] != answer[other.sha256][0]
    stored = store.photo(answer[one.sha256][0])
    assert (stored.site, stored.byte_size, stored.original_name) == ("face", 3, "x.jpg")
    assert store.photo_file(stored.id).read_bytes() == b"one"
    assert len(store.photos()) == 5


def test_add_photos_keeps_nothing_of_a_batch_that_cannot_be_written(store, monkeypatch):
    real = files.write_file_durably
    calls = []

    def fail_second(root, name, data, **kw):
        calls.append(name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(root, name, data, **kw)

    monkeypatch.setattr(files, "write_file_durably", fail_second)
    one, two = _new_photo(b"first"), _new_photo(b"second")
    with pytest.raises(StoreError, match="nothing of this batch was kept"):
        store.add_photos([one, two], "face")
    assert len(store.photos()) == 3
    assert not (store.data_dir / one.stored_name).exists()
    assert store._db.execute("SELECT COUNT(*) FROM pending_file").fetchone()[0] == 0


def test_a_readonly_store_refuses_add_photos_and_copies_its_database(store, tmp_path):
    store.close()
    with Store.open(store.data_dir, readonly=True) as reader:
        with pytest.raises(StoreError):
            reader.add_photos([_new_photo(b"z")], "face")
        dest = sqlite3.connect(tmp_path / "copy.sqlite3")
        reader.copy_database_to(dest)
        assert dest.execute("SELECT COUNT(*) FROM photo").fetchone()[0] == 3
        dest.close()


def test_csv_marks_the_current_analysis_also_in_the_bin(store, tmp_path):
    ids = [p.id for p in store.photos()]
    old = _analyse(store, ids[0])
    new = _analyse(store, ids[0])
    binned = _analyse(store, ids[1])
    store.move_to_bin([ids[1]])
    folder = export_csv(store, tmp_path / "csv").folder
    with open(folder / "analyses.csv", newline="", encoding="utf-8") as fh:
        current = {int(row["analysis_id"]): row["current"] for row in csv.DictReader(fh)}
    assert current == {old: "0", new: "1", binned: "1"}
