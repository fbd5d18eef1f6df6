"""Issue 21, items 1, 5 and 6: the record is exactly what the patient entered.

1. The library's keys (0-3 rate) never edit today's numbers: when the focused widget goes away
   (a restore, the status bar's Cancel, a dialog closing) the keyboard returns to the library;
   a number changes only by an edit the person made, says what changed, and Ctrl+Z undoes it.
5. The import's body-site question does not file photos under the last site on Enter.
6. "Correct the result mask…" does not make the correction a prompt unless asked; Escape
   closes it after a save.

Real key events and real focus throughout (pytest-qt, offscreen).
"""

from __future__ import annotations

import threading
from datetime import date

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from widgets_dialogs_support import fill_store, make_photos, open_window, record_analysis

from eczema_tracker.gui.dialogs.site_dialog import SiteDialog
from eczema_tracker.gui.tasks import BackgroundTask

TODAY = date.today()
WAIT_MS = 20000  # background writes on a machine shared with other work
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def window(qtbot, tmp_path):
    """The main window, active, with 3 photos, today's itch 5 and sleep loss 3, and the
    keyboard in the library."""
    win, scripted = open_window(qtbot)
    ids = fill_store(win.store, tmp_path / "photos", 3)
    win.store.set_daily(TODAY, itch=5, sleep_loss=3)
    win.refresh()
    win.record.refresh()
    _activate(qtbot, win)
    win.library.setFocus()
    win.library.select_photo(ids[0])
    assert QApplication.focusWidget() is win.library
    yield win, scripted, ids
    qtbot.waitUntil(lambda: not win.session.busy, timeout=WAIT_MS)
    win.store.close()


def _activate(qtbot, widget) -> None:
    """Make ``widget``'s window the active one, as the window manager does when it comes back."""
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow, timeout=WAIT_MS)


def _press(qtbot, key: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """A key pressed by a person: it goes to the widget with the focus (or the window)."""
    qtbot.keyClick(QApplication.focusWidget() or QApplication.activeWindow(), key, modifier)


def _settle(qtbot, win) -> None:
    qtbot.waitUntil(lambda: win.settled() and not win.record.daily_row.pending(), timeout=WAIT_MS)


def _stored(win) -> tuple[int | None, int | None]:
    daily = win.store.day_entry(TODAY).daily
    return (None, None) if daily is None else (daily.itch, daily.sleep_loss)


def _assert_diary_untouched(qtbot, win) -> None:
    _settle(qtbot, win)
    assert _stored(win) == (5, 3)
    assert win.record.daily_row.values() == (5, 3)
    row = win.record.daily_row
    assert not row.itch.hasFocus() and not row.sleep.hasFocus()


# -- 1. rating keys never edit the diary -------------------------------------------------------
def test_after_a_restore_the_rating_keys_do_not_edit_the_diary(qtbot, window, tmp_path):
    win, _, _ = window
    backup = str(tmp_path / "backup.zip")
    win.ask_backup_file = lambda: backup
    win.ask_restore_file = lambda: backup
    with qtbot.waitSignal(win.backup.export_dialog().finished, timeout=60000):
        pass
    del win.show_message  # the real "Library restored" message, closed by a key
    with qtbot.waitSignal(win.backup.restore_dialog().finished, timeout=60000):
        pass
    box = next(b for b in win.findChildren(QMessageBox) if b.isVisible())
    _activate(qtbot, box)
    _press(qtbot, Qt.Key.Key_Return)  # the "restored" message closes
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=WAIT_MS)
    _activate(qtbot, win)
    _settle(qtbot, win)
    _press(qtbot, Qt.Key.Key_2)
    _assert_diary_untouched(qtbot, win)
    assert QApplication.focusWidget() is win.library


def test_when_the_status_bar_cancel_goes_away_the_keyboard_returns_to_the_library(qtbot, window):
    win, _, ids = window
    started = threading.Event()

    def op(progress, cancel) -> None:
        started.set()
        while not cancel():
            threading.Event().wait(0.01)

    task = BackgroundTask(win, op).with_progress("Analysing", cancellable=True).run()
    cancel_button = win.task_progress.cancel_button
    qtbot.waitUntil(cancel_button.isVisible, timeout=WAIT_MS)
    with qtbot.waitSignal(task.finished, timeout=WAIT_MS):
        qtbot.mouseClick(cancel_button, Qt.MouseButton.LeftButton)  # the click takes the focus
    assert not cancel_button.isVisible()
    _press(qtbot, Qt.Key.Key_2)  # rates the selected photo, as the key says
    _assert_diary_untouched(qtbot, win)
    assert QApplication.focusWidget() is win.library
    qtbot.waitUntil(lambda: win.store.rating(ids[0]) == 2, timeout=WAIT_MS)


def test_after_a_checkin_the_keyboard_is_not_in_todays_numbers(qtbot, window):
    win, _, _ = window
    row = win.record.daily_row
    qtbot.mouseClick(row.itch, Qt.MouseButton.LeftButton)  # the person was in the itch box ...
    assert row.itch.hasFocus()
    _press(qtbot, Qt.Key.Key_K, CTRL)  # ... and opened the check-in from there
    dialog = next(d for d in win.findChildren(QDialog) if d.isVisible())
    _activate(qtbot, dialog)
    for key in "0000000":
        _press(qtbot, getattr(Qt.Key, f"Key_{key}"))
    _press(qtbot, Qt.Key.Key_Return)  # saved; the dialog closes
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    _activate(qtbot, win)
    _settle(qtbot, win)
    _press(qtbot, Qt.Key.Key_2)
    _assert_diary_untouched(qtbot, win)
    assert QApplication.focusWidget() is win.library


def test_a_number_the_person_types_is_saved_said_and_undone_by_ctrl_z(qtbot, window):
    win, _, _ = window
    row = win.record.daily_row
    qtbot.mouseClick(row.itch, Qt.MouseButton.LeftButton)
    _press(qtbot, Qt.Key.Key_A, CTRL)
    _press(qtbot, Qt.Key.Key_2)
    _press(qtbot, Qt.Key.Key_Return)  # done: saved now, the keyboard goes back to the library
    assert QApplication.focusWidget() is win.library
    qtbot.waitUntil(lambda: _stored(win) == (2, 3), timeout=WAIT_MS)
    _settle(qtbot, win)
    assert row.state.text() == "saved: peak itch 5 → 2"
    assert win.statusBar().currentMessage() == "Today's peak itch 5 → 2 — Ctrl+Z undoes it."
    assert win.actions_by_name["undo"].text() == f"&Undo peak itch 5 → 2 ({TODAY.day} {TODAY:%b})"
    _press(qtbot, Qt.Key.Key_Z, CTRL)
    qtbot.waitUntil(lambda: _stored(win) == (5, 3), timeout=WAIT_MS)
    _settle(qtbot, win)
    assert row.values() == (5, 3) and row.state.text() == "undone: peak itch 5 → 2"


def test_tab_moves_between_the_boxes_and_escape_puts_the_number_back(qtbot, window):
    win, _, _ = window
    row = win.record.daily_row
    qtbot.mouseClick(row.itch, Qt.MouseButton.LeftButton)
    _press(qtbot, Qt.Key.Key_Tab)  # Tab from a box the person is in: a choice, kept
    assert row.sleep.hasFocus()
    _press(qtbot, Qt.Key.Key_Up)
    assert row.values() == (5, 4)
    _press(qtbot, Qt.Key.Key_Escape)
    assert row.values() == (5, 3) and QApplication.focusWidget() is win.library
    _assert_diary_untouched(qtbot, win)
    assert not win.history.stack.canUndo()


def test_typing_the_stored_number_again_writes_nothing(qtbot, window):
    win, _, _ = window
    row = win.record.daily_row
    qtbot.mouseClick(row.itch, Qt.MouseButton.LeftButton)
    _press(qtbot, Qt.Key.Key_A, CTRL)
    _press(qtbot, Qt.Key.Key_5)
    _press(qtbot, Qt.Key.Key_Return)
    _assert_diary_untouched(qtbot, win)
    assert not win.history.stack.canUndo() and "→" not in row.state.text()


# -- 5. the body site is the person's choice ---------------------------------------------------
def test_enter_alone_does_not_file_an_import_under_the_last_site(qtbot, window, tmp_path):
    win, _, _ = window
    del win.ask_site  # the real question the import asks, answered with keys
    win.store.import_paths(make_photos(tmp_path / "elbow", 1, seed=9), "left elbow crease")
    win.settings.last_site = "left elbow crease"
    seen: list[tuple[str, bool]] = []

    def answer() -> None:
        qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), SiteDialog))
        dialog = QApplication.activeModalWidget()
        _activate(qtbot, dialog)
        seen.append((dialog.site(), dialog.isVisible()))
        _press(qtbot, Qt.Key.Key_Return)  # Enter alone: nothing chosen, nothing filed
        seen.append((dialog.site(), dialog.isVisible()))
        if not dialog.isVisible():
            return  # it took the pre-filled site: the bug
        for key in "KNEES":
            _press(qtbot, getattr(Qt.Key, f"Key_{key}"))
        _press(qtbot, Qt.Key.Key_Return)

    def give_up() -> None:  # never leave a modal dialog open if the test went wrong
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, SiteDialog):
            dialog.reject()

    QTimer.singleShot(0, answer)
    QTimer.singleShot(10000, give_up)
    assert win.ask_site(1) == "knees"
    assert seen == [("", True), ("", True)]


def test_down_picks_the_last_site_and_moving_starts_from_the_current_one_selected(qtbot):
    dialog = SiteDialog(["left arm", "knees"], count=2, last_used="left elbow crease")
    qtbot.addWidget(dialog)
    dialog.show()
    _activate(qtbot, dialog)
    assert dialog.site() == "" and "Last time: left elbow crease" in dialog.label.text()
    _press(qtbot, Qt.Key.Key_Down)
    assert dialog.site() == "left elbow crease"
    move = SiteDialog(["left arm", "knees"], "left arm")
    qtbot.addWidget(move)
    move.show()
    _activate(qtbot, move)
    assert move.combo.lineEdit().selectedText() == "left arm"
    _press(qtbot, Qt.Key.Key_H)  # typing replaces the pre-filled site
    assert move.site() == "h"


# -- 6. a correction is not a prompt unless asked; Escape closes the painter -------------------
def test_a_correction_is_no_prompt_unless_ticked_and_escape_closes_the_painter(qtbot, window):
    win, scripted, ids = window
    for pid in ids[1:]:
        win.store.set_prompt_mask(pid, np.ones((96, 128), dtype=bool))
    record_analysis(win.store, ids[0])
    record_analysis(win.store, ids[1])
    win.refresh()
    win.open_photo(ids[0])
    scripted.yes = False
    asked_over_the_painter: list[bool] = []
    scripted.on_question = lambda title, text: asked_over_the_painter.append(
        win.prompts.editor is not None and win.prompts.editor.isVisible()
    )

    def correct(tick: bool):
        with qtbot.waitSignal(win.prompts.editorOpened, timeout=WAIT_MS) as opened:
            win.prompts.correct_result_of_current()
        dialog = opened.args[0]
        _activate(qtbot, dialog)
        assert not dialog.option_box.isChecked()  # off unless the person ticks it
        assert "out of date" in dialog.option_note.text() and dialog.option_note.isVisible()
        if tick:
            qtbot.mouseClick(dialog.option_box, Qt.MouseButton.LeftButton)
            dialog.painter.setFocus()
        w, h = dialog.painter.image_size()
        dialog.painter.paint_stroke([(w * 0.2, h * 0.2), (w * 0.6, h * 0.5)])
        with qtbot.waitSignal(win.prompts.maskStored, timeout=WAIT_MS):
            _press(qtbot, Qt.Key.Key_S, CTRL)
        _settle(qtbot, win)
        _press(qtbot, Qt.Key.Key_Escape)  # closes the painter after a save
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)

    correct(tick=False)
    analysis = win.store.current_analysis(ids[0])
    assert analysis.corrected_mask is not None and not win.store.photo(ids[0]).is_prompt
    assert not win.store.current_analysis(ids[1]).stale  # the site's results are still current
    assert asked_over_the_painter == []
    correct(tick=True)  # asked for: a prompt now, and the re-analysis question comes after
    assert win.store.photo(ids[0]).is_prompt
    assert asked_over_the_painter == [False]
