"""The main window's actions, menus, toolbar and library context menu, in one place.

Shortcuts: Ctrl+O import, Delete delete to the bin, Ctrl+Z undo, Ctrl+Shift+Z / Ctrl+Y redo
(Qt's undo stack: :mod:`.undo`), 0-3 rate, Backspace clear the rating, P paint a prompt mask, E edit date/site/note, M move to another site, Ctrl+R analyse the
selected photos, Ctrl+Shift+R analyse all not analysed, Ctrl+T timeline, C compare the photo with another date, Ctrl+K weekly check-in,
F1 help. The Record menu and today's numbers row come from :mod:`.record_flow`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenuBar, QTabWidget, QToolBar

if TYPE_CHECKING:
    from eczema_tracker.gui.analysis_flow import AnalysisFlow
    from eczema_tracker.gui.backup_flow import BackupFlow
    from eczema_tracker.gui.models.personal_flow import PersonalModelFlow
    from eczema_tracker.gui.photo_actions import PhotoActions
    from eczema_tracker.gui.prompt_flow import PromptFlow
    from eczema_tracker.gui.record.flow import RecordFlow
    from eczema_tracker.gui.timeline.panel import TimelinePanel
    from eczema_tracker.gui.undo import EditHistory
    from eczema_tracker.gui.widgets.library_view import LibraryView


class MenuWindow(Protocol):
    """What the actions call and where they go: the main window's flows and views, and the
    parts of ``QMenuWindow`` the menus and toolbar are put in."""

    photo_actions: PhotoActions
    history: EditHistory
    record: RecordFlow
    backup: BackupFlow
    prompts: PromptFlow
    analysis: AnalysisFlow
    personal: PersonalModelFlow
    library: LibraryView
    tabs: QTabWidget
    timeline_panel: TimelinePanel

    @property
    def shown_photo(self) -> int | None: ...
    def import_dialog(self) -> None: ...
    def show_bin(self) -> object: ...
    def ask_settings(self) -> bool: ...
    def show_help(self, page: str) -> None: ...
    def show_message(self, kind: str, title: str, text: str, details: str = "") -> None: ...
    def close(self) -> bool: ...
    def addAction(self, action: QAction) -> None: ...  # noqa: N802 - Qt's
    def addToolBar(self, toolbar: QToolBar) -> None: ...  # noqa: N802 - Qt's
    def menuBar(self) -> QMenuBar: ...  # noqa: N802 - Qt's


HELP_PAGES = {
    "help_how": ("&How it works", "how-it-works"),
    "help_shortcuts": ("&Keyboard shortcuts", "shortcuts"),
    "help_legend": ("&Badge legend", "legend"),
}


def _show_report_dialog(w: MenuWindow) -> None:
    # Imported on first use: the report pulls in matplotlib, which the window's start-up avoids.
    from eczema_tracker.gui.report.flow import show_report_dialog

    show_report_dialog(w)


def _compare_shown_photo(w: MenuWindow) -> None:
    # Imported on first use, like the report.
    from eczema_tracker.gui.dialogs.compare_dialog import open_compare

    open_compare(
        w, w.shown_photo or 0, tell=lambda text: w.show_message("info", "Compare two dates", text)
    )


def _action(
    w: MenuWindow,
    text: str,
    slot: Callable[..., object],
    shortcut: str | QKeySequence | QKeySequence.StandardKey | None = None,
    tip: str = "",
) -> QAction:
    # Parented to the menu bar (a child of the window, gone with it); added to the window, so
    # its shortcut works wherever the window has focus.
    action = QAction(text, w.menuBar())
    action.triggered.connect(slot)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setToolTip(tip)
        action.setStatusTip(tip)
    w.addAction(action)
    return action


def _added(w: MenuWindow, action: QAction) -> QAction:
    """``action`` (made elsewhere, e.g. by Qt's undo stack) added to the window, like
    :func:`_action`'s."""
    w.addAction(action)
    return action


def build_actions(w: MenuWindow) -> dict[str, QAction]:
    """Create every action of the window, its menus and toolbar; returns them by name."""
    edits = w.photo_actions
    record = w.record
    a = {
        "import": _action(
            w,
            "&Import photos…",
            w.import_dialog,
            QKeySequence.StandardKey.Open,
            "Add photos or folders to the library (or drop them on the window)",
        ),
        "backup": _action(
            w,
            "Save a bac&kup…",
            w.backup.export_dialog,
            tip="Save the whole library (photos, masks, results, ratings) into one file",
        ),
        "restore": _action(
            w,
            "&Restore from a backup…",
            w.backup.restore_dialog,
            tip="Replace the library by a backup file saved earlier",
        ),
        "bin": _action(w, "&Bin…", w.show_bin, tip="Deleted photos: restore them or empty the bin"),
        "paint": _action(
            w,
            "&Paint prompt mask…",
            w.prompts.paint_prompt_of_current,
            "P",
            "Paint where the eczema is on this photo; it becomes a prompt of its site",
        ),
        "unprompt": _action(w, "Stop using as prompt", w.prompts.unset_prompt_of_current),
        "compare": _action(
            w,
            "&Compare with another date…",
            lambda: _compare_shown_photo(w),
            "C",
            "This photo beside its site's first analysed photo (or pick two dates)",
        ),
        "edit": _action(
            w,
            "&Edit date, site and note…",
            edits.edit_shown,
            "E",
            "Change when the photo was taken, its body site or its note",
        ),
        "move": _action(
            w,
            "&Move to another body site…",
            edits.move_selected,
            "M",
            "Move the selected photos to another body site",
        ),
        "rename_site": _action(
            w, "Re&name body site…", edits.rename_site_dialog, tip="Rename a body site"
        ),
        "delete": _action(
            w,
            "&Delete",
            edits.delete_selected,
            QKeySequence.StandardKey.Delete,
            "Move the selected photos to the bin (File ▸ Bin brings them back)",
        ),
        "clear_rating": _action(
            w,
            "&Clear rating",
            lambda: edits.rate_selected(None),
            "Backspace",
            "Remove your rating of the selected photos",
        ),
        "undo": _added(w, w.history.undo_action(w.menuBar())),
        "redo": _added(w, w.history.redo_action(w.menuBar())),
        "analyse_selected": _action(
            w,
            "Analyse &selected",
            w.analysis.analyse_selected,
            "Ctrl+R",
            "Analyse the selected photos in the background",
        ),
        "analyse_pending": _action(
            w,
            "Analyse all &not analysed",
            w.analysis.analyse_pending,
            "Ctrl+Shift+R",
            "Analyse every photo without a current result",
        ),
        "report": _action(
            w,
            "Report for my &doctor…",
            lambda: _show_report_dialog(w),
            tip="A PDF of a date range to take to an appointment",
        ),
        "settings": _action(w, "&Settings…", w.ask_settings, QKeySequence.StandardKey.Preferences),
        "models": _action(w, "Model &status…", w.analysis.show_model_status),
        "train": _action(w, "&Train personal severity model…", w.personal.train),
        "personal_model": _action(
            w,
            "&Personal severity model…",
            w.personal.show_personal_model,
            tip="How your model agrees with you against the majority guess; use it or not",
        ),
        "import_model": _action(w, "Import severity &model file…", w.personal.import_model_dialog),
        "rescore": _action(w, "Re-score analyses with the active model", w.personal.rescore),
        "timeline": _action(
            w, "&Timeline", lambda: w.tabs.setCurrentWidget(w.timeline_panel), "Ctrl+T"
        ),
        "checkin": _action(
            w,
            "Weekly &check-in…",
            record.open_checkin,
            "Ctrl+K",
            "Answer the 7 POEM questions about your eczema over the last week",
        ),
        "record_days": _action(
            w,
            "&Days recorded…",
            record.open_record_days,
            tip="Every day you recorded: change or delete a check-in, numbers, flare or note",
        ),
        "treatments": _action(
            w,
            "&Treatments…",
            record.open_treatments,
            tip="Your treatments and when you used them (courses)",
        ),
        "flare_today": _action(
            w,
            "Mark today as a &flare",
            record.mark_flare_today,
            tip="Put a flare mark on today in the timeline",
        ),
        "day_note": _action(
            w,
            "&Note for a day…",
            lambda: record.open_day_note(),
            tip="Write a note on a day (or mark it as a flare)",
        ),
        "quit": _action(w, "&Quit", w.close, QKeySequence.StandardKey.Quit),
    }
    for name, (text, page) in HELP_PAGES.items():
        a[name] = _action(w, text, lambda _=False, p=page: w.show_help(p))
    a["help_how"].setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
    for level in range(4):
        a[f"rate_{level}"] = _action(
            w,
            f"Rate {level}",
            lambda _=False, lv=level: edits.rate_selected(lv, keyed=True),
            str(level),
        )
    menu = w.menuBar()
    menus: tuple[tuple[str, tuple[str | None, ...]], ...] = (
        (
            "&File",
            ("import", "backup", "restore", "bin", None, "report", None, "settings", None, "quit"),
        ),
        ("&Edit", ("undo", "redo", None, "delete", "move", "rename_site", "edit", "clear_rating")),
        ("&Photo", ("paint", "unprompt", "compare", None, "rate_0", "rate_1", "rate_2", "rate_3")),
        ("&Record", ("checkin", "record_days", "treatments", None, "flare_today", "day_note")),
        ("&Analyse", ("analyse_selected", "analyse_pending")),
        ("&Models", ("models", "train", "personal_model", "import_model", "rescore")),
        ("&View", ("timeline", "compare")),
        ("&Help", tuple(HELP_PAGES)),
    )
    for title, names in menus:
        sub = menu.addMenu(title)
        for entry in names:
            if entry is None:
                sub.addSeparator()
            else:
                sub.addAction(a[entry])
    toolbar = QToolBar("Main")
    toolbar.setObjectName("main-toolbar")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for name in ("import", "paint", "analyse_selected", "analyse_pending", "timeline", "undo"):
        toolbar.addAction(a[name])
    w.addToolBar(toolbar)
    w.library.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    for name in ("analyse_selected", "rate_0", "rate_1", "rate_2", "rate_3", "clear_rating"):
        w.library.addAction(a[name])
    for name in ("move", "edit", "delete"):
        w.library.addAction(a[name])
    return a
