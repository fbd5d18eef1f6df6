"""``evaluate --methods seg``: how well SegGPT's few-shot masks match the painted ones.

For every split, every masked image is segmented with prompts from the *training fold's*
masked images, never itself: the validation fold's masked images (held out) and the training
fold's (leave-one-out). Scored with IoU and Dice against the painted mask. Settings:

- the main one, as dino-seg: K = ``--k`` nearest prompts by DINO [CLS] Euclidean distance
  (shares dino-seg's cached masks);
- ablations the paper does not report: K in {1, 2, 3}, nearest vs random prompts. Random
  prompts are one seeded permutation of the candidates per (seed, split, image), so the
  random K=1 set is inside the K=2 set, which is inside K=3.

A K larger than an image's candidate prompts is skipped for that image (counted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled, report
from eczema_tracker.ml.familiarity import mask_dice, mask_iou
from eczema_tracker.research import protocol
from eczema_tracker.research.features import FeatureBuilder

ABLATION_K: tuple[int, ...] = (1, 2, 3)
CHOICES = ("nearest", "random")
SUBSETS = ("validation", "training")
#: Written next to results.json: one row per (split, image, setting).
PER_IMAGE_CSV = "segmentation_per_image.csv"
CSV_COLUMNS = ("split", "subset", "file", "k", "choice", "prompts", "iou", "dice")


@dataclass(frozen=True)
class SegScore:
    """One image segmented under one setting in one split."""

    split: int
    subset: str  # "validation" or "training"
    file: str
    k: int
    choice: str  # "nearest" or "random"
    prompts: tuple[str, ...]
    iou: float
    dice: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"prompts": list(self.prompts)}


def setting_name(k: int, choice: str) -> str:
    """The key of a setting in results.json (``"k=2/nearest"``)."""
    return f"k={k}/{choice}"


def random_prompts(
    candidates: Sequence[int], k: int, *, seed: int, split: int, image: int
) -> list[int]:
    """The first ``k`` of one seeded permutation of ``candidates`` (nested in ``k``)."""
    rng = np.random.default_rng([seed, split, image])
    order = rng.permutation(len(candidates))
    return [int(candidates[j]) for j in order[:k]]


def nearest_prompts(
    query: np.ndarray, candidates: Sequence[int], pool_features: dict[int, np.ndarray], k: int
) -> list[int]:
    """The ``k`` candidates nearest to ``query`` (Euclidean on raw [CLS], as the segmenter)."""
    rows = np.stack([pool_features[c] for c in candidates])
    distances = np.linalg.norm(rows - query[None, :], axis=1)
    return [int(candidates[j]) for j in np.argsort(distances, kind="stable")[:k]]


def segmentation_scores(
    features: FeatureBuilder,
    splits: Sequence[protocol.Split],
    *,
    seed: int,
    main_k: int,
    ks: Sequence[int] = ABLATION_K,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> tuple[list[SegScore], int]:
    """Every masked image of every split scored under every setting; also the skipped count."""
    dataset = features.dataset
    has_mask = [item.has_mask for item in dataset.items]
    masked = [i for i in range(len(dataset)) if has_mask[i]]
    retrieval = dict(zip(masked, features.retrieval_features(masked, cancel=cancel), strict=True))
    settings = [(k, c) for k in sorted(set(ks)) for c in CHOICES]
    scores: list[SegScore] = []
    skipped = 0
    total = sum(len(masked) for _ in splits) * len(settings)
    done = 0
    for split in splits:
        pool = [i for i in split.train if has_mask[i]]
        validation = set(split.validation)
        for i in masked:
            item = dataset.items[i]
            truth = dataset.load_mask(i)
            candidates = [j for j in pool if j != i]
            for k, choice in settings:
                raise_if_cancelled(cancel)
                report(progress, done, total, "segmenting masked images (SegGPT)")
                done += 1
                if k > len(candidates):
                    skipped += 1
                    continue
                if choice == "nearest" and k == main_k:
                    mask, used = features.retrieved_mask(i, pool)
                elif choice == "nearest":
                    chosen = nearest_prompts(retrieval[i], candidates, retrieval, k)
                    mask, used = features.mask_with_prompts(i, pool, chosen)
                else:
                    chosen = random_prompts(candidates, k, seed=seed, split=split.index, image=i)
                    mask, used = features.mask_with_prompts(i, pool, chosen)
                if item.key in used:  # the protocol's one promise; never let it slip
                    raise RuntimeError(f"{item.key} was segmented with itself as a prompt")
                scores.append(
                    SegScore(
                        split=split.index,
                        subset="validation" if i in validation else "training",
                        file=item.key,
                        k=k,
                        choice=choice,
                        prompts=tuple(used),
                        iou=mask_iou(mask, truth),
                        dice=mask_dice(mask, truth),
                    )
                )
    report(progress, total, total, "segmenting masked images (SegGPT)")
    return scores, skipped


def _none_if_nan(value: float) -> float | None:
    return None if value != value else value  # JSON has no NaN


def _summary(scores: Sequence[SegScore], n_splits: int) -> dict[str, Any]:
    """Per split mean ± std over its images; then mean ± std of the split means."""
    per_split = []
    for s in range(n_splits):
        rows = [x for x in scores if x.split == s]
        iou = np.array([x.iou for x in rows])
        dice = np.array([x.dice for x in rows])
        per_split.append(
            {
                "split": s,
                "n_images": len(rows),
                "iou_mean": float(iou.mean()) if rows else None,
                "iou_std": float(iou.std(ddof=1)) if len(rows) > 1 else (0.0 if rows else None),
                "dice_mean": float(dice.mean()) if rows else None,
                "dice_std": float(dice.std(ddof=1)) if len(rows) > 1 else (0.0 if rows else None),
            }
        )
    means = [p["iou_mean"] for p in per_split if p["iou_mean"] is not None]
    dice_means = [p["dice_mean"] for p in per_split if p["dice_mean"] is not None]
    iou_mean, iou_std = protocol.mean_std(means)
    dice_mean, dice_std = protocol.mean_std(dice_means)
    return {
        "iou_mean": _none_if_nan(iou_mean),
        "iou_std": _none_if_nan(iou_std),
        "dice_mean": _none_if_nan(dice_mean),
        "dice_std": _none_if_nan(dice_std),
        "n_scored": len(scores),
        "per_split": per_split,
    }


def summarise(
    scores: Sequence[SegScore], *, n_splits: int, main_k: int, ks: Sequence[int], skipped: int
) -> dict[str, Any]:
    """The ``"segmentation"`` section of results.json (per-image rows included)."""
    settings = {}
    for k in sorted(set(ks) | {main_k}):
        for choice in CHOICES:
            rows = [x for x in scores if x.k == k and x.choice == choice]
            if not rows and k != main_k:
                continue
            settings[setting_name(k, choice)] = {
                subset: _summary([x for x in rows if x.subset == subset], n_splits)
                for subset in SUBSETS
            }
    return {
        "main": setting_name(main_k, "nearest"),
        "settings": settings,
        "skipped": skipped,
        "per_image_csv": PER_IMAGE_CSV,
        "per_image": [x.to_json() for x in scores],
        "choices": {
            "images": "every masked image, each split: validation fold (held out; prompts from "
            "the training fold) and training fold (leave-one-out: the other masked training images)",
            "prompts": "nearest: K nearest by DINO [CLS] Euclidean distance (the app's "
            "retrieval); random: the first K of a permutation seeded by (seed, split, image)",
            "std": "per split: over images (ddof=1); overall: over the split means (ddof=1)",
            "empty": "IoU and Dice are 1 when both masks are empty",
            "skipped": "a K larger than the image's candidate prompts is skipped, not scored",
        },
    }


def run_segmentation_evaluation(
    features: FeatureBuilder,
    splits: Sequence[protocol.Split],
    *,
    seed: int,
    main_k: int,
    ks: Sequence[int] = ABLATION_K,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> dict[str, Any]:
    """Score and summarise (the ``"segmentation"`` section of results.json)."""
    settings_ks = tuple(sorted(set(ks) | {main_k}))
    scores, skipped = segmentation_scores(
        features, splits, seed=seed, main_k=main_k, ks=settings_ks, progress=progress, cancel=cancel
    )
    return summarise(scores, n_splits=len(splits), main_k=main_k, ks=settings_ks, skipped=skipped)


def per_image_csv(section: dict[str, Any]) -> str:
    """The per-image rows as CSV text (prompts joined with ``;``)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in section["per_image"]:
        writer.writerow(
            [
                row["split"],
                row["subset"],
                row["file"],
                row["k"],
                row["choice"],
                ";".join(row["prompts"]),
                f"{row['iou']:.6f}",
                f"{row['dice']:.6f}",
            ]
        )
    return buffer.getvalue()
