"""Warm-up: the app loads and warms the models after start-up; analyses wait for it, cancellably."""

# ruff: noqa: F811  (pytest fixtures imported from tests.test_gui_app)
from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest

from eczema_tracker.app import analysis_models, model_sources, services, warm_up
from eczema_tracker.app.settings import Settings
from eczema_tracker.core.jobs import Cancelled
from eczema_tracker.ml import acceleration, threads
from eczema_tracker.ml import sources as ml_sources
from eczema_tracker.store import Store
from tests.test_gui_app import _blob_mask, answers, import_photos, tiny_sources, window  # noqa: F401


@pytest.fixture
def store(eczema_photo_paths):
    with Store.open() as s:
        s.import_paths(eczema_photo_paths[:3], "left arm")
        for photo in s.photos("left arm")[:2]:
            mask = np.zeros((photo.height, photo.width), dtype=bool)
            mask[photo.height // 4 : photo.height // 2, photo.width // 4 : photo.width // 2] = True
            s.set_prompt_mask(photo.id, mask)
        yield s


# -- services ----------------------------------------------------------------------------------
def test_warm_up_pipeline_loads_warms_once_and_changes_no_result(store, tiny_choice):
    ids = [p.id for p in store.photos("left arm")]
    cold = analysis_models.PipelineCache()
    expected = services.analyse_photos(store, cold, tiny_choice, ids[2:])
    first = store.current_analysis(ids[2])

    warm = analysis_models.PipelineCache()
    timings = warm_up.warm_up_pipeline(warm, tiny_choice, full=True)
    assert warm.loaded_choice == tiny_choice
    assert {"load", "dino", "seggpt", "total"} <= set(timings)
    pipeline = warm.get(tiny_choice)
    assert pipeline.warmed_up
    assert set(warm_up.warm_up_pipeline(warm, tiny_choice)) == {"load"}  # once only
    again = services.analyse_photos(store, warm, tiny_choice, ids[2:])
    assert again.analysed == expected.analysed
    second = store.current_analysis(ids[2])
    assert second.id != first.id
    assert np.array_equal(store.load_mask(second.mask), store.load_mask(first.mask))


def test_the_full_pass_is_kept_for_half_precision_paths(tiny_choice, monkeypatch):
    # The path under test is set here, not taken from the CPU the suite runs on: a CPU without
    # native bf16 (AVX2 only) takes the float32 path.
    monkeypatch.setattr(acceleration, "cpu_bf16_support", lambda: None)
    cache = analysis_models.PipelineCache()
    pipeline = cache.get(tiny_choice)
    assert pipeline.segmenter.path.dtype == "float32"
    assert not warm_up.full_warm_up_pays(pipeline)
    timings = warm_up.warm_up_pipeline(cache, tiny_choice)  # the light warm-up
    assert pipeline.warmed_up and {"load", "seggpt"} <= set(timings)
    pipeline.segmenter.path = replace(pipeline.segmenter.path, dtype="bfloat16")
    assert warm_up.full_warm_up_pays(pipeline)


def test_a_cancelled_warm_up_stops_between_layers_and_leaves_the_pipeline_usable(tiny_choice):
    pipeline = analysis_models.PipelineCache().get(tiny_choice)
    layers = pipeline.segmenter.model.model.encoder.layers
    ran: list[int] = []
    counting = [layer.mlp.register_forward_hook(lambda *_: ran.append(1)) for layer in layers]
    try:
        with pytest.raises(Cancelled):  # asked to stop once the pass has begun
            pipeline.warm_up(full=True, cancel=lambda: bool(ran))
    finally:
        for hook in counting:
            hook.remove()
    assert len(ran) == 1  # stopped at the next layer, not at the end of the pass
    assert not pipeline.warmed_up
    pipeline.warm_up(full=True)  # no hook is left behind: the next pass runs whole
    assert pipeline.warmed_up


def test_an_analysis_waits_for_a_warm_up_and_can_be_cancelled_meanwhile(store, tiny_choice):
    cache = analysis_models.PipelineCache()
    ids = [p.id for p in store.photos("left arm")]
    release, holding = threading.Event(), threading.Event()

    def warm_up_holding_the_pool() -> None:  # what warm_up_pipeline holds while it runs
        with cache.pool_lock:
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=warm_up_holding_the_pool)
    holder.start()
    assert holding.wait(10)
    stop = threading.Event()
    outcome: list[object] = []

    def analyse() -> None:
        try:
            outcome.append(
                services.analyse_photos(store, cache, tiny_choice, ids, cancel=stop.is_set)
            )
        except Cancelled as exc:
            outcome.append(exc)

    try:
        runner = threading.Thread(target=analyse)
        runner.start()
        runner.join(0.3)
        assert runner.is_alive() and cache.loaded_choice is None  # waiting, nothing loaded
        stop.set()
        runner.join(10)
        assert not runner.is_alive() and isinstance(outcome[0], Cancelled)
    finally:
        release.set()
        holder.join(10)
    assert all(store.current_analysis(pid) is None for pid in ids)


def test_preload_needs_memory_to_spare():
    limit = warm_up.PRELOAD_MIN_AVAILABLE_BYTES
    assert warm_up.preload_allowed(limit) and not warm_up.preload_allowed(limit - 1)
    available = warm_up.available_memory_bytes()
    assert available is None or available > 0


# -- threads -----------------------------------------------------------------------------------
# torch's count is per thread under OpenMP once a thread has run an op, so each check runs on a
# thread of its own (as the GUI's workers do) and reads the count there.
def _on_a_thread(fn) -> threading.Thread:
    thread = threading.Thread(target=fn, daemon=True)
    thread.start()
    return thread


def _a_model_running() -> tuple[threading.Event, threading.Thread]:
    release, holding = threading.Event(), threading.Event()

    def model_run() -> None:
        with threads.steady_threads():
            holding.set()
            release.wait(30)

    runner = _on_a_thread(model_run)
    assert holding.wait(10)
    return release, runner


def test_leave_a_core_sets_the_analysis_threads_minus_one():
    import torch

    wanted = max(1, threads.analysis_thread_count() - 1)
    seen: list[int] = []
    _on_a_thread(
        lambda: seen.extend([model_sources.leave_a_core_for_the_window(), torch.get_num_threads()])
    ).join(30)
    assert seen == [wanted, wanted]


def test_leave_a_core_waits_for_a_running_model_and_can_be_cancelled_meanwhile():
    import torch

    wanted = max(1, threads.analysis_thread_count() - 1)
    stop = threading.Event()
    seen: list[object] = []

    def worker() -> None:
        torch.set_num_threads(wanted + 1)  # a count that needs changing
        try:
            model_sources.leave_a_core_for_the_window(stop.is_set)
        except Cancelled:
            seen.append("cancelled")
        seen.append(torch.get_num_threads())

    release, runner = _a_model_running()
    try:
        caller = _on_a_thread(worker)
        caller.join(0.3)
        assert caller.is_alive() and not seen  # waits for the model run
        stop.set()
        caller.join(10)
        assert seen == ["cancelled", wanted + 1]  # stopped waiting, changed nothing
    finally:
        release.set()
        runner.join(10)


def test_threads_already_right_do_not_wait_for_a_running_model():
    import torch

    seen: list[int] = []
    release, runner = _a_model_running()
    try:
        caller = _on_a_thread(
            lambda: seen.append(threads.use_analysis_threads(torch.get_num_threads()))
        )
        caller.join(10)
        assert not caller.is_alive() and seen  # returned while the model still runs
    finally:
        release.set()
        runner.join(10)


# -- the app -------------------------------------------------------------------------------------
def _two_prompts(qtbot, win, paths) -> list[int]:
    import_photos(qtbot, win, paths[:3])
    ids = win.library_model.photo_ids()
    for pid in ids[:2]:
        win.store.set_prompt_mask(pid, _blob_mask(win.store.photo(pid)))
    return ids


def test_start_up_warm_up_loads_local_models(qtbot, window, eczema_photo_paths):
    _two_prompts(qtbot, window, eczema_photo_paths)
    task = window.analysis.warm_up()
    with qtbot.waitSignal(task.succeeded, timeout=60000) as blocker:
        pass
    assert blocker.args[0] is not None and "load" in blocker.args[0]
    loaded = window.analysis.pipelines.loaded_choice
    assert loaded is not None and loaded.seggpt == window.settings.seggpt_source
    assert window.analysis.pipelines.get(loaded).warmed_up


def test_start_up_warm_up_skips_when_memory_is_short(
    qtbot, window, eczema_photo_paths, monkeypatch
):
    monkeypatch.setattr(warm_up, "preload_allowed", lambda available=None: False)
    _two_prompts(qtbot, window, eczema_photo_paths)
    task = window.analysis.warm_up()
    with qtbot.waitSignal(task.succeeded, timeout=60000) as blocker:
        pass
    assert blocker.args[0] is None and window.analysis.pipelines.loaded_choice is None


def test_start_up_warm_up_never_downloads_or_asks(
    qtbot, window, answers, eczema_photo_paths, monkeypatch
):
    window.settings.dino_source = Settings().dino_source  # a hub model, not downloaded here
    window.settings.seggpt_source = Settings().seggpt_source
    asked: list[object] = []
    monkeypatch.setattr(ml_sources, "download_source", lambda *a, **k: asked.append(a))
    _two_prompts(qtbot, window, eczema_photo_paths)
    said = len(answers.messages)
    task = window.analysis.warm_up()
    with qtbot.waitSignal(task.succeeded, timeout=60000) as blocker:
        pass
    assert blocker.args[0] is None and window.analysis.pipelines.loaded_choice is None
    assert not asked and len(answers.messages) == said and not answers.questions


def test_analyse_during_the_warm_up_waits_then_runs(qtbot, window, answers, eczema_photo_paths):
    ids = _two_prompts(qtbot, window, eczema_photo_paths)
    warm = window.analysis.warm_up()
    with qtbot.waitSignal(window.analysis.analysisFinished, timeout=60000):
        window.analysis.analyse(ids[2:3])
    qtbot.waitUntil(lambda: warm.done, timeout=60000)
    assert window.store.current_analysis(ids[2]) is not None
    assert not [m for m in answers.messages if m[0] in ("error", "warning")]
