"""Warm-up of the pipeline, and torch's thread count never changed under a running model."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from eczema_tracker.core.imaging import open_image
from eczema_tracker.ml import threads
from eczema_tracker.ml.pipeline import AnalysisPipeline
from eczema_tracker.ml.seggpt import Prompt
from eczema_tracker.ml.severity import SeverityModel
from tests.ml_support import box_mask


@pytest.fixture(scope="module")
def prompts(eczema_photo_paths):
    images = [open_image(p) for p in eczema_photo_paths[:3]]
    return [Prompt(im, box_mask(im.height, im.width, 80, 100, 300, 400)) for im in images]


@pytest.mark.parametrize("full", [True, False])
def test_warm_up_runs_before_and_after_prompts_and_changes_no_result(
    tiny_dino_dir, tiny_seggpt_dir, prompts, eczema_photo_paths, full
):
    cold = AnalysisPipeline.from_sources(dino=str(tiny_dino_dir), seggpt=str(tiny_seggpt_dir))
    cold.set_prompts(prompts)
    expected = cold.analyze(eczema_photo_paths[5])

    warm = AnalysisPipeline.from_sources(dino=str(tiny_dino_dir), seggpt=str(tiny_seggpt_dir))
    assert not warm.warmed_up
    timings = warm.warm_up(full=full)  # no prompts yet: synthetic ones
    assert warm.warmed_up and set(timings) == {"dino", "seggpt", "total"}
    warm.set_prompts(prompts)
    warm.warm_up(full=full)  # the pool's own prompts
    got = warm.analyze(eczema_photo_paths[5])
    assert np.array_equal(got.mask, expected.mask)
    assert np.array_equal(got.features, expected.features)
    assert got.prompt_keys == expected.prompt_keys


def test_precomputed_query_features_give_the_same_analysis(
    tiny_dino_dir, tiny_seggpt_dir, prompts, eczema_photo_paths
):
    pipeline = AnalysisPipeline.from_sources(dino=str(tiny_dino_dir), seggpt=str(tiny_seggpt_dir))
    pipeline.set_prompts(prompts)
    image = open_image(eczema_photo_paths[6])
    plain = pipeline.analyze(image)
    features = pipeline.encoder.retrieval_features([image])[0]
    given = pipeline.analyze(image, query_features=features)
    assert np.array_equal(plain.mask, given.mask) and plain.prompt_keys == given.prompt_keys


def test_analysis_thread_count_is_the_physical_cores():
    assert threads.analysis_thread_count() == threads.physical_cores() >= 1


def test_torch_threads_restores_the_count():
    before = torch.get_num_threads()
    with threads.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def _hold_a_model_run(release: threading.Event, holding: threading.Event) -> threading.Thread:
    def run():
        with threads.steady_threads():
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=run)
    thread.start()
    assert holding.wait(10)
    return thread


def test_training_waits_for_a_running_model_and_restores_threads():
    """Severity training (1 thread) never changes the count while a model runs elsewhere."""
    before = torch.get_num_threads()
    release, holding = threading.Event(), threading.Event()
    runner = _hold_a_model_run(release, holding)
    try:
        model = SeverityModel(feature_dim=8, backbone_source="test")
        rng = np.random.default_rng(0)
        trainer = threading.Thread(
            target=lambda: model.fit(rng.normal(size=(8, 8)), np.arange(8) % 4, epochs=1)
        )
        trainer.start()
        trainer.join(0.3)
        assert trainer.is_alive()  # waiting for the model run to end
        assert torch.get_num_threads() == before  # and nothing changed meanwhile
    finally:
        release.set()
        runner.join(10)
    trainer.join(30)
    assert not trainer.is_alive() and model.is_trained
    assert torch.get_num_threads() == before


def test_nested_model_runs_and_training_inside_a_run_do_not_deadlock():
    with threads.steady_threads(), threads.steady_threads():
        with threads.torch_threads(1):  # inside a run: left unchanged rather than waiting
            pass
        assert threads.use_analysis_threads() == torch.get_num_threads()
