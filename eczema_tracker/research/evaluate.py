"""Re-run the paper's experiments on a labelled dataset (Table I, Table II, Fig. 2).

Methods:

- ``dino-seg``: SegGPT segments each image with K prompts retrieved from the *training fold's*
  masked images (never the image itself), DINO features of the region, the paper's MLP;
- ``dino-full``: DINO features of the whole image, same MLP (Table II ablation);
- ``resnet18`` / ``vit-b``: ImageNet classifiers with the head fine-tuned (:mod:`.baselines`);
- ``fractions``: ``dino-seg`` trained on 20/40/60/80/100 % of each training fold, validation
  fold fixed (Fig. 2). The prompt pool stays the whole training fold's masked images: the
  fractions limit the severity labels the MLP learns from, not SegGPT's few-shot prompts;
- ``seg`` (not in the default set: several SegGPT passes per masked image and split):
  segmentation quality, IoU and Dice against the painted masks, with the K and
  nearest-vs-random ablations (:mod:`.seg_eval`).

With ``dino-seg``, results also say how its weighted F1 changes when the least familiar 10 %
of each validation fold is set aside (:mod:`.familiarity_eval`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eczema_tracker.core.errors import UserError
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled
from eczema_tracker.research import protocol
from eczema_tracker.research.baselines import (
    DEFAULT_RESNET,
    DEFAULT_VIT,
    HeadFineTuner,
    HeadTraining,
)
from eczema_tracker.research.cache import ResearchCache
from eczema_tracker.research.dataset import CLASS_NAMES, DatasetError, ResearchDataset
from eczema_tracker.research.familiarity_eval import SetAsideScores
from eczema_tracker.research.features import FeatureBuilder, ModelSettings, WorkCounts
from eczema_tracker.research.seg_eval import ABLATION_K, PER_IMAGE_CSV, run_segmentation_evaluation
from eczema_tracker.research.seg_report import SEGMENTATION_PLOT

#: What ``evaluate`` runs unless told: the paper's experiments.
DEFAULT_METHODS = ("dino-seg", "dino-full", "resnet18", "vit-b", "fractions")
ALL_METHODS = (*DEFAULT_METHODS, "seg")
SEGMENTING_METHODS = frozenset({"dino-seg", "fractions", "seg"})
#: Methods scored by weighted F1 (the others report their own sections).
F1_METHODS = frozenset({"dino-seg", "dino-full", "resnet18", "vit-b"})
MLP_EPOCHS = 50
#: Makes a progress callback for a named stage (the CLI gives tqdm bars, tests give None).
ProgressFactory = Callable[[str], ProgressCallback | None]
#: The files :func:`eczema_tracker.research.report.write_report` writes into the results folder.
RESULT_FILES = (
    "results.json",
    "results.md",
    "fraction_curve.png",
    SEGMENTATION_PLOT,
    PER_IMAGE_CSV,
)


class OutputPathError(UserError, ValueError):
    """An output path that cannot be written; found before any model runs (one sentence)."""


def check_can_write_in(folder: str | Path) -> None:
    """Refuse ``folder`` unless it exists or can be made, and a file can be created there.

    The nearest existing ancestor must be a folder; a temp file is created (and removed) in
    it, which is the only honest test (permissions, ACLs, read-only filesystems, root).
    """
    folder = Path(folder)
    probe = folder
    while not probe.exists() and not probe.is_symlink() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise OutputPathError(f"{folder} cannot be created: {probe} is a file, not a folder.")
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise OutputPathError(f"Cannot write into {probe} ({exc.strerror or exc}).") from exc


def check_results_folder(out: str | Path) -> Path:
    """The results folder ``out`` if evaluate can write its files there, else OutputPathError."""
    out = Path(out).expanduser()
    if (out.exists() or out.is_symlink()) and not out.is_dir():
        raise OutputPathError(f"{out} is a file, not a folder for the results; pick a folder.")
    for name in RESULT_FILES:
        target = out / name
        if (target.exists() or target.is_symlink()) and not target.is_file():
            raise OutputPathError(
                f"{target} exists and is not a regular file; it cannot be replaced."
            )
    check_can_write_in(out)
    return out


@dataclass(frozen=True)
class EvaluationConfig:
    """What to run and how; serialised into ``results.json`` as ``config``."""

    models: ModelSettings
    methods: tuple[str, ...] = DEFAULT_METHODS
    n_splits: int = 5
    seed: int = 0
    epochs: int = MLP_EPOCHS
    resnet: str = DEFAULT_RESNET
    vit: str = DEFAULT_VIT
    validation_fraction: float = protocol.VALIDATION_FRACTION
    fractions: tuple[float, ...] = protocol.TRAINING_FRACTIONS
    seg_ks: tuple[int, ...] = ABLATION_K
    title: str = "Eczema severity: re-run of the paper's experiments"
    note: str = ""
    class_names: tuple[str, ...] = CLASS_NAMES  # display names in the report only

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["models"] = asdict(self.models)
        data["methods"] = list(self.methods)
        data["fractions"] = list(self.fractions)
        data["seg_ks"] = list(self.seg_ks) if "seg" in self.methods else None
        data["class_names"] = list(self.class_names)
        if not SEGMENTING_METHODS & set(self.methods):
            data["models"]["seggpt"] = None  # not used by this run
        data["resnet"] = self.resnet if "resnet18" in self.methods else None
        data["vit"] = self.vit if "vit-b" in self.methods else None
        data["choices"] = {
            "splits": "independent seeded random splits (split i uses seed+i), stratified by "
            "label (and has-mask when possible)",
            "std": "sample standard deviation over splits (ddof=1)",
            "per_class_f1": "from the confusion matrix pooled over the validation folds",
            "baselines": "backbone frozen, only the classifier head trained (Adam lr "
            f"{HeadTraining.lr}, weight decay {HeadTraining.weight_decay}, batch "
            f"{HeadTraining.batch_size}, cross-entropy)",
            "mlp": "ml.SeverityModel: hidden 128, dropout 0.3, Adam lr 1e-4, cross-entropy, batch 16",
            "prompts": f"K={self.models.k} nearest masked images of the training fold by DINO "
            "[CLS] Euclidean distance, never the image itself",
            "fraction_prompt_pool": "the whole training fold's masked images",
            "fraction_subsets": "class-balanced, nested, seeded by seed+split",
            "seg": "every masked image per split: validation fold (prompts from the training "
            "fold) and training fold (leave-one-out); K in seg_ks and --k, nearest and seeded "
            "random prompts; IoU/Dice against the painted mask",
            "familiarity_set_aside": "dino-seg: the 10 % least familiar validation images "
            "(nearest-prompt distance to the training fold's masked images) set aside",
        }
        return data


@dataclass
class _MethodScores:
    per_split: list[float] = field(default_factory=list)
    matrices: list[np.ndarray] = field(default_factory=list)

    def add(self, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        self.per_split.append(protocol.weighted_f1(y_true, y_pred))
        self.matrices.append(protocol.confusion_matrix(y_true, y_pred))

    def to_json(self) -> dict[str, Any]:
        mean, std = protocol.mean_std(self.per_split)
        pooled = np.sum(self.matrices, axis=0)
        return {
            "weighted_f1_mean": mean,
            "weighted_f1_std": std,
            "per_split": self.per_split,
            "per_class_f1": dict(
                zip(CLASS_NAMES, protocol.per_class_f1(pooled).tolist(), strict=True)
            ),
            "confusion_matrix": pooled.tolist(),
            "per_split_confusion_matrices": [m.tolist() for m in self.matrices],
        }


def _fit_predict_mlp(
    train_x: np.ndarray,
    train_y: np.ndarray,
    val_x: np.ndarray,
    *,
    config: EvaluationConfig,
    seed: int,
    progress: ProgressCallback | None,
    cancel: CancelCheck | None,
) -> np.ndarray:
    from eczema_tracker.ml.severity import SeverityModel

    model = SeverityModel(
        train_x.shape[1],
        backbone_source=config.models.dino,
        feature_variant=config.models.variant,
        seed=seed,
        device=config.models.device,
    )
    model.fit(train_x, train_y, epochs=config.epochs, progress=progress, cancel=cancel)
    return np.asarray(model.predict(val_x), dtype=np.int64)


def check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    """Validate a method list (order kept, duplicates dropped); raises ValueError."""
    unknown = [m for m in methods if m not in ALL_METHODS]
    if unknown or not methods:
        raise ValueError(
            f"unknown method(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(ALL_METHODS)}"
        )
    return tuple(dict.fromkeys(methods))


def run_evaluation(
    dataset: ResearchDataset,
    config: EvaluationConfig,
    *,
    cache: ResearchCache | None = None,
    progress_for: ProgressFactory | None = None,
    cancel: CancelCheck | None = None,
    counts: WorkCounts | None = None,
) -> dict[str, Any]:
    """Run every requested method over the seeded splits; return the results.json structure."""
    started = time.perf_counter()
    methods = check_methods(config.methods)
    cache = cache or ResearchCache()
    counts = counts or WorkCounts()
    bar: ProgressFactory = progress_for or (lambda _name: None)
    labels = dataset.labels
    has_mask = np.array([item.has_mask for item in dataset.items])
    splits = protocol.make_splits(
        labels,
        n_splits=config.n_splits,
        seed=config.seed,
        validation_fraction=config.validation_fraction,
        has_mask=has_mask,
    )
    if SEGMENTING_METHODS & set(methods):
        for split in splits:
            masked = int(has_mask[list(split.train)].sum())
            if masked < config.models.k + 1:
                raise DatasetError(
                    f"split {split.index}'s training fold has {masked} masked image(s); dino-seg "
                    f"needs at least K+1={config.models.k + 1} (each is segmented with K others as "
                    "prompts): add masks to more photos or leave out dino-seg and fractions"
                )
    features = FeatureBuilder(dataset, config.models, cache, counts)
    tuners = {
        name: HeadFineTuner(source, dataset, cache, device=config.models.device, counts=counts)
        for name, source in (("resnet18", config.resnet), ("vit-b", config.vit))
        if name in methods
    }
    scores = {m: _MethodScores() for m in methods if m in F1_METHODS}
    set_aside = SetAsideScores()
    fraction_scores: dict[float, list[float]] = (
        {f: [] for f in config.fractions} if "fractions" in methods else {}
    )
    everything = list(range(len(dataset)))
    x_full = (
        features.image_features(
            everything, progress=bar("DINO whole-image features"), cancel=cancel
        )
        if "dino-full" in methods
        else None
    )
    head_inputs = {
        name: tuner.head_inputs(
            everything, progress=bar(f"{name} backbone features"), cancel=cancel
        )
        for name, tuner in tuners.items()
    }
    for split in splits:
        raise_if_cancelled(cancel)
        train, val = list(split.train), list(split.validation)
        y_train, y_val = labels[train], labels[val]
        seed = config.seed + split.index
        tag = f"split {split.index + 1}/{len(splits)}"
        if x_full is not None:
            pred = _fit_predict_mlp(
                x_full[train],
                y_train,
                x_full[val],
                config=config,
                seed=seed,
                progress=bar(f"{tag}: MLP dino-full"),
                cancel=cancel,
            )
            scores["dino-full"].add(y_val, pred)
        if {"dino-seg", "fractions"} & set(methods):  # features of segmented regions
            pool = [i for i in train if has_mask[i]]
            x_seg, _ = features.segmented_features(
                everything,
                pool,
                cancel=cancel,
                progress=bar(f"{tag}: SegGPT + DINO region features"),
            )
            if "dino-seg" in methods:
                pred = _fit_predict_mlp(
                    x_seg[train],
                    y_train,
                    x_seg[val],
                    config=config,
                    seed=seed,
                    progress=bar(f"{tag}: MLP dino-seg"),
                    cancel=cancel,
                )
                scores["dino-seg"].add(y_val, pred)
                pool_features = features.retrieval_features(pool, cancel=cancel)
                set_aside.add(
                    y_val,
                    pred,
                    features.retrieval_features(val, cancel=cancel),
                    pool_features,
                    seed=seed,
                )
            for fraction in fraction_scores:
                subset = protocol.training_subset(train, labels, fraction, seed=seed)
                pred = _fit_predict_mlp(
                    x_seg[subset],
                    labels[subset],
                    x_seg[val],
                    config=config,
                    seed=seed,
                    cancel=cancel,
                    progress=bar(f"{tag}: MLP on {fraction:.0%} of training"),
                )
                fraction_scores[fraction].append(protocol.weighted_f1(y_val, pred))
        for name, tuner in tuners.items():
            x = head_inputs[name]
            pred = tuner.fit_predict(
                x[train],
                y_train,
                x[val],
                seed=seed,
                training=HeadTraining(epochs=config.epochs),
                progress=bar(f"{tag}: {name} head"),
                cancel=cancel,
            )
            scores[name].add(y_val, pred)
    segmentation = None
    if "seg" in methods:
        segmentation = run_segmentation_evaluation(
            features,
            splits,
            seed=config.seed,
            main_k=config.models.k,
            ks=config.seg_ks,
            progress=bar("seg: SegGPT on the masked images"),
            cancel=cancel,
        )
    fractions_json = {}
    for fraction, values in fraction_scores.items():
        mean, std = protocol.mean_std(values)
        fractions_json[f"{fraction:.1f}"] = {"mean": mean, "std": std, "per_split": values}
    extra: dict[str, Any] = {}
    if segmentation is not None:
        extra["segmentation"] = segmentation
    if "dino-seg" in methods:
        extra["familiarity_set_aside"] = set_aside.to_json()
    return {
        "methods": {name: s.to_json() for name, s in scores.items()},
        "fractions": fractions_json,
        **extra,
        "splits": [
            split.to_json() | {"validation_files": [dataset.items[i].key for i in split.validation]}
            for split in splits
        ],
        "config": config.to_json() | {"acceleration": features.acceleration},
        "dataset": {
            "root": str(dataset.root),
            "n_images": len(dataset),
            "n_masked": len(dataset.masked_indices),
            "class_counts": dataset.class_counts(),
            "files": [item.key for item in dataset.items],
        },
        "work": asdict(counts),
        "timing": {"seconds": time.perf_counter() - started},
    }
