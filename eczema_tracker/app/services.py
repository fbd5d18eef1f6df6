"""Analysing stored photos: the one use case tying ``ml`` and ``store`` together (no Qt).

Analyse stored photos with the prompts of their site and record the results; the models and
the loaded pipelines it uses are :mod:`eczema_tracker.app.analysis_models`'.

Personal severity models (train, re-score, import) live in :mod:`eczema_tracker.app.personal_severity`
and the start-up warm-up in :mod:`eczema_tracker.app.warm_up`; import them from there.

``ml`` (torch, transformers) is imported lazily so the app's window appears fast.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from eczema_tracker.app.analysis_models import (
    ModelChoice,
    PipelineCache,
    load_pipeline,
    prompt_counts,
    prompt_pool_key,
    site_prompts,
)
from eczema_tracker.app.changes import StoreChanges
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, held, raise_if_cancelled, report

if TYPE_CHECKING:
    from PIL import Image

    from eczema_tracker.ml.familiarity import Familiarity
    from eczema_tracker.ml.pipeline import Analysis, AnalysisPipeline
    from eczema_tracker.store import Store

log = logging.getLogger(__name__)

#: Prompt masks a site needs before its photos can be analysed (the paper uses K = 2).
MIN_PROMPTS = 2


# -- analysis -------------------------------------------------------------------------------------
@dataclass
class AnalysisRunSummary:
    """What an analysis run did: ids analysed, and skipped/failed ids with reasons."""

    analysed: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    analysis_ids: dict[int, int] = field(default_factory=dict)  # photo id -> new analysis id
    #: body site -> (its photos skipped, prompt masks it has): sites with too few prompt masks
    skipped_sites: dict[str, tuple[int, int]] = field(default_factory=dict)

    def describe(self) -> str:
        """A short plain summary: what was analysed, then each site left out, once, in words."""
        parts = [f"{_photos(len(self.analysed))} analysed"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        lines = [", ".join(parts) + ".", *self.notes]
        lines += [
            skipped_site_text(site, n, have)
            for site, (n, have) in sorted(self.skipped_sites.items())
        ]
        lines += [f"Photo {pid}: {reason}" for pid, reason in sorted(self.failed.items())]
        return "\n".join(lines)


def _photos(n: int) -> str:
    return f"{n} photo{'s' if n != 1 else ''}"


@dataclass(frozen=True)
class SiteReadiness:
    """Whether a site's photos can be analysed: the one answer every view and command asks
    (it needs :data:`MIN_PROMPTS` prompt masks), and if not, how many more to paint."""

    site: str
    prompts: int  #: its prompt masks now
    needed: int = MIN_PROMPTS  #: prompt masks a site needs

    @property
    def ready(self) -> bool:
        return self.prompts >= self.needed

    @property
    def missing(self) -> int:
        """Prompt masks still to paint (0 when ready)."""
        return max(0, self.needed - self.prompts)


def site_readiness(store: Store, sites: Iterable[str] | None = None) -> dict[str, SiteReadiness]:
    """Each site's :class:`SiteReadiness` (every site when ``sites`` is None)."""
    return {s: SiteReadiness(s, n) for s, n in prompt_counts(store, sites).items()}


def skipped_site_text(site: str, photos: int, prompts: int) -> str:
    """Why ``photos`` photos of ``site`` (which has ``prompts`` prompt masks) are not analysed,
    and what to do: "4 photos of 'back of knees' were not analysed: paint 2 examples first"."""
    need = max(1, MIN_PROMPTS - prompts)
    more = "more " if prompts else ""
    were = "was" if photos == 1 else "were"
    return (
        f"{_photos(photos)} of '{site}' {were} not analysed: paint {need} {more}"
        f"example{'s' if need != 1 else ''} first (select a photo of it, then Paint prompt mask…)."
    )


@dataclass(frozen=True)
class PhotoOutcome:
    """What happened to one photo of an analysis run (given to ``on_photo`` as it happens)."""

    photo_id: int
    status: str  # "analysed", "skipped" or "failed"
    reason: str | None = None  # why it was skipped or failed
    analysis_id: int | None = None  # the recorded analysis, when analysed


#: Called with each photo's outcome: skipped ones first, then each one as it is done.
PhotoOutcomeCallback = Callable[[PhotoOutcome], None]
#: A context manager factory wrapped around each store write (the CLI defers Ctrl+C there).
WriteGuard = Callable[[], contextlib.AbstractContextManager[object]]


def photos_to_analyse(
    store: Store, site: str | None = None, *, include_stale: bool = True
) -> list[int]:
    """Photos with no analysis yet, and (unless ``include_stale`` is False) those whose analysis
    is stale (its site's prompts changed). Newest first, like :meth:`Store.photos`."""
    current = store.current_analyses(site)
    return [
        photo.id
        for photo in store.photos(site)
        if photo.id not in current or (include_stale and current[photo.id].stale)
    ]


def stale_photos(store: Store, site: str | None = None) -> list[int]:
    """Photos whose current analysis is stale (their site's prompts changed since), newest
    first; one query for every analysis, no feature blobs read."""
    current = store.current_analyses(site)
    return [
        photo.id for photo in store.photos(site) if photo.id in current and current[photo.id].stale
    ]


def prompt_photos_without_result(store: Store, site: str) -> list[int]:
    """The site's prompt photos that have no analysis yet, newest first: each one's result from
    the site's *other* prompts is the model's area compared on the timeline and in the report
    (``app.photo_result``), so a re-analysis of the site includes them."""
    current = store.current_analyses(site)
    prompts = {record.photo_id for record in store.prompts(site)}
    return [p.id for p in store.photos(site) if p.id in prompts and p.id not in current]


def analysis_changes(photo_ids: Sequence[int]) -> StoreChanges:
    """What :func:`analyse_photos` of ``photo_ids`` writes (all, or those before a Cancel): the
    GUI runs it on its own worker and tells the views this when it ends."""
    return StoreChanges(analyses=True, photo_ids=frozenset(photo_ids))


def analyse_photos(
    store: Store,
    pipelines: PipelineCache,
    choice: ModelChoice,
    photo_ids: Sequence[int],
    *,
    download: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    on_photo: PhotoOutcomeCallback | None = None,
    write_guard: WriteGuard | None = None,
) -> AnalysisRunSummary:
    """Segment and score ``photo_ids`` with the prompts of each photo's site; record results.

    Photos are decoded reduced (``ml.pipeline.ANALYSIS_MAX_SIDE``); each recorded mask has the
    photo's full upright size. A photo that is itself a prompt is segmented from the other
    prompts (never from itself).
    Sites with fewer than :data:`MIN_PROMPTS` prompt masks are skipped with the reason.
    ``on_photo`` hears each photo's outcome as it happens; ``write_guard()`` (if given) is
    entered around each result's store write.
    """
    summary = AnalysisRunSummary()
    tell = on_photo or (lambda _outcome: None)
    guard = write_guard or contextlib.nullcontext
    by_site: OrderedDict[str, list[int]] = OrderedDict()
    for pid in photo_ids:
        by_site.setdefault(store.photo(pid).site, []).append(pid)
    counts = prompt_counts(store, by_site)
    runnable = [s for s in by_site if counts[s] >= MIN_PROMPTS]
    for site in by_site:
        if site not in runnable:
            reason = (
                f"Body site '{site}' has {counts[site]} prompt mask(s); paint at least "
                f"{MIN_PROMPTS} prompt masks for it first."
            )
            summary.skipped.update(dict.fromkeys(by_site[site], reason))
            summary.skipped_sites[site] = (len(by_site[site]), counts[site])
            for pid in by_site[site]:
                tell(PhotoOutcome(pid, "skipped", reason))
    if not runnable:
        return summary
    total = sum(len(by_site[s]) for s in runnable)
    from eczema_tracker.app.trust import examples as trust_examples

    # A start-up warm-up (warm_up_pipeline) holds the pool lock while it loads and runs the
    # models: wait for it here, cancellably, rather than inside the model's own lock.
    report(progress, 0, total, "getting the models ready")
    with held(pipelines.pool_lock, cancel):
        pipeline, note = load_pipeline(
            pipelines, choice, download=download, progress=progress, cancel=cancel
        )
        if note is not None:
            choice = replace(choice, severity_model_path=None, severity_model_id=None)
            summary.notes.append(note)
    from eczema_tracker.ml.pipeline import ANALYSIS_MAX_SIDE

    done = 0
    source = trust_examples.feature_source_of(pipeline.encoder)
    for site in runnable:
        raise_if_cancelled(cancel)
        report(progress, done, total, f"preparing prompts of {site}")
        key = prompt_pool_key(store, site)
        prompts = functools.partial(site_prompts, store, site)
        with held(pipelines.pool_lock, cancel):
            pipelines.set_prompts(pipeline, key, prompts)
            examples = trust_examples.site_examples(
                store, site, pipeline.encoder, photo_ids=by_site[site], cancel=cancel
            )
        if examples is not None:
            with guard():  # kept once per photo: later runs read them back
                examples.keep(store)
        for pid in by_site[site]:
            raise_if_cancelled(cancel)
            report(progress, done, total, f"photo {done + 1} of {total}")
            try:
                photo = store.photo(pid)
                image = store.load_image(pid, max_side=ANALYSIS_MAX_SIDE)
                kept = store.kept_retrieval_features([pid], source).get(pid)
                # the query's [CLS] is computed here (or read back) and handed to the pipeline,
                # so retrieval and familiarity share one DINO pass
                query = (
                    kept if kept is not None else pipeline.encoder.retrieval_features([image])[0]
                )
                with held(pipelines.pool_lock, cancel):
                    pipelines.set_prompts(pipeline, key, prompts)  # no-op unless someone swapped
                    analysis = _analyze(
                        pipeline, image, exclude_keys=(str(pid),), query_features=query
                    )
                analysis = _at_full_size(analysis, (photo.width, photo.height))
            except (ValueError, OSError) as exc:
                summary.failed[pid] = str(getattr(exc, "reason", exc))
                tell(PhotoOutcome(pid, "failed", summary.failed[pid]))
            else:
                raise_if_cancelled(cancel)  # never record a result after the user said stop
                judged = None
                if examples is not None:
                    familiar_features = examples.features.get(pid)
                    if familiar_features is None:  # one DINO pass more (kept below)
                        familiar_features = pipeline.encoder.familiarity_features([image])[0]
                    judged = examples.judge(pid, familiar_features)
                with guard():
                    if kept is None:
                        store.keep_retrieval_features({pid: query}, source)
                    if examples is not None:
                        examples.keep(store)
                    analysis_id = _record(store, pid, analysis, pipeline, choice, judged)
                summary.analysed.append(pid)
                summary.analysis_ids[pid] = analysis_id
                tell(PhotoOutcome(pid, "analysed", analysis_id=analysis_id))
            done += 1
            report(progress, done, total, f"photo {done} of {total}")
    return summary


def _analyze(
    pipeline: AnalysisPipeline,
    image: Image.Image,
    *,
    exclude_keys: tuple[str, ...],
    query_features: np.ndarray | None = None,
) -> Analysis:
    """One photo through the pipeline, never segmented from the prompts in ``exclude_keys``;
    ``query_features``: its retrieval [CLS] when already computed."""
    return pipeline.analyze(image, exclude_keys=exclude_keys, query_features=query_features)


def _at_full_size(analysis: Analysis, size: tuple[int, int]) -> Analysis:
    """``analysis`` with its mask at ``size`` (width, height: the photo's full upright size) and
    the area fraction of that mask (what is stored and shown)."""
    mask = np.asarray(analysis.mask, dtype=bool)
    if mask.shape != (size[1], size[0]):
        from eczema_tracker.ml.pipeline import resize_mask
        from eczema_tracker.ml.seggpt import lesion_area_fraction

        analysis.mask = resize_mask(mask, size)
        analysis.lesion_area_fraction = lesion_area_fraction(analysis.mask)
    return analysis


def _record(
    store: Store,
    photo_id: int,
    analysis: Analysis,
    pipeline: AnalysisPipeline,
    choice: ModelChoice,
    familiarity: Familiarity | None = None,
) -> int:
    encoder = pipeline.encoder
    return store.record_analysis(
        photo_id,
        mask=analysis.labelled_mask,
        lesion_area_fraction=float(analysis.lesion_area_fraction),
        lesion_share_of_skin=analysis.lesion_share_of_skin,
        features=np.asarray(analysis.features, dtype=np.float32),
        feature_source=getattr(encoder, "backbone_id", choice.dino),
        probabilities=None
        if analysis.probabilities is None
        else np.asarray(analysis.probabilities),
        score=None if analysis.score is None else float(analysis.score),
        model_sources={"dino": choice.dino, "seggpt": choice.seggpt},
        k=choice.k,
        severity_model_id=choice.severity_model_id if analysis.probabilities is not None else None,
        prompt_photo_ids=[int(key) for key in analysis.prompt_keys if str(key).isdigit()],
        nearest_prompt_distance=None
        if familiarity is None
        else familiarity.nearest_prompt_distance,
        prompt_distance_scale=None if familiarity is None else familiarity.prompt_distance_scale,
        familiar=None if familiarity is None else familiarity.familiar,
    )
