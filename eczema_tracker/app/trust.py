"""How far to trust a site's results (issue 14), for the app and the CLI (no Qt).

- :func:`photo_features`: the whole-image retrieval [CLS] (or, ``familiarity=True``, the
  familiarity features) of stored photos, kept in the store (``retrieval_features``) so each
  photo goes through DINO for this once; :func:`site_examples`: the
  :class:`~eczema_tracker.ml.familiarity.ExampleSpace` that judges a site's photos "unlike your
  examples", with the bound measured for the backbone or calibrated from the site's photos.
- :func:`prompt_agreement`: each prompt photo of a site segmented with the others, compared with
  the mask the person painted (IoU); the mean and the weakest example.
  :func:`seggpt_agreement` does it with the app's SegGPT and keeps the result in the store
  (:mod:`eczema_tracker.app.trust_kept`); while the site's prompts and the models stay the
  same it is read back from there instead, with no model loaded.
- :func:`site_reliability` / :func:`reliability_of`: whether a site's results are reliable
  (its examples agree at least :data:`RELIABLE_AGREEMENT`) and if not, why; every view (the
  library's summary, the photo view, the timeline, the report, the CLI) asks it.
- :func:`weakest_disagreement`: the weakest example's painted mask next to what SegGPT found
  in it from the other examples (recomputed off the GUI thread; the check keeps only IoUs).
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
    from eczema_tracker.ml.familiarity import ExampleSpace, Familiarity, PromptAgreement
    from eczema_tracker.ml.pipeline import AnalysisPipeline
    from eczema_tracker.ml.seggpt import Prompt
    from eczema_tracker.store import Store

log = logging.getLogger(__name__)

#: Fewest prompts whose agreement can be checked (each is checked by the others).
MIN_PROMPTS_TO_CHECK = 2
#: Below this mean prompt agreement (IoU) a site's results are "not reliable yet".
#:
#: Chosen from ``evaluate --methods seg`` on what runs without the real SegGPT weights: the
#: synthetic research set (24 photos, every one masked, 3 splits; ``tests/research_synthetic``)
#: with the tiny random SegGPT of ``tests/tiny_models`` (seeds 0, 1, 2) scored IoU 0.000 in all
#: six settings (K 1-3, nearest and random): a SegGPT that knows nothing returns empty masks.
#: The same run with SegGPT's forward replaced by "copy the chosen examples' painted masks"
#: (the photo itself ignored) scored mean IoU 0.11, 90th percentile 0.33 at K=1 (0.02 / 0.02
#: at K=2, 0.05 / 0.09 at K=3). K=1 is what a site with 2 examples is checked with, so an
#: agreement a photo-blind copy reaches for 1 photo in 10 (0.33) says nothing about the
#: photos: the bar is just above it, 0.35. At IoU 0.35 two masks of equal size share about
#: half their pixels (Dice 0.52); below it most of a lesion is missed or made up, so areas and
#: grades built on the masks are not to be trusted.
RELIABLE_AGREEMENT = 0.35
#: What a site below :data:`RELIABLE_AGREEMENT` is marked with, everywhere.
UNRELIABLE_TEXT = "results not reliable yet \u2014 paint another example"
#: The short name of the mark (legends: hollow markers).
UNRELIABLE_LABEL = "not reliable yet (examples disagree)"
#: The mark that goes with it where text carries it (never colour alone).
UNRELIABLE_MARK = "\u26a0"
#: Its colour (the library's summary, the photo view's note).
UNRELIABLE_COLOR = "#c62828"
#: Photos decoded and sent to DINO at once by :func:`photo_features` (memory stays bounded;
#: a cancel is seen between batches).
FEATURE_BATCH = 8


# -- retrieval features -----------------------------------------------------------------------
class RetrievalEncoder(Protocol):
    """What :func:`photo_features` needs of an encoder (``ml.dino.DinoEncoder`` is one)."""

    def retrieval_features(self, images: Sequence[Image.Image]) -> np.ndarray: ...


#: Own photos of a site a backbone without a measured bound is calibrated from, at most (those
#: whose features are kept always count; more are computed only up to this many).
CALIBRATION_PHOTOS = 40
#: Appended to :func:`feature_source_of` for the familiarity features kept beside the [CLS].
FAMILIARITY_FEATURES = "#familiarity"


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
    familiarity: bool = False,
) -> np.ndarray:
    """(N, D) whole-image retrieval [CLS] of ``photo_ids`` (in order; ``familiarity``: the
    encoder's ``familiarity_features`` instead), from the store when kept, else computed (each photo decoded at the analysis size; ``images`` may hold them already)
    and kept when ``keep`` and the store is writable.

    Missing photos go through DINO :data:`FEATURE_BATCH` at a time: only one batch of decoded
    photos is held, each batch is kept as soon as it is computed, and ``cancel`` is checked
    before every photo is decoded and between batches (what was kept stays kept).
    """
    from eczema_tracker.ml.pipeline import ANALYSIS_MAX_SIDE

    source = feature_source_of(encoder) + (FAMILIARITY_FEATURES if familiarity else "")
    compute = (
        getattr(encoder, "familiarity_features")  # noqa: B009 - not in RetrievalEncoder
        if familiarity
        else encoder.retrieval_features
    )
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
        computed = np.asarray(compute(pictures), dtype=np.float32)
        del pictures  # one batch of decoded photos at a time
        new = dict(zip(batch, computed, strict=True))
        if keep and not store.readonly:
            store.keep_retrieval_features(new, source)
        found.update(new)
    if not ids:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([np.asarray(found[i], dtype=np.float32) for i in ids])


@dataclass
class SiteExamples:
    """A site's :class:`ExampleSpace` and the familiarity features of its photos at hand
    (``kept``: the ids whose features the store already keeps under ``source``)."""

    space: ExampleSpace
    features: dict[int, np.ndarray]
    source: str
    kept: set[int]

    def judge(self, photo_id: int, feature: np.ndarray) -> Familiarity:
        """The ``Familiarity`` of a photo of the site (left out of its own calibration); its
        feature is remembered (and kept by the next :meth:`keep`)."""
        self.features[photo_id] = np.asarray(feature, dtype=np.float32)
        return self.space.judge(feature, key=photo_id)

    def keep(self, store: Store) -> None:
        """Keep the features computed since (a read-only store keeps nothing)."""
        new = {pid: f for pid, f in self.features.items() if pid not in self.kept}
        if new and not store.readonly:
            store.keep_retrieval_features(new, self.source)
        self.kept.update(new)


def site_examples(
    store: Store,
    site: str,
    encoder: Any,
    *,
    photo_ids: Sequence[int] = (),
    cancel: CancelCheck | None = None,
) -> SiteExamples | None:
    """The site's prompts' :class:`ExampleSpace`; None without prompts or with an encoder that
    has no ``familiarity_features``. Features are read back where kept, else computed; nothing
    is written here (:meth:`SiteExamples.keep` does, so a caller can guard the write).

    With the backbone's measured bound (``familiarity.known_bound``) that is all. Without one
    the bound is calibrated from the site's other photos: every one whose features are kept,
    and more - ``photo_ids`` (about to be analysed) first, then the site's newest - computed
    one at a time until there are :data:`CALIBRATION_PHOTOS` (a photo that cannot be read is
    skipped: its own analysis reports it). A new backbone so costs one DINO pass per photo,
    once.
    """
    from eczema_tracker.ml.familiarity import ExampleSpace, known_bound

    ids = [record.photo_id for record in store.prompts(site)]
    if not ids or not callable(getattr(encoder, "familiarity_features", None)):
        return None
    source = feature_source_of(encoder) + FAMILIARITY_FEATURES
    kept = set(store.kept_retrieval_features(ids, source))
    prompts = photo_features(store, ids, encoder, keep=False, cancel=cancel, familiarity=True)
    features = dict(zip(ids, prompts, strict=True))
    bound = known_bound(getattr(encoder, "backbone_id", None))
    own: dict[int, np.ndarray] = {}
    if bound is None:
        others = [p.id for p in store.photos(site) if p.id not in features]
        own.update(store.kept_retrieval_features(others, source))
        kept.update(own)
        for pid in dict.fromkeys([*photo_ids, *others]):
            if len(own) >= CALIBRATION_PHOTOS:
                break
            if pid in own or pid in features:
                continue
            try:
                own[pid] = photo_features(
                    store, [pid], encoder, keep=False, cancel=cancel, familiarity=True
                )[0]
            except (ValueError, OSError):
                continue
    space = ExampleSpace(prompts, bound=bound, own_features=own)
    return SiteExamples(space, own | features, source, kept)


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
        is the photo of 12 March." (plus the K=1 note with only 2 examples); below
        :data:`RELIABLE_AGREEMENT` "Your examples disagree: ..." and :data:`UNRELIABLE_TEXT`."""
        if self.agreement is None:
            return self.note[0].upper() + self.note[1:] + "."
        day = _day_text(self.weakest_taken_at)
        reliability = reliability_of(self)
        verb = "agree" if reliability.reliable else "disagree"
        text = (
            f"Your examples {verb}: {100 * self.agreement.mean:.0f} % overlap on average; "
            f"the weakest is the photo of {day} ({100 * min(self.agreement.ious):.0f} %)."
        )
        if not reliability.reliable:
            bar = f"{100 * reliability.threshold:.0f} %"
            text += f" Below {bar}: {UNRELIABLE_TEXT}."
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


@dataclass(frozen=True)
class SiteReliability:
    """Whether a site's results are reliable, and if not, why.

    ``mean_iou`` is its examples' agreement (None: not checked, fewer than 2 examples, or no
    check kept for its current examples); only a checked agreement below ``threshold`` makes
    the site unreliable: with no evidence the views stay as they are (the library's summary
    says what is missing).
    """

    site: str
    mean_iou: float | None
    threshold: float = RELIABLE_AGREEMENT

    @property
    def reliable(self) -> bool:
        return self.mean_iou is None or self.mean_iou >= self.threshold

    @property
    def reason(self) -> str:
        """ "" when reliable, else e.g. "results not reliable yet — paint another example: your
        examples overlap 12 % on average, below 35 %"."""
        if self.reliable or self.mean_iou is None:
            return ""
        return (
            f"{UNRELIABLE_TEXT}: your examples overlap {100 * self.mean_iou:.0f} % on average, "
            f"below {100 * self.threshold:.0f} %"
        )


def reliability_of(agreement: SiteAgreement | None, site: str = "") -> SiteReliability:
    """The :class:`SiteReliability` a checked ``agreement`` gives (None: not known)."""
    if agreement is None:
        return SiteReliability(site, None)
    return SiteReliability(agreement.site, agreement.mean_iou)


def site_reliability(store: Store, site: str) -> SiteReliability:
    """Whether ``site``'s results are reliable: from the newest agreement kept for its current
    examples (:func:`~eczema_tracker.app.trust_kept.newest_agreement`; no model is loaded;
    quick enough for the GUI thread). The one answer every view shows."""
    from eczema_tracker.app.trust_kept import newest_agreement

    if len(store.prompts(site)) < MIN_PROMPTS_TO_CHECK:
        return SiteReliability(site, None)
    return reliability_of(newest_agreement(store, site), site)


def result_in_doubt(
    *, unfamiliar: bool, site: SiteReliability | None, mask_origin: str | None
) -> bool:
    """Whether a photo's result is in doubt, so that an (almost) empty mask must not read as
    "no eczema found" (``severity_scale.shown_grade(doubtful=...)``): it looks unlike the
    site's examples, or its site's results are not reliable. A mask the person painted or
    corrected is their own, never in doubt."""
    if mask_origin in ("prompt", "corrected"):
        return False
    return unfamiliar or (site is not None and not site.reliable)


def unreliable_sites(store: Store, sites: Sequence[str]) -> dict[str, SiteReliability]:
    """The sites of ``sites`` whose results are not reliable, with why."""
    found = {site: site_reliability(store, site) for site in dict.fromkeys(sites)}
    return {site: r for site, r in found.items() if not r.reliable}


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
    from eczema_tracker.app.trust_kept import (
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
            sources = [  # the [CLS] kept for retrieval, not the familiarity features beside it
                s
                for s in store.retrieval_feature_sources([p.id for p in photos])
                if not s.endswith(FAMILIARITY_FEATURES)
            ]
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


# -- the weakest example, shown ---------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Disagreement:
    """The weakest example of a site: the mask the person painted and the one SegGPT found in
    the same photo from the site's other examples (``other_ids``), as the agreement check did.

    ``image`` is the photo at the analysis size (H x W x 3, uint8); both masks are bool H x W.
    """

    site: str
    photo_id: int
    taken_at: str
    other_ids: tuple[int, ...]
    image: np.ndarray
    painted: np.ndarray
    found: np.ndarray

    @property
    def iou(self) -> float:
        from eczema_tracker.ml.familiarity import mask_iou

        return float(mask_iou(self.found, self.painted))

    def describe(self) -> str:
        """Their overlap in words, e.g. "You painted 8.0 % of the photo; from your other
        examples SegGPT found 3.1 %; 1.0 % is in both: they overlap 12 %."."""
        total = max(1, self.painted.size)
        painted = 100 * float(self.painted.sum()) / total
        found = 100 * float(self.found.sum()) / total
        both = 100 * float((self.painted & self.found).sum()) / total
        others = "example" if len(self.other_ids) == 1 else "examples"
        text = (
            f"You painted {painted:.1f} % of the photo; from your other {others} SegGPT found "
            f"{found:.1f} %"
        )
        if not self.found.any():
            return text + ": nothing at all, so they do not overlap."
        return text + f"; {both:.1f} % is in both: they overlap {100 * self.iou:.0f} %."


def weakest_disagreement(
    store: Store,
    agreement: SiteAgreement,
    segmenter: PromptSegmenter,
    *,
    cancel: CancelCheck | None = None,
) -> Disagreement | None:
    """Segment ``agreement``'s weakest example again with the same other examples the check
    used (``segmenter``: a :class:`SegGptPromptSegmenter` in its with block, or a fake), and
    return it with its painted mask. None when the agreement is not checked or its examples
    changed since."""
    from eczema_tracker.app.services import site_prompts

    checked = agreement.agreement
    weakest = agreement.weakest_photo_id
    if checked is None or weakest is None:
        return None
    raise_if_cancelled(cancel)
    prompts = site_prompts(store, agreement.site)
    keys = [str(p.key) for p in prompts]
    if sorted(keys) != sorted(str(pid) for pid in agreement.photo_ids):
        return None
    other_ids = tuple(agreement.photo_ids[j] for j in checked.used[checked.weakest])
    segmenter.prepare(prompts)
    raise_if_cancelled(cancel)
    index = keys.index(str(weakest))
    found = segmenter.segment(index, [keys.index(str(pid)) for pid in other_ids])
    prompt = prompts[index]
    return Disagreement(
        site=agreement.site,
        photo_id=weakest,
        taken_at=agreement.weakest_taken_at or "",
        other_ids=other_ids,
        image=np.asarray(prompt.image.convert("RGB"), dtype=np.uint8),
        painted=np.asarray(prompt.mask, dtype=bool),
        found=np.asarray(found, dtype=bool),
    )


def outlined_picture(
    image: np.ndarray, mask: np.ndarray, color: tuple[int, int, int]
) -> np.ndarray:
    """A copy of ``image`` (H x W x 3, uint8) with ``mask``'s outline drawn in ``color``, three
    pixels wide (seen at a dialog's size)."""
    from eczema_tracker.core.imaging import mask_outline

    pixels = np.array(image, dtype=np.uint8, copy=True)
    if mask.any():
        pixels[mask_outline(mask, width=3)] = color
    return pixels
