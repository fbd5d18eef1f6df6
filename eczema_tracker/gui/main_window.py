"""The main window: library on the left, the photo or the timeline on the right (resizable
panes; the photo gets the room; the layout is remembered).

Every question to the user goes through a few methods (``show_message``, ``ask_question``,
``ask_site``, ``ask_import_files``, ``ask_model_action``, ``ask_settings``, ``ask_move_site``,
``ask_photo_edit``, ``ask_rename_site``, ``ask_backup_file``, ``ask_restore_file``) so tests can
answer them without modal dialogs. Long jobs run through
:class:`~eczema_tracker.gui.tasks.BackgroundTask`. Actions and menus: :mod:`.window_menus`;
delete, move, edit and undo: :mod:`.photo_actions`; backup and restore: :mod:`.backup_flow`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.app import services
from eczema_tracker.app.changes import StoreChanges
from eczema_tracker.app.settings import Settings
from eczema_tracker.core import imaging
from eczema_tracker.gui import store_problems, window_layout
from eczema_tracker.gui.analysis_flow import AnalysisFlow
from eczema_tracker.gui.backup_flow import BackupFlow
from eczema_tracker.gui.dialogs.import_summary import summarise_import
from eczema_tracker.gui.dialogs.site_dialog import SiteDialog, site_choices
from eczema_tracker.gui.library_state import LibraryState
from eczema_tracker.gui.personal_model_flow import PersonalModelFlow
from eczema_tracker.gui.photo_actions import PhotoActions
from eczema_tracker.gui.prompt_flow import PromptFlow
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.gui.undo import UndoHistory
from eczema_tracker.gui.widgets.empty_state import EmptyLibraryView
from eczema_tracker.gui.widgets.library_view import LibraryView, PhotoListModel, ThumbnailLoader
from eczema_tracker.gui.widgets.photo_view import PhotoView
from eczema_tracker.gui.widgets.task_progress import TaskProgressWidget
from eczema_tracker.gui.widgets.timeline_panel import TimelinePanel
from eczema_tracker.gui.window_menus import build_actions
from eczema_tracker.gui.window_questions import EditQuestionsMixin

log = logging.getLogger(__name__)
ALL_SITES = "All body sites"
#: Every suffix the importer tries (MPO and GIF included), then all files.
IMPORT_FILE_FILTER = (
    "Photos (" + " ".join(f"*{s}" for s in sorted(imaging.IMAGE_SUFFIXES)) + ");;All files (*)"
)
LIBRARY_MIN_WIDTH = 170


class MainWindow(EditQuestionsMixin, QMainWindow):
    """Library, photo view, timeline, and the menus and toolbar driving them."""

    importFinished = Signal(object)  # noqa: N815 - list[ImportResult]
    photoShown = Signal(int)  # noqa: N815 - the photo view shows this photo (image loaded)
    libraryRefreshed = Signal()  # noqa: N815

    def __init__(self, store: Any, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.session = StoreSession(store, self)
        self.settings = settings
        self.state = LibraryState(store)
        self.pipelines = services.PipelineCache()
        self.messages: list[tuple[str, str, str]] = []  # every message shown (kind, title, text)
        self._shown_photo: int | None = None
        self.undo_history = UndoHistory()
        self.setWindowTitle("Eczema Tracker")
        self.setAcceptDrops(True)
        self.resize(1280, 820)

        # Long jobs (analysis, training) must not starve quick ones (decoding the photo shown).
        pool = QThreadPool.globalInstance()
        pool.setMaxThreadCount(max(4, pool.maxThreadCount()))
        # Through self.store, so a restore that reopens the store needs no new loader.
        self.thumbnails = ThumbnailLoader(lambda pid: self.store.thumbnail(pid), self)
        self.library_model = PhotoListModel(self.thumbnails, self)
        self.library = LibraryView(self.library_model)
        self.photo_view = PhotoView()
        self.timeline_panel = TimelinePanel(store)
        self.analysis = AnalysisFlow(self)
        self.personal = PersonalModelFlow(self)
        self.prompts = PromptFlow(self)
        self.photo_actions = PhotoActions(self)
        self.backup = BackupFlow(self)
        self._bin_dialog = None
        self._build_layout()
        self.actions_by_name = build_actions(self)
        self.undo_history.on_change = self._label_undo
        self._label_undo()
        self._connect()
        self.refresh()
        self.restore_layout()
        self._tell_store_problems()

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
        left.setMinimumWidth(LIBRARY_MIN_WIDTH)
        self.tabs.setMinimumWidth(480)
        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("library-photo-splitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 1020])
        self.setCentralWidget(splitter)
        self.task_progress = TaskProgressWidget()
        self.statusBar().addPermanentWidget(self.task_progress)

    def _connect(self) -> None:
        self.session.changed.connect(self._store_changed)
        timeline_changed = getattr(self.timeline_panel, "on_store_changed", None)
        if timeline_changed is not None:
            self.session.changed.connect(timeline_changed)
        self.site_filter.currentIndexChanged.connect(lambda _i: self._site_filter_changed())
        self.library.photoSelected.connect(self.show_photo)
        self.empty_view.importRequested.connect(self.import_dialog)
        self.photo_view.ratingChosen.connect(self.photo_actions.rate_selected)
        self.photo_view.ratingCleared.connect(lambda: self.photo_actions.rate_selected(None))
        self.photo_view.editRequested.connect(self.photo_actions.edit_shown)
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
            IMPORT_FILE_FILTER,
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
    def _store_changed(self, changes: StoreChanges) -> None:
        """A write through :attr:`session` finished: refresh what it changed."""
        if changes.photos or changes.prompts or changes.analyses or changes.ratings:
            self._refresh_site_filter()
            self.refresh_library()
        if self._shown_photo is not None and (
            changes.touches_photo(self._shown_photo) or changes.severity_models
        ):
            self.reshow_current()

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

    def _site_filter_changed(self) -> None:
        """Show the chosen site's photos; a photo of another site leaves the photo view."""
        self.refresh_library()
        if (
            self._shown_photo is not None
            and not self.library_model.index_of(self._shown_photo).isValid()
        ):
            self.clear_photo()

    def clear_photo(self) -> None:
        """Show no photo (it was deleted, or the filter hides it)."""
        self._shown_photo = None
        self.photo_view.set_details(None)

    def show_photo(self, photo_id: int) -> None:
        """Show a photo's facts now, and its pixels and masks once decoded off the GUI thread."""
        shown = self.photo_view.details
        if photo_id == self._shown_photo and shown is not None and shown.image is not None:
            self.reshow_current()  # same photo (e.g. reselected after a refresh): keep its pixels
            self.tabs.setCurrentWidget(self.photo_view)
            self.photoShown.emit(photo_id)
            return
        self._shown_photo = photo_id
        details = self.state.details(photo_id, load_masks=False)
        self.photo_view.set_details(details)
        self.tabs.setCurrentWidget(self.photo_view)
        state, store = self.state, self.store

        def load(_progress, _cancel):
            from eczema_tracker.gui.widgets.image_overlay import pil_to_qimage

            # PNG decoding and tinting of full-size masks: not on the GUI thread (into a copy:
            # the shown details belong to the GUI thread)
            loaded = state.load_masks(replace(details))
            return photo_id, pil_to_qimage(store.load_image(photo_id)), loaded

        BackgroundTask(self, load, self._image_loaded).titled("Photo not shown").run()

    def _image_loaded(self, result: tuple[int, Any, Any]) -> None:
        photo_id, image, loaded = result
        current = self.photo_view.details
        if photo_id == self._shown_photo and current is not None:
            if current.mask_key() == loaded.mask_key():
                current.take_masks_from(loaded)
            self.photo_view.set_image(image)
            self.photoShown.emit(photo_id)

    def reshow_current(self) -> None:
        """Refresh the facts of the photo shown (after a rating, a mask or an analysis); masks
        that changed are decoded again off the GUI thread."""
        if self._shown_photo is None:
            return
        old = self.photo_view.details
        try:
            details = self.state.details(self._shown_photo, load_masks=False)
        except KeyError:  # the photo was deleted for good
            self.clear_photo()
            return
        if old is not None and old.photo_id == details.photo_id:
            details.image = old.image
            if old.mask_key() == details.mask_key():
                details.take_masks_from(old)
            elif details.mask_key() != (None, None):
                self._load_masks_later(details)
        self.photo_view.set_details(details)

    def _load_masks_later(self, details: Any) -> None:
        state = self.state

        def shown(loaded: Any) -> None:
            current = self.photo_view.details
            if current is not None and current.photo_id == loaded.photo_id:
                if current.mask_key() == loaded.mask_key():
                    current.take_masks_from(loaded)
                    self.photo_view.set_image(current.image)  # redraws the overlays

        BackgroundTask(self, lambda _p, _c: state.load_masks(replace(details)), shown).titled(
            "Mask not shown"
        ).run()

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
        binned = {p.id for p in self.store.binned_photos()}
        back = self.store.restore_from_bin(
            {r.photo_id for r in results if r.status == "duplicate" and r.photo_id in binned}
        )
        if back:  # importing a deleted photo again means the person wants it back
            headline += (
                f" {len(back)} of them {'was' if len(back) == 1 else 'were'} in the bin and "
                f"{'is' if len(back) == 1 else 'are'} back in the library."
            )
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

    # -- bin, help, layout, store ----------------------------------------------------------------
    def show_bin(self):
        """File ▸ Bin: the deleted photos (non-modal); returns the dialog."""
        from eczema_tracker.gui.bin_dialog import BinDialog

        if self._bin_dialog is None:
            self._bin_dialog = BinDialog(self)
        self._bin_dialog.refresh()
        self._bin_dialog.show()
        self._bin_dialog.raise_()
        return self._bin_dialog

    def undo(self) -> None:
        """Edit ▸ Undo (Ctrl+Z)."""
        self.photo_actions.undo()

    def _label_undo(self) -> None:
        action, what = self.actions_by_name["undo"], self.undo_history.next_description()
        action.setText(f"&Undo {what}" if what else "&Undo")
        action.setEnabled(what is not None)

    def show_help(self, page: str) -> None:
        """Help ▸ a page: "how-it-works", "shortcuts" or "legend"."""
        from eczema_tracker.gui.dialogs import help_dialog

        help_dialog.show_help(self, page)

    def save_layout(self) -> None:
        """Remember the window size and the pane sizes (a failure costs only the layout)."""
        window_layout.save(self, self.splitter)

    def restore_layout(self) -> None:
        """Bring back the layout saved last time, if any."""
        window_layout.restore(self, self.splitter)

    def store_problem_text(self) -> str:
        """What the check on opening the store found, in plain words ("" when all is well)."""
        return store_problems.open_check_text(self.store)

    def _tell_store_problems(self) -> None:
        self.quick_check_task = store_problems.tell_store_problems(self)

    def release_store(self) -> None:
        """Close the store for a restore; the window waits, disabled, for :meth:`adopt_store`."""
        self.clear_photo()
        self.centralWidget().setEnabled(False)
        self.menuBar().setEnabled(False)
        self.thumbnails.wait_idle(3000)
        self.store.close()

    def adopt_store(self, store: Any) -> None:
        """Use ``store`` (reopened after a restore) everywhere and show it."""
        self.store = store
        self.state.store = store
        self.timeline_panel.store = store
        self.undo_history.clear()
        self.library_model.set_items([])
        self.centralWidget().setEnabled(True)
        self.menuBar().setEnabled(True)
        self.refresh()
        self._tell_store_problems()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.save_layout()
        for task in list(BackgroundTask._running):
            task.cancel()
        self.thumbnails.wait_idle(3000)
        super().closeEvent(event)
