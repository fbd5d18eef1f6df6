"""Every write of the store SIGKILLed at seeded random moments: nothing half-stored, ever.

Each operation runs in a child process that kills itself inside the store's write code at an
event drawn from a seeded generator (see :mod:`tests.kill_support`), several times. After every
kill: ``PRAGMA integrity_check`` is ok, every row has its complete file, the next open leaves no
orphan, unknown or temp file, and the operation's own record is either the old one intact or the
new one complete. At the end the operation is done again, successfully.
"""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
from PIL import Image

from eczema_tracker.app import personal_severity, services
from eczema_tracker.cli import main
from eczema_tracker.core import imaging
from eczema_tracker.ml.severity import SeverityModel
from eczema_tracker.store import Store, files
from tests.kill_support import (
    KILL_AT,
    KILL_CALL,
    KILL_FRACTION,
    check_store,
    kill_points,
    run_child,
)
from tests.ml_support import box_mask

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")

KILLS = 5  # per store-only operation (a child starts in ~0.3 s)
KILLS_WITH_TORCH = 4  # training and analysis children import torch (~3-5 s each)
#: Enough epochs for the personal model to beat the majority guess on ``rated_folder`` (so it
#: is switched on, the write under test), few enough to keep each child quick (~2 s).
EARNING_EPOCHS = 200


@pytest.fixture()
def folder(tmp_path, eczema_photo_paths):
    """A store with 4 photos of 'left arm' (ids 1-4)."""
    store_dir = tmp_path / "store"
    with Store.open(store_dir) as store:
        store.import_paths(eczema_photo_paths[:4], "left arm")
    return store_dir


def _mask_png(path, rng: random.Random, height: int = 480, width: int = 640) -> str:
    top, left = rng.randrange(height // 2), rng.randrange(width // 2)
    mask = box_mask(height, width, top, left, top + height // 3, left + width // 3)
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8), mode="L").save(path)
    return str(path)


def _stored_sha(png: str) -> str:
    """The sha256 the store gives this mask (it keeps its own lossless PNG encoding)."""
    return files.sha256_bytes(imaging.mask_png_bytes(imaging.load_mask(png)))


def _versions(folder, photo_id: int) -> list[str]:
    with Store.open(folder, readonly=True) as store:
        return [m.sha256 for m in store.prompt_mask_versions(photo_id)]


def test_kill_while_saving_a_prompt_mask(folder, tmp_path, capsys):
    rng = random.Random(20261202)
    with Store.open(folder) as store:
        store.set_prompt_mask(1, box_mask(480, 640, 10, 10, 100, 100))
    first = run_child("prompt", folder, 1, _mask_png(tmp_path / "m0.png", rng))
    assert first.returncode == 0 and len(_versions(folder, 1)) == 2
    outcomes = {"old version intact": 0, "new version complete": 0, "half-written files removed": 0}
    for i, at in enumerate(kill_points(first.events, KILLS, rng), start=1):
        before = _versions(folder, 1)
        png = _mask_png(tmp_path / f"m{i}.png", rng)
        assert run_child("prompt", folder, 1, png, env={KILL_AT: str(at)}).killed
        outcomes["half-written files removed"] += check_store(folder).removed_orphans
        after = _versions(folder, 1)
        assert after in (before, [*before, _stored_sha(png)])  # older versions never change
        outcomes["new version complete" if len(after) > len(before) else "old version intact"] += 1
        with Store.open(folder, readonly=True) as store:
            prompt = store.prompt(1)
            assert prompt.version == len(after) and prompt.mask.sha256 == after[-1]
            assert store.load_mask(prompt.mask).shape == (480, 640)
    print(f"prompt mask: {KILLS} kills of {first.events} events: {outcomes}")
    png = _mask_png(tmp_path / "redo.png", rng)
    assert main(["prompts", "set", "--data-dir", str(folder), "1", png]) == 0
    assert _versions(folder, 1)[-1] == _stored_sha(png)
    check_store(folder)


def test_kill_while_recording_analyses_with_analyse_store(
    folder, tiny_dino_dir, tiny_seggpt_dir, capsys
):
    rng = random.Random(7)
    with Store.open(folder) as store:
        for pid in (1, 2):
            store.set_prompt_mask(pid, box_mask(480, 640, 120, 160, 240, 320))
    models = (tiny_dino_dir, tiny_seggpt_dir)
    outcomes = {"dying record rolled back": 0, "dying record complete": 0, "removed": 0}
    for run in range(KILLS_WITH_TORCH):
        with Store.open(folder, readonly=True) as store:
            before = {pid: len(store.analyses(pid)) for pid in (1, 2, 3, 4)}
        call = rng.randint(2, 4)  # die while recording the 2nd, 3rd or 4th photo's analysis
        env = {KILL_CALL: str(call), KILL_FRACTION: f"{rng.random():.3f}"}
        assert run_child("analyse", folder, *models, run, env=env).killed
        outcomes["removed"] += check_store(folder).removed_orphans
        with Store.open(folder, readonly=True) as store:
            new = {pid: len(store.analyses(pid)) - n for pid, n in before.items()}
            assert set(new.values()) <= {0, 1}
            assert sum(new.values()) in (call - 1, call)  # those before the kill all recorded
            rolled_back = sum(new.values()) == call - 1
            outcomes["dying record rolled back" if rolled_back else "dying record complete"] += 1
            for pid in (1, 2, 3, 4):
                current = store.current_analysis(pid)
                if current is not None:  # the newest one, complete
                    assert current.id == store.analyses(pid)[-1].id
                    assert current.features is not None
                    assert store.load_mask(current.mask).shape == (480, 640)
    print(f"analysis: {KILLS_WITH_TORCH} kills: {outcomes}")
    argv = ["analyse-store", "--data-dir", str(folder), "--stale", "--json"]
    assert main([*argv, "--dino", str(tiny_dino_dir), "--seggpt", str(tiny_seggpt_dir)]) == 0
    with Store.open(folder, readonly=True) as store:
        assert services.photos_to_analyse(store) == []
    check_store(folder)


def _recorded_analysis(folder) -> int:
    with Store.open(folder) as store:
        return store.record_analysis(
            3,
            mask=box_mask(480, 640, 50, 50, 200, 300),
            lesion_area_fraction=0.1,
            features=np.ones(16, dtype=np.float32),
            feature_source="tiny",
            probabilities=None,
            score=None,
            model_sources={},
            k=2,
        )


def test_kill_while_saving_a_corrected_mask(folder, tmp_path):
    rng = random.Random(11)
    analysis_id = _recorded_analysis(folder)
    with Store.open(folder, readonly=True) as store:
        original = store.analysis(analysis_id).mask.sha256
    first = run_child("correct", folder, analysis_id, _mask_png(tmp_path / "c0.png", rng))
    assert first.returncode == 0
    outcomes = {"old correction": 0, "new correction": 0, "half-written files removed": 0}
    for i, at in enumerate(kill_points(first.events, KILLS, rng), start=1):
        with Store.open(folder, readonly=True) as store:
            old = store.analysis(analysis_id).corrected_mask.sha256
        png = _mask_png(tmp_path / f"c{i}.png", rng)
        assert run_child("correct", folder, analysis_id, png, env={KILL_AT: str(at)}).killed
        outcomes["half-written files removed"] += check_store(folder).removed_orphans
        with Store.open(folder, readonly=True) as store:
            analysis = store.analysis(analysis_id)
            assert analysis.mask.sha256 == original  # the analysis' own mask is never touched
            now = analysis.corrected_mask.sha256
            assert now in (old, _stored_sha(png))
            store.load_mask(analysis.corrected_mask)
        outcomes["old correction" if now == old else "new correction"] += 1
    print(f"corrected mask: {KILLS} kills of {first.events} events: {outcomes}")
    png = _mask_png(tmp_path / "redo.png", rng)
    with Store.open(folder) as store:
        store.save_corrected_mask(analysis_id, imaging.load_mask(png))
        assert store.analysis(analysis_id).corrected_mask.sha256 == _stored_sha(png)
    check_store(folder)


def test_kill_while_rating(folder):
    rng = random.Random(3)
    first = run_child("rate", folder, 2, 1)
    assert first.returncode == 0
    for at in kill_points(first.events, KILLS, rng):
        with Store.open(folder, readonly=True) as store:
            history = store.rating_history(2)
        rating = rng.choice([r for r in range(4) if r != history[-1].rating])
        assert run_child("rate", folder, 2, rating, env={KILL_AT: str(at)}).killed
        check_store(folder)
        with Store.open(folder, readonly=True) as store:
            now = store.rating_history(2)
            assert now == history or (now[:-1] == history and now[-1].rating == rating)
            assert store.rating(2) == now[-1].rating
    with Store.open(folder) as store:
        store.rate(2, 3)
        assert store.rating(2) == 3
    check_store(folder)


@pytest.fixture()
def rated_folder(tmp_path, eczema_photo_paths):
    """10 photos with analyses (separable features) rated 0 or 3: ready to train."""
    store_dir = tmp_path / "store"
    rng = np.random.default_rng(1)
    with Store.open(store_dir) as store:
        store.import_paths(eczema_photo_paths[:10], "left arm")
        for i, photo in enumerate(store.photos()):
            level = i % 2 * 3
            store.record_analysis(
                photo.id,
                mask=box_mask(photo.height, photo.width, 0, 0, photo.height // 3, photo.width // 3),
                lesion_area_fraction=0.1,
                features=rng.normal(loc=level, size=16).astype(np.float32),
                feature_source="tiny-backbone",
                probabilities=None,
                score=None,
                model_sources={},
                k=2,
            )
            store.rate(photo.id, level)
    return store_dir


def test_kill_while_training_and_activating_a_personal_model(rated_folder, tmp_path):
    folder = rated_folder
    rng = random.Random(5)
    with Store.open(folder) as store:  # a model to go back to
        first_model = personal_severity.train_personal_model(
            store, backbone_source="tiny/dino", epochs=EARNING_EPOCHS
        )
    assert first_model.active  # it earned its place: the activation is what is killed below
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    env = {"TMPDIR": str(system_tmp)}
    first = run_child(
        "train", folder, EARNING_EPOCHS, env=env
    )  # trains model 2, then re-activates model 1
    assert first.returncode == 0 and len(first.call_events) == 2
    outcomes = {"before": 0, "trained, not re-activated": 0, "all done": 0, "removed": 0}
    for at in kill_points(first.events, KILLS_WITH_TORCH, rng):
        with Store.open(folder, readonly=True) as store:
            models_before = len(store.severity_models())
            active_before = store.active_severity_model().id
        assert run_child("train", folder, EARNING_EPOCHS, env={**env, KILL_AT: str(at)}).killed
        assert list(system_tmp.iterdir()) == []  # nothing of the person's left outside the store
        outcomes["removed"] += check_store(folder).removed_orphans
        with Store.open(folder, readonly=True) as store:
            models = store.severity_models()
            active = [m for m in models if m.active]
            assert len(models) in (models_before, models_before + 1)
            assert len(active) == 1  # always exactly one active model, never none or two
            SeverityModel.load(active[0].path).predict(np.zeros((1, 16), dtype=np.float32))
            if len(models) == models_before:
                outcomes["before"] += 1
                assert active[0].id == active_before
            elif active[0].id == models[0].id:
                outcomes["trained, not re-activated"] += 1
            else:
                outcomes["all done"] += 1
                assert active[0].id == active_before
    print(f"personal model: {KILLS_WITH_TORCH} kills of {first.events} events: {outcomes}")
    with Store.open(folder) as store:
        result = personal_severity.train_personal_model(
            store, backbone_source="tiny/dino", epochs=EARNING_EPOCHS
        )
        assert result.active and store.active_severity_model().id == result.model_id
        store.activate_severity_model(1)
        assert store.active_severity_model().id == 1
    check_store(folder)


def test_kill_while_rescoring_keeps_the_persons_correction(rated_folder):
    folder = rated_folder
    rng = random.Random(13)
    with Store.open(folder) as store:
        trained = personal_severity.train_personal_model(
            store, backbone_source="tiny/dino", epochs=EARNING_EPOCHS
        )
        assert trained.active  # the re-scoring below uses the model in use
        photo = store.photos()[1]  # re-scored second: the first re-scoring is the reference
        correction = box_mask(photo.height, photo.width, 5, 5, 50, 60)
        store.save_corrected_mask(store.current_analysis(photo.id).id, correction)
    for _ in range(2):
        env = {KILL_CALL: "2", KILL_FRACTION: f"{rng.uniform(0.05, 1):.3f}"}
        assert run_child("rescore", folder, env=env).killed
        check_store(folder)
        with Store.open(folder, readonly=True) as store:
            now = store.current_analysis(photo.id)  # the old analysis or the re-scored one
            assert now.corrected_mask is not None  # both carry the person's correction
            assert np.array_equal(store.load_mask(now.corrected_mask), correction)
    with Store.open(folder) as store:
        active = store.active_severity_model()
        assert personal_severity.rescore_analyses(store, active.path, active.id) == 10
        now = store.current_analysis(photo.id)
        assert now.severity_model_id == active.id
        assert np.array_equal(store.load_mask(now.corrected_mask), correction)
    check_store(folder)
