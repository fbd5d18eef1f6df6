"""Personal severity models (no Qt): readiness, cross-validation, training, import, re-scoring,
and whether a personal model has earned its place (beats the majority guess on the same folds).
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
from eczema_tracker.core.severity_scale import class_name

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
    """How a personal model does on the person's own ratings (held-out predictions), and how
    the majority guess (always the most common rating of the training part) does on the same
    folds."""

    accuracy: float
    confusion: np.ndarray  # 4 x 4: rows = the person's rating, columns = predicted
    scheme: str  # e.g. "stratified 3-fold cross-validation"
    n_samples: int
    predictions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    #: held-out photos the majority guess matched (see :func:`majority_guess_agreed`)
    majority_agreed: int = 0
    #: the person's most common rating (0-3): the majority guess's answer
    majority_rating: int = 0

    @property
    def agreed(self) -> int:
        """Held-out photos the model graded as the person did."""
        return int(np.trace(np.asarray(self.confusion)))

    def standing(self) -> ModelStanding:
        """These numbers as a :class:`ModelStanding` (earned or not; nobody chose yet)."""
        return ModelStanding(
            self.agreed, self.n_samples, self.majority_agreed, self.majority_rating, None
        )


#: A personal model is switched on by itself only when it agrees with the person on at least
#: this many percentage points more of the held-out photos than the majority guess ...
ACTIVATION_MARGIN_POINTS = 10
#: ... and on at least this many more photos. With 8-20 rated photos one photo is 5-12 points
#: and a single fold split moves the count by one either way: a one-photo lead is noise, two is
#: the least that says the model learnt something from the photos. As ratings grow, the 10
#: points (2 photos of 20, 5 of 50) take over, so the bar does not fall to a token lead.
MIN_MORE_AGREED = 2


def beats_majority_guess(agreed: int, majority_agreed: int, n: int) -> bool:
    """Whether ``agreed`` of ``n`` held-out photos beats the majority guess's ``majority_agreed``
    by :data:`ACTIVATION_MARGIN_POINTS` points and :data:`MIN_MORE_AGREED` photos."""
    lead = agreed - majority_agreed
    return n > 0 and lead >= MIN_MORE_AGREED and lead * 100 >= ACTIVATION_MARGIN_POINTS * n


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "–"


@dataclass(frozen=True)
class ModelStanding:
    """How a personal model did against the majority guess, and who switched it on."""

    agreed: int  #: held-out photos graded as the person did
    n: int  #: rated photos checked
    majority_agreed: int  #: held-out photos the majority guess matched
    majority_rating: int  #: the person's most common rating (0-3)
    #: who switched it on, while it is active: "check" (it beat the majority guess when
    #: trained), "person" (the person's decision), "before" (trained before this check); None: off
    activated_by: str | None

    @property
    def earned(self) -> bool:
        """Whether it beat the majority guess by the stated margin."""
        return beats_majority_guess(self.agreed, self.majority_agreed, self.n)

    @property
    def trusted(self) -> bool:
        """Whether its grades may be shown when it is active: earned, or chosen by the person."""
        return self.earned or self.activated_by == "person"

    def agreement_text(self) -> str:
        """``agreed with you on 7 of 9 photos (78 %), majority guess 44 %``."""
        return (
            f"agreed with you on {self.agreed} of {self.n} photos "
            f"({_pct(self.agreed, self.n)}), majority guess {_pct(self.majority_agreed, self.n)}"
        )

    def comparison_text(self) -> str:
        """``matched you on 1 of 8 photos (12 %); always answering 'mild' matches 5 of 8 (62 %)``."""
        return (
            f"matched you on {self.agreed} of {self.n} photos ({_pct(self.agreed, self.n)}); "
            f"always answering '{class_name(self.majority_rating)}' matches "
            f"{self.majority_agreed} of {self.n} ({_pct(self.majority_agreed, self.n)})"
        )

    def verdict_text(self) -> str:
        """One sentence: the comparison and what became of the model."""
        compared = f"Your personal model {self.comparison_text()}"
        if self.activated_by == "person":
            return f"{compared}: used because you chose to."
        if self.earned:
            if self.activated_by is None:
                return f"{compared}: better by at least {ACTIVATION_MARGIN_POINTS} points, but off."
            return (
                f"{compared}: better by at least {ACTIVATION_MARGIN_POINTS} points, so it is used."
            )
        if self.activated_by == "before":
            return (
                f"{compared}: it was switched on before the app compared it with that; its "
                "grades are not shown until you choose to use it."
            )
        return f"{compared}: kept, not used."


def model_standing(record: SeverityModelRecord) -> ModelStanding | None:
    """A stored personal model's standing (None for a model without a held-out check).

    Models trained before the majority guess was recorded have their confusion table: the
    majority guess is then the most common rating's count over all rated photos."""
    meta = record.metadata or {}
    confusion = meta.get("cv_confusion")
    if meta.get("kind") != "personal" or not confusion:
        return None
    table = np.asarray(confusion, dtype=int)
    per_level = table.sum(axis=1)
    majority = meta.get("majority_agreed")
    rating = meta.get("majority_rating")
    return ModelStanding(
        agreed=int(np.trace(table)),
        n=int(table.sum()),
        majority_agreed=int(majority) if isinstance(majority, int) else int(per_level.max()),
        majority_rating=int(rating) if isinstance(rating, int) else int(per_level.argmax()),
        activated_by=(str(meta.get("activated_by") or "before")) if record.active else None,
    )


def grading_model(store: Store) -> SeverityModelRecord | None:
    """The active severity model if its grades may be shown: an imported model (the person
    chose the file), or a personal model that earned its place or that the person chose to use.
    A personal model switched on before this check, not better than the majority guess and
    never chosen, gives no grades."""
    active = store.active_severity_model()
    if active is None:
        return None
    standing = model_standing(active)
    return active if standing is None or standing.trusted else None


#: How :func:`severity_model_line` begins when a personal model is kept off and none is used.
KEPT_OFF_PREFIX = "none in use. "


def severity_model_line(store: Store) -> str:
    """One line on the severity model in use, for the photo view and the model status: the
    personal model's agreement against the majority guess, or why none is used."""
    active = store.active_severity_model()
    if active is not None:
        standing = model_standing(active)
        if standing is None:
            return f"imported model file '{active.file_name}'"
        if standing.trusted:
            by = "; you chose to use it" if standing.activated_by == "person" else ""
            return f"your personal model: {standing.agreement_text()}{by}"
        return standing.verdict_text()
    latest = latest_personal_model(store)
    standing = None if latest is None else model_standing(latest)
    if standing is not None:
        return (
            f"{KEPT_OFF_PREFIX}your personal model {standing.comparison_text()}: kept, not used "
            "(Models ▸ Personal severity model… to use it anyway)."
        )
    return "none (rate 8 analysed photos to train your own)"


def stored_validation(record: SeverityModelRecord) -> CrossValidation | None:
    """A stored personal model's held-out check, as recorded when it was trained (without the
    per-photo predictions, which are not stored); None without a recorded check."""
    standing = model_standing(record)
    if standing is None or standing.n == 0:
        return None
    meta = record.metadata
    return CrossValidation(
        accuracy=standing.agreed / standing.n,
        confusion=np.asarray(meta["cv_confusion"], dtype=int),
        scheme=str(meta.get("cv_scheme") or "cross-validation"),
        n_samples=standing.n,
        majority_agreed=standing.majority_agreed,
        majority_rating=standing.majority_rating,
    )


def latest_personal_model(store: Store) -> SeverityModelRecord | None:
    """The newest stored personal model (active or not)."""
    return next(
        (m for m in store.severity_models() if (m.metadata or {}).get("kind") == "personal"),
        None,
    )


def use_personal_model(store: Store, model_id: int) -> None:
    """Use a personal model anyway: the person's decision, recorded with the model."""
    store.activate_severity_model(model_id, by_person=True)


def stop_using_severity_model(store: Store) -> None:
    """No severity model grades photos (the stored models are kept)."""
    store.activate_severity_model(None)


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
    majority_rating, majority_agreed = majority_guess_agreed(y, splits)
    return CrossValidation(
        float((predicted == y).mean()),
        confusion,
        scheme,
        len(y),
        predicted,
        majority_agreed=majority_agreed,
        majority_rating=majority_rating,
    )


def majority_guess_agreed(
    labels: Sequence[int] | np.ndarray, splits: Sequence[tuple[np.ndarray, np.ndarray]]
) -> tuple[int, int]:
    """(the most common rating, held-out photos the majority guess matched) on these folds.

    Each fold guesses its training part's most common rating (a tie goes to the overall most
    common). Leave-one-out can make that guess look worse than it is (leaving out a photo of
    a level tied for first flips the guess away from it), so the count is never below that of
    always answering the overall most common rating: the bar a model must beat is not lowered
    by an accident of the folds.
    """
    y = np.asarray(labels, dtype=int)
    counts = np.bincount(y, minlength=4)
    overall = int(counts.argmax())
    hits = 0
    for train, test in splits:
        fold = np.bincount(y[train], minlength=4)
        best = np.flatnonzero(fold == fold.max())
        guess = overall if overall in best else int(best[0])
        hits += int((y[test] == guess).sum())
    return overall, max(hits, int(counts[overall]))


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
    """A trained and stored personal severity model: active when it earned its place."""

    model_id: int
    model_path: Path
    validation: CrossValidation
    metadata: dict[str, Any]
    active: bool = False

    @property
    def standing(self) -> ModelStanding:
        """How it did against the majority guess, and whether it was switched on."""
        return ModelStanding(
            self.validation.agreed,
            self.validation.n_samples,
            self.validation.majority_agreed,
            self.validation.majority_rating,
            "check" if self.active else None,
        )


def train_personal_model(
    store: Store,
    *,
    backbone_source: str,
    feature_variant: str = "cls",
    epochs: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> PersonalModelResult:
    """Cross-validate, then fit the MLP on all rated analyses and store it.

    It becomes the active model only when it beats the majority guess on the same folds
    (:func:`beats_majority_guess`); otherwise it is kept, off, and the model active before (if
    any) stays active: the person may still choose it (:func:`use_personal_model`).
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
        "majority_agreed": validation.majority_agreed,
        "majority_rating": validation.majority_rating,
        "activation_margin_points": ACTIVATION_MARGIN_POINTS,
    }
    earned = validation.standing().earned
    if earned:
        metadata["activated_by"] = "check"
    with _store_temp_file(store, prefix="personal-severity-", suffix=".safetensors") as path:
        model.save(path)
        model_id = store.add_severity_model(path, metadata, activate=earned)
    record = store.severity_model(model_id)
    return PersonalModelResult(model_id, record_path(record), validation, metadata, earned)


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
        raise ServiceError("The severity model's file is missing from the store.")
    return Path(record.path)
