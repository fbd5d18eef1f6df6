"""The Compare view: opened from the timeline (shift-click two points) and from the photo view
(key C), both photos at the same zoom, the change in words, Escape, and the PNG export that
never replaces a file the app did not make."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from widgets_dialogs_support import fill_store, open_window, record_analysis

from eczema_tracker.app.compare import is_own_png
from eczema_tracker.gui.dialogs.compare_dialog import CompareDialog
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.store import Store

WAIT_MS = 15000


@pytest.fixture
def window(qtbot, tmp_path):
    """A window on a store of four "left arm" photos a week apart, the first three analysed."""
    store = Store.open()
    ids = fill_store(store, tmp_path / "arm", 4, days_apart=7.0, site="left arm", seed=3)
    model_file = tmp_path / "imported.safetensors"  # a model in use: its grades are shown
    model_file.write_bytes(b"the store only copies it")
    model_id = store.add_severity_model(model_file, {"kind": "imported"})
    for pid, score in zip(ids[:3], (2.2, 1.6, 0.9), strict=True):
        record_analysis(store, pid, score=score, severity_model_id=model_id)
    store.close()
    win, _ = open_window(qtbot)
    yield win, ids
    qtbot.waitUntil(lambda: not win.session.busy, timeout=WAIT_MS)
    for dialog in win.findChildren(CompareDialog):
        dialog.close()
    win.close()
    qtbot.waitUntil(lambda: not BackgroundTask._running, timeout=WAIT_MS)
    win.store.close()


def _compare_dialog(qtbot, win) -> CompareDialog:
    qtbot.waitUntil(lambda: win.findChild(CompareDialog, "compare-dialog") is not None)
    dialog = win.findChild(CompareDialog, "compare-dialog")
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.photos_ready(), timeout=WAIT_MS)
    return dialog


def _shown_ids(dialog: CompareDialog) -> list[int]:
    return [dialog.then_choice.currentData(), dialog.now_choice.currentData()]


def test_shift_clicking_two_points_of_the_timeline_compares_them(qtbot, window):
    win, ids = window
    win.activateWindow()
    win.tabs.setCurrentWidget(win.timeline_panel)
    panel = win.timeline_panel
    qtbot.waitUntil(lambda: panel.view is not None and panel.view.drawn.extent is not None)
    view = panel.view
    view.set_range("all")
    view.canvas.draw()
    points = {p.photo_id: p for p in view.points()}
    shift = Qt.KeyboardModifier.ShiftModifier
    qtbot.mouseClick(
        view.canvas, Qt.MouseButton.LeftButton, shift, view.widget_position(points[ids[2]])
    )
    assert view.compare_mark() == ids[2] and "shift-click another point" in view.status_label.text()
    assert win.findChild(CompareDialog) is None and win.tabs.currentWidget() is panel  # not opened
    qtbot.mouseClick(
        view.canvas, Qt.MouseButton.LeftButton, shift, view.widget_position(points[ids[1]])
    )
    dialog = _compare_dialog(qtbot, win)
    assert _shown_ids(dialog) == [ids[1], ids[2]]  # the earlier on the left
    assert dialog.change.text().startswith("lesion share of the photo ")
    assert dialog.change.text().endswith(", moderate \u2192 mild, 7 days")
    assert view.compare_mark() is None
    # the Compare… button without a mark: the site's first and latest analysed photo
    dialog.close()
    qtbot.waitUntil(lambda: win.findChild(CompareDialog) is None)
    qtbot.mouseClick(view.compare_button, Qt.MouseButton.LeftButton)
    dialog = _compare_dialog(qtbot, win)
    assert _shown_ids(dialog) == [ids[0], ids[2]]
    assert "14 days" in dialog.change.text()


def test_key_c_on_the_shown_photo_compares_it_with_the_first_analysed_and_escape_closes(
    qtbot, window
):
    win, ids = window
    win.activateWindow()
    with qtbot.waitSignal(win.photoShown, timeout=WAIT_MS):
        win.open_photo(ids[1])
    win.library.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(win.library.hasFocus)
    qtbot.keyClick(win.library, Qt.Key.Key_C)
    dialog = _compare_dialog(qtbot, win)
    assert _shown_ids(dialog) == [ids[0], ids[1]]
    assert "moderate \u2192 moderate, 7 days" in dialog.change.text()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    qtbot.keyClick(QApplication.focusWidget() or dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    # the photo view's button does the same
    with qtbot.waitSignal(win.photoShown, timeout=WAIT_MS):
        win.open_photo(ids[0])
    qtbot.mouseClick(win.photo_view.compare_button, Qt.MouseButton.LeftButton)
    dialog = _compare_dialog(qtbot, win)
    assert _shown_ids(dialog) == [ids[0], ids[2]]  # the first itself: with the latest


def test_both_photos_zoom_and_pan_together(qtbot, window):
    win, ids = window
    win.activateWindow()
    win.tabs.setCurrentWidget(win.timeline_panel)
    qtbot.waitUntil(lambda: win.timeline_panel.view is not None)
    qtbot.mouseClick(win.timeline_panel.view.compare_button, Qt.MouseButton.LeftButton)
    dialog = _compare_dialog(qtbot, win)
    dialog.activateWindow()
    dialog.views[0].setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(dialog.views[0].hasFocus)
    for _ in range(3):
        qtbot.keyClick(dialog.views[0], Qt.Key.Key_Plus)
    assert dialog.zoom() == pytest.approx(1.25**3)
    assert dialog.views[1].zoom == dialog.views[0].zoom
    left = dialog.views[0].horizontalScrollBar()
    right = dialog.views[1].horizontalScrollBar()
    assert left.maximum() > 0 and right.maximum() > 0
    left.setValue(left.maximum())
    assert right.value() == right.maximum()
    qtbot.keyClick(dialog.views[0], Qt.Key.Key_0)
    assert dialog.zoom() == 1.0


def test_export_writes_a_png_and_never_replaces_a_file_the_app_did_not_make(
    qtbot, window, tmp_path
):
    win, _ids = window
    win.activateWindow()
    win.tabs.setCurrentWidget(win.timeline_panel)
    qtbot.waitUntil(lambda: win.timeline_panel.view is not None)
    qtbot.mouseClick(win.timeline_panel.view.compare_button, Qt.MouseButton.LeftButton)
    dialog = _compare_dialog(qtbot, win)
    problems: list[str] = []
    dialog.show_problem = problems.append
    foreign = tmp_path / "holiday.png"
    Image.new("RGB", (8, 8), (10, 200, 10)).save(foreign)
    before = foreign.read_bytes()
    dialog.ask_export_path = lambda suggested: str(foreign)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert foreign.read_bytes() == before
    assert problems and "was not made by Eczema Tracker" in problems[0]
    assert dialog.last_export is None

    ours = tmp_path / "arm-then-and-now"  # no suffix: .png is added
    dialog.ask_export_path = lambda suggested: str(ours)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    saved = ours.with_name("arm-then-and-now.png")
    assert dialog.last_export == saved and is_own_png(saved)
    with Image.open(saved) as picture:
        assert picture.width >= 400  # both photos side by side
    asked: list[str] = []
    dialog.ask_replace = lambda path: asked.append(path.name) or False
    before = saved.read_bytes()
    qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # again: its own
    assert asked == ["arm-then-and-now.png"] and saved.read_bytes() == before  # "No": kept
    dialog.ask_replace = lambda path: True
    dialog.set_zoom(2.0)
    qtbot.keyClick(dialog, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert len(problems) == 1 and is_own_png(saved) and saved.read_bytes() != before


def test_a_corrected_mask_shows_in_the_open_comparison(qtbot, window):
    from eczema_tracker.app.changes import OpResult, StoreChanges

    win, ids = window
    win.activateWindow()
    with qtbot.waitSignal(win.photoShown, timeout=WAIT_MS):
        win.open_photo(ids[2])
    qtbot.keyClick(win.library, Qt.Key.Key_C)
    dialog = _compare_dialog(qtbot, win)
    assert _shown_ids(dialog) == [ids[0], ids[2]]
    before = dialog.captions[1].text()

    def correct(store):
        photo = store.photo(ids[2])
        mask = np.zeros((photo.height, photo.width), bool)
        mask[: photo.height // 2] = True  # half the photo
        store.save_corrected_mask(store.current_analysis(ids[2]).id, mask)
        return OpResult(None, StoreChanges(corrections=True, analyses=True))

    win.session.write(correct)
    qtbot.waitUntil(lambda: dialog.captions[1].text() != before, timeout=WAIT_MS)
    # the correction is the person's: shown beside the model's area, which is what is compared
    assert "you painted 50 %" in dialog.captions[1].text()
    assert _shown_ids(dialog) == [ids[0], ids[2]]
    qtbot.waitUntil(dialog.photos_ready, timeout=WAIT_MS)


def test_two_sites_points_are_not_compared_and_the_person_is_told(qtbot, window, tmp_path):
    win, ids = window
    other = fill_store(win.store, tmp_path / "knee", 2, days_apart=3.0, site="knee", seed=5)
    record_analysis(win.store, other[0], score=1.0)
    told: list[str] = []
    win.show_message = lambda kind, title, text, details="", action=None: told.append(text)
    win._compare(ids[2], other[0])  # what shift-clicking those two points asks
    dialog = _compare_dialog(qtbot, win)
    assert told and "two body sites ('left arm' and 'knee')" in told[-1]
    assert all(win.store.photo(pid).site == "left arm" for pid in _shown_ids(dialog))
