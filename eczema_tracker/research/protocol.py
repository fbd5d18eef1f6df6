"""The paper's evaluation protocol: seeded 80/20 splits, weighted F1, mean ± std over folds.

Choices (recorded in every run's config):

- Splits are *stratified* so each validation fold keeps the class balance (the paper does
  not say; with 528 unevenly labelled photos an unstratified fold can miss a class). Strata
  are (label, has mask) so every training fold keeps its share of prompt masks; when a
  stratum has fewer than 2 images we fall back to label only, then to plain random splits.
- Each split ``i`` uses the random state ``seed + i`` (independent repeated splits, as the
  paper's "5 random splits", not K-fold: validation folds may overlap between splits).
- Spread over folds is the *sample* standard deviation (ddof=1); 0.0 for a single split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from eczema_tracker.research.dataset import NUM_CLASSES

VALIDATION_FRACTION = 0.2
TRAINING_FRACTIONS: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 1.0)


@dataclass(frozen=True)
class Split:
    """One train/validation split, as sorted dataset indices."""

    index: int
    train: tuple[int, ...]
    validation: tuple[int, ...]
    stratified_by: str  # "label+mask", "label" or "none"

    def to_json(self) -> dict:
        return asdict(self) | {"train": list(self.train), "validation": list(self.validation)}


def _pick_strata(
    labels: np.ndarray, has_mask: np.ndarray, n_val: int
) -> tuple[np.ndarray | None, str]:
    """The finest stratification with >= 2 images per stratum that both folds can hold."""
    n = len(labels)
    candidates = [("label", labels)]
    if has_mask.any() and not has_mask.all():
        candidates.insert(0, ("label+mask", labels * 2 + has_mask.astype(np.int64)))
    for name, strata in candidates:
        _, counts = np.unique(strata, return_counts=True)
        if counts.min() >= 2 and len(counts) <= min(n_val, n - n_val):
            return strata, name
    return None, "none"


def make_splits(
    labels: Sequence[int] | np.ndarray,
    *,
    n_splits: int = 5,
    seed: int = 0,
    validation_fraction: float = VALIDATION_FRACTION,
    has_mask: Sequence[bool] | np.ndarray | None = None,
) -> list[Split]:
    """``n_splits`` reproducible stratified random splits of ``len(labels)`` items."""
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    if n_splits < 1:
        raise ValueError("the number of splits must be at least 1")
    n_val = int(round(n * validation_fraction))
    if n_val < 1 or n - n_val < 1:
        raise ValueError(
            f"{n} images are too few for a {1 - validation_fraction:.0%}/{validation_fraction:.0%} split"
        )
    masks = np.zeros(n, dtype=bool) if has_mask is None else np.asarray(has_mask, dtype=bool)
    strata, name = _pick_strata(labels, masks, n_val)
    from sklearn.model_selection import train_test_split

    splits = []
    for i in range(n_splits):
        train, val = train_test_split(
            np.arange(n), test_size=n_val, random_state=seed + i, shuffle=True, stratify=strata
        )
        splits.append(Split(i, tuple(sorted(map(int, train))), tuple(sorted(map(int, val))), name))
    return splits


def training_subset(
    train: Sequence[int], labels: Sequence[int] | np.ndarray, fraction: float, *, seed: int
) -> list[int]:
    """A class-balanced ``fraction`` of ``train`` (sorted); nested: smaller fractions are subsets.

    Each class keeps ``round(fraction * n_class)`` images, at least one; the order within a
    class is one seeded permutation, so 20 % ⊂ 40 % ⊂ ... ⊂ 100 % for the same seed.
    """
    if not 0 < fraction <= 1:
        raise ValueError("a training fraction must be in (0, 1]")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for cls in np.unique(labels[list(train)]):
        members = [i for i in train if labels[i] == cls]
        order = rng.permutation(len(members))
        keep = max(1, int(round(fraction * len(members))))
        chosen.extend(members[j] for j in order[:keep])
    return sorted(chosen)


def confusion_matrix(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    n_classes: int = NUM_CLASSES,
) -> np.ndarray:
    """(n_classes, n_classes) counts; row = true class, column = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return matrix


def per_class_f1(matrix: np.ndarray) -> np.ndarray:
    """F1 of each class from a confusion matrix (0 where precision + recall is 0)."""
    tp = np.diag(matrix).astype(np.float64)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    denominator = predicted + actual
    return np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)


def weighted_f1(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    n_classes: int = NUM_CLASSES,
) -> float:
    """Per-class F1 averaged with weights = each class's share of ``y_true`` (sklearn's "weighted")."""
    matrix = confusion_matrix(y_true, y_pred, n_classes)
    support = matrix.sum(axis=1)
    if support.sum() == 0:
        return 0.0
    return float(np.sum(per_class_f1(matrix) * support) / support.sum())


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0.0 for a single value)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return float("nan"), float("nan")
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0
