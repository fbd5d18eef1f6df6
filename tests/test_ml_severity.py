"""SeverityModel: the paper's MLP, its file format and the backbone check."""

from __future__ import annotations

import re

import numpy as np
import pytest

from eczema_tracker.core.jobs import Cancelled
from eczema_tracker.ml.dino import DinoEncoder
from eczema_tracker.ml.severity import (
    CLASS_NAMES,
    SeverityModel,
    SeverityModelError,
    SeverityModelMismatch,
)


def separable(n: int, dim: int = 32, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(size=(4, dim)) * 3
    labels = rng.integers(0, 4, n)
    return (centres[labels] + rng.normal(size=(n, dim))).astype(np.float32), labels


@pytest.fixture(scope="module")
def trained():
    x, y = separable(320)
    return SeverityModel(32, backbone_source="test/backbone").fit(x, y)


def test_architecture_is_the_papers():
    from torch import nn

    net = SeverityModel(768, backbone_source="x").network
    assert [type(m) for m in net] == [nn.Linear, nn.ReLU, nn.Dropout, nn.Linear]
    assert (net[0].in_features, net[0].out_features, net[2].p, net[3].out_features) == (
        768,
        128,
        0.3,
        4,
    )
    assert CLASS_NAMES == ("none", "mild", "moderate", "severe")


def test_reaches_high_accuracy_on_a_separable_problem(trained):
    x, y = separable(200, seed=1)
    assert (trained.predict(x) == y).mean() >= 0.95
    proba = trained.predict_proba(x)
    assert proba.shape == (200, 4) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    scores = trained.score(x)
    assert np.all((scores >= 0) & (scores <= 3))
    np.testing.assert_allclose(scores, proba @ np.arange(4), atol=1e-5)


def test_training_is_seeded():
    x, y = separable(64)
    a = SeverityModel(32, backbone_source="x", seed=3).fit(x, y, epochs=3)
    b = SeverityModel(32, backbone_source="x", seed=3).fit(x, y, epochs=3)
    np.testing.assert_array_equal(a.predict_proba(x), b.predict_proba(x))


def test_round_trips_through_one_safetensors_file(trained, tmp_path):
    path = tmp_path / "models" / "severity.safetensors"
    trained.save(path)
    assert [p.name for p in path.parent.iterdir()] == ["severity.safetensors"]  # no temp left
    loaded = SeverityModel.load(path)
    x, _ = separable(50, seed=2)
    np.testing.assert_array_equal(loaded.predict_proba(x), trained.predict_proba(x))
    meta = loaded.metadata
    assert meta["backbone_source"] == "test/backbone" and meta["feature_variant"] == "cls"
    assert meta["class_names"] == list(CLASS_NAMES) and meta["n_train"] == 320
    assert sum(meta["class_counts"]) == 320 and meta["feature_dim"] == 32
    assert meta["format_version"] == 1 and meta["created"]


def test_saving_again_replaces_atomically(trained, tmp_path):
    path = tmp_path / "m.safetensors"
    trained.save(path)
    before = path.read_bytes()
    trained.save(path)
    assert path.read_bytes()[:8] == before[:8] and SeverityModel.load(path).is_trained


def test_unreadable_files_give_clear_errors(tmp_path):
    with pytest.raises(SeverityModelError, match="does not exist"):
        SeverityModel.load(tmp_path / "none.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(SeverityModelError, match="corrupt"):
        SeverityModel.load(bad)
    from safetensors.numpy import save_file

    other = tmp_path / "other.safetensors"
    save_file({"w": np.zeros(3, np.float32)}, other)
    with pytest.raises(SeverityModelError, match="not an eczema-tracker severity model"):
        SeverityModel.load(other)


def test_backbone_mismatch_is_refused(tiny_dino_dir, other_tiny_dino_dir, tmp_path):
    encoder = DinoEncoder(str(tiny_dino_dir))
    x, y = separable(32)
    model = SeverityModel.for_encoder(encoder).fit(x, y, epochs=1)
    model.save(tmp_path / "m.safetensors")
    loaded = SeverityModel.load(tmp_path / "m.safetensors")
    loaded.check_compatible(encoder)  # same weights: fine
    other = DinoEncoder(str(other_tiny_dino_dir))  # same architecture, other weights
    with pytest.raises(SeverityModelMismatch, match="trained on features of"):
        loaded.check_compatible(other)
    with pytest.raises(SeverityModelMismatch, match="feature variant"):
        loaded.check_compatible(DinoEncoder(str(tiny_dino_dir), variant="cls+patchmean"))


def test_fit_validates_and_reports_progress_and_cancels():
    x, y = separable(32)
    model = SeverityModel(32, backbone_source="x")
    with pytest.raises(ValueError, match="labels must be"):
        model.fit(x, np.full(32, 7))
    with pytest.raises(ValueError, match=r"\(N, 32\)"):
        model.fit(x[:, :5], y)
    seen = []
    model.fit(x, y, epochs=3, progress=lambda d, t, m: seen.append((d, t)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    with pytest.raises(Cancelled):
        model.fit(x, y, epochs=3, cancel=lambda: True)


def _model_file_with(tmp_path, *, tensors=None, **meta_changes):
    """A model file whose metadata (JSON values; None removes a key) or tensors are altered."""
    import json

    import torch
    from safetensors.torch import save_file

    model = SeverityModel(32, backbone_source="x")
    meta = dict(model.metadata, created="2026-01-01T00:00:00+00:00")
    for key, value in meta_changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    state = {k: v.detach().contiguous() for k, v in model.network.state_dict().items()}
    state.update(tensors or {})
    state = {k: v for k, v in state.items() if v is not None}
    path = tmp_path / "hostile.safetensors"
    save_file(
        {k: torch.as_tensor(v) for k, v in state.items()},
        str(path),
        metadata={k: json.dumps(v) for k, v in meta.items()},
    )
    return path


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"feature_dim": None}, "no feature_dim"),
        ({"feature_dim": "32"}, "feature_dim must be a whole number"),
        ({"feature_dim": -5}, "feature_dim must be a whole number"),
        ({"feature_dim": 0}, "feature_dim must be a whole number"),
        ({"feature_dim": 4e9}, "feature_dim must be a whole number"),
        ({"feature_dim": 4_000_000_000}, "feature_dim must be a whole number"),
        ({"feature_dim": True}, "feature_dim must be a whole number"),
        ({"feature_dim": 64}, "tensor 0.weight is [128, 32] but feature_dim 64 needs [128, 64]"),
        ({"feature_variant": "patch-soup"}, "unknown feature_variant 'patch-soup'"),
        ({"feature_variant": 7}, "unknown feature_variant 7"),
        ({"class_names": ["a", "b", "c", "d"]}, "class_names are"),
        ({"class_names": ["none", "mild", "severe"]}, "class_names are"),
        ({"class_names": None}, "class_names are None"),
        ({"format_version": "one"}, "unreadable format version"),
        ({"seed": "abc"}, "seed must be"),
        ({"n_train": "many"}, "n_train must be"),
        ({"class_counts": [1, 2]}, "class_counts must be 4"),
        ({"backbone_source": ["x"]}, "backbone_source must be text"),
    ],
)
def test_hostile_metadata_is_refused_before_building_anything(tmp_path, monkeypatch, changes, says):
    path = _model_file_with(tmp_path, **changes)

    def no_network(_dim):  # a 4e9-wide Linear would try to allocate 2 TB
        raise AssertionError("a network was built from unchecked metadata")

    monkeypatch.setattr("eczema_tracker.ml.severity._build_network", no_network)
    with pytest.raises(SeverityModelError) as info:
        SeverityModel.load(path)
    message = str(info.value)
    assert says in message and "\n" not in message
    assert message.startswith(f"Severity model {path} ")


@pytest.mark.parametrize(
    ("tensors", "says"),
    [
        ({"3.bias": None}, "it holds tensors"),
        ({"extra": np.zeros(2, np.float32)}, "it holds tensors"),
        ({"3.weight": np.zeros((5, 128), np.float32)}, "tensor 3.weight is [5, 128]"),
        ({"0.bias": np.zeros(128, np.int32)}, "holds I32 values"),
    ],
)
def test_tensors_that_do_not_match_the_architecture_are_refused(tmp_path, tensors, says):
    with pytest.raises(SeverityModelError, match=re.escape(says)):
        SeverityModel.load(_model_file_with(tmp_path, tensors=tensors))


def test_a_well_formed_file_still_loads_after_the_checks(tmp_path):
    model = SeverityModel.load(_model_file_with(tmp_path))
    assert model.feature_dim == 32 and model.metadata["class_names"] == list(CLASS_NAMES)
    with pytest.raises(ValueError, match="feature_dim must be"):
        SeverityModel(4_000_000_000, backbone_source="x")
