"""Shared fixtures. Qt runs headless; real photos come from ../shared/data by path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: Fixtures every module may ask for by name, registered once (the tiny models are built once
#: per session, not once per module that imported them).
pytest_plugins = ["tests.ml_support"]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never touch the network or the user's real folders.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
ECZEMA_PHOTOS = SHARED_DATA / "eczema_photos"
ODD_IMAGES = SHARED_DATA / "odd_images"


@pytest.fixture(autouse=True)
def _private_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Point data, cache and config folders at a temp folder for every test."""
    base = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("ECZEMA_TRACKER_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("ECZEMA_TRACKER_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("ECZEMA_TRACKER_CONFIG_DIR", str(base / "config"))
    yield


@pytest.fixture(scope="session")
def eczema_photo_paths() -> list[Path]:
    """The 149 shared clinical photos, sorted (skips the test if the folder is absent)."""
    photos = sorted((ECZEMA_PHOTOS / "images").rglob("*.jpg"))
    if not photos:
        pytest.skip(f"shared photos not found at {ECZEMA_PHOTOS}")
    return photos


@pytest.fixture(scope="session")
def odd_images_dir() -> Path:
    if not ODD_IMAGES.is_dir():
        pytest.skip(f"shared odd images not found at {ODD_IMAGES}")
    return ODD_IMAGES


@pytest.fixture(scope="session")
def tiny_choice(tmp_path_factory: pytest.TempPathFactory):
    """The app's model choice of tiny random DINO and SegGPT folders (K=2, CPU)."""
    from tests.ml_support import tiny_model_choice

    return tiny_model_choice(tmp_path_factory)
