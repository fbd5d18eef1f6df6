"""Personal severity models (no Qt): readiness, cross-validation, training, import, re-scoring.

Re-exported by :mod:`eczema_tracker.app.services`, the one module tying ``ml`` and ``store``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from eczema_tracker.core.errors import UserError
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled, report

if TYPE_CHECKING:
    from eczema_tracker.ml.dino import DinoEncoder
    from eczema_tracker.ml.severity import SeverityModel
    from eczema_tracker.store import AnalysisRecord, SeverityModelRecord, Store, TrainingExample

#: Rated photos (with analyses) needed before a personal severity model is offered.
MIN_RATED_FOR_TRAINING = 8


class ServiceError(UserError):
    """A problem to show the user as it is (one or two plain sentences)."""


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
    listed = store.current_analyses()  # one query, no feature blobs: which ones to re-score
    count = 0
    for i, photo in enumerate(photos):
        raise_if_cancelled(cancel)
        report(progress, i, len(photos), "re-scoring")
        if not _rescorable(listed.get(photo.id), wanted):
            continue
        current = store.current_analysis(photo.id)  # now with its features
        if current is None or current.features is None or not _rescorable(current, wanted):
            continue
        features = np.asarray(current.features, dtype=np.float32).reshape(-1)
        if features.shape[0] != model.feature_dim:
            continue
        probabilities = model.predict_proba(features[None, :])[0]
        store.record_analysis(  # carries the person's corrected mask over (same transaction)
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
        count += 1
    report(progress, len(photos), len(photos), "re-scored")
    return count


def _rescorable(analysis: AnalysisRecord | None, backbone_id: str) -> bool:
    """Whether a model trained on ``backbone_id`` features (any when empty) may re-score it.

    A stale analysis needs new prompts, not just a new score: it is left to re-analysis."""
    if analysis is None or analysis.stale:
        return False
    source = analysis.feature_source
    return not (backbone_id and source and source != backbone_id)


# -- personal severity model ----------------------------------------------------------------------
@dataclass
class TrainingReadiness:
    """Whether a personal model can be trained now, and why not."""

    ready: bool
    n_rated: int
    levels: list[int]
    message: str
    #: analysed photos (with features to learn from) not rated yet, newest first: the ones a
    #: rating makes count (empty when ready)
    to_rate: list[int] = field(default_factory=list)


def photos_to_rate(store: Store) -> list[int]:
    """Library photos whose current analysis has features and that have no rating, newest first
    (two queries, however many photos)."""
    analyses = store.current_analyses()
    rated = {p.photo_id for p in store.timeline(None) if p.rating is not None}
    return [
        photo.id
        for photo in store.photos()
        if photo.id not in rated
        and photo.id in analyses
        and analyses[photo.id].feature_source is not None
    ]


def training_readiness(store: Store) -> TrainingReadiness:
    """At least 8 rated photos with analysis features, with at least 2 different levels."""
    rows = store.analyses_for_training()
    levels = sorted({example.rating for example in rows})
    n = len(rows)
    if n >= MIN_RATED_FOR_TRAINING and len(levels) >= 2:
        return TrainingReadiness(True, n, levels, f"{n} rated and analysed photos are ready.")
    need = []
    if n < MIN_RATED_FOR_TRAINING:
        more = MIN_RATED_FOR_TRAINING - n
        need.append(f"rate {more} more analysed photo{'s' if more != 1 else ''}")
    if len(levels) < 2:
        need.append("use at least two different severity levels")
    return TrainingReadiness(
        False,
        n,
        levels,
        f"{n} analysed photo{' is' if n == 1 else 's are'} rated. To train a personal severity "
        "model, " + " and ".join(need) + ".",
        photos_to_rate(store),
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


class Splitter(Protocol):
    """A scikit-learn cross-validation splitter (``StratifiedKFold``, ``LeaveOneOut``)."""

    def split(self, x: np.ndarray, y: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(train indices, test indices) of each fold."""
        ...


def cross_validation_scheme(labels: Sequence[int] | np.ndarray) -> tuple[str, Splitter]:
    """Stratified k-fold with k = min(5, smallest class count); leave-one-out when that is < 2."""
    from sklearn.model_selection import LeaveOneOut, StratifiedKFold

    counts = np.bincount(np.asarray(labels, dtype=int), minlength=4)
    smallest = int(counts[counts > 0].min())
    k = min(5, smallest)
    if k >= 2:
        return f"stratified {k}-fold cross-validation", StratifiedKFold(
            k, shuffle=True, random_state=0
        )
    return "leave-one-out cross-validation (a level has only one rated photo)", LeaveOneOut()


def cross_validate_severity(
    features: np.ndarray,
    labels: Sequence[int] | np.ndarray,
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
        model = SeverityModel(
            x.shape[1], backbone_source=backbone_source, feature_variant=feature_variant, seed=i
        )
        model.fit(x[train], y[train], epochs=epochs, cancel=cancel)
        predicted[test] = model.predict(x[test])
    confusion = confusion_matrix(y, predicted, labels=[0, 1, 2, 3])
    return CrossValidation(float((predicted == y).mean()), confusion, scheme, len(y), predicted)


def _training_rows(store: Store) -> tuple[list[TrainingExample], str | None]:
    """Rated analyses whose features all come from one backbone (the most common), and its id.

    The backbone of a rated photo is that of its current analysis (one query for them all)."""
    rows = store.analyses_for_training()
    current = store.current_analyses()
    counts: dict[str, int] = {}
    for example in rows:
        analysis = current.get(example.photo_id)
        source = analysis.feature_source if analysis is not None else None
        if source:
            counts[source] = counts.get(source, 0) + 1
    if not counts:
        return rows, None
    backbone_id = max(counts, key=counts.__getitem__)
    return store.analyses_for_training(feature_source=backbone_id), backbone_id


@dataclass
class PersonalModelResult:
    """A trained, stored and activated personal severity model."""

    model_id: int
    model_path: Path
    validation: CrossValidation
    metadata: dict[str, Any]


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
    x = np.stack([np.asarray(example.features, dtype=np.float32) for example in rows])
    y = np.asarray([example.rating for example in rows], dtype=int)
    epochs = epochs or personal_epochs(len(y))
    validation = cross_validate_severity(
        x,
        y,
        backbone_source=backbone_source,
        feature_variant=feature_variant,
        epochs=epochs,
        progress=progress,
        cancel=cancel,
    )
    raise_if_cancelled(cancel)
    report(progress, 1, 1, "training on all ratings")
    model = SeverityModel(
        x.shape[1],
        backbone_source=backbone_source,
        feature_variant=feature_variant,
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
    with _store_temp_file(store, prefix="personal-severity-", suffix=".safetensors") as path:
        model.save(path)
        model_id = store.add_severity_model(path, metadata, activate=True)
    record = store.active_severity_model()
    return PersonalModelResult(model_id, record_path(record), validation, metadata)


@contextlib.contextmanager
def _store_temp_file(store: Store, *, prefix: str, suffix: str) -> Iterator[Path]:
    """A temp file in the store's own ``tmp/`` folder, removed afterwards.

    Not the system temp folder: a model trained on a person's ratings is their data, and a
    crash would leave it there for good; the store empties ``tmp/`` whenever it is opened for
    writing.
    """
    from eczema_tracker.store import files

    folder = Path(store.data_dir) / files.TMP
    files.make_private_dirs(folder)
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
    os.close(fd)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def import_severity_model(
    store: Store, path: str | Path, *, encoder_backbone: str, encoder: DinoEncoder | None = None
) -> int:
    """Store a severity model made by ``eczema-tracker train`` and activate it.

    Refused (``SeverityModelMismatch``, a plain message) when it was trained on features of
    another backbone than the one in use: the loaded ``encoder`` when given, else the DINO
    source in the settings (``encoder_backbone``) and the features already stored.
    """
    from eczema_tracker.ml.severity import SeverityModel

    model = SeverityModel.load(path)
    if encoder is not None:
        model.check_compatible(encoder)  # the one rule, when the encoder is loaded
    else:
        _check_without_encoder(model, encoder_backbone, _feature_sources(store))
    return store.add_severity_model(Path(path), dict(model.metadata), activate=True)


def _check_without_encoder(
    model: SeverityModel, encoder_backbone: str, stored_backbone_ids: set[str]
) -> None:
    """Refuse a model that cannot fit, judged without loading the encoder.

    ``ml`` has no such rule yet (:meth:`SeverityModel.check_compatible` needs a loaded encoder),
    so it is kept here: a model whose backbone fingerprint none of the stored features has, or
    one trained on another DINO source than the settings' unless the stored features show its
    fingerprint, is refused."""
    from eczema_tracker.ml.severity import SeverityModelMismatch

    meta = model.metadata
    trained_on = str(meta.get("backbone_source") or "")
    backbone_id = meta.get("backbone_id")
    stored = stored_backbone_ids
    mismatch = (backbone_id and stored and backbone_id not in stored) or (
        trained_on
        and trained_on != encoder_backbone
        and not (backbone_id and backbone_id in stored)
    )
    if mismatch:
        raise SeverityModelMismatch(
            f"This severity model was trained on features of '{trained_on}', but the app uses "
            f"'{encoder_backbone}'. Choose a model trained with the same DINO model, or change "
            "the DINO model in Settings."
        )


def _feature_sources(store: Store) -> set[str]:
    """The backbone ids of the library's current analyses' features (one query)."""
    return {
        str(analysis.feature_source)
        for analysis in store.current_analyses().values()
        if analysis.feature_source
    }


def record_path(record: SeverityModelRecord | None) -> Path:
    """The file of a stored severity model record."""
    if record is None or not str(record.path):
        raise ServiceError("The active severity model's file is missing from the store.")
    return Path(record.path)
