"""Help: three pages, one non-modal window reused, every shortcut of the window listed."""

from __future__ import annotations

import pytest

from eczema_tracker.gui.dialogs.help_dialog import PAGES, show_help
from tests.widgets_dialogs_support import open_window


@pytest.fixture
def window(qtbot):
    win, _scripted = open_window(qtbot)
    yield win
    win.store.close()


def test_help_pages_open_in_one_non_modal_window(qtbot, window):
    first = show_help(window, "how-it-works")
    qtbot.addWidget(first)  # closed after the test (a help window outlives a hidden parent)
    assert first.isVisible() and not first.isModal()
    text = first.browsers["how-it-works"].toPlainText()
    assert "not a diagnosis" in text and "measurement aid" in text
    for topic in ("The mask", "The area", "The severity", "no eczema found"):
        assert topic in text
    again = show_help(window, "legend")
    assert again is first and PAGES[first.tabs.currentIndex()] == "legend"
    legend = first.browsers["legend"].toPlainText()
    assert "prompt photo" in legend and "out of date" in legend
    with pytest.raises(ValueError):
        show_help(window, "nonsense")


def test_shortcuts_page_lists_every_shortcut_of_the_window(qtbot, window):
    from PySide6.QtGui import QAction, QKeySequence

    dialog = show_help(window, "shortcuts")
    qtbot.addWidget(dialog)
    text = dialog.browsers["shortcuts"].toPlainText()
    keys = {
        s.toString(QKeySequence.SequenceFormat.NativeText)
        for a in window.findChildren(QAction)
        for s in a.shortcuts()
        if not s.isEmpty()
    }
    assert len(keys) >= 8
    for key in keys:
        assert key in text, key
    for painter_key in ("Shift+wheel", "Space+drag", "Ctrl+wheel"):
        assert painter_key in text
