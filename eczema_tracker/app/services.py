"""The one small module tying ``ml`` and ``store`` together (no Qt).

- analyse stored photos with the prompts of their site and record the results;
- keep loaded pipelines cached between runs.

Personal severity models (train, re-score, import) live in :mod:`eczema_tracker.app.personal_severity`
and the start-up warm-up in :mod:`eczema_tracker.app.warm_up`; import them from there.

``ml`` (torch, transformers) is imported lazily so the app's window appears fast.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from eczema_tracker.app.personal_severity import record_path as _record_path
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, held, raise_if_cancelled, report

if TYPE_CHECKING:
    from PIL import Image

    from eczema_tracker.app.settings import Settings
    from eczema_tracker.ml.familiarity import Familiarity
    from eczema_tracker.ml.pipeline import Analysis, AnalysisPipeline
    from eczema_tracker.ml.seggpt import Prompt
    from eczema_tracker.ml.severity import SeverityModel
    from eczema_tracker.store import Store

log = logging.getLogger(__name__)

#: Prompt masks a site needs before its photos can be analysed (the paper uses K = 2).
MIN_PROMPTS = 2


# -- which models ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelChoice:
    """Everything that decides which pipeline is loaded (a cache key)."""

    dino: str
    seggpt: str
    k: int = 2
    device: str = "cpu"
    severity_model_path: str | None = None
    severity_model_id: int | None = None


#: What identifies a site's prompt set: the site and each prompt's (photo id, version, mask sha).
PromptSetKey = tuple[str, tuple[tuple[int, int, str], ...]]


def model_choice(settings: Settings, store: Store) -> ModelChoice:
    """The pipeline the user's settings and the store's active severity model ask for."""
    active = store.active_severity_model()
    return ModelChoice(
        dino=settings.dino_source,
        seggpt=settings.seggpt_source,
        k=int(settings.k),
        device=settings.device,  # "auto" is resolved when loading, off the GUI thread
        severity_model_path=str(_record_path(active)) if active is not None else None,
        severity_model_id=active.id if active is not None else None,
    )


class PipelineCache:
    """Loads a pipeline once per :class:`ModelChoice` and keeps it (thread-safe).

    Only the severity model changed? The loaded encoder and segmenter are kept and only the
    small MLP is swapped. Prompts are set again only when a site's prompt set changed.
    :attr:`pool_lock` is held while a pipeline's prompt pool is set and used (an analysis, a
    prompt-agreement check), so one never segments with the other's prompts.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        #: held while the prompt pool is set and segmented with (see the class docstring)
        self.pool_lock = threading.RLock()
        self._choice: ModelChoice | None = None
        self._pipeline: AnalysisPipeline | None = None
        self._prompt_key: PromptSetKey | None = None

    @property
    def loaded_choice(self) -> ModelChoice | None:
        """The choice whose pipeline is loaded, if any."""
        return self._choice

    def forget_prompts(self) -> None:
        """Forget which prompts the pipeline has (someone else set its pool)."""
        with self._lock:
            self._prompt_key = None

    def clear(self) -> None:
        """Forget the loaded pipeline (e.g. after the model sources changed)."""
        with self._lock:
            self._choice = self._pipeline = self._prompt_key = None

    def get(
        self,
        choice: ModelChoice,
        *,
        download: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> AnalysisPipeline:
        """The pipeline for ``choice``, loading models (or only the severity MLP) as needed."""
        with self._lock:
            old = self._choice
            if old == choice and self._pipeline is not None:
                return self._pipeline
            severity = _load_severity(choice)
            same_backbones = old is not None and (old.dino, old.seggpt, old.k, old.device) == (
                choice.dino,
                choice.seggpt,
                choice.k,
                choice.device,
            )
            if same_backbones and self._pipeline is not None:
                if severity is not None:
                    severity.check_compatible(self._pipeline.encoder)
                self._pipeline.severity = severity
            else:
                from eczema_tracker.ml.loading import resolve_device
                from eczema_tracker.ml.pipeline import AnalysisPipeline

                report(progress, 0, 0, "loading models")
                self._pipeline = AnalysisPipeline.from_sources(
                    dino=choice.dino,
                    seggpt=choice.seggpt,
                    k=choice.k,
                    severity_model=severity,
                    device=resolve_device(choice.device),
                    download=download,
                    progress=progress,
                    cancel=cancel,
                )
                self._prompt_key = None
            self._choice = choice
            return self._pipeline

    def set_prompts(
        self,
        pipeline: AnalysisPipeline,
        key: PromptSetKey,
        prompts_factory: Callable[[], Sequence[Prompt]],
    ) -> None:
        """Give ``pipeline`` the prompts built by ``prompts_factory()`` unless ``key`` is current."""
        with self._lock:
            if self._prompt_key == key:
                return
            pipeline.set_prompts(prompts_factory())
            self._prompt_key = key


def _load_severity(choice: ModelChoice) -> SeverityModel | None:
    if not choice.severity_model_path:
        return None
    from eczema_tracker.ml.severity import SeverityModel

    return SeverityModel.load(choice.severity_model_path)


# -- prompts --------------------------------------------------------------------------------------
def prompt_counts(store: Store, sites: Iterable[str] | None = None) -> dict[str, int]:
    """Number of prompt masks of each body site."""
    return {
        site: len(store.prompts(site)) for site in (sites if sites is not None else store.sites())
    }


def site_prompts(store: Store, site: str) -> list[Prompt]:
    """The site's prompt masks as ``ml`` prompts (key = the photo id as text).

    Each prompt photo is decoded reduced to the analysis size and its mask (painted at the
    photo's full size) shrunk to match."""
    from eczema_tracker.ml.pipeline import ANALYSIS_MAX_SIDE, resize_mask
    from eczema_tracker.ml.seggpt import Prompt

    prompts = []
    for record in store.prompts(site):
        image = store.load_image(record.photo_id, max_side=ANALYSIS_MAX_SIDE)
        prompts.append(
            Prompt(
                image=image,
                mask=resize_mask(store.load_mask(record.mask), image.size),
                key=str(record.photo_id),
            )
        )
    return prompts


def _prompt_set_key(store: Store, site: str) -> PromptSetKey:
    return (
        site,
        tuple(sorted((r.photo_id, r.version, r.mask.sha256) for r in store.prompts(site))),
    )


# -- loading (warm-up: app/warm_up.py) ------------------------------------------------------------------------
_SEVERITY_MISMATCH_NOTE = (
    "No severity was scored: the active severity model was trained with another DINO model "
    "than the one in Settings. Train a new one from your ratings (Models menu)."
)


def _load_pipeline(
    pipelines: PipelineCache,
    choice: ModelChoice,
    *,
    download: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> tuple[AnalysisPipeline, str | None]:
    """``pipelines.get(choice)``; when the active severity model fits another DINO, the
    pipeline without it and the note saying so (else None)."""
    try:
        return pipelines.get(choice, download=download, progress=progress, cancel=cancel), None
    except ValueError as exc:  # SeverityModelMismatch: the active model fits other features
        from eczema_tracker.ml.severity import SeverityModelMismatch

        if choice.severity_model_path is None or not isinstance(exc, SeverityModelMismatch):
            raise
    plain = replace(choice, severity_model_path=None, severity_model_id=None)
    pipeline = pipelines.get(plain, download=download, progress=progress, cancel=cancel)
    return pipeline, _SEVERITY_MISMATCH_NOTE


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
    from eczema_tracker.app.trust import agreement as trust

    # A start-up warm-up (warm_up_pipeline) holds the pool lock while it loads and runs the
    # models: wait for it here, cancellably, rather than inside the model's own lock.
    report(progress, 0, total, "getting the models ready")
    with held(pipelines.pool_lock, cancel):
        pipeline, note = _load_pipeline(
            pipelines, choice, download=download, progress=progress, cancel=cancel
        )
        if note is not None:
            choice = replace(choice, severity_model_path=None, severity_model_id=None)
            summary.notes.append(note)
    from eczema_tracker.ml.pipeline import ANALYSIS_MAX_SIDE

    done = 0
    source = trust.feature_source_of(pipeline.encoder)
    for site in runnable:
        raise_if_cancelled(cancel)
        report(progress, done, total, f"preparing prompts of {site}")
        key = _prompt_set_key(store, site)
        prompts = functools.partial(site_prompts, store, site)
        with held(pipelines.pool_lock, cancel):
            pipelines.set_prompts(pipeline, key, prompts)
            with guard():  # kept once per prompt photo: later runs read them back
                space = trust.prompt_space(store, site, pipeline.encoder, cancel=cancel)
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
                judged = None if space is None else space[0].judge(query)
                with guard():
                    if kept is None:
                        store.keep_retrieval_features({pid: query}, source)
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
        mask=analysis.mask,
        lesion_area_fraction=float(analysis.lesion_area_fraction),
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
