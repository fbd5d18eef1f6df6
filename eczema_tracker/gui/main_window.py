"""The main window: library on the left, the photo or the timeline on the right (resizable
panes; the photo gets the room; the layout is remembered).

Every question to the user goes through a few methods (``show_message``, ``ask_question``,
``ask_site``, ``ask_import_files``, ``ask_model_action``, ``ask_settings``, ``ask_move_site``,
``ask_photo_edit``, ``ask_rename_site``, ``ask_backup_file``, ``ask_restore_file``) so tests can
answer them without modal dialogs.

The store is reached through one :class:`~eczema_tracker.gui.store_session.StoreSession`
(``window.session``): every write runs in the background, in order, and its
:class:`~eczema_tracker.app.changes.StoreChanges` come back to :meth:`MainWindow._store_changed`,
which refreshes only what changed (the library rows of the photos touched, the photo shown; its
masks are decoded off the GUI thread, and a result for a photo no longer shown is dropped). The
flows get their collaborators (the session, the pipeline cache, the settings, this window as
their :mod:`~eczema_tracker.gui.flow_host` host); the window wires their signals to each other.
Actions and menus: :mod:`.window_menus`; delete, move, edit and undo: :mod:`.photo_actions`;
backup and restore: :mod:`.backup_flow`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.app import analysis_models, edits
from eczema_tracker.app.changes import OpResult, StoreChanges
from eczema_tracker.app.settings import Settings
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback
from eczema_tracker.gui import screen_fit, store_problems, window_layout
from eczema_tracker.gui.analysis_flow import AnalysisFlow
from eczema_tracker.gui.backup_flow import BackupFlow
from eczema_tracker.gui.dialogs.import_summary import guessed_date_ids, summarise_import
from eczema_tracker.gui.keyboard_home import KeyboardHome
from eczema_tracker.gui.library_state import LibraryState
from eczema_tracker.gui.models.personal_flow import PersonalModelFlow
from eczema_tracker.gui.photo_actions import PhotoActions
from eczema_tracker.gui.prompt_flow import PromptFlow
from eczema_tracker.gui.record.flow import RecordFlow
from eczema_tracker.gui.shown_photo import ShownPhoto
from eczema_tracker.gui.site_choice import CurrentSite, SiteChooser
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.gui.timeline.panel import TimelinePanel
from eczema_tracker.gui.trust.disagreement_dialog import compare_weakest
from eczema_tracker.gui.trust.flow import TrustFlow
from eczema_tracker.gui.trust.summary import SitesStrip, TrustSummary
from eczema_tracker.gui.undo import EditHistory
from eczema_tracker.gui.widgets.empty_state import EmptyLibraryView
from eczema_tracker.gui.widgets.library_view import LibraryView, PhotoListModel
from eczema_tracker.gui.widgets.photo_view import PhotoDetails, PhotoView
from eczema_tracker.gui.widgets.status_bar import WindowStatusBar
from eczema_tracker.gui.widgets.task_progress import TaskProgressWidget
from eczema_tracker.gui.widgets.thumbnail_loader import ThumbnailLoader
from eczema_tracker.gui.window_menus import build_actions
from eczema_tracker.gui.window_questions import IMPORT_FILE_FILTER, EditQuestionsMixin
from eczema_tracker.store import Store
from eczema_tracker.store.records import ImportResult

if TYPE_CHECKING:
    from eczema_tracker.gui.bin_dialog import BinDialog

__all__ = ["IMPORT_FILE_FILTER", "MainWindow"]

log = logging.getLogger(__name__)
LIBRARY_MIN_WIDTH = 170
#: The library's least height and the photo tabs' least width: the window still fits a
#: 640 × 480 screen with the library in it.
LIBRARY_MIN_HEIGHT = 150
PHOTO_MIN_WIDTH = 420


class MainWindow(EditQuestionsMixin, QMainWindow):
    """Library, photo view, timeline, and the menus and toolbar driving them."""

    importFinished = Signal(object)  # noqa: N815 - list[ImportResult]
    photoShown = Signal(int)  # noqa: N815 - the photo view shows this photo (image loaded)
    libraryRefreshed = Signal()  # noqa: N815

    def __init__(self, store: Store, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = StoreSession(store, self)
        self.settings = settings
        self.state = LibraryState(lambda: self.session.store)
        self.pipelines = analysis_models.PipelineCache()
        self.messages: list[tuple[str, str, str]] = []  # every message shown (kind, title, text)
        self._shown_photo: int | None = None
        self._pending: StoreChanges | None = None  # changes not shown yet (writes still queued)
        self._mask_reads = 0  # mask decodes for the photo view still running
        #: Qt's undo stack of the edits made here (Ctrl+Z, Ctrl+Shift+Z / Ctrl+Y)
        self.history = EditHistory(self.session, self.status, self._undo_refused, self)
        self.setWindowTitle("Eczema Tracker")
        self.setAcceptDrops(True)
        self.resize(screen_fit.fitted_size(self, QSize(1280, 820)))

        # Long jobs (analysis, training) must not starve quick ones (decoding the photo shown).
        pool = QThreadPool.globalInstance()
        pool.setMaxThreadCount(max(4, pool.maxThreadCount()))
        # Through the session, so a restore that reopens the store needs no new loader.
        self.thumbnails = ThumbnailLoader(lambda pid: self.session.store.thumbnail(pid), self)
        self.library_model = PhotoListModel(self.thumbnails, self)
        self.library = LibraryView(self.library_model)
        self.photo_view = PhotoView()
        self.shown = ShownPhoto(self.session, self.state, self.photo_view, self)
        #: the body site the library and the timeline show (remembered with the layout)
        self.current_site = CurrentSite(self)
        self.timeline_panel = TimelinePanel(store, current_site=self.current_site)
        self.analysis = AnalysisFlow(
            self.session,
            self.pipelines,
            settings,
            self,
            parent=self,
            selection=self.target_photo_ids,
            site_filter=self.current_site_filter,
        )
        self.personal = PersonalModelFlow(self.session, self.pipelines, settings, self, parent=self)
        self.prompts = PromptFlow(
            self.session, self.history, self, parent=self, shown_photo=lambda: self.shown_photo
        )
        self.trust = TrustFlow(  # the prompt panel's agreement and next photo to paint
            self.session,
            self.pipelines,
            settings,
            parent=self,
            open_photo=self.open_photo,
            paint=self.prompts.paint_prompt_of_current,
            yield_to=lambda: self.analysis.task is not None and not self.analysis.task.done,
        )
        self.photo_actions = PhotoActions(self.session, self.history, self, self)
        self.backup = BackupFlow(self.session, self, settings, self)
        self._bin_dialog: BinDialog | None = None
        self._build_layout()
        self.record = RecordFlow(self)  # Record menu, check-in, today's numbers row
        self.actions_by_name = build_actions(self)
        window_layout.place_daily_row(self, self.record.daily_row)
        # Focus Qt hands on by itself goes to the library, never into today's numbers.
        self.keyboard_home = KeyboardHome(self, self._keyboard_home_widget)
        daily_row = self.record.daily_row
        self.keyboard_home.guard_entries(daily_row.boxes())
        daily_row.finished.connect(self.keyboard_home.go_home)
        self._connect()
        self.refresh()
        self.restore_layout()
        self._tell_store_problems()

    @property
    def store(self) -> Store:
        """The open store (the session's; a restore replaces it)."""
        return self.session.store

    # -- layout ------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        self.site_filter = SiteChooser(self.current_site)
        self.site_filter.setToolTip("Show the photos of one body site")
        self.site_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.trust_summary = TrustSummary()  # one line per site: examples, agreement, paint next
        sites_strip = SitesStrip(self.trust_summary)  # scrolls: the library keeps its room
        self.empty_view = EmptyLibraryView()
        self.library_stack = QStackedWidget()
        self.library_stack.addWidget(self.empty_view)
        self.library_stack.addWidget(self.library)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(4, 4, 4, 4)
        left_layout.addWidget(self.site_filter)
        left_layout.addWidget(sites_strip)
        left_layout.addWidget(self.library_stack, 1)
        self.library_stack.setMinimumHeight(LIBRARY_MIN_HEIGHT)
        # The sites' lines (and details opened) first; the library takes the rest.
        self.library_stack.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.photo_view, "Photo")
        self.tabs.addTab(self.timeline_panel, "Timeline")
        left.setMinimumWidth(LIBRARY_MIN_WIDTH)
        self.tabs.setMinimumWidth(PHOTO_MIN_WIDTH)
        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("library-photo-splitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([330, 950])
        self.setCentralWidget(splitter)
        self.setStatusBar(WindowStatusBar(self))  # messages beside the task, never under it
        self.task_progress = TaskProgressWidget()
        self.statusBar().addPermanentWidget(self.task_progress)

    def _connect(self) -> None:
        self.shown.shown.connect(self.photoShown)
        self.session.changed.connect(self._store_changed)
        self.session.idle.connect(self._apply_changes)
        timeline_changed = getattr(self.timeline_panel, "on_store_changed", None)
        if timeline_changed is not None:
            self.session.changed.connect(timeline_changed)
        # The flows never call each other: the window wires what one's result means to another.
        self.photo_actions.rated.connect(self._rated)
        self.photo_actions.ratingKeyed.connect(self._show_next_unrated)
        self.analysis.analysisFinished.connect(
            lambda _summary: self.personal.maybe_offer_training()
        )
        self.prompts.promptsChanged.connect(self.analysis.offer_reanalysis)
        self.prompts.editorClosed.connect(self._take_keyboard_back)
        self.trust.updated.connect(self.trust_summary.show_sites)
        self.trust_summary.paintRequested.connect(self.trust.paint_next)
        self.trust_summary.weakestRequested.connect(self.show_weakest_example)
        self.personal.photoActivated.connect(self.open_photo)
        self.current_site.changed.connect(lambda _site: self._site_filter_changed())
        self.library.photoSelected.connect(self.show_photo)
        self.empty_view.importRequested.connect(self.import_dialog)
        self.photo_view.ratingChosen.connect(self.photo_actions.rate_selected)
        self.photo_view.ratingCleared.connect(lambda: self.photo_actions.rate_selected(None))
        self.photo_view.editRequested.connect(self.photo_actions.edit_shown)
        self.photo_view.paintPromptRequested.connect(self.prompts.paint_prompt_of_current)
        self.photo_view.unsetPromptRequested.connect(self.prompts.unset_prompt_of_current)
        self.photo_view.correctResultRequested.connect(self.prompts.correct_result_of_current)
        self.photo_view.analyseRequested.connect(
            lambda: self.analysis.analyse([self.shown_photo] if self.shown_photo else [])
        )
        self.timeline_panel.photoActivated.connect(self.open_photo)
        self.timeline_panel.compareRequested.connect(self._compare)
        self.photo_view.compareRequested.connect(self.actions_by_name["compare"].trigger)

    def _compare(self, first: int, second: int) -> None:
        from eczema_tracker.gui.dialogs.compare_dialog import open_compare

        open_compare(
            self, first, second, tell=lambda text: self.show_message("info", "Compare", text)
        )

    def _rated(self, level: int | None) -> None:
        if level is not None:
            self.personal.maybe_offer_training()

    def _show_next_unrated(self, ids: list[int], level: int | None) -> None:
        """One photo rated with a key 0-3: go on to the next photo without a rating, in library
        order (none left: stay). Photos whose rating is still being stored count as rated."""
        if level is None or len(ids) != 1:
            return
        following = self.library_model.next_unrated(ids[0], self.photo_actions.ratings_waiting)
        if following is not None:
            self.library.select_photo(following)

    def _keyboard_home_widget(self) -> QWidget | None:
        """Where the keyboard goes when nobody chose (keys 0-3, Delete): the library."""
        return self.library if self.library.isVisible() else None

    def _take_keyboard_back(self) -> None:
        """The mask editor closed: the main window gets the keyboard again (keys 0-3, Delete)."""
        self.raise_()
        self.activateWindow()
        if not self.keyboard_home.go_home():
            self.photo_view.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    # -- talking to the user (tests replace these) ---------------------------------------------
    def show_message(
        self,
        kind: str,
        title: str,
        text: str,
        details: str = "",
        action: tuple[str, Callable[[], object]] | None = None,
    ) -> None:
        """Tell the user something: kind is "info", "warning" or "error"; ``action`` adds a
        button (its text, and what it does once the box is closed by it)."""
        self.messages.append((kind, title, text))
        log.info("%s: %s: %s", kind, title, text)
        box = QMessageBox(self)
        screen_fit.keep_on_screen(box)
        box.setIcon(
            {"error": QMessageBox.Icon.Critical, "warning": QMessageBox.Icon.Warning}.get(
                kind, QMessageBox.Icon.Information
            )
        )
        box.setWindowTitle(title)
        box.setText(text)
        if details:
            box.setDetailedText(details)
        if action is not None:
            box.setStandardButtons(QMessageBox.StandardButton.Ok)
            button = box.addButton(action[0], QMessageBox.ButtonRole.ActionRole)
            button.clicked.connect(action[1])
        box.open()  # window-modal but non-blocking: background tasks keep running

    def ask_question(self, title: str, text: str) -> bool:
        """A yes/no question."""
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def show_task(self, task: BackgroundTask) -> None:
        """Show a background task's progress and Cancel button in the status bar."""
        self.task_progress.show_task(task)

    def status(self, text: str) -> None:
        """A short note in the status bar."""
        self.statusBar().showMessage(text, 8000)

    # -- what the store session changed ----------------------------------------------------------
    def _store_changed(self, changes: StoreChanges) -> None:
        """A write finished: show what it changed, once no other write waits (20 ratings keyed
        quickly refresh the view once the last is in, not 20 times in between)."""
        self._pending = changes if self._pending is None else self._pending | changes
        if self.session.queued == 0:
            self._apply_changes()

    def _apply_changes(self) -> None:
        changes, self._pending = self._pending, None
        if not changes:
            return
        if changes.photos or changes.prompts or not changes.photo_ids:
            if changes.photos or changes.prompts or changes.analyses or changes.ratings:
                self._refresh_site_filter()
                self.refresh_library()
        else:  # ratings or results of known photos: only their rows
            for pid in changes.photo_ids:
                if self.library_model.index_of(pid).isValid():
                    self.library_model.update_item(self.state.item(pid))
        plotted = changes.photos or changes.prompts or changes.corrections or changes.analyses
        if (plotted or changes.ratings) and not hasattr(self.timeline_panel, "on_store_changed"):
            self.timeline_panel.refresh()  # a panel that does not listen to the session itself
        shown = self.shown_photo
        trusted = changes.agreements and self._shown_site() in changes.sites
        if shown is not None and (
            changes.touches_photo(shown) or changes.severity_models or trusted
        ):
            self.reshow_current()

    def _shown_site(self) -> str | None:
        """The body site of the photo shown (None: none shown)."""
        details = self.photo_view.details
        return None if details is None else details.site

    def settled(self) -> bool:
        """True when no write waits, every change is shown and no decode for the photo view
        runs (tests wait for this instead of sleeping)."""
        return not self.session.busy and self._pending is None and not self.shown.reading

    # -- library -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload everything shown from the store."""
        self._refresh_site_filter()
        self.refresh_library()
        self.timeline_panel.refresh()

    def _refresh_site_filter(self) -> None:
        self.site_filter.set_sites(self.store.sites())

    def current_site_filter(self) -> str | None:
        """The site the library (and the timeline) shows, or None for all."""
        return self.current_site.site()

    def show_site(self, site: str) -> None:
        """Make the library (and the timeline) show ``site``'s photos."""
        self.current_site.set_site(site)

    def target_photo_ids(self) -> list[int]:
        """The photos an action applies to: the library's selection, else the photo shown."""
        ids = self.library.selected_photo_ids()
        if not ids and self.shown_photo is not None:
            ids = [self.shown_photo]
        return ids

    def refresh_library(self) -> None:
        """Rebuild the thumbnails list and the prompt counts."""
        selected = self.library.selected_photo_ids()
        items = self.state.items(self.current_site_filter())
        self.library_model.set_items(items)
        self.library_stack.setCurrentWidget(
            self.library if items or self.store.photos() else self.empty_view
        )
        for pid in selected[:1] or ([self.shown_photo] if self.shown_photo else []):
            self.library.select_photo(pid)
        self.libraryRefreshed.emit()

    def open_photo(self, photo_id: int) -> None:
        """Select a photo in the library and show it (e.g. from the timeline). A photo the
        library's filter hides turns the library and the timeline to its body site."""
        self.tabs.setCurrentWidget(self.photo_view)
        if not self.library_model.index_of(photo_id).isValid():
            self.current_site.set_site(self.store.photo(photo_id).site)
        if not self.library_model.index_of(photo_id).isValid():
            self.current_site.set_site(None)
        self.library.select_photo(photo_id)
        self.show_photo(photo_id)

    def show_weakest_example(self, site: str) -> None:
        """ "Show it": ``site``'s weakest example next to what SegGPT found in it (segmented
        again off the GUI thread)."""
        state = self.trust.state(site)
        if state is None or state.agreement is None or state.agreement.agreement is None:
            return
        compare_weakest(
            self, self.session, self.pipelines, self.settings, state.agreement,
            open_photo=self.open_photo,
        )  # fmt: skip

    def _site_filter_changed(self) -> None:
        """Show the chosen site's photos; a photo of another site leaves the photo view."""
        self.refresh_library()
        if (
            self.shown_photo is not None
            and not self.library_model.index_of(self.shown_photo).isValid()
        ):
            self.clear_photo()

    def clear_photo(self) -> None:
        """Show no photo (it was deleted, or the filter hides it)."""
        self.shown.clear()

    def show_photo(self, photo_id: int) -> None:
        """Show a photo's facts now, and its pixels and masks once decoded off the GUI thread."""
        self.shown.show(photo_id)
        self.tabs.setCurrentWidget(self.photo_view)

    def reshow_current(self) -> None:
        """Refresh the facts of the photo shown; changed masks are decoded off the GUI thread."""
        self.shown.refresh()

    @property
    def shown_photo(self) -> int | None:
        """The id of the photo in the photo view."""
        return self.shown.photo_id

    def shown_details(self) -> PhotoDetails | None:
        """What the photo view shows of it."""
        return self.photo_view.details

    # -- import --------------------------------------------------------------------------------
    def import_dialog(self) -> None:
        """File ▸ Import: choose files, then import them."""
        files = self.ask_import_files()
        if files:
            self.import_paths(files)

    def import_paths(self, paths: list[str]) -> BackgroundTask | None:
        """Ask the body site, then import files and folders (a write, in the background)."""
        site = self.ask_site(len(paths))
        if not site:
            return None
        self.settings.last_site = site
        self.save_settings()

        def op(
            store: Store, progress: ProgressCallback, cancel: CancelCheck
        ) -> OpResult[tuple[list[ImportResult], list[int]]]:
            return edits.import_photos(store, paths, site, progress, cancel)

        return self.session.write_job(
            op,
            on_done=self._imported,
            error_title="Import failed",
            progress_label="Importing photos",
        )

    def _imported(self, outcome: tuple[list[ImportResult], list[int]]) -> None:
        results, back = outcome
        headline, details = summarise_import(results)
        if back:
            headline += (
                f" {len(back)} of them {'was' if len(back) == 1 else 'were'} in the bin and "
                f"{'is' if len(back) == 1 else 'are'} back in the library."
            )
        guessed = guessed_date_ids(results)
        offer = ("&Set one date for them…", lambda: self.photo_actions.ask_one_date(guessed))
        self.show_message(
            "info", "Import finished", headline, details, action=offer if guessed else None
        )
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
    def show_bin(self) -> BinDialog:
        """File ▸ Bin: the deleted photos (non-modal); returns the dialog."""
        from eczema_tracker.gui.bin_dialog import BinDialog

        if self._bin_dialog is None:
            self._bin_dialog = BinDialog(self.session, self.photo_actions, self, self)
        self._bin_dialog.refresh()
        self._bin_dialog.show()
        self._bin_dialog.raise_()
        return self._bin_dialog

    def undo(self) -> None:
        """Edit ▸ Undo (Ctrl+Z)."""
        self.history.undo()

    def redo(self) -> None:
        """Edit ▸ Redo (Ctrl+Shift+Z, Ctrl+Y)."""
        self.history.redo()

    def _undo_refused(self, title: str, text: str) -> None:
        self.show_message("warning", title, text)

    def show_help(self, page: str) -> None:
        """Help ▸ a page: "how-it-works", "shortcuts" or "legend"."""
        from eczema_tracker.gui.dialogs import help_dialog

        help_dialog.show_help(self, page)

    def save_layout(self) -> None:
        """Remember the window size, the pane sizes and the body site shown (a failure costs
        only the layout)."""
        window_layout.save(self, self.splitter)
        window_layout.save_site(self.current_site.site())

    def restore_layout(self) -> None:
        """Bring back the layout and the body site saved last time, if any."""
        window_layout.restore(self, self.splitter)
        site = window_layout.remembered_site()
        if site in self.store.sites():  # not one renamed or emptied since
            self.current_site.set_site(site)

    def store_problem_text(self) -> str:
        """What the check on opening the store found, in plain words ("" when all is well)."""
        return store_problems.open_check_text(self.store)

    def _tell_store_problems(self) -> None:
        self.quick_check_task = store_problems.tell_store_problems(self, lambda: self.store)

    def release_store(self) -> None:
        """Close the store for a restore; the window waits, disabled, for :meth:`adopt_store`."""
        self.clear_photo()
        self.splitter.setEnabled(False)  # the central widget
        self.menuBar().setEnabled(False)
        self.thumbnails.wait_idle(3000)
        self.store.close()

    def adopt_store(self, store: Store) -> None:
        """Use ``store`` (reopened after a restore) everywhere and show it."""
        if hasattr(self.timeline_panel, "store"):
            self.timeline_panel.store = store
        self.history.clear()
        self.library_model.set_items([])
        self.splitter.setEnabled(True)
        self.menuBar().setEnabled(True)
        self.session.replace_store(store)  # every view: everything changed
        self._tell_store_problems()
        self.keyboard_home.go_home()  # where the keyboard is once the "restored" message closes

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_layout()
        self.session.finish()  # writes asked for land before the store closes
        for task in list(BackgroundTask._running):
            task.cancel()
        self.thumbnails.wait_idle(3000)
        super().closeEvent(event)
