"""Personal severity: which analyses are re-scored, trained on, and which models are imported."""

from __future__ import annotations

import numpy as np
import pytest

from eczema_tracker.app import personal_severity
from eczema_tracker.ml.severity import SeverityModel, SeverityModelMismatch
from eczema_tracker.store import Store

DIM = 8


@pytest.fixture
def store(eczema_photo_paths):
    with Store.open() as s:
        s.import_paths(eczema_photo_paths[:4], "left arm")
        yield s


def _analyse(store: Store, photo_id: int, source: str | None, level: int = 0) -> int:
    photo = store.photo(photo_id)
    mask = np.zeros((photo.height, photo.width), bool)
    mask[: photo.height // 3, : photo.width // 3] = True
    feats = np.random.default_rng(photo_id).normal(loc=level, size=DIM).astype(np.float32)
    return store.record_analysis(
        photo_id,
        mask=mask,
        lesion_area_fraction=float(mask.mean()),
        features=feats if source is not None else None,
        feature_source=source,
        probabilities=None,
        score=None,
        model_sources={},
        k=2,
    )


def _model(tmp_path, *, source: str, backbone_id: str | None, name: str = "m") -> str:
    model = SeverityModel(DIM, backbone_source=source, backbone_id=backbone_id)
    model.fit(np.zeros((4, DIM), dtype=np.float32), np.array([0, 1, 0, 1]), epochs=1)
    path = tmp_path / f"{name}.safetensors"
    model.save(path)
    return str(path)


def test_rescoring_leaves_stale_other_backbone_and_featureless_analyses(store, tmp_path):
    a, b, c, d = (p.id for p in store.photos())
    _analyse(store, a, "ours")
    _analyse(store, b, "theirs")
    _analyse(store, c, None)
    _analyse(store, d, "ours")
    store.update_photo(d, site="face")  # moved to another site: its analysis is stale
    path = _model(tmp_path, source="x/dino", backbone_id="ours")
    model_id = store.add_severity_model(path, {}, activate=False)
    assert personal_severity.rescore_analyses(store, path, model_id) == 1
    assert store.current_analysis(a).severity_model_id == model_id
    assert store.current_analysis(a).probabilities is not None
    for pid in (b, c, d):
        assert store.current_analysis(pid).probabilities is None, pid


def test_training_uses_the_most_common_backbone_of_the_current_analyses(store):
    ids = [p.id for p in store.photos()]
    _analyse(store, ids[0], "minor")
    _analyse(store, ids[1], "minor")
    _analyse(store, ids[1], "major", level=1)  # its current analysis decides: "major"
    _analyse(store, ids[2], "major")
    _analyse(store, ids[3], "major", level=1)
    for i, pid in enumerate(ids):
        store.rate(pid, i % 2)
    rows, backbone = personal_severity._training_rows(store)
    assert backbone == "major"
    assert sorted(e.photo_id for e in rows) == sorted(ids[1:])
    assert all(e.features.shape == (DIM,) for e in rows)
    assert {e.photo_id: e.rating for e in rows} == {pid: i % 2 for i, pid in enumerate(ids) if i}


def test_import_without_encoder_trusts_the_stored_features_fingerprint(store, tmp_path):
    _analyse(store, store.photos()[0].id, "fingerprint-1")
    same_weights = _model(tmp_path, source="other/name", backbone_id="fingerprint-1", name="a")
    model_id = personal_severity.import_severity_model(
        store, same_weights, encoder_backbone="facebook/dinov2-small"
    )
    assert store.active_severity_model().id == model_id
    other_weights = _model(tmp_path, source="facebook/dinov2-small", backbone_id="fp-2", name="b")
    with pytest.raises(SeverityModelMismatch, match="facebook/dinov2-small"):
        personal_severity.import_severity_model(
            store, other_weights, encoder_backbone="facebook/dinov2-small"
        )
    assert store.active_severity_model().id == model_id


def test_readiness_counts_rated_analysed_photos_and_levels(store):
    ids = [p.id for p in store.photos()]
    for pid in ids:
        _analyse(store, pid, "ours")
        store.rate(pid, 2)
    ready = personal_severity.training_readiness(store)
    assert not ready.ready and ready.n_rated == 4 and ready.levels == [2]
    assert "rate 4 more" in ready.message and "two different" in ready.message
