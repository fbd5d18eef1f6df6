"""``eczema-tracker personal-model train|status|use|off``: the agreement against the majority
guess is printed, a model no better than it stays off, and using it anyway is recorded."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eczema_tracker import cli
from eczema_tracker.store import Store


@pytest.fixture()
def rated_store(tmp_path, eczema_photo_paths):
    """8 analysed photos rated 'mild' five times and 'moderate' three times, features pure
    noise: a model trained on them is no better than always answering 'mild'."""
    folder = tmp_path / "store"
    rng = np.random.default_rng(3)
    with Store.open(folder) as store:
        store.import_paths(eczema_photo_paths[:8], "left arm")
        for photo, level in zip(store.photos(), [1] * 5 + [2] * 3, strict=True):
            mask = np.zeros((photo.height, photo.width), bool)
            mask[:10, :10] = True
            store.record_analysis(
                photo.id, mask=mask, lesion_area_fraction=0.1,
                features=rng.normal(size=8).astype(np.float32), feature_source="ours",
                probabilities=None, score=None, model_sources={}, k=2,
            )  # fmt: skip
            store.rate(photo.id, level)
    return folder


def _run(folder, *argv: str) -> int:
    return cli.main(["personal-model", *argv, "--data-dir", str(folder)])


def test_train_keeps_a_model_no_better_than_the_majority_guess_off_until_used(rated_store, capsys):
    assert _run(rated_store, "train", "--dino", "x/dino") == 0
    out, err = capsys.readouterr()
    assert out.startswith("model 1: matched you on ")
    assert "always answering 'mild' matches 5 of 8 (62 %): kept, not used." in out
    assert "eczema-tracker personal-model use 1" in err
    with Store.open(rated_store, readonly=True) as store:
        assert store.active_severity_model() is None
    assert _run(rated_store, "status", "--json") == 0
    row = json.loads(capsys.readouterr().out)
    assert row["majority_agreed"] == 5 and row["n"] == 8 and row["earned"] is False
    assert row["active"] is False and row["grades_shown"] is False
    assert _run(rated_store, "use", "1") == 0
    assert "used because you chose to" in capsys.readouterr().out
    with Store.open(rated_store, readonly=True) as store:
        used = store.active_severity_model()
        assert used.id == 1 and used.metadata["activated_by"] == "person"
    assert _run(rated_store, "status") == 0
    assert "model 1 (" in capsys.readouterr().out
    assert _run(rated_store, "off") == 0
    with Store.open(rated_store, readonly=True) as store:
        assert store.active_severity_model() is None and len(store.severity_models()) == 1


def test_use_refuses_an_unknown_model(rated_store, capsys):
    assert _run(rated_store, "use", "7") == 2
    assert "no severity model 7" in capsys.readouterr().err
