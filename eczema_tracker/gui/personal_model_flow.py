"""Rating photos and personalising severity: train on the person's own ratings, import, re-score."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog

from eczema_tracker.app import services
from eczema_tracker.core.severity_scale import CLASS_NAMES
from eczema_tracker.gui.tasks import BackgroundTask

if TYPE_CHECKING:
    from eczema_tracker.gui.main_window import MainWindow

SEVERITY_NAMES = CLASS_NAMES


def training_mistakes(store: Any, result: services.PersonalModelResult) -> list[Any]:
    """The rated photos the held-out check graded differently, with thumbnails (worker thread).

    The rows are read again the way training read them (same backbone's features, same order);
    when they no longer line up with the check's predictions (e.g. a rating changed meanwhile),
    nothing is listed rather than the wrong photos.
    """
    from eczema_tracker.gui.dialogs.personal_model_dialog import Mistake, find_mistakes

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


class PersonalModelFlow(QObject):
    """Ratings → offer to train → background training → results → offer to re-score."""

    trainingFinished = Signal(object)  # noqa: N815 - services.PersonalModelResult
    modelImported = Signal(int)  # noqa: N815

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._offered_at: int | None = None  # number of ratings when training was last offered
        self.task: BackgroundTask | None = None
        self.result_dialog = None

    # -- rating ----------------------------------------------------------------------------------
    def rate_current(self, level: int) -> None:
        """Rate the photo shown 0-3 (buttons or keys 0-3)."""
        w = self.window
        pid = w.shown_photo
        if pid is None:
            w.status("Select a photo to rate it.")
            return
        w.store.rate(pid, int(level))
        w.status(f"Rated {level} ({SEVERITY_NAMES[level]}).")
        w.reshow_current()
        w.library_model.update_item(w.state.item(pid))
        self.maybe_offer_training()

    def maybe_offer_training(self) -> BackgroundTask | None:
        """Offer to train once enough analysed photos are rated (again when more ratings came)."""
        w = self.window
        readiness = services.training_readiness(w.store)
        if not readiness.ready or (
            self._offered_at is not None and readiness.n_rated < self._offered_at + 4
        ):
            return None
        active = w.store.active_severity_model()
        if active is not None and int(active.metadata.get("n_train") or 0) >= readiness.n_rated:
            return None
        self._offered_at = readiness.n_rated
        if w.ask_question(
            "Train your own severity model?",
            f"{readiness.n_rated} analysed photos are rated. Train a severity model on your own "
            "ratings now? It runs in the background and shows how well it agrees with you.",
        ):
            return self.train()
        return None

    # -- training --------------------------------------------------------------------------------
    def train(self) -> BackgroundTask | None:
        """Models ▸ Train personal severity model."""
        w = self.window
        readiness = services.training_readiness(w.store)
        if not readiness.ready:
            w.show_message("info", "Not enough ratings yet", readiness.message)
            return None
        if self.task is not None and not self.task.done:
            return None
        store, dino = w.store, w.settings.dino_source

        def op(progress, cancel):
            result = services.train_personal_model(
                store, backbone_source=dino, progress=progress, cancel=cancel
            )
            return result, training_mistakes(store, result)

        self.task = BackgroundTask(w, op, self._trained).with_progress(
            "Training your severity model"
        )
        self.task.titled("Training failed")
        return self.task.run()

    def _trained(self, outcome: tuple[services.PersonalModelResult, list[Any]]) -> None:
        """Training done: ask about re-scoring first, then show the results (one window at a
        time: the question never opens over the results, bug 6)."""
        from eczema_tracker.gui.dialogs.personal_model_dialog import (
            PersonalModelDialog,
            validation_text,
        )

        result, mistakes = outcome
        w = self.window
        summary = validation_text(result.validation)
        w.status("Personal severity model trained and in use. " + summary)
        self.offer_rescore(headline=f"Your personal severity model is ready. {summary}")
        self.result_dialog = PersonalModelDialog(result.validation, w, mistakes=mistakes)
        self.result_dialog.photoActivated.connect(w.open_photo)
        self.result_dialog.open()
        self.trainingFinished.emit(result)

    # -- importing and re-scoring ----------------------------------------------------------------
    def import_model_dialog(self) -> None:
        """Models ▸ Import severity model file."""
        path, _ = QFileDialog.getOpenFileName(
            self.window,
            "Import a severity model",
            str(Path.home()),
            "Severity models (*.safetensors)",
        )
        if path:
            self.import_model(path)

    def import_model(self, path: str) -> BackgroundTask:
        """Check a model file made by ``eczema-tracker train`` against the backbone, store it."""
        w = self.window
        store, pipelines, dino = w.store, w.pipelines, w.settings.dino_source

        def op(_progress, _cancel):
            loaded = pipelines.loaded_choice
            encoder = (
                pipelines.get(loaded).encoder
                if loaded is not None and loaded.dino == dino
                else None
            )
            return services.import_severity_model(
                store, path, encoder_backbone=dino, encoder=encoder
            )

        def done(model_id: int) -> None:
            w.status("Severity model imported and in use.")
            w.reshow_current()
            self.modelImported.emit(model_id)
            self.offer_rescore()

        return (
            BackgroundTask(w, op, done)
            .with_progress("Importing severity model")
            .titled("Severity model refused")
            .run()
        )

    def offer_rescore(self, headline: str = "") -> BackgroundTask | None:
        """Offer to score existing analyses with the active model (no re-segmenting)."""
        w = self.window
        if not any(w.store.current_analysis(p.id) is not None for p in w.store.photos()):
            return None
        if w.ask_question(
            "Score existing analyses?",
            (headline + "\n\n" if headline else "")
            + "Score the photos analysed so far with the new severity model? Their masks "
            "are kept; only the severity is computed again.",
        ):
            return self.rescore()
        return None

    def rescore(self) -> BackgroundTask | None:
        """Re-score every current analysis with the active severity model."""
        w = self.window
        active = w.store.active_severity_model()
        if active is None:
            w.show_message("info", "No severity model", "Train or import a severity model first.")
            return None
        store = w.store

        def op(progress, cancel):
            return services.rescore_analyses(
                store, active.path, active.id, progress=progress, cancel=cancel
            )

        def done(count: int) -> None:
            w.refresh()
            w.reshow_current()
            w.status(f"{count} analysis(es) scored with the severity model.")
            w.analysis.rescoreFinished.emit(count)

        return (
            BackgroundTask(w, op, done)
            .with_progress("Scoring analyses")
            .titled("Scoring failed")
            .run()
        )
