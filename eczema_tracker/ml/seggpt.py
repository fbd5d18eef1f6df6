"""Few-shot lesion segmentation with SegGPT and DINO-retrieved prompts (no Qt).

The user gives a pool of prompts: photos with their lesion masks (2-3 usually; any number
works). For a query photo the K prompts nearest by Euclidean distance of whole-image DINO
[CLS] features are chosen (prompt features are computed once, when the pool is set), and
transformers' ``SegGptForImageSegmentation`` paints the query's mask with
``feature_ensemble=True`` over those K prompts.

Details that matter:

- Several prompts for one query raise inside transformers (its GitHub issue #30196), so the query
  tensor is repeated once per prompt (preprocessed once, then ``expand``-ed).
- ``num_labels`` is passed to pre- and post-processing: without the palette a 0/1 mask
  would be read as a near-black image. It is 1 (lesion) unless every prompt of the pool marks
  healthy skin too (:mod:`core.mask_labels`); then it is 2, class 1 lesion and class 2 healthy
  skin, and the same single pass paints both. transformers' palette gives class 1 the same
  colour (white) for 1 and 2 labels, and a binary pool runs exactly as before (1 label).
  The fast paths (``seggpt_shared_query``, the sdpa attention) see the palette's colours as
  any other mask image: they hold for both.
- With the ensemble the query halves of the K output rows are identical except for the first
  pixel row of the query half, where the decoder's 3x3 conv also sees the (different) prompt
  halves (checked with a tiny random SegGPT: max difference 0.13 there, 0 elsewhere). Like
  SegGPT's reference inference code (``output = y[0, ...]``) we post-process the first row
  only, at the photo's own resolution.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from eczema_tracker.core import mask_labels
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled
from eczema_tracker.ml import acceleration
from eczema_tracker.ml.dino import DinoEncoder
from eczema_tracker.ml.loading import quiet_transformers, resolve_device
from eczema_tracker.ml.seggpt_shared_query import query_prediction
from eczema_tracker.ml.sources import DEFAULT_SEGGPT, resolve_source

if TYPE_CHECKING:
    import torch

#: Class index of a lesion pixel in SegGPT's label map (0 is background).
LESION_CLASS = 1
#: Class index of a healthy-skin pixel when the prompts mark skin.
SKIN_CLASS = 2


@dataclass
class Prompt:
    """A prompt photo (upright RGB) and its mask (H x W of the photo): a bool lesion mask, or a
    uint8 mask of :mod:`core.mask_labels` that may mark healthy skin (128) too."""

    image: Image.Image
    mask: np.ndarray
    key: str | None = None


@dataclass
class Segmentation:
    """A predicted lesion mask (bool, the photo's H x W) and what produced it.

    ``skin_mask`` (bool, H x W) is the healthy skin found when the prompts mark skin, else None;
    ``lesion_share_of_skin`` is then lesion / (lesion + healthy skin) (else None).
    """

    mask: np.ndarray
    lesion_area_fraction: float
    prompt_keys: list
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)  # retrieval / seggpt / postprocess
    skin_mask: np.ndarray | None = None
    lesion_share_of_skin: float | None = None


def prompt_class_map(mask: np.ndarray, *, with_skin: bool) -> np.ndarray:
    """SegGPT's uint8 label map of a prompt mask: 1 lesion, 2 healthy skin (only
    ``with_skin``), 0 the rest."""
    lesion = mask_labels.lesion_of(mask)
    classes = lesion.astype(np.uint8) * np.uint8(LESION_CLASS)
    if with_skin:
        classes[mask_labels.skin_of(mask) & ~lesion] = SKIN_CLASS
    return classes


def lesion_area_fraction(mask: np.ndarray) -> float:
    """Fraction of the photo's pixels inside the mask (0..1)."""
    mask = np.asarray(mask, dtype=bool)
    return float(mask.mean()) if mask.size else 0.0


class SegGptSegmenter:
    """SegGPT with a cached, DINO-indexed prompt pool."""

    def __init__(
        self,
        source: str = DEFAULT_SEGGPT,
        *,
        encoder: DinoEncoder,
        k: int = 2,
        device: str = "cpu",
        fast: bool = True,
        download: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> None:
        if k < 1:
            raise ValueError(f"k must be at least 1 (got {k})")
        from transformers import SegGptForImageSegmentation
        from transformers.models.seggpt.image_processing_pil_seggpt import SegGptImageProcessorPil

        self.source = source
        self.encoder = encoder
        self.k = int(k)
        self.device = resolve_device(device)
        self.folder = resolve_source(
            source, download=download, role="seggpt", progress=progress, cancel=cancel
        )
        self.path = acceleration.choose_path(self.device, fast=fast)
        model, self.load_report = acceleration.load_weights(
            SegGptForImageSegmentation, self.folder, source=source, path=self.path
        )
        self.model = acceleration.prepare_seggpt(model, self.path)
        with quiet_transformers():
            if (self.folder / "preprocessor_config.json").is_file():
                self.processor = SegGptImageProcessorPil.from_pretrained(self.folder)
            else:
                self.processor = SegGptImageProcessorPil()
        self._keys: list[str] = []
        self._features = np.zeros((0, 0), dtype=np.float32)  # P x hidden, whole-image [CLS]
        self._prompt_pixels: torch.Tensor | None = None  # P x 3 x h x w, preprocessed once
        self._prompt_masks: torch.Tensor | None = None  # P x 3 x h x w
        self.num_labels = 1  # 2 when every prompt of the pool marks healthy skin

    @property
    def prompt_keys(self) -> list[str]:
        """Keys of the prompts in the pool, in order."""
        return list(self._keys)

    @property
    def finds_skin(self) -> bool:
        """Whether segmentations find healthy skin too (every prompt of the pool marks it)."""
        return self.num_labels == 2

    def set_prompts(self, prompts: Sequence[Prompt]) -> None:
        """Replace the prompt pool; DINO features and SegGPT inputs are computed once here.

        Two labels (lesion, healthy skin) when every prompt marks healthy skin, else one: a
        prompt without skin would teach that the skin around its lesion is background.
        """
        prompts = list(prompts)
        if not prompts:
            raise ValueError("at least one prompt (a photo with its lesion mask) is needed")
        with_skin = all(mask_labels.has_skin(prompt.mask) for prompt in prompts)
        keys, images, masks = [], [], []
        for index, prompt in enumerate(prompts):
            image = prompt.image if prompt.image.mode == "RGB" else prompt.image.convert("RGB")
            mask = np.asarray(prompt.mask)
            key = prompt.key if prompt.key is not None else f"prompt-{index}"
            if mask.shape != (image.height, image.width):
                raise ValueError(
                    f"prompt {key}: mask size {mask.shape[1]}x{mask.shape[0]} does not match its "
                    f"image size {image.width}x{image.height}"
                )
            keys.append(str(key))
            images.append(image)
            masks.append(prompt_class_map(mask, with_skin=with_skin))
        if len(set(keys)) != len(keys):
            raise ValueError("prompt keys must be unique")
        num_labels = 2 if with_skin else 1
        features = self.encoder.retrieval_features(images)
        with quiet_transformers():
            inputs = self.processor.preprocess(
                prompt_images=images,
                prompt_masks=masks,
                num_labels=num_labels,
                return_tensors="pt",
            )
        dtype = next(self.model.parameters()).dtype
        self.num_labels = num_labels
        self._keys = keys
        self._features = features
        self._prompt_pixels = inputs["prompt_pixel_values"].to(self.device, dtype)
        self._prompt_masks = inputs["prompt_masks"].to(self.device, dtype)

    def nearest_prompts(
        self,
        image: Image.Image,
        *,
        exclude_keys: Sequence[str] = (),
        query_features: np.ndarray | None = None,
    ) -> list[int]:
        """Indices of the K prompts nearest to ``image`` (Euclidean, DINO [CLS]), nearest first."""
        if not self._keys:
            raise ValueError("no prompts set: call set_prompts first")
        excluded = {str(k) for k in exclude_keys}
        candidates = [i for i, key in enumerate(self._keys) if key not in excluded]
        if not candidates:
            raise ValueError("every prompt is excluded; at least one other prompt is needed")
        if query_features is None:
            query_features = self.encoder.retrieval_features([image])[0]
        distances = np.linalg.norm(self._features[candidates] - query_features[None, :], axis=1)
        order = np.argsort(distances, kind="stable")[: self.k]
        return [candidates[i] for i in order]

    def segment(
        self,
        image: Image.Image,
        *,
        exclude_keys: Sequence[str] = (),
        query_features: np.ndarray | None = None,
    ) -> Segmentation:
        """The lesion mask of ``image`` at its own resolution, from its K nearest prompts.

        ``query_features``: the image's ``encoder.retrieval_features`` when already computed
        (e.g. by a prefetch thread); the result is the same either way.
        """
        import torch

        start = time.perf_counter()
        image = image if image.mode == "RGB" else image.convert("RGB")
        chosen = self.nearest_prompts(
            image, exclude_keys=exclude_keys, query_features=query_features
        )
        retrieved = time.perf_counter()
        with quiet_transformers():
            query = self.processor.preprocess(images=[image], return_tensors="pt")["pixel_values"]
        dtype = next(self.model.parameters()).dtype
        query = query.to(self.device, dtype)  # 1 x 3 x h x w
        index = torch.tensor(chosen, device=self.device)
        pool_pixels, pool_masks = self._pool_inputs()
        prompt_pixels = pool_pixels.index_select(0, index)  # K x 3 x h x w
        prompt_masks = pool_masks.index_select(0, index)
        pred = self.predict_masks(
            query.expand(len(chosen), -1, -1, -1),  # the same query, K times
            prompt_pixels,
            prompt_masks,
        )
        inferred = time.perf_counter()
        classes = self._postprocess(pred, image.height, image.width)
        mask = classes == LESION_CLASS
        skin = classes == SKIN_CLASS if self.finds_skin else None
        end = time.perf_counter()
        return Segmentation(
            mask=mask,
            skin_mask=skin,
            lesion_share_of_skin=mask_labels.lesion_share_of_skin(mask, skin),
            lesion_area_fraction=lesion_area_fraction(mask),
            prompt_keys=[self._keys[i] for i in chosen],
            seconds=end - start,
            timings={
                "retrieval": retrieved - start,
                "seggpt": inferred - retrieved,
                "postprocess": end - inferred,
            },
        )

    def _pool_inputs(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The pool's preprocessed prompt pixels and masks (P x 3 x h x w each)."""
        if self._prompt_pixels is None or self._prompt_masks is None:
            raise ValueError("no prompts set: call set_prompts first")
        return self._prompt_pixels, self._prompt_masks

    def predict_masks(
        self,
        pixel_values: torch.Tensor,
        prompt_pixel_values: torch.Tensor,
        prompt_masks: torch.Tensor,
    ) -> torch.Tensor:
        """SegGPT's predicted mask image of the first canvas: (1, 3, 2h, w) float32.

        Inputs are K x 3 x h x w (the query repeated once per prompt); K > 1 uses the feature
        ensemble. Post-processing reads only the bottom (query) half: the reference path returns
        transformers' full output (row 0, as SegGPT's reference code), the fast path decodes that
        half alone (:func:`seggpt_shared_query.query_prediction`, exact) and leaves the top zero.
        """
        import torch

        inputs = {
            "pixel_values": pixel_values,  # K x 3 x h x w
            "prompt_pixel_values": prompt_pixel_values,  # K x 3 x h x w
            "prompt_masks": prompt_masks,  # K x 3 x h x w
            "feature_ensemble": pixel_values.shape[0] > 1,
        }
        with acceleration.inference_context(self.path):
            if self.path.is_reference:
                return self.model(**inputs).pred_masks[:1].float()
            query_half = query_prediction(self.model, **inputs)  # 1 x 3 x h x w
        return torch.cat([torch.zeros_like(query_half), query_half], dim=2)

    def warm_up(self, *, full: bool = True, cancel: CancelCheck | None = None) -> None:
        """Run once on a synthetic query so the first real segmentation runs at steady speed.

        Always reads every weight page (memory-mapped weights fault in on first use);
        ``full`` also runs one forward at the real shape (K = the pool's K, or ``k`` zeros
        prompts before a pool is set): kernels are set up and the allocator's heap grows to its
        working size. SegGPT refuses other input sizes, so there is no smaller full pass.
        ``cancel`` is checked before each layer's MLP (raises ``Cancelled``), so closing the app
        does not wait for a whole pass.
        """
        import torch

        total = torch.zeros((), dtype=torch.float64)
        for tensor in list(self.model.parameters()) + list(self.model.buffers()):
            raise_if_cancelled(cancel)
            flat = tensor.detach().reshape(-1)
            step = max(1, 4096 // max(1, tensor.element_size()))  # one element per page
            if flat.numel() and flat.device.type == "cpu":
                total += flat[::step].double().sum()
        if not full:
            return
        size = self.processor.size
        height, width = int(size["height"]), int(size["width"])
        dtype = next(self.model.parameters()).dtype
        if self._prompt_pixels is not None and self._prompt_masks is not None:
            k = min(self.k, len(self._keys))
            prompt_pixels = self._prompt_pixels[:k]
            prompt_masks = self._prompt_masks[:k]
        else:
            k = self.k
            prompt_pixels = torch.zeros(k, 3, height, width, dtype=dtype, device=self.device)
            prompt_masks = torch.zeros_like(prompt_pixels)
        query = torch.zeros(1, 3, height, width, dtype=dtype, device=self.device)
        hooks = []
        if cancel is not None:
            layers = getattr(getattr(self.model, "model", None), "encoder", None)
            for layer in getattr(layers, "layers", []):
                hooks.append(
                    layer.mlp.register_forward_pre_hook(lambda *_: raise_if_cancelled(cancel))
                )
        try:
            pred = self.predict_masks(query.expand(k, -1, -1, -1), prompt_pixels, prompt_masks)
        finally:
            for hook in hooks:
                hook.remove()
        self._postprocess(pred, 64, 64)

    def _postprocess(self, pred_masks: torch.Tensor, height: int, width: int) -> np.ndarray:
        """The (H, W) class map (0 background, 1 lesion, 2 healthy skin with two labels) of
        one predicted (1 x 3 x 2h x w) mask image."""
        outputs = SimpleNamespace(pred_masks=pred_masks.cpu())  # post_process reads only this
        seg = self.processor.post_process_semantic_segmentation(
            outputs, target_sizes=[(height, width)], num_labels=self.num_labels
        )[0]
        return seg.numpy()
