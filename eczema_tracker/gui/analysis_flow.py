"""Analysing photos from the GUI: check prompts, make sure the models are here, run, report.

Models are checked before the first analysis: a local folder that is missing is explained; hub
models that are not downloaded yet are described (names, sizes) and downloaded with progress
and cancel, or the user picks local folders instead. The loaded pipeline is kept in the
:class:`~eczema_tracker.app.analysis_models.PipelineCache` handed in, between runs.

The flow knows its collaborators only: the store session (it announces what an analysis wrote
as :func:`~eczema_tracker.app.services.analysis_changes`; the views refresh themselves), the pipeline cache, the
settings, a :class:`~eczema_tracker.gui.flow_host.ModelQuestions` host and two callables giving
the selected photos and the library's site filter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from eczema_tracker.app import analysis_models, model_sources, personal_severity, services, warm_up
from eczema_tracker.app.changes import StoreChanges
from eczema_tracker.app.settings import Settings
from eczema_tracker.core.jobs import CancelCheck, Cancelled, ProgressCallback
from eczema_tracker.gui.flow_host import ModelQuestions
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.ml import sources as ml_sources
from eczema_tracker.ml.sources import SourceStatus

if TYPE_CHECKING:
    from eczema_tracker.gui.models.download_failed_dialog import (
        DownloadFailedDialog,
        DownloadFailure,
    )
    from eczema_tracker.gui.models.folder_check import FolderCheck
    from eczema_tracker.gui.models.status_dialog import ModelStatusReport

log = logging.getLogger(__name__)
NOT_STARTED = "Analysis not started: the models are not on this computer yet."


class AnalysisFlow(QObject):
    """Owns the analyse actions of the main window; ``analysisFinished(summary)`` when done."""

    analysisFinished = Signal(object)  # noqa: N815 - services.AnalysisRunSummary
    modelsReady = Signal()  # noqa: N815
    downloadFailed = Signal(object)  # noqa: N815 - DownloadFailure, once its dialog is open

    def __init__(
        self,
        session: StoreSession,
        pipelines: analysis_models.PipelineCache,
        settings: Settings,
        host: ModelQuestions,
        *,
        parent: QWidget | None = None,
        selection: Callable[[], list[int]] = list,
        site_filter: Callable[[], str | None] = lambda: None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.pipelines = pipelines
        self.settings = settings
        self.host = host
        self._parent = parent  # background tasks show their progress in its status bar
        self._selection = selection
        self._site_filter = site_filter
        self.task: BackgroundTask | None = None
        self.download_task: BackgroundTask | None = None  # the model download running, if any
        self.warm_up_task: BackgroundTask | None = None  # the start-up warm-up, once run
        self._wrote: StoreChanges | None = None  # what the running analysis writes
        self.failure_dialog: DownloadFailedDialog | None = None  # of the last failed download

    # -- entry points ------------------------------------------------------------------------
    def analyse_selected(self) -> None:
        """Analyse the photos selected in the library (or the one shown)."""
        ids = self._selection()
        if not ids:
            self.host.show_message(
                "info", "Nothing selected", "Select one or more photos in the library first."
            )
            return
        self.analyse(ids)

    def analyse_pending(self) -> None:
        """Analyse every photo without a current (non-stale) analysis."""
        ids = services.photos_to_analyse(self.session.store, self._site_filter())
        if not ids:
            self.host.show_message(
                "info", "Nothing to analyse", "Every photo has an up-to-date analysis."
            )
            return
        self.analyse(ids)

    def analyse(self, photo_ids: list[int]) -> BackgroundTask | None:
        """Check prompts and models, then analyse ``photo_ids`` in the background."""
        if not photo_ids:
            return None
        if self.task is not None and not self.task.done:
            self.host.show_message(
                "info",
                "Analysis running",
                "An analysis is already running; wait for it or cancel it.",
            )
            return None
        store = self.session.store
        sites = {store.photo(pid).site for pid in photo_ids}
        readiness = services.site_readiness(store, sites)
        lacking = [r for _, r in sorted(readiness.items()) if not r.ready]
        if len(lacking) == len(sites):
            self.host.show_message(
                "info", "Paint prompt masks first", _prompts_needed_text(lacking)
            )
            return None
        choice = analysis_models.model_choice(self.settings, store)
        return self.ensure_models(choice, lambda chosen: self._run(photo_ids, chosen))

    def warm_up(self) -> BackgroundTask | None:
        """Get ready in the background for an analysis that is likely soon (a site has enough
        prompt masks): import torch/transformers and, when both models are on this computer
        and the machine has memory to spare, load them and warm them up
        (:func:`warm_up.warm_up_pipeline`: the weights read in, DINO run once, and a whole
        SegGPT pass where that pays), so the first Analyse runs at steady speed.

        Never downloads and never asks anything. Importing torch holds Python's GIL for about
        half a second in one piece, which the window feels wherever it happens; right after
        start-up it costs the least. An analysis asked for meanwhile waits for the warm-up
        (and can be cancelled while it waits); closing the window cancels the warm-up.
        """
        store = self.session.store
        if not any(r.ready for r in services.site_readiness(store).values()):
            return None
        choice = analysis_models.model_choice(self.settings, store)
        pipelines = self.pipelines

        def op(_progress: ProgressCallback, cancel: CancelCheck) -> dict[str, float] | None:
            model_sources.import_model_libraries()
            if cancel() or not self._models_on_this_computer(choice):
                return None
            if not warm_up.preload_allowed():
                log.info(
                    "models not loaded at start-up: less than %d GB of memory available",
                    warm_up.PRELOAD_MIN_AVAILABLE_BYTES // 2**30,
                )
                return None
            model_sources.leave_a_core_for_the_window(cancel)  # as the analyses run
            timings = warm_up.warm_up_pipeline(pipelines, choice, cancel=cancel)
            log.info(
                "models loaded and warmed up at start-up: %s",
                ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()),
            )
            return timings

        def failed(message: str) -> None:
            log.info("start-up warm-up failed (the analysis loads the models itself): %s", message)

        self.warm_up_task = BackgroundTask(self._parent, op).failure(failed).run()
        return self.warm_up_task

    def _models_on_this_computer(self, choice: analysis_models.ModelChoice) -> bool:
        """The readiness check :meth:`ensure_models` makes, without asking or downloading:
        True when both chosen models can be loaded from this computer now."""
        loaded = self.pipelines.loaded_choice
        if loaded is not None and (loaded.dino, loaded.seggpt) == (choice.dino, choice.seggpt):
            return True
        try:
            return not self._wrong_folders(choice) and not self._missing(choice)
        except Exception:  # noqa: BLE001 - e.g. a broken source string: the analysis says it
            log.info("models not checked for the warm-up", exc_info=True)
            return False

    # -- models --------------------------------------------------------------------------------
    def ensure_models(
        self,
        choice: analysis_models.ModelChoice,
        then: Callable[[analysis_models.ModelChoice], BackgroundTask | None],
    ) -> BackgroundTask | None:
        """Call ``then(choice)`` once both model sources are on this computer (may download
        first; the user may also pick other sources on the way, hence the argument)."""
        loaded = self.pipelines.loaded_choice
        if loaded is not None and (loaded.dino, loaded.seggpt) == (choice.dino, choice.seggpt):
            return then(choice)
        wrong = self._wrong_folders(choice)
        if wrong:
            self.host.show_message("error", "Model folder not usable", _wrong_folder_text(wrong))
            return None
        try:
            missing = self._missing(choice)
        except Exception as exc:  # noqa: BLE001 - e.g. a broken source string
            self.host.show_message("error", "Models not usable", str(exc))
            return None
        if not missing:
            return then(choice)
        local = [(role, s) for role, s in missing if s.kind != "hub"]
        if local:
            self.host.show_message("error", "Model folder not usable", _local_problem_text(local))
            return None
        if not self.settings.allow_downloads:
            self.host.show_message(
                "info",
                "Models not on this computer",
                "Model downloads are switched off in the settings. Choose local model folders in "
                "File ▸ Settings.",
            )
            return None
        action = self.host.ask_model_action(missing)
        if action == "download":
            return self.download(
                missing,
                lambda: then(choice),
                on_local=lambda: self.use_local_folders(then),
                on_bundled_dino=lambda: self.use_bundled_dino(then),
            )
        if action == "local":
            return self.use_local_folders(then)
        self.host.status(NOT_STARTED)
        return None

    def use_local_folders(
        self, then: Callable[[analysis_models.ModelChoice], BackgroundTask | None]
    ) -> BackgroundTask | None:
        """Let the person choose model folders on this computer (Settings), then go on."""
        if self.host.ask_settings():
            self.pipelines.clear()
            return self.ensure_models(
                analysis_models.model_choice(self.settings, self.session.store), then
            )
        self.host.status(NOT_STARTED)
        return None

    def use_bundled_dino(
        self, then: Callable[[analysis_models.ModelChoice], BackgroundTask | None] | None = None
    ) -> BackgroundTask | None:
        """Use the DINO that came with the app from now on (kept in the settings), then go on
        with ``then`` (the other model may still have to be downloaded or chosen)."""
        self.settings.dino_source = model_sources.BUNDLED_DINO
        self.host.save_settings()
        self.pipelines.clear()
        self.host.status(
            "DINO: the smaller model that came with the app is used from now on (File ▸ "
            "Settings changes it back)."
        )
        if then is None:
            return None
        return self.ensure_models(
            analysis_models.model_choice(self.settings, self.session.store), then
        )

    @staticmethod
    def _wrong_folders(choice: analysis_models.ModelChoice) -> list[tuple[str, str, FolderCheck]]:
        """(role, source, FolderCheck) of each chosen folder that does not hold its model."""
        from eczema_tracker.gui.models.folder_check import check_model_source

        checks = [
            ("seggpt", choice.seggpt, check_model_source(choice.seggpt, "seggpt")),
            ("dino", choice.dino, check_model_source(choice.dino, "dino")),
        ]
        return [(role, source, check) for role, source, check in checks if not check.ok]

    @staticmethod
    def _missing(choice: analysis_models.ModelChoice) -> list[tuple[str, SourceStatus]]:
        source_status = ml_sources.source_status
        pairs = [("seggpt", source_status(choice.seggpt)), ("dino", source_status(choice.dino))]
        return [(role, s) for role, s in pairs if not model_sources.ready_to_load(s)]

    def download(
        self,
        missing: list[tuple[str, SourceStatus]],
        then: Callable[[], object],
        *,
        on_local: Callable[[], object] | None = None,
        on_bundled_dino: Callable[[], object] | None = None,
    ) -> BackgroundTask | None:
        """Download hub models with progress and cancel, then call ``then()``; while a
        download runs, another is not started (None, and the status bar says so).

        A failure is said in words in :class:`DownloadFailedDialog` (the exception goes to the
        log) with the next step: try again, or ``on_local()`` (choose folders on this computer),
        or, when the network is the problem and DINO was among the downloads,
        ``on_bundled_dino()`` (use the DINO that came with the app, where it is installed).
        """
        from eczema_tracker.gui.models.download_failed_dialog import describe_download_failure

        if self.download_task is not None and not self.download_task.done:
            self.host.status("A download is already running.")
            return None
        specs = [status.source for _, status in missing]

        def op(progress: ProgressCallback, cancel: CancelCheck) -> DownloadFailure | None:
            try:
                for spec in specs:
                    ml_sources.download_source(spec, progress=progress, cancel=cancel)
            except Cancelled:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure is told in words
                log.warning("downloading %s failed", ", ".join(specs), exc_info=True)
                return describe_download_failure(exc)
            return None

        def done(failure: DownloadFailure | None) -> None:
            if failure is not None:
                self._download_failed(failure, missing, then, on_local, on_bundled_dino)
                return
            self.modelsReady.emit()
            then()

        task = BackgroundTask(self._parent, op, done).with_progress("Downloading models")
        task.titled("Download failed").on_cancelled(lambda: self.host.status("Download cancelled."))
        self.download_task = task
        return task.run()

    def _download_failed(
        self,
        failure: DownloadFailure,
        missing: list[tuple[str, SourceStatus]],
        then: Callable[[], object],
        on_local: Callable[[], object] | None,
        on_bundled_dino: Callable[[], object] | None = None,
    ) -> None:
        from eczema_tracker.gui.models.download_failed_dialog import DownloadFailedDialog

        log.info("download failure shown: %s (%s)", failure.text, failure.technical)
        self.host.status(failure.text)
        if self.failure_dialog is not None:
            self.failure_dialog.close()
        offer = (
            _bundled_dino_offer(failure, missing, self.settings)
            if on_bundled_dino is not None
            else ""
        )
        dialog = DownloadFailedDialog(failure, self._parent, bundled_dino=offer)
        self.failure_dialog = dialog

        def chosen(choice: str) -> None:
            if choice == "retry":
                self.download(missing, then, on_local=on_local, on_bundled_dino=on_bundled_dino)
            elif choice == "local" and on_local is not None:
                on_local()
            elif choice == "bundled-dino" and on_bundled_dino is not None:
                on_bundled_dino()

        dialog.chosen.connect(chosen)
        dialog.rejected.connect(lambda: self.host.status(NOT_STARTED))
        dialog.open()  # window-modal but non-blocking
        self.downloadFailed.emit(failure)

    def show_model_status(self) -> None:
        """Models ▸ Model status: where each model comes from and whether it is here, with the
        next step: download the models not here yet, or choose folders (the settings)."""
        report = self.model_status_report()
        action = self.host.ask_model_status(report)
        if action == "download" and report.downloadable and report.downloads_allowed:
            self.download(
                list(report.downloadable),
                self._downloaded_from_status,
                on_local=self._folders_from_status,
                on_bundled_dino=self._bundled_dino_from_status,
            )
        elif action == "local":
            self._folders_from_status()

    def _downloaded_from_status(self) -> None:
        self.host.status("Models downloaded: analysis runs on this computer now.")

    def _folders_from_status(self) -> None:
        if self.host.ask_settings():
            self.pipelines.clear()
            self.show_model_status()  # what the chosen folders hold, at once

    def _bundled_dino_from_status(self) -> None:
        self.use_bundled_dino()
        self.show_model_status()

    def model_status_report(self) -> ModelStatusReport:
        """What Models ▸ Model status shows (see :class:`ModelStatusReport`)."""
        from eczema_tracker.gui.models.folder_check import check_model_source
        from eczema_tracker.gui.models.status_dialog import (
            BUNDLED_DINO_NOTE,
            ModelStatusReport,
            download_note,
        )

        source_status = ml_sources.source_status
        choice = analysis_models.model_choice(self.settings, self.session.store)
        lines, downloadable = [], []
        for role, name, spec in (
            ("seggpt", "SegGPT", choice.seggpt),
            ("dino", "DINO", choice.dino),
        ):
            status = source_status(spec)
            if status.present:
                state = "ready"
            elif model_sources.ready_to_load(status):
                state = "comes with the app; prepared the first time you analyse"
            elif status.kind == "hub":
                state = f"not on this computer yet ({download_note(spec)})"
                downloadable.append((role, status))
            else:
                state = check_model_source(spec, role).text or "not usable"
                log.info("model status %s: %s", spec, status.message)
            if spec == model_sources.BUNDLED_DINO:
                state += f" ({BUNDLED_DINO_NOTE})"
            lines.append(f"{name}: {spec} — {state}")
        lines.append("Severity model: " + personal_severity.severity_model_line(self.session.store))
        lines.append(f"Prompt photos per comparison: {choice.k}; runs on: {choice.device}")
        return ModelStatusReport(
            tuple(lines), tuple(downloadable), downloads_allowed=self.settings.allow_downloads
        )

    # -- running ---------------------------------------------------------------------------------
    def _run(self, photo_ids: list[int], choice: analysis_models.ModelChoice) -> BackgroundTask:
        store, pipelines = self.session.store, self.pipelines

        def op(progress: ProgressCallback, cancel: CancelCheck) -> services.AnalysisRunSummary:
            model_sources.leave_a_core_for_the_window(cancel)
            return services.analyse_photos(
                store, pipelines, choice, photo_ids, progress=progress, cancel=cancel
            )

        # A long job with its own worker (it must not hold up ratings queued meanwhile); what
        # it wrote is announced like any write, so the views refresh themselves.
        self._wrote = services.analysis_changes(photo_ids)
        # The label says what runs; services.analyse_photos says where it is ("photo 7 of 29",
        # counting only the photos that will be analysed): one place counts.
        task = BackgroundTask(self._parent, op, self._finished).with_progress("Analysing photos")
        task.titled("Analysis failed")
        task.on_cancelled(self._cancelled)
        task.failed.connect(lambda _m: self._cancelled(quiet=True))
        self.task = task
        return task.run()

    def _announce(self) -> None:
        """Tell the views what the run wrote (also when it stopped early: the photos finished
        before are kept), before anyone hears that it finished."""
        if self._wrote is not None:
            self.session.notify(self._wrote)

    def _finished(self, summary: services.AnalysisRunSummary) -> None:
        self._announce()
        text = summary.describe()
        hint = ""
        if self.session.store.active_severity_model() is None and summary.analysed:
            hint = " Rate photos 0–3 to get severity scores later."
        problems = bool(summary.skipped or summary.failed or summary.notes)
        if problems:
            self.host.show_message("warning", "Analysis finished", text)
        if hint or not problems:
            self.host.status(text + hint)  # one message (a new one replaces it)
        self.analysisFinished.emit(summary)

    def _cancelled(self, quiet: bool = False) -> None:
        self._announce()
        if not quiet:
            self.host.status("Analysis cancelled; the photos finished before it are kept.")

    def offer_reanalysis(self, site: str) -> BackgroundTask | None:
        """After a site's prompts changed: offer to analyse its stale results again, with its
        prompt photos that have no result of their own yet (from the other prompts)."""
        store = self.session.store
        stale = services.stale_photos(store, site)  # one query, however many photos
        if not stale or not services.site_readiness(store, [site])[site].ready:
            return None
        examples = services.prompt_photos_without_result(store, site)
        also = (
            f" The app also finds the area of {len(examples)} example photo(s) from the other "
            "examples, so every area on the timeline is the app's own."
            if examples
            else ""
        )
        if self.host.ask_question(
            "Analyse again?",
            f"The prompt masks of '{site}' changed, so {len(stale)} earlier result(s) are out of "
            f"date.{also} Analyse them again now?",
        ):
            return self.analyse(stale + examples)
        return None


def _prompts_needed_text(sites: list[services.SiteReadiness]) -> str:
    lines = [f"'{r.site}' has {r.prompts} prompt mask(s): paint {r.missing} more." for r in sites]
    needed = sites[0].needed if sites else services.MIN_PROMPTS
    return (
        "\n".join(lines) + f"\n\nPaint at least {needed} prompt masks per body site "
        "(select a photo, then Paint prompt mask…). The app learns where the eczema is from them."
    )


def _local_problem_text(problems: list[tuple[str, SourceStatus]]) -> str:
    lines = []
    for role, status in problems:
        name = "SegGPT" if role == "seggpt" else "DINO"
        if status.message:
            log.info("model %s (%s) not usable: %s", status.source, role, status.message)
        why = {
            "corrupt": "its weights are damaged or incomplete (copy the folder again)",
            "wrong_model": "it is not the expected version of the model",
            "unreadable": "it cannot be read",
            "missing": "it is not there",
        }[status.problem or "missing"]
        lines.append(f"The {name} model at '{status.source}' cannot be used: {why}.")
    return (
        "\n".join(lines)
        + "\n\nChoose the right folders in File ▸ Settings, or a model name to download."
    )


def _wrong_folder_text(problems: list[tuple[str, str, FolderCheck]]) -> str:
    lines = []
    for role, source, check in problems:
        name = "SegGPT" if role == "seggpt" else "DINO"
        lines.append(f"The {name} model folder '{source}' cannot be used. {check.text}")
        if check.details:
            log.info("model folder %s (%s): %s", source, role, check.details)
    return "\n\n".join(lines) + "\n\nChoose the right folders in File ▸ Settings."


def _bundled_dino_offer(
    failure: DownloadFailure, missing: list[tuple[str, SourceStatus]], settings: Settings
) -> str:
    """The sentence offering the DINO that came with the app after a failed download, or ""
    when it does not apply: the network was not the problem, DINO was not being downloaded,
    it is already the DINO chosen, or its package is not installed."""
    from eczema_tracker.gui.models.download_failed_dialog import NO_NETWORK_REASONS
    from eczema_tracker.gui.models.status_dialog import BUNDLED_DINO_NOTE

    roles = {role for role, _ in missing}
    if (
        failure.reason not in NO_NETWORK_REASONS
        or "dino" not in roles
        or settings.dino_source == model_sources.BUNDLED_DINO
        or not model_sources.bundled_dino_installed()
    ):
        return ""
    still = (
        " SegGPT still has to be downloaded, or chosen from a folder, before you can analyse."
        if "seggpt" in roles
        else ""
    )
    return f"Without the network you can use {BUNDLED_DINO_NOTE}: it needs no download.{still}"
