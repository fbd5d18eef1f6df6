"""Store API: prompts (versioned), analyses and staleness, ratings, timeline, models, threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from eczema_tracker.store import COMMON_SITES, Store, StoreReadOnlyError


@pytest.fixture
def store(eczema_photo_paths):
    with Store.open() as s:
        results = s.import_paths(eczema_photo_paths[:4], site="Left Arm")
        assert all(r.status == "imported" for r in results)
        yield s


def _mask(photo, top=10, bottom=60):
    mask = np.zeros((photo.height, photo.width), bool)
    mask[top:bottom, 20:90] = True
    return mask


def _record(store, photo_id, *, features=None, score=1.5, mask=None):
    photo = store.photo(photo_id)
    return store.record_analysis(
        photo_id,
        mask=_mask(photo) if mask is None else mask,
        lesion_area_fraction=0.1,
        features=np.arange(6, dtype=np.float32) if features is None else features,
        feature_source="dino:test",
        probabilities=[0.1, 0.6, 0.2, 0.1],
        score=score,
        model_sources={"dino": "facebook/dino-vitb16", "seggpt": "BAAI/seggpt-vit-large"},
        k=2,
        prompt_photo_ids=[1, 2],
    )


def test_photos_sites_and_updates(store):
    photos = store.photos()
    assert len(photos) == 4 and store.sites() == ["left arm"]
    assert store.photos("LEFT  arm") == photos and store.photos("face") == []
    assert "unspecified" in COMMON_SITES
    first = photos[0]
    updated = store.update_photo(
        first.id, taken_at="2020-01-02T03:04:05", site="Face", note="itchy"
    )
    assert (updated.taken_at, updated.taken_at_source, updated.site, updated.note) == (
        "2020-01-02T03:04:05",
        "user",
        "face",
        "itchy",
    )
    assert store.photos()[-1].id == first.id  # now the oldest
    with pytest.raises(ValueError, match="ISO-8601"):
        store.update_photo(first.id, taken_at="yesterday")
    with pytest.raises(KeyError):
        store.photo(999)
    assert store.load_image(first.id).size == (first.width, first.height)


def test_prompt_masks_are_versioned_and_kept(store):
    photo = store.photos()[0]
    v1 = store.set_prompt_mask(photo.id, _mask(photo, 10, 60))
    v2 = store.set_prompt_mask(photo.id, _mask(photo, 10, 80))
    assert v1.sha256 != v2.sha256 and v1.path.exists() and v2.path.exists()
    (prompt,) = store.prompts("left arm")
    assert (prompt.photo_id, prompt.version, prompt.mask.id) == (photo.id, 2, v2.id)
    np.testing.assert_array_equal(store.load_mask(prompt.mask), _mask(photo, 10, 80))
    assert [m.id for m in store.prompt_mask_versions(photo.id)] == [v1.id, v2.id]
    assert store.photo(photo.id).is_prompt
    with pytest.raises(ValueError, match="width x height"):
        store.set_prompt_mask(photo.id, np.zeros((5, 5), bool))
    store.unset_prompt(photo.id)
    assert store.prompts("left arm") == [] and store.prompt(photo.id) is None
    assert len(store.prompt_mask_versions(photo.id)) == 2  # nothing painted is lost


def test_analysis_round_trip_and_current(store):
    photo = store.photos()[1]
    assert store.current_analysis(photo.id) is None
    features = np.linspace(0, 1, 768, dtype=np.float32)
    first = _record(store, photo.id, features=features)
    second = _record(store, photo.id, score=2.5)
    current = store.current_analysis(photo.id)
    assert current.id == second and [a.id for a in store.analyses(photo.id)] == [first, second]
    bulk = store.current_analyses("left arm")
    assert list(bulk) == [photo.id] and bulk[photo.id].id == second
    assert bulk[photo.id].features is None and bulk[photo.id].mask.id == current.mask.id
    with_features = store.current_analyses(with_features=True)[photo.id].features
    np.testing.assert_array_equal(with_features, current.features)
    assert store.current_analyses("face") == {}
    old = store.analysis(first)
    assert old.features.dtype == np.float32 and old.features.shape == (768,)
    assert old.features.flags.writeable
    np.testing.assert_array_equal(old.features, features)
    assert old.probabilities == (0.1, 0.6, 0.2, 0.1) and old.severity_class == 1
    assert old.model_sources["seggpt"] == "BAAI/seggpt-vit-large" and old.k == 2
    assert old.prompt_photo_ids == (1, 2) and not old.stale
    np.testing.assert_array_equal(store.load_mask(old.mask), _mask(photo))
    with pytest.raises(ValueError, match="lesion_area_fraction"):
        store.record_analysis(
            photo.id, mask=_mask(photo), lesion_area_fraction=1.5, features=None,
            feature_source=None, probabilities=None, score=None, model_sources={}, k=2,
        )  # fmt: skip


def test_analysis_goes_stale_when_a_prompt_of_its_site_changes(store):
    prompt_photo, analysed, other = store.photos()[:3]
    store.set_prompt_mask(prompt_photo.id, _mask(prompt_photo))
    analysis_id = _record(store, analysed.id)
    assert not store.current_analysis(analysed.id).stale
    store.set_prompt_mask(prompt_photo.id, _mask(prompt_photo, 5, 30))  # an edit
    assert store.current_analysis(analysed.id).stale
    _record(store, analysed.id)  # re-analysis is current again
    assert not store.current_analysis(analysed.id).stale
    assert store.analysis(analysis_id).stale
    # A prompt change of another site does not matter ...
    store.update_photo(other.id, site="face")
    store.set_prompt_mask(other.id, _mask(other))
    assert not store.current_analysis(analysed.id).stale
    # ... unsetting one of its own site does; so does moving the analysed photo.
    store.unset_prompt(prompt_photo.id)
    assert store.current_analysis(analysed.id).stale
    _record(store, analysed.id)
    store.update_photo(analysed.id, site="neck")
    assert store.current_analysis(analysed.id).stale


def test_corrected_mask_and_promotion(store):
    photo = store.photos()[0]
    analysis_id = _record(store, photo.id)
    corrected = _mask(photo, 0, 5)
    record = store.save_corrected_mask(analysis_id, corrected)
    analysis = store.current_analysis(photo.id)
    assert analysis.corrected_mask.id == record.id and analysis.effective_mask.id == record.id
    assert analysis.mask.id != record.id  # the segmenter's mask is kept
    prompt = store.promote_to_prompt(photo.id)
    assert prompt.mask.id == record.id and prompt.version == 1
    np.testing.assert_array_equal(store.load_mask(prompt.mask), corrected)


def test_ratings_training_rows_and_timeline(store):
    a, b, c, d = sorted(store.photos(), key=lambda p: (p.taken_at, p.id))
    _record(store, a.id, features=np.ones(4, np.float32), score=0.5)
    _record(store, b.id, features=np.full(4, 2, np.float32), score=2.0)
    store.rate(a.id, 1)
    store.rate(a.id, 2)  # a later rating replaces the earlier one
    store.rate(c.id, 3)  # rated but never analysed: not a training row
    store.rate(d.id, 0)
    store.rate(d.id, None)  # cleared
    assert store.rating(a.id) == 2 and store.rating(d.id) is None and store.rating(b.id) is None
    assert [r.rating for r in store.rating_history(a.id)] == [1, 2]
    with pytest.raises(ValueError, match="0, 1, 2 or 3"):
        store.rate(a.id, 4)
    rows = store.analyses_for_training()
    assert [(pid, rating) for pid, _features, rating in rows] == [(a.id, 2)]
    np.testing.assert_array_equal(rows[0].features, np.ones(4, np.float32))
    assert store.analyses_for_training(feature_source="other") == []
    points = store.timeline("left arm")
    assert [p.photo_id for p in points] == [a.id, b.id, c.id, d.id]
    assert (points[0].score, points[0].rating, points[0].severity_class) == (0.5, 2, 1)
    assert points[0].lesion_area_fraction == pytest.approx(0.1)
    assert (points[2].score, points[2].rating, points[2].analysis_id) == (None, 3, None)
    assert store.timeline("face") == []


def test_severity_models(store, tmp_path):
    first = tmp_path / "model.safetensors"
    first.write_bytes(b"weights-1")
    second = tmp_path / "model2.safetensors"
    second.write_bytes(b"weights-2")
    assert store.active_severity_model() is None
    id1 = store.add_severity_model(first, {"backbone_source": "x", "n_train": 3})
    id2 = store.add_severity_model(second, {"backbone_source": "y"})
    active = store.active_severity_model()
    assert active.id == id2 and active.path.read_bytes() == b"weights-2"
    store.activate_severity_model(id1)
    assert store.active_severity_model().metadata == {"backbone_source": "x", "n_train": 3}
    store.activate_severity_model(None)
    assert store.active_severity_model() is None and len(store.severity_models()) == 2


def test_delete_photo_removes_its_files(store):
    photo = store.photos()[0]
    mask = store.set_prompt_mask(photo.id, _mask(photo))
    _record(store, photo.id)
    stored = store.photo_file(photo.id)
    store.delete_photo(photo.id)
    assert not stored.exists() and not mask.path.exists()
    assert len(store.photos()) == 3 and store.prompts("left arm") == []


def test_readonly_store_refuses_writes(store):
    store.close()
    with Store.open(store.data_dir, readonly=True) as ro:
        assert len(ro.photos()) == 4
        with pytest.raises(StoreReadOnlyError):
            ro.rate(ro.photos()[0].id, 1)


def test_store_can_be_used_from_a_worker_thread(store):
    photo = store.photos()[0]
    errors = []

    def worker():
        try:
            for _ in range(5):
                _record(store, photo.id)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    for _ in range(20):
        store.photos()
        store.timeline("left arm")
    thread.join()
    assert errors == [] and len(store.analyses(photo.id)) == 5
