"""How far to trust a site's results (issue 14), for the app and the CLI (no Qt).

- :func:`photo_features` / :func:`prompt_space`: the whole-image retrieval [CLS] of stored photos,
  kept in the store (``retrieval_features``) so each photo goes through DINO for this once;
  the :class:`~eczema_tracker.ml.familiarity.PromptSpace` of a site's prompts.
- :func:`prompt_agreement`: each prompt photo of a site segmented with the others, compared with
  the mask the person painted (IoU); the mean and the weakest example.
  :func:`seggpt_agreement` does it with the app's SegGPT and keeps the result in the store
  (:mod:`eczema_tracker.app.trust.kept`); while the site's prompts and the models stay the
  same it is read back from there instead, with no model loaded.
- :func:`next_to_paint`: the unannotated photo of a site least like its prompts (greedy
  k-center), the most useful one to paint as a new example.

The measures themselves are :mod:`eczema_tracker.ml.familiarity` (numpy only); models are
reached through :class:`~eczema_tracker.app.services.PipelineCache` and imported lazily.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from eczema_tracker.core.jobs import (
    CancelCheck,
    ProgressCallback,
    acquire,
    raise_if_cancelled,
    report,
)

if TYPE_CHECKING:
    from PIL import Image

    from eczema_tracker.app.services import ModelChoice, PipelineCache
    from eczema_tracker.ml.familiarity import PromptAgreement, PromptSpace
    from eczema_tracker.ml.pipeline import AnalysisPipeline
    from eczema_tracker.ml.seggpt import Prompt
    from eczema_tracker.store import Store

log = logging.getLogger(__name__)

#: Fewest prompts whose agreement can be checked (each is checked by the others).
MIN_PROMPTS_TO_CHECK = 2
#: Photos decoded and sent to DINO at once by :func:`photo_features` (memory stays bounded;
#: a cancel is seen between batches).
FEATURE_BATCH = 8


# -- retrieval features -----------------------------------------------------------------------
class RetrievalEncoder(Protocol):
    """What :func:`photo_features` needs of an encoder (``ml.dino.DinoEncoder`` is one)."""

    def retrieval_features(self, images: Sequence[Image.Image]) -> np.ndarray: ...


def feature_source_of(encoder: Any) -> str:
    """The name features of ``encoder`` are kept under: its backbone and the analysis size
    (features of another backbone or of a photo decoded at another size never mix)."""
    from eczema_tracker.ml.pipeline import ANALYSIS_MAX_SIDE

    backbone = getattr(encoder, "backbone_id", None) or type(encoder).__name__
    return f"{backbone}@{ANALYSIS_MAX_SIDE}"


def photo_features(
    store: Store,
    photo_ids: Sequence[int],
    encoder: RetrievalEncoder,
    *,
    images: dict[int, Image.Image] | None = None,
    keep: bool = True,
    cancel: CancelCheck | None = None,
) -> np.ndarray:
    """(N, D) whole-image retrieval [CLS] of ``photo_ids`` (in order), from the store when kept,
    else computed (each photo decoded at the analysis size; ``images`` may hold them already)
    and kept when ``keep`` and the store is writable.

    Missing photos go through DINO :data:`FEATURE_BATCH` at a time: only one batch of decoded
    photos is held, each batch is kept as soon as it is computed, and ``cancel`` is checked
    before every photo is decoded and between batches (what was kept stays kept).
    """
    from eczema_tracker.ml.pipeline import ANALYSIS_MAX_SIDE

    source = feature_source_of(encoder)
    ids = [int(i) for i in photo_ids]
    found = store.kept_retrieval_features(ids, source)
    missing = list(dict.fromkeys(i for i in ids if i not in found))
    for start in range(0, len(missing), FEATURE_BATCH):
        batch = missing[start : start + FEATURE_BATCH]
        pictures = []
        for pid in batch:
            raise_if_cancelled(cancel)
            given = None if images is None else images.get(pid)
            pictures.append(given or store.load_image(pid, max_side=ANALYSIS_MAX_SIDE))
        raise_if_cancelled(cancel)
        computed = np.asarray(encoder.retrieval_features(pictures), dtype=np.float32)
        del pictures  # one batch of decoded photos at a time
        new = dict(zip(batch, computed, strict=True))
        if keep and not store.readonly:
            store.keep_retrieval_features(new, source)
        found.update(new)
    if not ids:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([np.asarray(found[i], dtype=np.float32) for i in ids])


def prompt_space(
    store: Store, site: str, encoder: RetrievalEncoder, *, cancel: CancelCheck | None = None
) -> tuple[PromptSpace, list[int]] | None:
    """The site's prompts' :class:`PromptSpace` and their photo ids (its rows' order); None
    without prompts."""
    from eczema_tracker.ml.familiarity import PromptSpace

    ids = [record.photo_id for record in store.prompts(site)]
    if not ids:
        return None
    return PromptSpace(photo_features(store, ids, encoder, cancel=cancel)), ids


# -- prompt agreement -------------------------------------------------------------------------
class PromptSegmenter(Protocol):
    """Segments one of a site's prompt photos with some of the others.

    ``prepare(prompts)`` is called once with the site's prompts (``ml.seggpt.Prompt``, key = the
    photo id as text) and returns their retrieval features (P, D) to pick the nearest others
    with, or None to take them in order; ``segment(i, others)`` returns prompt ``i``'s mask
    (bool, the shape of its image) predicted from the prompts ``others`` (indices).
    """

    def prepare(self, prompts: Sequence[Prompt]) -> np.ndarray | None: ...

    def segment(self, index: int, others: Sequence[int]) -> np.ndarray: ...


@dataclass(frozen=True)
class SiteAgreement:
    """How well a site's examples agree (``agreement`` None with fewer than 2 of them).

    ``photo_ids[i]`` is the photo of ``agreement.ious[i]``; ``taken_at[i]`` when it was taken;
    ``computed_at`` when the check ran, for a result kept from an earlier check (None: just now).
    """

    site: str
    photo_ids: tuple[int, ...]
    taken_at: tuple[str, ...]
    agreement: PromptAgreement | None
    computed_at: str | None = None

    @property
    def mean_iou(self) -> float | None:
        return None if self.agreement is None else self.agreement.mean

    @property
    def weakest_photo_id(self) -> int | None:
        return None if self.agreement is None else self.photo_ids[self.agreement.weakest]

    @property
    def weakest_taken_at(self) -> str | None:
        return None if self.agreement is None else self.taken_at[self.agreement.weakest]

    @property
    def k_used(self) -> int | None:
        return None if self.agreement is None else self.agreement.k_used

    @property
    def note(self) -> str:
        if self.agreement is None:
            n = len(self.photo_ids)
            examples = "no examples" if n == 0 else "1 example" if n == 1 else f"{n} examples"
            return (
                f"{examples} so far: paint at least {MIN_PROMPTS_TO_CHECK} to check how well "
                "they agree"
            )
        return self.agreement.note

    def describe(self) -> str:
        """One plain sentence, e.g. "Your examples agree: 78 % overlap on average; the weakest
        is the photo of 12 March." (plus the K=1 note with only 2 examples)."""
        if self.agreement is None:
            return self.note[0].upper() + self.note[1:] + "."
        day = _day_text(self.weakest_taken_at)
        text = (
            f"Your examples agree: {100 * self.agreement.mean:.0f} % overlap on average; "
            f"the weakest is the photo of {day} ({100 * min(self.agreement.ious):.0f} %)."
        )
        if self.agreement.k_used < 2:
            text += f" With {len(self.photo_ids)} examples each is checked with 1 other."
        return text

    def to_json(self) -> dict[str, Any]:
        """What ``prompts check --json`` prints of it."""
        out: dict[str, Any] = {
            "site": self.site,
            "prompt_photo_ids": list(self.photo_ids),
            "mean_iou": self.mean_iou,
            "weakest_photo_id": self.weakest_photo_id,
            "weakest_taken_at": self.weakest_taken_at,
            "k_used": self.k_used,
            "note": self.note,
            "computed_at": self.computed_at,
            "per_prompt": [],
        }
        if self.agreement is not None:
            out["per_prompt"] = [
                {"photo_id": pid, "iou": iou, "checked_with": [self.photo_ids[j] for j in used]}
                for pid, iou, used in zip(
                    self.photo_ids, self.agreement.ious, self.agreement.used, strict=True
                )
            ]
        return out


def _day_text(taken_at: str | None) -> str:
    if not taken_at:
        return "an unknown day"
    try:
        when = datetime.fromisoformat(taken_at.strip())
    except ValueError:
        return taken_at
    return f"{when.day} {when:%B %Y}"


def prompt_agreement(
    store: Store,
    site: str,
    segmenter: PromptSegmenter,
    *,
    k: int = 2,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> SiteAgreement:
    """Segment each prompt photo of ``site`` with the (at most ``k``) others nearest to it and
    compare with its painted mask (IoU); K=1 with only 2 prompts (the result says so).

    Cancellable between photos (``core.jobs.Cancelled``); reads the store only, except for
    keeping retrieval features a SegGPT segmenter computed.
    """
    from eczema_tracker.app.services import site_prompts
    from eczema_tracker.ml.familiarity import prompt_agreement as measure

    records = store.prompts(site)
    ids = tuple(r.photo_id for r in records)
    taken = tuple(store.photo(pid).taken_at for pid in ids)
    if len(ids) < MIN_PROMPTS_TO_CHECK:
        return SiteAgreement(site, ids, taken, None)
    raise_if_cancelled(cancel)
    report(progress, 0, len(ids), f"reading the examples of {site}")
    prompts = site_prompts(store, site)
    features = segmenter.prepare(prompts)
    index_of = {id(p.image): i for i, p in enumerate(prompts)}
    done = [0]

    def segment(image: Any, others: Sequence[Any], _masks: Sequence[np.ndarray]) -> np.ndarray:
        raise_if_cancelled(cancel)
        mask = segmenter.segment(index_of[id(image)], [index_of[id(o)] for o in others])
        done[0] += 1
        report(progress, done[0], len(ids), f"checking example {done[0]} of {len(ids)}")
        return np.asarray(mask, dtype=bool)

    agreement = measure(
        [p.image for p in prompts],
        [np.asarray(p.mask, dtype=bool) for p in prompts],
        segment,
        k=k,
        features=features,
        keys=[str(pid) for pid in ids],
    )
    return SiteAgreement(site, ids, taken, agreement)


class SegGptPromptSegmenter:
    """:class:`PromptSegmenter` with the app's own SegGPT (from a :class:`PipelineCache`).

    Use it as a context manager: while open it holds the cache's prompt pool (an analysis of
    another site waits) and on leaving the cache forgets which prompts its pipeline has, so
    the next analysis sets its site's prompts again.
    """

    def __init__(
        self,
        store: Store,
        pipelines: PipelineCache,
        choice: ModelChoice,
        *,
        download: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> None:
        self._store = store
        self._pipelines = pipelines
        self._choice = choice
        self._download = download
        self._progress = progress
        self._cancel = cancel
        self._pipeline: AnalysisPipeline | None = None
        self._prompts: list[Prompt] = []
        self._held: Callable[[], None] | None = None

    def __enter__(self) -> SegGptPromptSegmenter:
        pipelines = self._pipelines
        self._pipeline = pipelines.get(
            self._choice, download=self._download, progress=self._progress, cancel=self._cancel
        )
        acquire(pipelines.pool_lock, self._cancel)
        self._held = pipelines.pool_lock.release
        return self

    def __exit__(self, *exc: object) -> None:
        self._pipelines.forget_prompts()
        if self._held is not None:
            self._held()
            self._held = None

    def _require(self) -> AnalysisPipeline:
        if self._pipeline is None or self._held is None:
            raise RuntimeError("use SegGptPromptSegmenter in a with block")
        return self._pipeline

    def prepare(self, prompts: Sequence[Prompt]) -> np.ndarray | None:
        pipeline = self._require()
        self._prompts = list(prompts)
        self._pipelines.forget_prompts()  # the pool is about to hold this site's prompts
        pipeline.set_prompts(self._prompts)
        ids = [int(str(p.key)) for p in self._prompts]
        images = {int(str(p.key)): p.image for p in self._prompts}
        return photo_features(self._store, ids, pipeline.encoder, images=images)

    def segment(self, index: int, others: Sequence[int]) -> np.ndarray:
        segmenter = self._require().segmenter
        keys = [str(p.key) for p in self._prompts]
        wanted = {keys[j] for j in others}
        saved = segmenter.k
        segmenter.k = len(wanted)  # exactly these prompts
        try:
            result = segmenter.segment(
                self._prompts[index].image, exclude_keys=[k for k in keys if k not in wanted]
            )
        finally:
            segmenter.k = saved
        if set(result.prompt_keys) != wanted:
            raise RuntimeError(f"segmented with {result.prompt_keys}, expected {sorted(wanted)}")
        return np.asarray(result.mask, dtype=bool)


def seggpt_agreement(
    store: Store,
    site: str,
    pipelines: PipelineCache,
    choice: ModelChoice,
    *,
    download: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    reuse: bool = True,
) -> SiteAgreement:
    """:func:`prompt_agreement` of ``site`` with the app's SegGPT (the K of ``choice``).

    With ``reuse``, a result kept for the site's current prompt set and these models is
    returned as it is (:func:`kept_agreement`: no model is loaded, nothing segmented); a result
    computed here is kept (a writable store, and the prompts unchanged while it ran).
    """
    from eczema_tracker.app.trust.kept import (
        keep_agreement,
        kept_agreement,
        model_key,
        prompt_set_key,
    )

    if len(store.prompts(site)) < MIN_PROMPTS_TO_CHECK:
        return prompt_agreement(store, site, _NoSegmenter(), k=choice.k)
    prompts_key = prompt_set_key(store, site)
    if reuse:
        kept = kept_agreement(store, site, choice, prompts_key=prompts_key)
        if kept is not None:
            return kept
    with SegGptPromptSegmenter(
        store, pipelines, choice, download=download, progress=progress, cancel=cancel
    ) as segmenter:
        result = prompt_agreement(
            store, site, segmenter, k=choice.k, progress=progress, cancel=cancel
        )
    keep_agreement(store, result, prompts_key, model_key(choice))
    return result


class _NoSegmenter:
    """For a site with too few prompts: never asked to segment."""

    def prepare(self, prompts: Sequence[Prompt]) -> np.ndarray | None:  # pragma: no cover
        return None

    def segment(self, index: int, others: Sequence[int]) -> np.ndarray:  # pragma: no cover
        raise AssertionError("no segmentation with fewer than 2 prompts")


# -- what to paint next -----------------------------------------------------------------------
@dataclass(frozen=True)
class PhotoToPaint:
    """The photo to paint next and its nearest-prompt distance (None: the site has no prompts,
    the photo most like the others is suggested as a first example)."""

    site: str
    photo_id: int
    taken_at: str
    distance: float | None
    candidates: int  #: unannotated photos with features, among which it was chosen

    def to_json(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "photo_id": self.photo_id,
            "taken_at": self.taken_at,
            "nearest_prompt_distance": self.distance,
            "candidates": self.candidates,
        }


def next_to_paint(
    store: Store,
    site: str,
    *,
    encoder: RetrievalEncoder | None = None,
    feature_source: str | None = None,
    cancel: CancelCheck | None = None,
) -> PhotoToPaint | None:
    """The unannotated photo of ``site`` farthest from its nearest prompt (greedy k-center).

    With ``encoder`` every photo takes part (missing features are computed and kept); without,
    only photos whose retrieval features the store keeps for ``feature_source`` (None: the
    backbone most recently kept for the site), i.e. those analysed since schema 4, and no model
    is loaded. None when no unannotated photo has features.
    """
    from eczema_tracker.ml.familiarity import next_to_paint as farthest

    photos = store.photos(site)
    prompt_ids = [p.id for p in photos if p.is_prompt]
    candidates = [p for p in photos if not p.is_prompt]
    if not candidates:
        return None
    if encoder is not None:
        ids = [p.id for p in candidates]
        cand = photo_features(store, ids, encoder, cancel=cancel)
        prompts = photo_features(store, prompt_ids, encoder, cancel=cancel) if prompt_ids else None
    else:
        source = feature_source
        if source is None:
            sources = store.retrieval_feature_sources([p.id for p in photos])
            if not sources:
                return None
            source = sources[0]
        kept = store.kept_retrieval_features([p.id for p in photos], source)
        candidates = [p for p in candidates if p.id in kept]
        if not candidates:
            return None
        cand = np.stack([kept[p.id] for p in candidates])
        known = [kept[i] for i in prompt_ids if i in kept]
        if prompt_ids and not known:
            return None  # prompts without features: the farthest cannot be told
        prompts = np.stack(known) if known else None
    pick = farthest(cand, prompts)
    if pick is None:
        return None
    chosen = candidates[pick.index]
    return PhotoToPaint(site, chosen.id, chosen.taken_at, pick.distance, len(candidates))
