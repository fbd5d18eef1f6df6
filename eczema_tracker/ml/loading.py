"""Small helpers shared by the model wrappers: device choice and safe checkpoint loading."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eczema_tracker.ml.checkpoint_files import ModelSourceError, read_json_file

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def resolve_device(device: str) -> str:
    """ "auto" becomes "cuda" when a GPU is usable, else "cpu"; others are checked and returned."""
    import torch

    device = (device or "cpu").lower()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelSourceError(
            "Device 'cuda' was asked for, but no CUDA GPU is available; use --device cpu."
        )
    if device not in {"cpu", "mps"} and not device.startswith("cuda"):
        raise ModelSourceError(f"Unknown device '{device}'; use cpu, cuda or auto.")
    return device


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' load-time chatter (unused pooler weights, processor fallbacks)."""
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    bars_were_disabled = hf_logging.is_progress_bar_enabled() is False
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        hf_logging.set_verbosity(previous)
        if not bars_were_disabled:
            hf_logging.enable_progress_bar()


def load_pretrained(model_class: Any, folder: Path, *, source: str, **kwargs: Any) -> Any:
    """``model_class.from_pretrained(folder)`` from safetensors only, errors as ModelSourceError."""
    try:
        with quiet_transformers():
            return model_class.from_pretrained(
                folder, local_files_only=True, use_safetensors=True, **kwargs
            )
    except ModelSourceError:
        raise
    except Exception as exc:  # noqa: BLE001 - shape mismatch, bad dtype, corrupt data...
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelSourceError(
            f"Model source '{source}' could not be loaded from {folder}: {first_line}; replace the "
            "checkpoint (or download it again)."
        ) from exc


def read_preprocessor_config(folder: Path) -> dict[str, Any]:
    """``preprocessor_config.json`` as a dict, or {} when the checkpoint ships none."""
    file = folder / "preprocessor_config.json"
    if not file.exists() and not file.is_symlink():
        return {}
    config = read_json_file(file)
    if not isinstance(config, dict):
        raise ModelSourceError(f"{file} is not valid JSON (not an object)")
    return config
