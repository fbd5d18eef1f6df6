"""A broken settings file at start: the app opens with the defaults and says so (issue 22)."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QMessageBox

from eczema_tracker.app.settings import SETTINGS_FILE, Settings
from eczema_tracker.core import paths
from eczema_tracker.gui.app import create_main_window, tell_settings_problem


def test_a_deeply_nested_settings_file_no_longer_stops_the_app(qtbot, tmp_path):
    config = paths.config_dir()  # the test's own folder (conftest)
    config.mkdir(parents=True, exist_ok=True)
    (config / SETTINGS_FILE).write_text("[" * 200_000)
    window = create_main_window(tmp_path / "store")  # raised RecursionError: "cannot start"
    qtbot.addWidget(window)
    try:
        assert window.settings == Settings()
        window.show()
        tell_settings_problem(window)
        box = window.findChild(QMessageBox)
        qtbot.waitUntil(lambda: box is not None and box.isVisible())
        assert "set aside" in box.text() and "default settings" in box.text()
        assert [name for name in os.listdir(config) if name.startswith(SETTINGS_FILE)] != [
            SETTINGS_FILE
        ]
        box.close()
    finally:
        window.close()
        window.store.close()
