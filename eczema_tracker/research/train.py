"""Fit the severity model the app imports, on a whole labelled dataset.

Every image is segmented by SegGPT with the K nearest *other* masked images as prompts, DINO
features of the segmented region are taken, and the paper's MLP (:class:`SeverityModel`) is
fitted on all of them. The model file is written with ``SeverityModel.save`` (atomically), so
it loads in the app and in ``analyze --severity-model``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eczema_tracker.core.jobs import CancelCheck
from eczema_tracker.research import protocol
from eczema_tracker.research.cache import ResearchCache
from eczema_tracker.research.dataset import CLASS_NAMES, DatasetError, ResearchDataset
from eczema_tracker.research.evaluate import (
    MLP_EPOCHS,
    OutputPathError,
    ProgressFactory,
    check_can_write_in,
)
from eczema_tracker.research.features import FeatureBuilder, ModelSettings, WorkCounts


@dataclass
class TrainingSummary:
    """Training-set metrics of a fitted model (optimistic by construction: seen data)."""

    n_images: int
    class_counts: list[int]
    weighted_f1: float
    accuracy: float
    confusion_matrix: list[list[int]]
    mean_lesion_area_fraction: float
    seconds: float
    work: dict[str, Any]

    def lines(self) -> list[str]:
        """Plain-text report for the terminal."""
        present = [c for c, n in enumerate(self.class_counts) if n]
        out = [
            f"trained on {self.n_images} images: "
            + ", ".join(f"{CLASS_NAMES[c]} {self.class_counts[c]}" for c in present),
            f"training-set weighted F1 {self.weighted_f1:.3f}, accuracy {self.accuracy:.3f} "
            "(seen data; run 'evaluate' for validation scores)",
            f"mean segmented lesion area {self.mean_lesion_area_fraction:.1%} of the photo",
            "confusion matrix (rows true, columns predicted): "
            + "; ".join(
                f"{CLASS_NAMES[r]}: {[self.confusion_matrix[r][c] for c in present]}"
                for r in present
            ),
            f"took {self.seconds:.1f} s",
        ]
        return out


MODEL_SUFFIX = ".safetensors"


def check_model_output(out: str | os.PathLike[str]) -> Path:
    """The model file path ``out`` if a model can be written there, else OutputPathError.

    Called before any model runs, so a bad ``--out`` never costs a whole training run.
    """
    out = Path(out).expanduser()
    if out.suffix != MODEL_SUFFIX:
        raise OutputPathError(f"{out} must end in {MODEL_SUFFIX}.")
    if out.is_dir():
        raise OutputPathError(
            f"{out} is a folder; give the model file's name, e.g. {out / 'severity.safetensors'}."
        )
    if (out.exists() or out.is_symlink()) and not out.is_file():
        raise OutputPathError(f"{out} exists and is not a regular file; it cannot be replaced.")
    check_can_write_in(out.parent)
    return out


def train_severity_model(
    dataset: ResearchDataset,
    settings: ModelSettings,
    out: str | os.PathLike[str],
    *,
    epochs: int = MLP_EPOCHS,
    seed: int = 0,
    cache: ResearchCache | None = None,
    progress_for: ProgressFactory | None = None,
    cancel: CancelCheck | None = None,
    counts: WorkCounts | None = None,
) -> TrainingSummary:
    """Segment, featurise and fit on all of ``dataset``; save the model to ``out``.

    Raises OutputPathError (before any model runs) if ``out`` cannot be written.
    """
    from eczema_tracker.ml.severity import SeverityModel

    out = check_model_output(out)

    started = time.perf_counter()
    bar: ProgressFactory = progress_for or (lambda _name: None)
    pool = dataset.masked_indices
    if len(pool) < settings.k + 1:
        raise DatasetError(
            f"{dataset.root} has {len(pool)} masked image(s); training needs at least "
            f"K+1={settings.k + 1} (each is segmented with K other masked images as prompts)"
        )
    counts = counts or WorkCounts()
    builder = FeatureBuilder(dataset, settings, cache or ResearchCache(), counts)
    everything = list(range(len(dataset)))
    x, masks = builder.segmented_features(
        everything, pool, cancel=cancel, progress=bar("SegGPT + DINO region features")
    )
    y = dataset.labels
    model = SeverityModel.for_encoder(builder.encoder, seed=seed, device=settings.device)
    model.fit(x, y, epochs=epochs, progress=bar("training the MLP"), cancel=cancel)
    model.metadata["training"] = {
        "command": "eczema-tracker train",
        "dataset": str(dataset.root),
        "segmentation": {"seggpt_source": settings.seggpt, "k": settings.k},
        "masked_images": len(pool),
    }
    model.save(Path(out))  # atomic (temp file + fsync + replace)
    predicted = np.asarray(model.predict(x), dtype=np.int64)
    return TrainingSummary(
        n_images=len(dataset),
        class_counts=dataset.class_counts(),
        weighted_f1=protocol.weighted_f1(y, predicted),
        accuracy=float(np.mean(predicted == y)),
        confusion_matrix=protocol.confusion_matrix(y, predicted).tolist(),
        mean_lesion_area_fraction=float(np.mean([m.mean() for m in masks])),
        seconds=time.perf_counter() - started,
        work={"segmentations": counts.segmentations, "region_features": counts.region_features},
    )
