"""Store edits report their own changes (the views follow without the caller naming them), and
the window's undo stack (Qt's QUndoStack) undoes and redoes them: Ctrl+Z, Ctrl+Shift+Z, Ctrl+Y.

No ML models are needed.
"""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from eczema_tracker.app import edits
from eczema_tracker.app.changes import CancelledAfterWriting, OpResult, StoreChanges
from eczema_tracker.app.settings import Settings
from eczema_tracker.gui.main_window import MainWindow
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.store import Store

SITE = "left arm"
CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
GUI = Path(__file__).resolve().parents[1] / "eczema_tracker" / "gui"


@pytest.fixture
def window(qtbot):
    win = MainWindow(Store.open(), Settings())
    win.messages_seen = []  # (kind, title, text) of every message box
    win.show_message = lambda kind, title, text, details="", action=None: win.messages_seen.append(
        (kind, title, text)
    )
    win.ask_question = lambda title, text: True

    def finish_tasks(_win) -> None:
        for task in list(BackgroundTask._running):
            task.cancel()
        qtbot.waitUntil(lambda: not BackgroundTask._running, timeout=20000)
        win.thumbnails.wait_idle()

    qtbot.addWidget(win, before_close_func=finish_tasks)
    win.show()
    yield win
    win.store.close()


@pytest.fixture
def photos(window, eczema_photo_paths):
    window.store.import_paths(eczema_photo_paths[:3], SITE)
    window.refresh()
    return window.library_model.photo_ids()  # newest first


def settle(qtbot, win: MainWindow) -> None:
    qtbot.waitUntil(win.settled, timeout=30000)


def _library_rating(win: MainWindow, pid: int) -> int | None:
    item = win.library_model.item(win.library_model.index_of(pid))
    assert item is not None
    return item.rating


def _select(win: MainWindow, ids: list[int]) -> None:
    win.library.select_photo(ids[0])
    model = win.library.selectionModel()
    for pid in ids[1:]:
        model.select(win.library_model.index_of(pid), model.SelectionFlag.Select)
    win.library.setFocus()


# -- operations report what they changed ---------------------------------------------------------
def test_a_rating_written_through_the_session_refreshes_the_library_by_itself(
    qtbot, window, photos
):
    pid = photos[0]
    told: list[StoreChanges] = []
    window.session.changed.connect(told.append)
    # the caller names no StoreChanges: the edit reports them
    window.session.write(lambda store: edits.rate_photos(store, [pid], 2))
    qtbot.waitUntil(lambda: _library_rating(window, pid) == 2, timeout=10000)
    assert told == [StoreChanges(ratings=True, photo_ids=frozenset({pid}))]


def test_every_edit_reports_the_kinds_of_thing_it_changed(photos, window):
    store, pid = window.store, photos[0]
    assert edits.rate_photos(store, [pid], 1).changes.ratings
    moved = edits.move_to_bin(store, [pid]).changes
    assert moved.photos and moved.photo_ids == {pid} and not moved.prompts  # no prompt among them
    assert edits.restore_from_bin(store, [pid]).changes.photos
    assert edits.set_daily_numbers(store, date(2026, 3, 2), 4, None).changes == StoreChanges(
        record=True
    )
    photo = store.photo(pid)
    mask = np.zeros((photo.height, photo.width), dtype=bool)
    mask[:10] = True
    saved = edits.save_mask(store, pid, mask, correcting=False, promote=False)
    assert saved.changes.prompts and saved.changes.sites == {SITE}


def test_a_cancelled_job_still_tells_the_views_what_it_wrote_before(qtbot, window, photos):
    told: list[StoreChanges] = []
    window.session.changed.connect(told.append)
    wrote = StoreChanges(photos=True, photo_ids=frozenset({photos[0]}))

    def op(store, _progress, cancel) -> OpResult[None]:
        raise CancelledAfterWriting(wrote)

    task = window.session.write_job(op, progress_label="Working")
    with qtbot.waitSignal(task.finished, timeout=10000):
        pass
    assert told == [wrote]


def test_an_import_cancelled_midway_reports_the_photos_it_kept(window, eczema_photo_paths):
    store, asked = window.store, []

    def cancel() -> bool:  # Cancel pressed while the second file is read
        asked.append(1)
        return len(asked) > 1

    with pytest.raises(CancelledAfterWriting) as stopped:
        edits.import_photos(store, eczema_photo_paths[:3], SITE, cancel=cancel)
    assert len(store.photos()) == 1 and stopped.value.changes.photos


def test_the_gui_builds_no_store_changes_by_hand():
    """Views learn what changed from the operations: no GUI module names the changes itself
    (``StoreChanges.everything()`` after a restore is the one reset)."""
    made: list[str] = []
    for path in sorted(GUI.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "StoreChanges"
            ):
                made.append(f"{path.relative_to(GUI)}:{node.lineno}")
    assert made == []


# -- undo and redo on Qt's undo stack ------------------------------------------------------------
def test_redo_after_undo_rates_the_photos_again_with_the_edit_menu_texts(qtbot, window, photos):
    _select(window, photos)
    qtbot.keyClick(window, "2")
    settle(qtbot, window)
    undo, redo = window.actions_by_name["undo"], window.actions_by_name["redo"]
    assert undo.text() == "&Undo rating of 3 photos" and not redo.isEnabled()
    qtbot.keyClick(window, "z", CTRL)
    settle(qtbot, window)
    assert [window.store.rating(p) for p in photos] == [None, None, None]
    assert redo.text() == "&Redo rating of 3 photos" and redo.isEnabled()
    qtbot.keyClick(window, "z", CTRL_SHIFT)  # Ctrl+Shift+Z
    settle(qtbot, window)
    assert [window.store.rating(p) for p in photos] == [2, 2, 2]
    assert all(_library_rating(window, p) == 2 for p in photos)  # the view followed
    assert "Redone: rating of 3 photos." in window.statusBar().currentMessage()
    qtbot.keyClick(window, "z", CTRL)
    settle(qtbot, window)
    qtbot.keyClick(window, "y", CTRL)  # Ctrl+Y too
    settle(qtbot, window)
    assert [window.store.rating(p) for p in photos] == [2, 2, 2]


def test_redo_of_a_deletion_moves_the_photo_to_the_bin_again(qtbot, window, photos):
    pid = photos[0]
    window.library.select_photo(pid)
    window.actions_by_name["delete"].trigger()
    settle(qtbot, window)
    window.undo()
    settle(qtbot, window)
    assert pid in window.library_model.photo_ids()
    window.redo()
    settle(qtbot, window)
    assert pid not in window.library_model.photo_ids()
    assert [p.id for p in window.store.binned_photos()] == [pid]


def test_redo_of_a_mask_save_puts_the_same_mask_back(qtbot, window, photos):
    pid = photos[0]
    photo = window.store.photo(pid)
    mask = np.zeros((photo.height, photo.width), dtype=bool)
    mask[: photo.height // 3] = True
    with qtbot.waitSignal(window.prompts.maskStored, timeout=30000):
        window.prompts.save_in_background(pid, mask, correcting=False, promote=True)
    settle(qtbot, window)
    window.undo()
    settle(qtbot, window)
    assert not window.store.photo(pid).is_prompt
    window.redo()
    settle(qtbot, window)
    assert window.store.photo(pid).is_prompt
    assert np.array_equal(window.store.load_mask(window.store.prompt(pid).mask), mask)


def test_redo_of_todays_numbers_and_a_new_edit_drops_the_redo(qtbot, window):
    day = date.today()
    window.record.save_daily(day, 6, None)
    settle(qtbot, window)
    window.undo()
    settle(qtbot, window)
    assert edits.daily_numbers(window.store, day) == (None, None)
    window.redo()
    settle(qtbot, window)
    assert edits.daily_numbers(window.store, day) == (6, None)
    window.undo()
    settle(qtbot, window)
    window.record.save_daily(day, 3, None)  # a new edit: what was undone cannot come back
    settle(qtbot, window)
    assert not window.actions_by_name["redo"].isEnabled()
    window.redo()
    assert window.statusBar().currentMessage() == "Nothing to redo."
    assert edits.daily_numbers(window.store, day) == (3, None)


def test_an_undo_or_redo_the_store_refuses_is_said_in_words(qtbot, window):
    def refuse(_store, _value) -> OpResult[None]:
        raise ValueError("that photo is no longer in the store")

    window.history.push(
        "rating of 1 photo",
        None,
        undo_op=refuse,
        redo_op=lambda _store: refuse(_store, None),
    )
    window.undo()
    settle(qtbot, window)
    assert window.messages_seen[-1] == (
        "warning",
        "Nothing undone",
        "This could not be undone: that photo is no longer in the store",
    )
    window.redo()
    settle(qtbot, window)
    assert window.messages_seen[-1][1:] == (
        "Nothing redone",
        "This could not be redone: that photo is no longer in the store",
    )
