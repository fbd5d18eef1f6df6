"""Which models analyse a photo, and the pipelines loaded for them (no Qt).

:class:`ModelChoice` (what decides which pipeline is loaded) and :func:`model_choice` (the
settings' and the store's choice); :class:`PipelineCache` keeps loaded pipelines between runs
and holds the prompt pool a pipeline was last given (:func:`site_prompts`). The analysis run
(:mod:`eczema_tracker.app.services`) and the trust checks (:mod:`eczema_tracker.app.trust`) both
use them. ``ml`` (torch, transformers) is imported lazily so the app's window appears fast.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from eczema_tracker.app.personal_severity import record_path as _record_path
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, report

if TYPE_CHECKING:
    from eczema_tracker.app.settings import Settings
    from eczema_tracker.ml.pipeline import AnalysisPipeline
    from eczema_tracker.ml.seggpt import Prompt
    from eczema_tracker.ml.severity import SeverityModel
    from eczema_tracker.store import Store

log = logging.getLogger(__name__)


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
    photo's full size, with healthy skin if marked) shrunk to match."""
    from eczema_tracker.ml.pipeline import ANALYSIS_MAX_SIDE, resize_labelled_mask
    from eczema_tracker.ml.seggpt import Prompt

    prompts = []
    for record in store.prompts(site):
        image = store.load_image(record.photo_id, max_side=ANALYSIS_MAX_SIDE)
        prompts.append(
            Prompt(
                image=image,
                mask=resize_labelled_mask(store.load_labelled_mask(record.mask), image.size),
                key=str(record.photo_id),
            )
        )
    return prompts


def prompt_pool_key(store: Store, site: str) -> PromptSetKey:
    return (
        site,
        tuple(sorted((r.photo_id, r.version, r.mask.sha256) for r in store.prompts(site))),
    )


# -- loading (warm-up: app/warm_up.py) ------------------------------------------------------------------------
_SEVERITY_MISMATCH_NOTE = (
    "No severity was scored: the active severity model was trained with another DINO model "
    "than the one in Settings. Train a new one from your ratings (Models menu)."
)


def load_pipeline(
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
