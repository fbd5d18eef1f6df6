"""Personalising severity: train on the person's own ratings, import a model, re-score.

The flow knows its collaborators only (the store session, the pipeline cache, the settings and a
:class:`~eczema_tracker.gui.flow_host.Messages` host). What it writes is announced on the
session (``severity_models`` after training or an import, ``analyses`` after re-scoring), so the
views refresh themselves; the window decides when to call :meth:`maybe_offer_training`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from eczema_tracker.app import analysis_models, edits, personal_severity
from eczema_tracker.app.changes import OpResult
from eczema_tracker.app.settings import Settings
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback
from eczema_tracker.gui.flow_host import Messages
from eczema_tracker.gui.formatting import format_day_time
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.store import Store

if TYPE_CHECKING:
    from eczema_tracker.gui.models.personal_dialog import Mistake, PersonalModelDialog


def training_mistakes(store: Store, result: personal_severity.PersonalModelResult) -> list[Mistake]:
    """The rated photos the held-out check graded differently, with thumbnails (worker thread).

    The rows are read again the way training read them (same backbone's features, same order);
    when they no longer line up with the check's predictions (e.g. a rating changed meanwhile),
    nothing is listed rather than the wrong photos.
    """
    from eczema_tracker.gui.models.personal_dialog import Mistake, find_mistakes

    validation = result.validation
    backbone = result.metadata.get("backbone_id")
    rows = store.analyses_for_training(feature_source=backbone)
    predictions = list(getattr(validation, "predictions", []))
    if len(rows) != validation.n_samples or len(predictions) != len(rows):
        return []
    ratings = [int(r[2]) for r in rows]
    confusion = [[0] * 4 for _ in range(4)]
    for rating, predicted in zip(ratings, predictions, strict=True):
        confusion[rating][int(predicted)] += 1
    if confusion != [[int(v) for v in row] for row in validation.confusion]:
        return []
    out = []
    for mistake in find_mistakes([r[0] for r in rows], ratings, predictions):
        try:
            thumb = store.thumbnail(mistake.photo_id)
        except Exception:  # noqa: BLE001 - a missing thumbnail shows an empty square
            thumb = None
        try:
            when = store.photo(mistake.photo_id).taken_datetime
        except Exception:  # noqa: BLE001 - an unreadable date is just not shown
            when = None
        out.append(Mistake(mistake.photo_id, mistake.rating, mistake.predicted, thumb, when))
    return out


#: How many of the photos to rate are named (the count of the rest follows).
NAMED_PHOTOS = 3


def photos_to_rate_text(store: Store, to_rate: list[int]) -> str:
    """Which analysed photos can be rated now, by site and date (newest first)."""
    if not to_rate:
        return (
            "Every analysed photo is rated already: analyse more photos first "
            "(Analyse ▸ All not analysed), then rate them with the keys 0–3."
        )
    names = []
    for pid in to_rate[:NAMED_PHOTOS]:
        photo = store.photo(pid)
        try:
            when = photo.taken_datetime
        except (ValueError, TypeError):
            when = None
        names.append(f"the '{photo.site}' photo of {format_day_time(when)}")
    rest = len(to_rate) - len(names)
    listed = "; ".join(names) + (f"; and {rest} more" if rest else "")
    return f"Analysed photos without a rating: {listed}. Select one and press 0–3."


class PersonalModelFlow(QObject):
    """Enough ratings → offer to train → background training → results → offer to re-score."""

    trainingFinished = Signal(object)  # noqa: N815 - personal_severity.PersonalModelResult
    modelImported = Signal(int)  # noqa: N815
    rescoreFinished = Signal(int)  # noqa: N815 - analyses scored
    photoActivated = Signal(int)  # noqa: N815 - a photo picked in the results dialog

    def __init__(
        self,
        session: StoreSession,
        pipelines: analysis_models.PipelineCache,
        settings: Settings,
        host: Messages,
        *,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.pipelines = pipelines
        self.settings = settings
        self.host = host
        self._parent = parent
        self._offered_at: int | None = None  # number of ratings when training was last offered
        self.task: BackgroundTask | None = None
        self.result_dialog: PersonalModelDialog | None = None

    def maybe_offer_training(self) -> BackgroundTask | None:
        """Offer to train once enough analysed photos are rated (again when more ratings came)."""
        store = self.session.store
        readiness = personal_severity.training_readiness(store)
        if not readiness.ready or (
            self._offered_at is not None and readiness.n_rated < self._offered_at + 4
        ):
            return None
        latest = personal_severity.latest_personal_model(store)
        if latest is not None and int(latest.metadata.get("n_train") or 0) >= readiness.n_rated:
            return None  # trained on these ratings already (used or kept off)
        self._offered_at = readiness.n_rated
        if self.host.ask_question(
            "Train your own severity model?",
            f"{readiness.n_rated} analysed photos are rated. Train a severity model on your own "
            "ratings now? It runs in the background and shows how well it agrees with you.",
        ):
            return self.train()
        return None

    # -- training --------------------------------------------------------------------------------
    def train(self) -> BackgroundTask | None:
        """Models ▸ Train personal severity model."""
        store = self.session.store
        readiness = personal_severity.training_readiness(store)
        if not readiness.ready:
            self._say_not_ready(readiness)
            return None
        if self.task is not None and not self.task.done:
            return None
        dino = self.settings.dino_source

        def op(
            progress: ProgressCallback, cancel: CancelCheck
        ) -> tuple[personal_severity.PersonalModelResult, list[Mistake]]:
            result = personal_severity.train_personal_model(
                store, backbone_source=dino, progress=progress, cancel=cancel
            )
            return result, training_mistakes(store, result)

        # Long (features, folds): its own worker, so ratings keyed meanwhile are not held up.
        self.task = BackgroundTask(self._parent, op, self._trained).with_progress(
            "Training your severity model"
        )
        self.task.titled("Training failed")
        return self.task.run()

    def _say_not_ready(self, readiness: personal_severity.TrainingReadiness) -> None:
        """Why training cannot start yet, naming the photos to rate (and a button showing the
        first of them), or saying that none is left to rate."""
        text, action = readiness.message, None
        if readiness.n_rated < personal_severity.MIN_RATED_FOR_TRAINING:
            text += "\n\n" + photos_to_rate_text(self.session.store, readiness.to_rate)
            if readiness.to_rate:
                first = readiness.to_rate[0]
                action = ("&Show it", lambda: self.photoActivated.emit(first))
        self.host.show_message("info", "Not enough ratings yet", text, action=action)

    def _trained(
        self, outcome: tuple[personal_severity.PersonalModelResult, list[Mistake]]
    ) -> None:
        """Training done. A model that earned its place: ask about re-scoring first, then show
        the results (one window at a time: the question never opens over the results). One
        that did not: it is off; the results say why and offer to use it anyway."""
        from eczema_tracker.gui.models.personal_dialog import validation_text

        result, mistakes = outcome
        self.session.notify(edits.SEVERITY_MODELS_CHANGED)  # trained on its own worker
        standing = result.standing
        if result.active:
            summary = validation_text(result.validation)
            self.host.status(
                "Personal severity model trained and in use: " + standing.agreement_text() + "."
            )
            self.offer_rescore(headline=f"Your personal severity model is ready. {summary}")
        else:
            self.host.status(standing.verdict_text())
        self._show_results(result.validation, standing, result.model_id, mistakes)
        self.trainingFinished.emit(result)

    def _show_results(
        self,
        validation: personal_severity.CrossValidation,
        standing: personal_severity.ModelStanding,
        model_id: int,
        mistakes: list[Mistake],
    ) -> None:
        from eczema_tracker.gui.models.personal_dialog import PersonalModelDialog

        self.result_dialog = PersonalModelDialog(
            validation, self._parent, mistakes=mistakes, standing=standing, model_id=model_id
        )
        self.result_dialog.photoActivated.connect(self.photoActivated)
        self.result_dialog.useChosen.connect(self.use_model)
        self.result_dialog.offChosen.connect(lambda _id: self.stop_using())
        self.result_dialog.open()

    def show_personal_model(self) -> None:
        """Models ▸ Personal severity model: the newest one's check, whether it is used, and
        the choice to use it (anyway) or to stop using it."""
        record = personal_severity.latest_personal_model(self.session.store)
        validation = None if record is None else personal_severity.stored_validation(record)
        standing = None if record is None else personal_severity.model_standing(record)
        if record is None or validation is None or standing is None:
            self.host.show_message(
                "info",
                "No personal severity model",
                "Rate 8 analysed photos (keys 0–3), then train one "
                "(Models ▸ Train personal severity model).",
            )
            return
        self._show_results(validation, standing, record.id, [])

    def use_model(self, model_id: int) -> BackgroundTask:
        """Use a personal model (anyway): the person's decision, recorded with the model; then
        offer to score the analyses with it."""

        def done(_none: None) -> None:
            record = self.session.store.severity_model(model_id)
            standing = personal_severity.model_standing(record)
            self.host.status(standing.verdict_text() if standing else "Severity model in use.")
            self.offer_rescore()

        return self.session.write(
            lambda store: edits.use_severity_model(store, model_id),
            on_done=done,
            error_title="Could not switch the model on",
        )

    def stop_using(self) -> BackgroundTask:
        """No severity model grades new photos (the stored models are kept)."""
        return self.session.write(
            edits.stop_using_severity_model,
            on_done=lambda _none: self.host.status(
                "No severity model in use: no grades until you choose one."
            ),
            error_title="Could not switch the model off",
        )

    # -- importing and re-scoring ----------------------------------------------------------------
    def import_model_dialog(self) -> None:
        """Models ▸ Import severity model file."""
        path, _ = QFileDialog.getOpenFileName(
            self._parent,
            "Import a severity model",
            str(Path.home()),
            "Severity models (*.safetensors)",
        )
        if path:
            self.import_model(path)

    def import_model(self, path: str) -> BackgroundTask:
        """Check a model file made by ``eczema-tracker train`` against the backbone, store it
        and make it the active one (a write through the session)."""
        pipelines, dino = self.pipelines, self.settings.dino_source

        def op(store: Store, _progress: ProgressCallback, _cancel: CancelCheck) -> OpResult[int]:
            loaded = pipelines.loaded_choice
            encoder = (
                pipelines.get(loaded).encoder
                if loaded is not None and loaded.dino == dino
                else None
            )
            return edits.import_severity_model(store, path, encoder_backbone=dino, encoder=encoder)

        def done(model_id: int) -> None:
            self.host.status("Severity model imported and in use.")
            self.modelImported.emit(model_id)
            self.offer_rescore()

        return self.session.write_job(
            op,
            on_done=done,
            error_title="Severity model refused",
            progress_label="Importing severity model",
        )

    def offer_rescore(self, headline: str = "") -> BackgroundTask | None:
        """Offer to score existing analyses with the active model (no re-segmenting)."""
        store = self.session.store
        if not any(store.current_analysis(p.id) is not None for p in store.photos()):
            return None
        if self.host.ask_question(
            "Score existing analyses?",
            (headline + "\n\n" if headline else "")
            + "Score the photos analysed so far with the new severity model? Their masks "
            "are kept; only the severity is computed again.",
        ):
            return self.rescore()
        return None

    def rescore(self) -> BackgroundTask | None:
        """Re-score every current analysis with the active severity model (a write through the
        session: the views hear that the analyses changed when it is done, or cancelled)."""
        active = self.session.store.active_severity_model()
        if active is None:
            self.host.show_message(
                "info", "No severity model", "Train or import a severity model first."
            )
            return None

        def op(store: Store, progress: ProgressCallback, cancel: CancelCheck) -> OpResult[int]:
            return edits.rescore_analyses(
                store, active.path, active.id, progress=progress, cancel=cancel
            )

        def done(count: int) -> None:
            self.host.status(f"{count} analysis(es) scored with the severity model.")
            self.rescoreFinished.emit(count)

        return self.session.write_job(
            op,
            on_done=done,
            error_title="Scoring failed",
            progress_label="Scoring analyses",
        )
