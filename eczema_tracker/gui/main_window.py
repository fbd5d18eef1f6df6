"""The main window: library on the left, the photo or the timeline on the right.

Every question to the user goes through a few methods (``show_message``, ``ask_question``,
``ask_site``, ``ask_import_files``, ``ask_model_action``, ``ask_settings``) so tests can answer
them without modal dialogs. Long jobs run through :class:`~eczema_tracker.gui.tasks.BackgroundTask`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker import services
from eczema_tracker.gui.analysis_flow import AnalysisFlow
from eczema_tracker.gui.dialogs.import_summary import summarise_import
from eczema_tracker.gui.dialogs.site_dialog import SiteDialog, site_choices
from eczema_tracker.gui.library_state import LibraryState
from eczema_tracker.gui.personal_model_flow import PersonalModelFlow
from eczema_tracker.gui.prompt_flow import PromptFlow
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.gui.widgets.empty_state import EmptyLibraryView
from eczema_tracker.gui.widgets.library_view import LibraryView, PhotoListModel, ThumbnailLoader
from eczema_tracker.gui.widgets.photo_view import PhotoView
from eczema_tracker.gui.widgets.task_progress import TaskProgressWidget
from eczema_tracker.gui.widgets.timeline_panel import TimelinePanel
from eczema_tracker.settings import Settings

log = logging.getLogger(__name__)
ALL_SITES = "All body sites"


class MainWindow(QMainWindow):
    """Library, photo view, timeline, and the menus and toolbar driving them."""

    importFinished = Signal(object)  # noqa: N815 - list[ImportResult]
    photoShown = Signal(int)  # noqa: N815 - the photo view shows this photo (image loaded)
    libraryRefreshed = Signal()  # noqa: N815

    def __init__(self, store: Any, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.settings = settings
        self.state = LibraryState(store)
        self.pipelines = services.PipelineCache()
        self.messages: list[tuple[str, str, str]] = []  # every message shown (kind, title, text)
        self._shown_photo: int | None = None
        self.setWindowTitle("Eczema Tracker")
        self.setAcceptDrops(True)
        self.resize(1280, 820)

        # Long jobs (analysis, training) must not starve quick ones (decoding the photo shown).
        pool = QThreadPool.globalInstance()
        pool.setMaxThreadCount(max(4, pool.maxThreadCount()))
        self.thumbnails = ThumbnailLoader(store.thumbnail, self)
        self.library_model = PhotoListModel(self.thumbnails, self)
        self.library = LibraryView(self.library_model)
        self.photo_view = PhotoView()
        self.timeline_panel = TimelinePanel(store)
        self.analysis = AnalysisFlow(self)
        self.personal = PersonalModelFlow(self)
        self.prompts = PromptFlow(self)
        self._build_layout()
        self._build_actions()
        self._connect()
        self.refresh()

    # -- layout ------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        self.site_filter = QComboBox()
        self.site_filter.setToolTip("Show the photos of one body site")
        self.site_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.prompt_counts = QLabel()
        self.prompt_counts.setWordWrap(True)
        self.empty_view = EmptyLibraryView()
        self.library_stack = QStackedWidget()
        self.library_stack.addWidget(self.empty_view)
        self.library_stack.addWidget(self.library)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(4, 4, 4, 4)
        left_layout.addWidget(self.site_filter)
        left_layout.addWidget(self.prompt_counts)
        left_layout.addWidget(self.library_stack, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.photo_view, "Photo")
        self.tabs.addTab(self.timeline_panel, "Timeline")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([430, 850])
        self.setCentralWidget(splitter)
        self.task_progress = TaskProgressWidget()
        self.statusBar().addPermanentWidget(self.task_progress)

    def _action(
        self, text: str, slot, shortcut: str | QKeySequence | None = None, tip: str = ""
    ) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        a = self.actions_by_name = {
            "import": self._action(
                "&Import photos…",
                self.import_dialog,
                QKeySequence.StandardKey.Open,
                "Add photos or folders to the library (or drop them on the window)",
            ),
            "paint": self._action(
                "&Paint prompt mask…",
                self.prompts.paint_prompt_of_current,
                "P",
                "Paint where the eczema is on this photo; it becomes a prompt of its site",
            ),
            "unprompt": self._action("Stop using as prompt", self.prompts.unset_prompt_of_current),
            "analyse_selected": self._action(
                "Analyse &selected",
                self.analysis.analyse_selected,
                "Ctrl+R",
                "Analyse the selected photos in the background",
            ),
            "analyse_pending": self._action(
                "Analyse all &not analysed",
                self.analysis.analyse_pending,
                "Ctrl+Shift+R",
                "Analyse every photo without a current result",
            ),
            "settings": self._action(
                "&Settings…", self.ask_settings, QKeySequence.StandardKey.Preferences
            ),
            "models": self._action("Model &status…", self.analysis.show_model_status),
            "train": self._action("&Train personal severity model…", self.personal.train),
            "import_model": self._action(
                "Import severity &model file…", self.personal.import_model_dialog
            ),
            "rescore": self._action(
                "Re-score analyses with the active model", self.personal.rescore
            ),
            "timeline": self._action(
                "&Timeline", lambda: self.tabs.setCurrentWidget(self.timeline_panel), "Ctrl+T"
            ),
            "quit": self._action("&Quit", self.close, QKeySequence.StandardKey.Quit),
        }
        for level in range(4):
            self._action(
                f"Rate {level}",
                lambda _=False, lv=level: self.personal.rate_current(lv),
                str(level),
            )
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for name in ("import", "settings", "quit"):
            file_menu.addAction(a[name])
        photo_menu = menu.addMenu("&Photo")
        for name in ("paint", "unprompt"):
            photo_menu.addAction(a[name])
        analyse_menu = menu.addMenu("&Analyse")
        for name in ("analyse_selected", "analyse_pending"):
            analyse_menu.addAction(a[name])
        models_menu = menu.addMenu("&Models")
        for name in ("models", "train", "import_model", "rescore"):
            models_menu.addAction(a[name])
        menu.addMenu("&View").addAction(a["timeline"])
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for name in (
            "import",
            "paint",
            "analyse_selected",
            "analyse_pending",
            "timeline",
            "settings",
        ):
            toolbar.addAction(a[name])
        self.addToolBar(toolbar)

    def _connect(self) -> None:
        self.site_filter.currentIndexChanged.connect(lambda _i: self.refresh_library())
        self.library.photoSelected.connect(self.show_photo)
        self.empty_view.importRequested.connect(self.import_dialog)
        self.photo_view.ratingChosen.connect(self.personal.rate_current)
        self.photo_view.paintPromptRequested.connect(self.prompts.paint_prompt_of_current)
        self.photo_view.unsetPromptRequested.connect(self.prompts.unset_prompt_of_current)
        self.photo_view.correctResultRequested.connect(self.prompts.correct_result_of_current)
        self.photo_view.analyseRequested.connect(
            lambda: self.analysis.analyse([self._shown_photo] if self._shown_photo else [])
        )
        self.timeline_panel.photoActivated.connect(self.open_photo)

    # -- talking to the user (tests replace these) ---------------------------------------------
    def show_message(self, kind: str, title: str, text: str, details: str = "") -> None:
        """Tell the user something: kind is "info", "warning" or "error"."""
        self.messages.append((kind, title, text))
        log.info("%s: %s: %s", kind, title, text)
        box = QMessageBox(self)
        box.setIcon(
            {"error": QMessageBox.Icon.Critical, "warning": QMessageBox.Icon.Warning}.get(
                kind, QMessageBox.Icon.Information
            )
        )
        box.setWindowTitle(title)
        box.setText(text)
        if details:
            box.setDetailedText(details)
        box.open()  # window-modal but non-blocking: background tasks keep running

    def ask_question(self, title: str, text: str) -> bool:
        """A yes/no question."""
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def ask_site(self, count: int) -> str | None:
        """The body site of photos being imported (None: cancelled)."""
        choices = site_choices(self._common_sites(), self.store.sites())
        dialog = SiteDialog(choices, self.settings.last_site, count=count, parent=self)
        return dialog.site() if dialog.exec() else None

    def ask_import_files(self) -> list[str]:
        """Files chosen in a file dialog."""
        files, _ = QFileDialog.getOpenFileNames(
            self,
            "Import photos",
            str(Path.home()),
            "Photos (*.jpg *.jpeg *.png *.heic *.heif *.webp *.tif *.tiff *.bmp);;All files (*)",
        )
        return files

    def ask_model_action(self, missing: list[tuple[str, Any]]) -> str | None:
        """ "download", "local" or None for models that are not on this computer."""
        from eczema_tracker.gui.dialogs.models_dialog import ModelsDialog

        dialog = ModelsDialog(missing, self)
        dialog.exec()
        return dialog.choice

    def ask_settings(self) -> bool:
        """Open the settings dialog; True when the user changed something."""
        from eczema_tracker.gui.dialogs.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.settings, self)
        if not dialog.exec():
            return False
        dialog.apply_to(self.settings)
        self.save_settings()
        return True

    def save_settings(self) -> None:
        """Write the settings; a failure is told, never fatal."""
        try:
            self.settings.save()
        except OSError as exc:
            self.show_message(
                "warning", "Settings not saved", f"The settings could not be saved ({exc})."
            )

    def show_task(self, task: BackgroundTask) -> None:
        """Show a background task's progress and Cancel button in the status bar."""
        self.task_progress.show_task(task)

    def status(self, text: str) -> None:
        """A short note in the status bar."""
        self.statusBar().showMessage(text, 8000)

    @staticmethod
    def _common_sites() -> tuple[str, ...]:
        from eczema_tracker.store.records import COMMON_SITES

        return COMMON_SITES

    # -- library -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload everything shown from the store."""
        self._refresh_site_filter()
        self.refresh_library()
        self.timeline_panel.refresh()

    def _refresh_site_filter(self) -> None:
        current = self.site_filter.currentText()
        self.site_filter.blockSignals(True)
        self.site_filter.clear()
        self.site_filter.addItem(ALL_SITES)
        self.site_filter.addItems(self.store.sites())
        self.site_filter.setCurrentIndex(max(self.site_filter.findText(current), 0))
        self.site_filter.blockSignals(False)

    def current_site_filter(self) -> str | None:
        """The site the library shows, or None for all."""
        text = self.site_filter.currentText()
        return None if text in ("", ALL_SITES) else text

    def refresh_library(self) -> None:
        """Rebuild the thumbnails list and the prompt counts."""
        selected = self.library.selected_photo_ids()
        items = self.state.items(self.current_site_filter())
        self.library_model.set_items(items)
        self.library_stack.setCurrentWidget(
            self.library if self.store.photos() else self.empty_view
        )
        self.prompt_counts.setText(self.state.prompt_summary())
        for pid in selected[:1] or ([self._shown_photo] if self._shown_photo else []):
            self.library.select_photo(pid)
        self.libraryRefreshed.emit()

    def open_photo(self, photo_id: int) -> None:
        """Select a photo in the library and show it (e.g. from the timeline)."""
        self.tabs.setCurrentWidget(self.photo_view)
        if not self.library_model.index_of(photo_id).isValid():
            self.site_filter.setCurrentIndex(0)
        self.library.select_photo(photo_id)
        self.show_photo(photo_id)

    def show_photo(self, photo_id: int) -> None:
        """Show a photo's facts now and its pixels once decoded off the GUI thread."""
        shown = self.photo_view.details
        if photo_id == self._shown_photo and shown is not None and shown.image is not None:
            self.reshow_current()  # same photo (e.g. reselected after a refresh): keep its pixels
            self.tabs.setCurrentWidget(self.photo_view)
            self.photoShown.emit(photo_id)
            return
        self._shown_photo = photo_id
        details = self.state.details(photo_id)
        self.photo_view.set_details(details)
        self.tabs.setCurrentWidget(self.photo_view)

        def load(_progress, _cancel):
            from eczema_tracker.gui.widgets.image_overlay import pil_to_qimage

            return photo_id, pil_to_qimage(self.store.load_image(photo_id))

        BackgroundTask(self, load, self._image_loaded).titled("Photo not shown").run()

    def _image_loaded(self, result: tuple[int, Any]) -> None:
        photo_id, image = result
        if photo_id == self._shown_photo:
            self.photo_view.set_image(image)
            self.photoShown.emit(photo_id)

    def reshow_current(self) -> None:
        """Refresh the facts of the photo shown (after a rating, a mask or an analysis)."""
        if self._shown_photo is not None:
            image = self.photo_view.details.image if self.photo_view.details else None
            details = self.state.details(self._shown_photo)
            details.image = image
            self.photo_view.set_details(details)

    @property
    def shown_photo(self) -> int | None:
        """The id of the photo in the photo view."""
        return self._shown_photo

    # -- import --------------------------------------------------------------------------------
    def import_dialog(self) -> None:
        """File ▸ Import: choose files, then import them."""
        files = self.ask_import_files()
        if files:
            self.import_paths(files)

    def import_paths(self, paths: list[str]) -> BackgroundTask | None:
        """Ask the body site, then import files and folders in the background."""
        site = self.ask_site(len(paths))
        if not site:
            return None
        self.settings.last_site = site
        self.save_settings()
        store = self.store

        def op(progress, cancel):
            return store.import_paths(paths, site, progress=progress, cancel=cancel)

        return (
            BackgroundTask(self, op, self._imported)
            .with_progress("Importing photos")
            .titled("Import failed")
            .run()
        )

    def _imported(self, results: list[Any]) -> None:
        headline, details = summarise_import(results)
        self.refresh()
        self.show_message("info", "Import finished", headline, details)
        self.importFinished.emit(results)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda: self.import_paths(paths))  # leave the drop handler first

    def closeEvent(self, event) -> None:  # noqa: N802
        for task in list(BackgroundTask._running):
            task.cancel()
        self.thumbnails.wait_idle(3000)
        super().closeEvent(event)
