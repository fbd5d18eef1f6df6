"""How far to trust a site's results, for the app and the CLI (no Qt).

- :func:`prompt_agreement`: each prompt photo of a site segmented with the others, compared with
  the mask the person painted (IoU); the mean and the weakest example.
  :func:`seggpt_agreement` does it with the app's SegGPT and keeps the result in the store
  (:func:`keep_agreement`, under :func:`prompt_set_key` and :func:`model_key`); while the site's prompts and the models stay the
  same it is read back from there instead, with no model loaded.
- :func:`site_reliability` / :func:`reliability_of`: whether a site's results are reliable
  (its examples agree at least :data:`RELIABLE_AGREEMENT`) and if not, why; every view (the
  library's summary, the photo view, the timeline, the report, the CLI) asks it.
- :func:`weakest_disagreement`: the weakest example's painted mask next to what SegGPT found
  in it from the other examples (recomputed off the GUI thread; the check keeps only IoUs).
- the features trust is judged on, the "unlike your examples" space and the photo to paint
  next: :mod:`eczema_tracker.app.trust.examples`.

The measures themselves are :mod:`eczema_tracker.ml.familiarity` (numpy only); models are
reached through :class:`~eczema_tracker.app.analysis_models.PipelineCache` and imported lazily.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from eczema_tracker.app.changes import StoreChanges
from eczema_tracker.app.trust.examples import photo_features
from eczema_tracker.core.jobs import (
    CancelCheck,
    ProgressCallback,
    acquire,
    raise_if_cancelled,
    report,
)
from eczema_tracker.store.errors import StoreError

if TYPE_CHECKING:
    from eczema_tracker.app.analysis_models import ModelChoice, PipelineCache
    from eczema_tracker.ml.familiarity import PromptAgreement
    from eczema_tracker.ml.pipeline import AnalysisPipeline
    from eczema_tracker.ml.seggpt import Prompt
    from eczema_tracker.store import Store
    from eczema_tracker.store.agreements import KeptAgreement

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
        skin = self.agreement.skin_mean
        if skin is not None:  # the second label, checked in the same pass
            text += f" The healthy skin they mark overlaps {100 * skin:.0f} %."
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


def agreement_changes(site: str) -> StoreChanges:
    """What keeping a check of ``site``'s examples changes: how far its results may be trusted
    (the GUI checks on its own worker and tells the views this when a check is kept)."""
    return StoreChanges(agreements=True, sites=frozenset({site}))


def reliability_of(agreement: SiteAgreement | None, site: str = "") -> SiteReliability:
    """The :class:`SiteReliability` a checked ``agreement`` gives (None: not known)."""
    if agreement is None:
        return SiteReliability(site, None)
    return SiteReliability(agreement.site, agreement.mean_iou)


def site_reliability(store: Store, site: str) -> SiteReliability:
    """Whether ``site``'s results are reliable: from the newest agreement kept for its current
    examples (:func:`newest_agreement`; no model is loaded;
    quick enough for the GUI thread). The one answer every view shows."""
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
    from eczema_tracker.app.analysis_models import site_prompts
    from eczema_tracker.ml.familiarity import painted_mask
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
        return np.asarray(mask)  # a bool lesion mask, or labelled with the skin found

    agreement = measure(
        [p.image for p in prompts],
        [painted_mask(p.mask) for p in prompts],  # healthy skin (128) is not lesion
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
        from eczema_tracker.ml.familiarity import found_mask

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
        return found_mask(result)  # the lesion, and the healthy skin when the examples mark it


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
    from eczema_tracker.app.analysis_models import site_prompts

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


# -- kept in the store: a check is not run again for the same prompts and models -----------
#: The photo size the agreement check decodes at: ``ml.pipeline.ANALYSIS_MAX_SIDE`` (a test
#: keeps them equal; repeated here so building a model key imports no torch).
AGREEMENT_SIDE = 1024
#: Bumped when the check itself changes (what it measures, how it picks the others): every kept
#: result of an older check is then checked again.
AGREEMENT_METHOD = 1


def prompt_set_key(store: Store, site: str) -> str:
    """Names ``site``'s current prompt set: each prompt's photo (id and bytes) and its current
    mask (version and bytes). Another prompt, a repainted mask or a removed prompt changes it;
    the order of the prompts does not."""
    parts = sorted(
        (r.photo_id, store.photo(r.photo_id).sha256, r.version, r.mask.sha256)
        for r in store.prompts(site)
    )
    return "prompts-v1:" + _digest(parts)


def model_key(choice: ModelChoice) -> str:
    """Names what an agreement check of ``choice`` computes with: the SegGPT and DINO sources
    (DINO picks the nearest others), K, the size photos are decoded at and the check's own
    version. The device, precision and severity model play no part."""
    parts = {
        "seggpt": str(choice.seggpt),
        "dino": str(choice.dino),
        "k": int(choice.k),
        "side": AGREEMENT_SIDE,
        "method": AGREEMENT_METHOD,
    }
    return "models-v1:" + _digest(parts)


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def kept_agreement(
    store: Store, site: str, choice: ModelChoice, *, prompts_key: str | None = None
) -> SiteAgreement | None:
    """The agreement kept for ``site``'s current prompts and ``choice``'s models, or None (none
    kept, or what is kept does not fit them). Reads the store only: quick, and no model is
    loaded. ``prompts_key``: :func:`prompt_set_key` when the caller has it already."""
    key = prompt_set_key(store, site) if prompts_key is None else prompts_key
    kept = store.kept_prompt_agreement(site, key, model_key(choice))
    if kept is None:
        return None
    return _site_agreement(store, site, kept, k=choice.k)


def newest_agreement(store: Store, site: str) -> SiteAgreement | None:
    """The newest agreement kept for ``site``'s current prompts, whatever models checked it
    (how far the views trust the site: :func:`eczema_tracker.app.trust.site_reliability`);
    None when none is kept. Reads the store only."""
    kept = store.newest_prompt_agreement(site, prompt_set_key(store, site))
    return None if kept is None else _site_agreement(store, site, kept, k=None)


def _site_agreement(
    store: Store, site: str, kept: KeptAgreement, *, k: int | None
) -> SiteAgreement | None:
    """``kept`` in the site's current prompt order; None when it is not of these prompts (or,
    with ``k``, of this K): a row under the wrong key is checked again."""
    from eczema_tracker.ml.familiarity import PromptAgreement

    ids = tuple(r.photo_id for r in store.prompts(site))
    if sorted(ids) != sorted(kept.photo_ids):
        return None
    if k is not None and kept.k_used != min(k, len(ids) - 1):
        return None
    where = {pid: i for i, pid in enumerate(kept.photo_ids)}
    order = [where[pid] for pid in ids]  # the prompts' current order (by when taken)
    position = {old: new for new, old in enumerate(order)}
    agreement = PromptAgreement(
        ious=tuple(kept.ious[i] for i in order),
        keys=tuple(str(pid) for pid in ids),
        used=tuple(tuple(position[j] for j in kept.used[i]) for i in order),
        k_used=kept.k_used,
        note=kept.note,
        skin_ious=None if kept.skin_ious is None else tuple(kept.skin_ious[i] for i in order),
    )
    taken = tuple(store.photo(pid).taken_at for pid in ids)
    return SiteAgreement(site, ids, taken, agreement, computed_at=kept.computed_at)


def keep_agreement(store: Store, result: SiteAgreement, prompts_key: str, models: str) -> bool:
    """Keep ``result`` (of the prompt set ``prompts_key``, the models ``models``) when it can
    be: a checked result, a writable store, and the site's prompts still those it was computed
    with. A store that cannot take it is logged, never raised: the result stands. True if kept.
    """
    agreement = result.agreement
    if agreement is None or store.readonly:
        return False
    try:
        if prompt_set_key(store, result.site) != prompts_key:
            return False  # the prompts changed while it ran: it is of neither set
        store.keep_prompt_agreement(
            result.site,
            prompts_key,
            models,
            photo_ids=result.photo_ids,
            ious=agreement.ious,
            used=agreement.used,
            k_used=agreement.k_used,
            note=agreement.note,
            skin_ious=agreement.skin_ious,
        )
    except (StoreError, sqlite3.Error, OSError, ValueError) as exc:
        log.warning("prompt agreement of %s not kept: %s", result.site, exc)
        return False
    return True
