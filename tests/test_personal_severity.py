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


@pytest.fixture
def eight_photos(eczema_photo_paths):
    with Store.open() as s:
        s.import_paths(eczema_photo_paths[:8], "left arm")
        yield s


def _rate_all(store: Store, levels: list[int], *, separable: bool) -> None:
    """Analyses with features that carry the level (``separable``) or pure noise, then ratings."""
    rng = np.random.default_rng(3)
    for photo, level in zip(store.photos(), levels, strict=True):
        loc = 3 * level if separable else 0
        photo_mask = np.zeros((photo.height, photo.width), bool)
        photo_mask[:10, :10] = True
        store.record_analysis(
            photo.id,
            mask=photo_mask,
            lesion_area_fraction=0.1,
            features=rng.normal(loc=loc, size=DIM).astype(np.float32),
            feature_source="ours",
            probabilities=None,
            score=None,
            model_sources={},
            k=2,
        )
        store.rate(photo.id, level)


def test_the_margin_over_the_majority_guess():
    beats = personal_severity.beats_majority_guess
    assert not beats(1, 5, 8)  # 12 % against 62 %: the case that was switched on
    assert not beats(6, 5, 8)  # one photo more is noise
    assert beats(7, 5, 8)  # two photos, 25 points
    assert not beats(12, 10, 40)  # two photos but 5 points
    assert beats(14, 10, 40)


def test_the_majority_guess_is_counted_on_the_same_folds():
    labels = np.array([1] * 5 + [2] * 3)
    scheme, splitter = personal_severity.cross_validation_scheme(labels)
    splits = list(splitter.split(np.zeros((8, 1)), labels))
    assert personal_severity.majority_guess_agreed(labels, splits) == (1, 5)
    # leave-one-out, two levels tied for first: never below "always the most common rating"
    tied = np.array([0] + [1] * 4 + [2] * 4)
    _scheme, loo = personal_severity.cross_validation_scheme(tied)
    splits = list(loo.split(np.zeros((9, 1)), tied))
    assert personal_severity.majority_guess_agreed(tied, splits) == (1, 4)


def test_a_model_no_better_than_the_majority_guess_is_kept_off(eight_photos, tmp_path):
    store = eight_photos
    before = store.add_severity_model(
        _model(tmp_path, source="x/dino", backbone_id="ours"), {"kind": "imported"}
    )
    _rate_all(store, [1, 1, 1, 1, 1, 2, 2, 2], separable=False)
    result = personal_severity.train_personal_model(store, backbone_source="x/dino")
    standing = result.standing
    assert (standing.majority_agreed, standing.majority_rating, standing.n) == (5, 1, 8)
    assert not standing.earned and not result.active
    assert store.active_severity_model().id == before  # the model in use before stays
    kept = store.severity_model(result.model_id)
    assert not kept.active and kept.metadata["majority_agreed"] == 5
    assert "activated_by" not in kept.metadata
    text = personal_severity.model_standing(kept).verdict_text()
    assert f"of 8 photos ({100 * standing.agreed / 8:.0f} %)" in text
    assert "always answering 'mild' matches 5 of 8 (62 %): kept, not used." in text


def test_a_model_that_beats_the_majority_guess_by_the_margin_is_used(eight_photos):
    store = eight_photos
    _rate_all(store, [0, 3] * 4, separable=True)
    result = personal_severity.train_personal_model(store, backbone_source="x/dino")
    assert result.active and result.standing.earned
    assert result.validation.majority_agreed == 4
    active = store.active_severity_model()
    assert active.id == result.model_id and active.metadata["activated_by"] == "check"
    assert personal_severity.grading_model(store).id == result.model_id
    assert personal_severity.model_standing(active).agreement_text() == (
        f"agreed with you on {result.validation.agreed} of 8 photos "
        f"({100 * result.validation.agreed / 8:.0f} %), majority guess 50 %"
    )


def test_using_a_model_anyway_is_the_persons_recorded_decision(eight_photos):
    store = eight_photos
    _rate_all(store, [1, 1, 1, 1, 1, 2, 2, 2], separable=False)
    result = personal_severity.train_personal_model(store, backbone_source="x/dino")
    assert store.active_severity_model() is None and personal_severity.grading_model(store) is None
    personal_severity.use_personal_model(store, result.model_id)
    used = store.active_severity_model()
    assert used.id == result.model_id and used.metadata["activated_by"] == "person"
    assert used.metadata["activated_at"]
    assert personal_severity.grading_model(store).id == result.model_id
    assert "used because you chose to" in personal_severity.model_standing(used).verdict_text()
    personal_severity.stop_using_severity_model(store)  # and back, later
    assert store.active_severity_model() is None
    assert (
        "kept, not used"
        in personal_severity.model_standing(store.severity_model(result.model_id)).verdict_text()
    )


def test_a_model_switched_on_before_the_check_gives_no_grades_unless_it_earned_them(
    store, tmp_path
):
    bad = {"kind": "personal", "cv_confusion": [[0, 0, 0, 0], [0, 1, 4, 0], [0, 3, 0, 0], [0] * 4]}
    model_id = store.add_severity_model(
        _model(tmp_path, source="x/dino", backbone_id="ours"), bad, activate=True
    )
    standing = personal_severity.model_standing(store.severity_model(model_id))
    assert (standing.agreed, standing.majority_agreed, standing.activated_by) == (1, 5, "before")
    assert personal_severity.grading_model(store) is None
    assert "switched on before" in standing.verdict_text()
