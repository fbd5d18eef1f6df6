"""Does ranking by familiarity pick out dino-seg's errors?

Per split, each validation image's familiarity is its nearest-prompt distance (the
:class:`eczema_tracker.ml.familiarity.PromptSpace` [CLS] ratio, on the retrieval features the
research feature cache keeps; the app's verdict, ``ExampleSpace``, reads intermediate-layer
features that cache does not hold) to the prompt pool dino-seg used - the training fold's masked
images - in units of that pool's spread. The least familiar
:data:`SET_ASIDE_FRACTION` of the validation fold is set aside and the weighted F1 recomputed
on the rest. Baseline: the same number set aside at random (:data:`RANDOM_DRAWS` seeded
draws, mean), so a gain that any removal would give is not credited to the flag.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eczema_tracker.ml import familiarity
from eczema_tracker.research import protocol

SET_ASIDE_FRACTION = 0.10
RANDOM_DRAWS = 200


def _rate(mask: np.ndarray) -> float | None:
    return float(mask.mean()) if mask.size else None


def set_aside_least_familiar(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    ratios: Sequence[float] | np.ndarray,
    *,
    fraction: float = SET_ASIDE_FRACTION,
    seed: int = 0,
) -> dict[str, Any]:
    """F1 with and without the least familiar ``fraction`` (at least one image) of a fold."""
    truth, predicted = np.asarray(y_true), np.asarray(y_pred)
    distance = np.asarray(ratios, dtype=np.float64)
    n = len(truth)
    n_aside = min(n - 1, max(1, math.ceil(fraction * n))) if n > 1 else 0
    order = np.argsort(-distance, kind="stable")  # least familiar first
    aside = np.zeros(n, dtype=bool)
    aside[order[:n_aside]] = True
    wrong = np.asarray(truth != predicted, dtype=bool)
    rng = np.random.default_rng(seed)
    random_f1 = []
    for _ in range(RANDOM_DRAWS if n_aside else 0):
        keep = np.ones(n, dtype=bool)
        keep[rng.choice(n, size=n_aside, replace=False)] = False
        random_f1.append(protocol.weighted_f1(truth[keep], predicted[keep]))
    return {
        "n_validation": n,
        "n_set_aside": n_aside,
        "f1_all": protocol.weighted_f1(truth, predicted),
        "f1_kept": protocol.weighted_f1(truth[~aside], predicted[~aside]),
        "f1_kept_random_mean": float(np.mean(random_f1)) if random_f1 else None,
        "f1_change": protocol.weighted_f1(truth[~aside], predicted[~aside])
        - protocol.weighted_f1(truth, predicted),
        "error_rate_set_aside": _rate(wrong[aside]),
        "error_rate_kept": _rate(wrong[~aside]),
    }


@dataclass
class SetAsideScores:
    """Collects :func:`set_aside_least_familiar` per split (dino-seg's validation folds)."""

    metric: familiarity.Metric = familiarity.DEFAULT_METRIC
    fraction: float = SET_ASIDE_FRACTION
    per_split: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        query_features: np.ndarray,
        pool_features: np.ndarray,
        *,
        seed: int,
    ) -> None:
        """One split: validation labels, predictions, their [CLS] and the prompt pool's."""
        space = familiarity.PromptSpace(pool_features, metric=self.metric)
        ratios = space.ratios(query_features)
        if np.isnan(ratios).any():  # one-prompt pool: rank by raw distance instead
            ratios = familiarity.pairwise_distances(query_features, pool_features, self.metric).min(
                1
            )
        result = set_aside_least_familiar(y_true, y_pred, ratios, fraction=self.fraction, seed=seed)
        self.per_split.append(result | {"scale": space.scale})

    def to_json(self) -> dict[str, Any]:
        def mean_std(key: str) -> dict[str, float | None]:
            values = [s[key] for s in self.per_split if s[key] is not None]
            mean, std = protocol.mean_std(values)
            return {"mean": None if mean != mean else mean, "std": None if std != std else std}

        return {
            "method": "dino-seg",
            "measure": f"nearest-prompt {self.metric} distance to the training fold's masked "
            "images (dino-seg's prompt pool), in units of the pool's median nearest-other distance",
            "fraction_set_aside": self.fraction,
            "random_baseline": f"the same number set aside at random, mean of {RANDOM_DRAWS} "
            "draws seeded by seed+split",
            "f1_all": mean_std("f1_all"),
            "f1_kept": mean_std("f1_kept"),
            "f1_kept_random": mean_std("f1_kept_random_mean"),
            "f1_change": mean_std("f1_change"),
            "error_rate_set_aside": mean_std("error_rate_set_aside"),
            "error_rate_kept": mean_std("error_rate_kept"),
            "per_split": self.per_split,
        }
