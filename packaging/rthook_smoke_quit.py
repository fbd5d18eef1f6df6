"""PyInstaller runtime hook: lets the smoke test close the app's window after a few seconds.

Does nothing unless ECZEMA_TRACKER_SMOKE_QUIT_AFTER=<seconds> is set (only
tools/smoke_bundle.py sets it). Then the app's QApplication, when it is made, gets a single-shot
timer on the GUI thread that closes every window after that many seconds: the app then quits
through its own close path (closeEvent, background jobs stopped, the store closed), as when the
person closes the window.
"""

import os

_seconds = os.environ.get("ECZEMA_TRACKER_SMOKE_QUIT_AFTER")
if _seconds:
    from eczema_tracker.gui import app as _gui_app

    _make_application = _gui_app.application
    _armed = []

    def _application_closing_later():
        qt_app = _make_application()
        if not _armed:
            from PySide6.QtCore import QTimer

            _armed.append(True)
            QTimer.singleShot(int(float(_seconds) * 1000), qt_app.closeAllWindows)
        return qt_app

    _gui_app.application = _application_closing_later
