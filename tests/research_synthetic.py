"""A synthetic research dataset and tiny ImageNet-style classifiers for the research tests.

Each photo is textured "skin" with a few random distractor patches; its label is decided only
by the colour inside one lesion square, whose mask is saved for some photos - so the severity
lives inside the masked region and segmentation matters.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_SIZE = 48
#: Lesion colour per severity class (none, mild, moderate, severe).
LESION_RGB = ((200, 170, 150), (210, 120, 110), (200, 70, 70), (150, 20, 30))


def make_dataset(
    folder: Path, *, n_images: int = 20, n_masked: int = 10, seed: int = 0, subfolder: str = ""
) -> Path:
    """Write images/, masks/ and labels.csv (labels cycle 0-3) into ``folder``; return it."""
    rng = np.random.default_rng(seed)
    (folder / "images" / subfolder).mkdir(parents=True, exist_ok=True)
    (folder / "masks" / subfolder).mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n_images):
        label = i % 4
        pixels = rng.normal((190, 150, 130), 12, size=(IMAGE_SIZE, IMAGE_SIZE, 3))
        for _ in range(3):  # distractors outside the lesion
            y, x = rng.integers(0, IMAGE_SIZE - 8, size=2)
            pixels[y : y + 6, x : x + 6] = rng.integers(0, 255, size=3)
        side = int(rng.integers(12, 20))
        top, left = rng.integers(0, IMAGE_SIZE - side, size=2)
        mask = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=bool)
        mask[top : top + side, left : left + side] = True
        pixels[mask] = np.asarray(LESION_RGB[label]) + rng.normal(0, 6, size=(mask.sum(), 3))
        name = f"{subfolder}/photo_{i:02d}.png" if subfolder else f"photo_{i:02d}.png"
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB").save(
            folder / "images" / name
        )
        if i < n_masked:
            Image.fromarray(mask.astype(np.uint8) * 255, "L").save(folder / "masks" / name)
        rows.append((name, label if i % 2 else ("none", "mild", "moderate", "severe")[label]))
    with open(folder / "labels.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "label"])
        writer.writerows(rows)
    return folder


def make_tiny_resnet(folder: Path, *, seed: int = 0) -> Path:
    """A 2-stage ResNet image classifier (1000 ImageNet-style classes) with its processor."""
    import torch
    from transformers import ResNetConfig, ResNetForImageClassification
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    torch.manual_seed(seed)
    config = ResNetConfig(
        embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic", num_labels=1000
    )
    ResNetForImageClassification(config).save_pretrained(folder)
    ViTImageProcessorPil(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def make_tiny_vit_classifier(folder: Path, *, seed: int = 0) -> Path:
    """A 2-layer ViT image classifier (1000 classes) with its processor."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    torch.manual_seed(seed)
    config = ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1000,
    )
    ViTForImageClassification(config).save_pretrained(folder)
    ViTImageProcessorPil(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder
