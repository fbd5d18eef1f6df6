"""Tiny random-init models saved like real checkpoints, for offline tests.

They are written with ``save_pretrained`` (config.json + model.safetensors +
preprocessor_config.json) and load through the app's ordinary source code path, as a local
folder SOURCE. Sizes are small, but the architectures are the real ones.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import (
    SegGptConfig,
    SegGptForImageSegmentation,
    ViTConfig,
    ViTModel,
)
from transformers.models.seggpt.image_processing_pil_seggpt import SegGptImageProcessorPil
from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def make_tiny_dino(
    folder: Path, *, image_size: int = 32, patch_size: int = 8, hidden: int = 32, seed: int = 0
) -> Path:
    """A 2-layer ViT (DINO's architecture family) with its image processor; returns ``folder``."""
    torch.manual_seed(seed)
    config = ViTConfig(
        image_size=image_size,
        patch_size=patch_size,
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
    )
    model = ViTModel(config, add_pooling_layer=False)
    model.save_pretrained(folder)
    ViTImageProcessorPil(
        do_resize=True,
        size={"height": image_size, "width": image_size},
        image_mean=IMAGENET_MEAN,
        image_std=IMAGENET_STD,
    ).save_pretrained(folder)
    return folder


def make_tiny_seggpt(
    folder: Path,
    *,
    size: int = 64,
    patch_size: int = 16,
    hidden: int = 32,
    seed: int = 0,
    lively: bool = False,
) -> Path:
    """A 2-layer SegGPT working at ``size``x``size`` per image (prompt over query: 2*size x size).

    ``lively``: its output head is scaled and shifted so the painted mask straddles mid-grey,
    so its masks are neither empty nor full (random weights alone paint black: empty masks)."""
    torch.manual_seed(seed)
    config = SegGptConfig(
        image_size=[2 * size, size],
        patch_size=patch_size,
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        mlp_dim=hidden * 2,
        decoder_hidden_size=16,
        intermediate_hidden_state_indices=[0, 1],
        merge_index=0,
        pretrain_image_size=size,
    )
    model = SegGptForImageSegmentation(config)
    processor = SegGptImageProcessorPil(size={"height": size, "width": size})
    if lively:
        head = model.decoder.decoder_pred.head
        mean, std = torch.tensor(processor.image_mean), torch.tensor(processor.image_std)
        with torch.no_grad():
            head.weight.mul_(30.0)
            head.bias.copy_((0.55 - mean) / std)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder
