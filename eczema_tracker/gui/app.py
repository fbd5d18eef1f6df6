"""Start the desktop app: ``eczema-tracker`` (no command), ``python -m eczema_tracker``,
or ``eczema-tracker-gui``.

torch and transformers are not imported here: they load on the first analysis, off the GUI
thread, so the window appears quickly.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from eczema_tracker import resources
from eczema_tracker.core import paths
from eczema_tracker.gui import platform_check

if TYPE_CHECKING:
    from eczema_tracker.gui.main_window import MainWindow

log = logging.getLogger(__name__)


def application() -> QApplication:
    """The process's QApplication (made on first call)."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Eczema Tracker")
    app.setOrganizationName("eczema-tracker")
    app.setDesktopFileName("eczema-tracker")
    app.setWindowIcon(app_icon())
    return app


def app_icon() -> QIcon:
    """The app icon with every packaged size (the window, the task bar)."""
    icon = QIcon()
    for path in resources.icon_files():
        icon.addFile(str(path))
    return icon


def create_main_window(data_dir: str | Path | None = None) -> MainWindow:
    """Open the store and settings and build the main window (not shown yet)."""
    from eczema_tracker.app.settings import Settings
    from eczema_tracker.gui.main_window import MainWindow
    from eczema_tracker.store import Store

    application()
    store = Store.open(paths.data_dir(data_dir))
    try:
        return MainWindow(store, Settings.load())
    except BaseException:
        store.close()
        raise


def tell_settings_problem(window: MainWindow) -> None:
    """Say once, over the window, that a broken settings file was set aside (if it was)."""
    problem = window.settings.load_problem
    if problem:
        window.show_message("warning", "Settings file set aside", problem)


def main(data_dir: str | None = None) -> int:
    """Run the app until its window is closed; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    started = time.perf_counter()
    problem = platform_check.xcb_problem()
    if problem is not None:  # Qt would abort (exit 134) without a word the person can act on
        print(f"eczema-tracker: error: {problem}", file=sys.stderr)
        return 2
    app = application()
    try:
        window = create_main_window(data_dir)
    except Exception as exc:  # noqa: BLE001 - e.g. the store is open in another window
        log.exception("cannot open the photo store")
        QMessageBox.critical(None, "Eczema Tracker cannot start", str(exc))
        return 1
    window.show()
    log.info("window shown %.2f s after start", time.perf_counter() - started)
    tell_settings_problem(window)
    QTimer.singleShot(1500, window.analysis.warm_up)
    try:
        return int(app.exec())
    finally:
        # Background jobs stop at their next safe point (closeEvent asked them to); only then
        # is the store closed under them.
        QThreadPool.globalInstance().waitForDone(60_000)
        window.store.close()
