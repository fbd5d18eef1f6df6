"""What a model folder holds, in plain words, checked the moment a person picks it.

Reads the folder's model description (``config.json``: ``model_type`` and ``architectures``)
and looks for weights in the one format the app loads (``*.safetensors``), without importing
torch. The technical words go to :attr:`FolderCheck.details` (a tooltip), never to the text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from eczema_tracker.ml.sources import (
    DINO_MODEL_TYPES,
    PACKAGE_PREFIX,
    SEGGPT_MODEL_TYPES,
    parse_source,
)

#: What each role is for, in words a person understands.
ROLE_TITLES = {
    "dino": "the DINO model (it picks the closest prompt photos and describes the skin)",
    "seggpt": "the SegGPT model (it finds the eczema from your prompt masks)",
}
ROLE_SHORT = {"dino": "DINO", "seggpt": "SegGPT"}


@dataclass(frozen=True)
class FolderCheck:
    """The verdict on one model source for one role."""

    ok: bool
    text: str  #: one or two plain sentences for the screen
    details: str = ""  #: the technical facts (file names, model type) for a tooltip


def family_of(model_type: str | None) -> str | None:
    """'dino', 'seggpt' or None for a config's ``model_type``."""
    if model_type in DINO_MODEL_TYPES:
        return "dino"
    if model_type in SEGGPT_MODEL_TYPES:
        return "seggpt"
    return None


def _size_text(folder: Path) -> str:
    total = sum(f.stat().st_size for f in folder.glob("*.safetensors") if f.is_file())
    if total >= 1e9:
        return f"{total / 1e9:.1f} GB"
    return f"{max(total / 1e6, 0.1):.1f} MB" if total < 1e7 else f"{total / 1e6:.0f} MB"


def check_model_folder(folder: Path, role: str) -> FolderCheck:
    """Whether ``folder`` holds a usable model for ``role`` ("dino" or "seggpt"), in words."""
    wanted = ROLE_TITLES[role]
    if not folder.exists():
        return FolderCheck(False, f"This folder does not exist. Choose the folder of {wanted}.")
    if not folder.is_dir():
        return FolderCheck(False, f"This is a file, not a folder. Choose the folder of {wanted}.")
    config_file = folder / "config.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return FolderCheck(
            False,
            f"This folder does not hold a model: the file that describes a model is missing. "
            f"Choose the folder of {wanted}.",
            f"No config.json in {folder}.",
        )
    except (OSError, ValueError) as exc:
        return FolderCheck(
            False,
            "The file describing the model in this folder is damaged or unreadable. Copy the "
            "model folder again.",
            f"{config_file}: {exc}",
        )
    if not isinstance(config, dict):
        config = {}
    model_type = config.get("model_type")
    architectures = ", ".join(config.get("architectures") or []) or "not named"
    details = f"config.json: model_type={model_type!r}, architectures={architectures}"
    family = family_of(model_type)
    if family is None:
        what = f"a '{model_type}' model" if model_type else "a model of an unknown kind"
        return FolderCheck(
            False,
            f"This folder holds {what}, which the app cannot use here. Choose the folder of "
            f"{wanted}.",
            details,
        )
    if family != role:
        return FolderCheck(
            False,
            f"This folder holds {ROLE_TITLES[family]}. Here the app needs {wanted}.",
            details,
        )
    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        return FolderCheck(
            False,
            f"This folder describes {ROLE_SHORT[role]} but has no weights the app can load "
            "(it only loads weights saved in the safe format, files ending in .safetensors).",
            details + "; no *.safetensors file (pickled .bin weights are never loaded)",
        )
    return FolderCheck(
        True,
        f"✓ {ROLE_SHORT[role]} model found ({_size_text(folder)}).",
        details + f"; weights: {', '.join(w.name for w in weights)}",
    )


def check_model_source(text: str, role: str) -> FolderCheck:
    """Check what a person typed or picked: a folder is checked now; a download name and the
    packaged model are accepted (they are checked when first used)."""
    text = text.strip()
    if not text:
        return FolderCheck(True, "The standard model will be used.")
    if text.startswith(PACKAGE_PREFIX):
        return FolderCheck(True, "The model that comes with the app will be used.")
    try:
        parsed = parse_source(text)
    except Exception as exc:  # noqa: BLE001 - ModelSourceError: not a usable text at all
        return FolderCheck(False, "This is neither a folder nor a model name.", str(exc))
    if parsed.kind == "hub":
        return FolderCheck(
            True,
            "A model name: it is downloaded once, the first time you analyse.",
            f"Hugging Face hub id {parsed.repo_id}",
        )
    assert parsed.folder is not None
    return check_model_folder(parsed.folder, role)
