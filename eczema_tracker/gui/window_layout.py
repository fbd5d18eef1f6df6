"""The main window's size and pane sizes and the body site it shows, remembered between runs
(an INI file in the app's config folder, next to the settings; losing it costs only the
layout), and where today's numbers row sits (a fixed row under the main toolbar)."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMainWindow, QSplitter, QToolBar, QWidget

from eczema_tracker.core import paths

LAYOUT_FILE = "window-layout.ini"


def _settings() -> QSettings:
    return QSettings(str(paths.config_dir() / LAYOUT_FILE), QSettings.Format.IniFormat)


def save(window: QWidget, splitter: QSplitter) -> None:
    """Write the window geometry and the splitter state."""
    settings = _settings()
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/splitter", splitter.saveState())
    settings.sync()


def restore(window: QWidget, splitter: QSplitter) -> None:
    """Apply what :func:`save` wrote last, if anything."""
    settings = _settings()
    geometry = settings.value("window/geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
    state = settings.value("window/splitter")
    if state is not None:
        splitter.restoreState(state)


def save_site(site: str | None) -> None:
    """Remember the body site the library and the timeline show (``None``: all)."""
    settings = _settings()
    settings.setValue("window/site", site or "")
    settings.sync()


def remembered_site() -> str | None:
    """The body site :func:`save_site` remembered last (``None``: all, or nothing saved)."""
    site = _settings().value("window/site")
    return site if isinstance(site, str) and site else None


def place_daily_row(window: QMainWindow, row: QWidget) -> QToolBar:
    """Put today's numbers ``row`` in its own row under the main toolbar; returns the bar."""
    bar = QToolBar("Today")
    bar.setObjectName("today-numbers-bar")
    bar.setMovable(False)
    bar.setFloatable(False)
    bar.addWidget(row)
    window.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    return bar
