"""AnalysisPipeline end to end on real photos with tiny local models."""

from __future__ import annotations

import numpy as np
import pytest

from eczema_tracker.core.imaging import open_image
from eczema_tracker.ml.checkpoint_files import ModelSourceError
from eczema_tracker.ml.dino import DinoEncoder
from eczema_tracker.ml.pipeline import Analysis, AnalysisPipeline
from eczema_tracker.ml.seggpt import Prompt
from eczema_tracker.ml.severity import SeverityModel, SeverityModelMismatch
from tests.ml_support import box_mask


@pytest.fixture(scope="module")
def prompts(eczema_photo_paths):
    images = [open_image(p) for p in eczema_photo_paths[:2]]
    return [Prompt(im, box_mask(im.height, im.width, 80, 100, 300, 400)) for im in images]


def test_analyze_a_photo_path_without_severity(
    tiny_dino_dir, tiny_seggpt_dir, prompts, eczema_photo_paths
):
    pipeline = AnalysisPipeline.from_sources(dino=str(tiny_dino_dir), seggpt=str(tiny_seggpt_dir))
    pipeline.set_prompts(prompts)
    analysis = pipeline.analyze(eczema_photo_paths[2])
    assert isinstance(analysis, Analysis)
    assert analysis.mask.shape == (480, 640) and analysis.mask.dtype == bool
    assert analysis.features.shape == (32,) and analysis.features.dtype == np.float32
    assert analysis.probabilities is None and analysis.score is None
    assert analysis.severity_class is None
    assert analysis.prompt_keys == ["prompt-0", "prompt-1"] or sorted(analysis.prompt_keys) == [
        "prompt-0",
        "prompt-1",
    ]
    assert {"retrieval", "seggpt", "segmentation", "features", "total"} <= set(analysis.timings)
    assert analysis.timings["total"] >= analysis.timings["segmentation"] > 0


def test_analyze_with_a_severity_model(
    tiny_dino_dir, tiny_seggpt_dir, prompts, eczema_photo_paths, tmp_path
):
    encoder = DinoEncoder(str(tiny_dino_dir))
    rng = np.random.default_rng(0)
    model = SeverityModel.for_encoder(encoder).fit(
        rng.normal(size=(16, 32)), np.arange(16) % 4, epochs=2
    )
    model.save(tmp_path / "severity.safetensors")
    pipeline = AnalysisPipeline.from_sources(
        dino=str(tiny_dino_dir),
        seggpt=str(tiny_seggpt_dir),
        severity_model=tmp_path / "severity.safetensors",
    )
    pipeline.set_prompts(prompts)
    for path in eczema_photo_paths[2:4]:
        analysis = pipeline.analyze(open_image(path))
        assert analysis.probabilities.shape == (4,)
        assert analysis.severity_class == int(np.argmax(analysis.probabilities))
        assert analysis.score == pytest.approx(
            float(analysis.probabilities @ np.arange(4)), abs=1e-5
        )
        # the features are the region features of the predicted mask
        expected = pipeline.encoder.region_features([open_image(path)], [analysis.mask])[0]
        np.testing.assert_allclose(analysis.features, expected, atol=1e-5)


def test_severity_model_of_another_backbone_is_refused(
    tiny_dino_dir, other_tiny_dino_dir, tiny_seggpt_dir, tmp_path
):
    other = DinoEncoder(str(other_tiny_dino_dir))
    SeverityModel.for_encoder(other).save(tmp_path / "other.safetensors")
    with pytest.raises(SeverityModelMismatch):
        AnalysisPipeline.from_sources(
            dino=str(tiny_dino_dir),
            seggpt=str(tiny_seggpt_dir),
            severity_model=tmp_path / "other.safetensors",
        )


def test_missing_model_is_a_model_source_error(tiny_dino_dir, tmp_path):
    with pytest.raises(ModelSourceError, match="does not exist"):
        AnalysisPipeline.from_sources(dino=str(tiny_dino_dir), seggpt=str(tmp_path / "missing"))


def test_analyze_reports_stages_and_can_be_cancelled(
    tiny_dino_dir, tiny_seggpt_dir, prompts, eczema_photo_paths
):
    from eczema_tracker.core.jobs import Cancelled

    pipeline = AnalysisPipeline.from_sources(dino=str(tiny_dino_dir), seggpt=str(tiny_seggpt_dir))
    pipeline.set_prompts(prompts)
    seen = []
    pipeline.analyze(eczema_photo_paths[4], progress=lambda d, t, m: seen.append(d))
    assert seen == [0, 1, 2, 3]
    with pytest.raises(Cancelled):
        pipeline.analyze(eczema_photo_paths[4], cancel=lambda: True)
