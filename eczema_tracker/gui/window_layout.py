"""The main window's size and pane sizes, remembered between runs (an INI file in the app's
config folder, next to the settings; losing it costs only the layout)."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QSplitter, QWidget

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
