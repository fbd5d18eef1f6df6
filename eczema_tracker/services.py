"""The one small module tying ``ml`` and ``store`` together (no Qt).

- analyse stored photos with the prompts of their site and record the results;
- keep loaded pipelines cached between runs;
- re-score stored features with a new severity model, without re-segmenting;
- train a personal severity model from stored features and ratings, with cross-validation.

``ml`` (torch, transformers) is imported lazily so the app's window appears fast.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from eczema_tracker.jobs import CancelCheck, ProgressCallback, raise_if_cancelled, report

if TYPE_CHECKING:
    from eczema_tracker.ml.pipeline import AnalysisPipeline
    from eczema_tracker.ml.severity import SeverityModel
    from eczema_tracker.store import Store

log = logging.getLogger(__name__)

#: Prompt masks a site needs before its photos can be analysed (the paper uses K = 2).
MIN_PROMPTS = 2
#: Rated photos (with analyses) needed before a personal severity model is offered.
MIN_RATED_FOR_TRAINING = 8
SEVERITY_NAMES = ("none", "mild", "moderate", "severe")


class ServiceError(Exception):
    """A problem to show the user as it is (one or two plain sentences)."""


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


def resolve_device(setting: str) -> str:
    """``auto`` becomes ``cuda`` when torch sees a GPU, else ``cpu``; others pass through."""
    if setting in ("cpu", "cuda"):
        return setting
    try:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    except Exception:  # noqa: BLE001 - no usable torch build: the CPU is the safe answer
        return "cpu"


def model_choice(settings: Any, store: Store) -> ModelChoice:
    """The pipeline the user's settings and the store's active severity model ask for."""
    active = store.active_severity_model()
    return ModelChoice(
        dino=settings.dino_source,
        seggpt=settings.seggpt_source,
        k=int(settings.k),
        device=resolve_device(settings.device),
        severity_model_path=str(_record_path(active)) if active is not None else None,
        severity_model_id=_record_id(active) if active is not None else None,
    )


def missing_sources(choice: ModelChoice) -> list[Any]:
    """Status of each model source that is not yet on this machine (empty: all present)."""
    from eczema_tracker.ml.sources import source_status

    statuses = [source_status(spec) for spec in (choice.seggpt, choice.dino)]
    return [s for s in statuses if not _status_present(s)]


def _status_present(status: Any) -> bool:
    present = getattr(status, "present", None)
    return bool(present() if callable(present) else present)


class PipelineCache:
    """Loads a pipeline once per :class:`ModelChoice` and keeps it (thread-safe).

    Only the severity model changed? The loaded encoder and segmenter are kept and only the
    small MLP is swapped. Prompts are set again only when a site's prompt set changed.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._choice: ModelChoice | None = None
        self._pipeline: AnalysisPipeline | None = None
        self._prompt_key: tuple | None = None

    @property
    def loaded_choice(self) -> ModelChoice | None:
        """The choice whose pipeline is loaded, if any."""
        return self._choice

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
            severity = _load_severity(choice, device=choice.device)
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
                from eczema_tracker.ml.pipeline import AnalysisPipeline

                report(progress, 0, 0, "loading models")
                self._pipeline = AnalysisPipeline.from_sources(
                    dino=choice.dino,
                    seggpt=choice.seggpt,
                    k=choice.k,
                    severity_model=severity,
                    device=choice.device,
                    download=download,
                    progress=progress,
                    cancel=cancel,
                )
                self._prompt_key = None
            self._choice = choice
            return self._pipeline

    def set_prompts(self, pipeline: AnalysisPipeline, key: tuple, prompts_factory) -> None:
        """Give ``pipeline`` the prompts built by ``prompts_factory()`` unless ``key`` is current."""
        with self._lock:
            if self._prompt_key == key:
                return
            pipeline.set_prompts(prompts_factory())
            self._prompt_key = key


def _load_severity(choice: ModelChoice, *, device: str) -> SeverityModel | None:
    if not choice.severity_model_path:
        return None
    from eczema_tracker.ml.severity import SeverityModel

    return SeverityModel.load(choice.severity_model_path)


# -- prompts --------------------------------------------------------------------------------------
def prompt_counts(store: Store, sites: Iterable[str] | None = None) -> dict[str, int]:
    """Number of prompt masks of each body site."""
    return {site: len(store.prompts(site)) for site in (sites if sites is not None else store.sites())}


def site_prompts(store: Store, site: str) -> list[Any]:
    """The site's prompt masks as ``ml`` prompts (key = the photo id as text)."""
    from eczema_tracker.ml.seggpt import Prompt

    prompts = []
    for record in store.prompts(site):
        prompts.append(
            Prompt(
                image=store.load_image(record.photo_id),
                mask=store.load_mask(record.mask),
                key=str(record.photo_id),
            )
        )
    return prompts


def _prompt_set_key(store: Store, site: str) -> tuple:
    return (site, tuple(sorted((r.photo_id, r.version, r.mask.sha256) for r in store.prompts(site))))


# -- analysis -------------------------------------------------------------------------------------
@dataclass
class AnalysisRunSummary:
    """What an analysis run did: ids analysed, and skipped/failed ids with reasons."""

    analysed: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)

    def describe(self) -> str:
        """A short plain summary."""
        parts = [f"{len(self.analysed)} photo(s) analysed"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        lines = [", ".join(parts) + "."]
        lines += sorted({reason for reason in self.skipped.values()})
        lines += [f"Photo {pid}: {reason}" for pid, reason in sorted(self.failed.items())]
        return "\n".join(lines)


def photos_to_analyse(store: Store, site: str | None = None) -> list[int]:
    """Photos with no analysis yet, or whose analysis is stale (its site's prompts changed)."""
    ids = []
    for photo in store.photos(site):
        current = store.current_analysis(photo.id)
        if current is None or getattr(current, "stale", False):
            ids.append(photo.id)
    return ids


def analyse_photos(
    store: Store,
    pipelines: PipelineCache,
    choice: ModelChoice,
    photo_ids: Sequence[int],
    *,
    download: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> AnalysisRunSummary:
    """Segment and score ``photo_ids`` with the prompts of each photo's site; record results.

    A photo that is itself a prompt is segmented from the other prompts (never from itself).
    Sites with fewer than :data:`MIN_PROMPTS` prompt masks are skipped with the reason.
    """
    summary = AnalysisRunSummary()
    by_site: OrderedDict[str, list[int]] = OrderedDict()
    for pid in photo_ids:
        by_site.setdefault(store.photo(pid).site, []).append(pid)
    counts = {site: len(store.prompts(site)) for site in by_site}
    runnable = [s for s in by_site if counts[s] >= MIN_PROMPTS]
    for site in by_site:
        if site not in runnable:
            reason = (
                f"Body site '{site}' has {counts[site]} prompt mask(s); paint at least "
                f"{MIN_PROMPTS} prompt masks for it first."
            )
            summary.skipped.update(dict.fromkeys(by_site[site], reason))
    if not runnable:
        return summary
    total = sum(len(by_site[s]) for s in runnable)
    pipeline = pipelines.get(choice, download=download, progress=progress, cancel=cancel)
    done = 0
    for site in runnable:
        raise_if_cancelled(cancel)
        report(progress, done, total, f"preparing prompts of {site}")
        pipelines.set_prompts(pipeline, _prompt_set_key(store, site), lambda s=site: site_prompts(store, s))
        for pid in by_site[site]:
            raise_if_cancelled(cancel)
            report(progress, done, total, f"photo {done + 1} of {total}")
            try:
                image = store.load_image(pid)
                analysis = _analyze(pipeline, image, exclude_keys=(str(pid),))
            except (ValueError, OSError) as exc:
                summary.failed[pid] = str(getattr(exc, "reason", exc))
            else:
                raise_if_cancelled(cancel)  # never record a result after the user said stop
                _record(store, pid, analysis, pipeline, choice)
                summary.analysed.append(pid)
            done += 1
            report(progress, done, total, f"photo {done} of {total}")
    return summary


def _analyze(pipeline: AnalysisPipeline, image: Any, *, exclude_keys: tuple[str, ...]) -> Any:
    try:
        return pipeline.analyze(image, exclude_keys=exclude_keys)
    except TypeError as exc:  # an older pipeline without exclude_keys
        if "exclude_keys" not in str(exc):
            raise
        return pipeline.analyze(image)


def _record(store: Store, photo_id: int, analysis: Any, pipeline: Any, choice: ModelChoice) -> int:
    encoder = pipeline.encoder
    return store.record_analysis(
        photo_id,
        mask=analysis.mask,
        lesion_area_fraction=float(analysis.lesion_area_fraction),
        features=np.asarray(analysis.features, dtype=np.float32),
        feature_source=getattr(encoder, "backbone_id", choice.dino),
        probabilities=None if analysis.probabilities is None else np.asarray(analysis.probabilities),
        score=None if analysis.score is None else float(analysis.score),
        model_sources={"dino": choice.dino, "seggpt": choice.seggpt},
        k=choice.k,
        severity_model_id=choice.severity_model_id if analysis.probabilities is not None else None,
        prompt_photo_ids=[int(key) for key in analysis.prompt_keys if str(key).isdigit()],
    )


def rescore_analyses(
    store: Store,
    severity_model_path: str | Path,
    severity_model_id: int | None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> int:
    """Score every current analysis's stored features with a severity model; no re-segmenting.

    Analyses whose features come from another backbone than the model's are left alone.
    Returns how many analyses were re-scored.
    """
    from eczema_tracker.ml.severity import SeverityModel

    model = SeverityModel.load(severity_model_path)
    wanted = str(model.metadata.get("backbone_id") or "")
    photos = store.photos()
    count = 0
    for i, photo in enumerate(photos):
        raise_if_cancelled(cancel)
        report(progress, i, len(photos), "re-scoring")
        current = store.current_analysis(photo.id)
        # A stale analysis needs new prompts, not just a new score: it is left to re-analysis.
        if current is None or current.stale or current.features is None:
            continue
        if wanted and current.feature_source and current.feature_source != wanted:
            continue
        features = np.asarray(current.features, dtype=np.float32).reshape(-1)
        if features.shape[0] != model.feature_dim:
            continue
        probabilities = model.predict_proba(features[None, :])[0]
        new_id = store.record_analysis(
            photo.id,
            mask=store.load_mask(current.mask),
            lesion_area_fraction=float(current.lesion_area_fraction),
            features=features,
            feature_source=current.feature_source,
            probabilities=probabilities,
            score=float(model.score(features[None, :])[0]),
            model_sources=dict(current.model_sources or {}),
            k=int(current.k),
            severity_model_id=severity_model_id,
            prompt_photo_ids=current.prompt_photo_ids,
        )
        if current.corrected_mask is not None:  # keep the person's correction
            store.save_corrected_mask(new_id, store.load_mask(current.corrected_mask))
        count += 1
    report(progress, len(photos), len(photos), "re-scored")
    return count


# -- personal severity model ----------------------------------------------------------------------
@dataclass
class TrainingReadiness:
    """Whether a personal model can be trained now, and why not."""

    ready: bool
    n_rated: int
    levels: list[int]
    message: str


def training_readiness(store: Store) -> TrainingReadiness:
    """At least 8 rated photos with analysis features, with at least 2 different levels."""
    rows = store.analyses_for_training()
    levels = sorted({int(r[2]) for r in rows})
    n = len(rows)
    if n >= MIN_RATED_FOR_TRAINING and len(levels) >= 2:
        return TrainingReadiness(True, n, levels, f"{n} rated and analysed photos are ready.")
    need = []
    if n < MIN_RATED_FOR_TRAINING:
        need.append(f"rate {MIN_RATED_FOR_TRAINING - n} more analysed photo(s)")
    if len(levels) < 2:
        need.append("use at least two different severity levels")
    return TrainingReadiness(
        False,
        n,
        levels,
        f"{n} analysed photo(s) are rated. To train a personal severity model, " + " and ".join(need) + ".",
    )


#: The paper trains 50 epochs; on a person's few photos that is a handful of Adam steps at
#: lr 1e-4, too few to learn anything, so small sets get more epochs (at least this many steps).
MIN_OPTIMISER_STEPS = 300
BATCH_SIZE = 16


def personal_epochs(n_samples: int) -> int:
    """Epochs for ``n_samples`` rated photos: the paper's 50, or more to reach 300 Adam steps."""
    batches = max(1, -(-n_samples // BATCH_SIZE))
    return max(50, -(-MIN_OPTIMISER_STEPS // batches))


@dataclass
class CrossValidation:
    """How a personal model does on the person's own ratings (held-out predictions)."""

    accuracy: float
    confusion: np.ndarray  # 4 x 4: rows = the person's rating, columns = predicted
    scheme: str  # e.g. "stratified 3-fold cross-validation"
    n_samples: int
    predictions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


def cross_validation_scheme(labels: Sequence[int]) -> tuple[str, Any]:
    """Stratified k-fold with k = min(5, smallest class count); leave-one-out when that is < 2."""
    from sklearn.model_selection import LeaveOneOut, StratifiedKFold

    counts = np.bincount(np.asarray(labels, dtype=int), minlength=4)
    smallest = int(counts[counts > 0].min())
    k = min(5, smallest)
    if k >= 2:
        return f"stratified {k}-fold cross-validation", StratifiedKFold(k, shuffle=True, random_state=0)
    return "leave-one-out cross-validation (a level has only one rated photo)", LeaveOneOut()


def cross_validate_severity(
    features: np.ndarray,
    labels: Sequence[int],
    *,
    backbone_source: str,
    feature_variant: str = "cls",
    epochs: int = 50,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> CrossValidation:
    """Held-out accuracy and confusion table of the paper's MLP on these ratings."""
    from sklearn.metrics import confusion_matrix

    from eczema_tracker.ml.severity import SeverityModel

    x = np.asarray(features, dtype=np.float32)
    y = np.asarray(labels, dtype=int)
    scheme, splitter = cross_validation_scheme(y)
    splits = list(splitter.split(x, y))
    predicted = np.zeros_like(y)
    for i, (train, test) in enumerate(splits):
        raise_if_cancelled(cancel)
        report(progress, i, len(splits) + 1, f"cross-validation fold {i + 1} of {len(splits)}")
        model = SeverityModel(x.shape[1], backbone_source=backbone_source, feature_variant=feature_variant, seed=i)
        model.fit(x[train], y[train], epochs=epochs, cancel=cancel)
        predicted[test] = model.predict(x[test])
    confusion = confusion_matrix(y, predicted, labels=[0, 1, 2, 3])
    return CrossValidation(float((predicted == y).mean()), confusion, scheme, len(y), predicted)


def _training_rows(store: Store) -> tuple[list[Any], str | None]:
    """Rated analyses whose features all come from one backbone (the most common), and its id."""
    rows = store.analyses_for_training()
    counts: dict[str, int] = {}
    for row in rows:
        current = store.current_analysis(row[0])
        source = getattr(current, "feature_source", None) if current is not None else None
        if source:
            counts[source] = counts.get(source, 0) + 1
    if not counts:
        return rows, None
    backbone_id = max(counts, key=counts.get)
    return store.analyses_for_training(feature_source=backbone_id), backbone_id


@dataclass
class PersonalModelResult:
    """A trained, stored and activated personal severity model."""

    model_id: int
    model_path: Path
    validation: CrossValidation
    metadata: dict


def train_personal_model(
    store: Store,
    *,
    backbone_source: str,
    feature_variant: str = "cls",
    epochs: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> PersonalModelResult:
    """Cross-validate, then fit the MLP on all rated analyses and store it as the active model.

    ``epochs`` defaults to :func:`personal_epochs` (the paper's 50, more for few photos).
    """
    from eczema_tracker.ml.severity import SeverityModel

    readiness = training_readiness(store)
    if not readiness.ready:
        raise ServiceError(readiness.message)
    rows, backbone_id = _training_rows(store)
    x = np.stack([np.asarray(r[1], dtype=np.float32) for r in rows])
    y = np.asarray([int(r[2]) for r in rows], dtype=int)
    epochs = epochs or personal_epochs(len(y))
    validation = cross_validate_severity(
        x, y, backbone_source=backbone_source, feature_variant=feature_variant, epochs=epochs,
        progress=progress, cancel=cancel,
    )
    raise_if_cancelled(cancel)
    report(progress, 1, 1, "training on all ratings")
    model = SeverityModel(
        x.shape[1], backbone_source=backbone_source, feature_variant=feature_variant,
        backbone_id=backbone_id,
    )
    model.fit(x, y, epochs=epochs, cancel=cancel)
    raise_if_cancelled(cancel)
    metadata = {
        **dict(model.metadata),
        "kind": "personal",
        "cv_accuracy": validation.accuracy,
        "cv_scheme": validation.scheme,
        "cv_confusion": validation.confusion.tolist(),
    }
    with tempfile.TemporaryDirectory(prefix="eczema-severity-") as tmp:
        path = Path(tmp) / "severity.safetensors"
        model.save(path)
        model_id = store.add_severity_model(path, metadata, activate=True)
    record = store.active_severity_model()
    return PersonalModelResult(model_id, _record_path(record), validation, metadata)


def import_severity_model(
    store: Store, path: str | Path, *, encoder_backbone: str, encoder: Any = None
) -> int:
    """Store a severity model made by ``eczema-tracker train`` and activate it.

    Refused (``SeverityModelMismatch``, a plain message) when it was trained on features of
    another backbone than the one in use: the loaded ``encoder`` when given, else the DINO
    source in the settings (``encoder_backbone``) and the features already stored.
    """
    from eczema_tracker.ml.severity import SeverityModel, SeverityModelMismatch

    model = SeverityModel.load(path)
    if encoder is not None:
        model.check_compatible(encoder)
    else:
        meta = model.metadata
        trained_on = str(meta.get("backbone_source") or "")
        stored = _feature_sources(store)
        backbone_id = meta.get("backbone_id")
        mismatch = (backbone_id and stored and backbone_id not in stored) or (
            trained_on and trained_on != encoder_backbone and not (backbone_id and backbone_id in stored)
        )
        if mismatch:
            raise SeverityModelMismatch(
                f"This severity model was trained on features of '{trained_on}', but the app uses "
                f"'{encoder_backbone}'. Choose a model trained with the same DINO model, or change "
                "the DINO model in Settings."
            )
    return store.add_severity_model(Path(path), dict(model.metadata), activate=True)


def _feature_sources(store: Store) -> set[str]:
    sources = set()
    for photo in store.photos():
        current = store.current_analysis(photo.id)
        if current is not None and current.feature_source:
            sources.add(str(current.feature_source))
    return sources


# -- record helpers (tolerant of field names) -------------------------------------------------------
def _record_id(record: Any) -> int | None:
    value = getattr(record, "id", None)
    return int(value) if value is not None else None


def _record_path(record: Any) -> Path:
    for name in ("path", "file", "file_path"):
        value = getattr(record, name, None)
        if value:
            return Path(value)
    raise ServiceError("The active severity model's file is missing from the store.")
