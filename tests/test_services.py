"""services: analyse stored photos with tiny local models, re-score, train a personal model."""

from __future__ import annotations

import numpy as np
import pytest

from eczema_tracker.app import analysis_models, personal_severity, services
from eczema_tracker.core.jobs import Cancelled
from eczema_tracker.ml.severity import SeverityModel, SeverityModelMismatch
from eczema_tracker.store import Store


@pytest.fixture
def store(eczema_photo_paths):
    with Store.open() as s:
        s.import_paths(eczema_photo_paths[:4], "left arm")
        s.import_paths(eczema_photo_paths[4:5], "face")
        yield s


def blob(photo) -> np.ndarray:
    mask = np.zeros((photo.height, photo.width), dtype=bool)
    mask[photo.height // 4 : photo.height // 2, photo.width // 4 : photo.width // 2] = True
    return mask


def arm_ids(store) -> list[int]:
    return [p.id for p in store.photos("left arm")]


def test_analyse_records_results_and_skips_sites_without_prompts(store, tiny_choice):
    ids = arm_ids(store)
    for pid in ids[:2]:
        store.set_prompt_mask(pid, blob(store.photo(pid)))
    face = store.photos("face")[0].id
    cache = analysis_models.PipelineCache()
    progress, outcomes = [], []
    summary = services.analyse_photos(
        store,
        cache,
        tiny_choice,
        [*ids, face],
        progress=lambda d, t, m: progress.append((d, t)),
        on_photo=outcomes.append,
    )
    assert sorted(summary.analysed) == sorted(ids)
    assert outcomes[0] == services.PhotoOutcome(face, "skipped", summary.skipped[face])
    assert [(o.photo_id, o.status, o.analysis_id) for o in outcomes[1:]] == [
        (pid, "analysed", summary.analysis_ids[pid]) for pid in ids
    ]
    assert "face" in summary.skipped[face] and "at least 2" in summary.skipped[face]
    assert "1 photo of 'face' was not analysed: paint 2 examples first" in summary.describe()
    assert progress[-1] == (4, 4)
    for pid in ids:
        analysis = store.current_analysis(pid)
        assert analysis.features is not None and analysis.probabilities is None
        assert 0.0 <= analysis.lesion_area_fraction <= 1.0
        assert analysis.feature_source
    # a prompt photo is segmented from the other prompts, never from itself
    assert store.current_analysis(ids[0]).prompt_photo_ids == (ids[1],)
    assert services.photos_to_analyse(store, "left arm") == []
    store.set_prompt_mask(ids[2], blob(store.photo(ids[2])))  # prompts changed: all stale
    assert sorted(services.photos_to_analyse(store, "left arm")) == sorted(ids)
    assert services.photos_to_analyse(store, "left arm", include_stale=False) == []
    assert services.photos_to_analyse(store, include_stale=False) == [face]
    assert sorted(services.stale_photos(store, "left arm")) == sorted(ids)
    assert services.stale_photos(store, "face") == []  # never analysed is not stale


def test_pipeline_cache_loads_once_and_swaps_only_the_severity_model(tiny_choice, tmp_path):
    cache = analysis_models.PipelineCache()
    first = cache.get(tiny_choice)
    assert cache.get(tiny_choice) is first
    encoder = first.encoder
    model = SeverityModel.for_encoder(encoder)
    model.fit(
        np.random.default_rng(0).normal(size=(8, encoder.feature_dim)).astype(np.float32),
        np.array([0, 3] * 4),
        epochs=2,
    )
    model.save(tmp_path / "m.safetensors")
    scored = analysis_models.ModelChoice(
        **{
            **tiny_choice.__dict__,
            "severity_model_path": str(tmp_path / "m.safetensors"),
            "severity_model_id": 1,
        }
    )
    second = cache.get(scored)
    assert second is first and second.encoder is encoder and second.severity is not None


def test_cancelled_analysis_records_nothing_more(store, tiny_choice):
    ids = arm_ids(store)
    for pid in ids[:2]:
        store.set_prompt_mask(pid, blob(store.photo(pid)))
    with pytest.raises(Cancelled):
        services.analyse_photos(
            store, analysis_models.PipelineCache(), tiny_choice, ids, cancel=lambda: True
        )
    assert all(store.current_analysis(pid) is None for pid in ids)


def test_cross_validation_scheme_follows_the_smallest_class():
    assert personal_severity.cross_validation_scheme([0] * 6 + [2] * 6)[0].startswith(
        "stratified 5-fold"
    )
    assert personal_severity.cross_validation_scheme([0] * 6 + [2] * 3)[0].startswith(
        "stratified 3-fold"
    )
    assert personal_severity.cross_validation_scheme([0] * 7 + [2])[0].startswith("leave-one-out")


def _rated_analyses(store, n_levels: int = 2) -> list[int]:
    rng = np.random.default_rng(1)
    ids = [p.id for p in store.photos()]
    for i, pid in enumerate(ids):
        level = i % n_levels * 3
        feats = rng.normal(loc=level, size=16).astype(np.float32)  # separable on purpose
        store.record_analysis(
            pid,
            mask=blob(store.photo(pid)),
            lesion_area_fraction=0.1,
            features=feats,
            feature_source="tiny-backbone",
            probabilities=None,
            score=None,
            model_sources={},
            k=2,
        )
        store.rate(pid, level)
    return ids


def test_training_readiness_and_personal_model(eczema_photo_paths):
    with Store.open() as store:
        store.import_paths(eczema_photo_paths[:10], "left arm")
        ready = personal_severity.training_readiness(store)
        assert not ready.ready and "rate 8 more" in ready.message
        ids = _rated_analyses(store)
        assert personal_severity.training_readiness(store).ready
        result = personal_severity.train_personal_model(store, backbone_source="tiny/dino")
        assert result.validation.scheme.startswith("stratified 5-fold")
        assert result.validation.confusion.sum() == 10
        assert result.validation.accuracy >= 0.7  # the features separate the two levels
        active = store.active_severity_model()
        assert active is not None and active.id == result.model_id
        assert active.metadata["cv_scheme"] == result.validation.scheme
        # re-score: severity from the stored features, the mask unchanged
        before = store.current_analysis(ids[0])
        assert personal_severity.rescore_analyses(store, active.path, active.id) == 10
        after = store.current_analysis(ids[0])
        assert after.probabilities is not None and after.severity_model_id == active.id
        assert np.array_equal(store.load_mask(after.mask), store.load_mask(before.mask))
        assert after.lesion_area_fraction == before.lesion_area_fraction


def test_import_severity_model_checks_the_backbone(store, tmp_path):
    model = SeverityModel(16, backbone_source="facebook/dino-vits16")
    model.fit(np.zeros((4, 16), dtype=np.float32), np.array([0, 1, 0, 1]), epochs=1)
    model.save(tmp_path / "other.safetensors")
    with pytest.raises(SeverityModelMismatch, match="dino-vits16"):
        personal_severity.import_severity_model(
            store, tmp_path / "other.safetensors", encoder_backbone="facebook/dino-vitb16"
        )
    model_id = personal_severity.import_severity_model(
        store, tmp_path / "other.safetensors", encoder_backbone="facebook/dino-vits16"
    )
    assert store.active_severity_model().id == model_id


def test_a_severity_model_of_another_backbone_does_not_stop_segmentation(
    store, tiny_choice, tmp_path
):
    ids = arm_ids(store)
    for pid in ids[:2]:
        store.set_prompt_mask(pid, blob(store.photo(pid)))
    other = SeverityModel(16, backbone_source="facebook/dino-vits16")
    other.save(tmp_path / "other.safetensors")
    choice = analysis_models.ModelChoice(
        **{
            **tiny_choice.__dict__,
            "severity_model_path": str(tmp_path / "other.safetensors"),
            "severity_model_id": 7,
        }
    )
    summary = services.analyse_photos(store, analysis_models.PipelineCache(), choice, ids[2:])
    assert sorted(summary.analysed) == sorted(ids[2:])
    assert "another DINO model" in summary.describe()
    assert all(store.current_analysis(pid).probabilities is None for pid in ids[2:])


def test_a_sites_readiness_is_one_answer_with_what_to_paint():
    from eczema_tracker.app.services import MIN_PROMPTS, SiteReadiness

    assert not SiteReadiness("arm", 0).ready and SiteReadiness("arm", 0).missing == MIN_PROMPTS
    assert not SiteReadiness("arm", MIN_PROMPTS - 1).ready
    assert SiteReadiness("arm", MIN_PROMPTS - 1).missing == 1
    assert SiteReadiness("arm", MIN_PROMPTS).ready and SiteReadiness("arm", 5).missing == 0
