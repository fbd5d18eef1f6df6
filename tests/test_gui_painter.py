"""MaskPainter and MaskEditorDialog driven with simulated mouse, wheel and key events."""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QApplication
from widgets_dialogs_support import fill_store, open_window, record_analysis

from eczema_tracker.core import paths
from eczema_tracker.core.imaging import open_image
from eczema_tracker.gui.painter.canvas import MaskPainter
from eczema_tracker.gui.painter.editor import BRUSH_SIZE_KEY, MaskEditorDialog
from eczema_tracker.gui.painter.fill import close_hairlines, connected_area
from eczema_tracker.gui.painter.history import MaskHistory
from eczema_tracker.gui.widgets.mask_colors import (
    PROMPT_MASK_COLOR,
    PROMPT_MASK_COLOR_NAME,
    RESULT_MASK_COLOR,
)
from eczema_tracker.gui.widgets.result_badges import BADGES
from eczema_tracker.gui.window_layout import LAYOUT_FILE

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 20000  # background writes on a machine shared with other work


def _grey(height: int = 120, width: int = 200) -> np.ndarray:
    return np.full((height, width, 3), 128, dtype=np.uint8)


@pytest.fixture
def painter(qtbot) -> MaskPainter:
    widget = MaskPainter()
    qtbot.addWidget(widget)
    widget.resize(420, 300)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_image(_grey())
    widget.set_brush_size(6)
    return widget


def _drag(qtbot, painter: MaskPainter, image_points: list[tuple[float, float]]) -> None:
    """Press, move through and release at image points, as a user's mouse would."""
    viewport = painter.viewport()
    positions = [painter.image_to_viewport(x, y) for x, y in image_points]
    qtbot.mousePress(viewport, LEFT, pos=positions[0])
    for pos in positions[1:]:
        qtbot.mouseMove(viewport, pos)
    qtbot.mouseRelease(viewport, LEFT, pos=positions[-1])


def _ring(cx: float, cy: float, radius: float, steps: int = 48) -> list[tuple[float, float]]:
    return [
        (
            cx + radius * math.cos(2 * math.pi * i / steps),
            cy + radius * math.sin(2 * math.pi * i / steps),
        )
        for i in range(steps + 1)
    ]


def test_brush_stroke_paints_the_image_pixels_under_the_mouse(qtbot, painter):
    with qtbot.waitSignal(painter.maskChanged):
        _drag(qtbot, painter, [(20.5, 60.5), (100.5, 60.5), (180.5, 60.5)])
    mask = painter.lesion_mask()
    assert mask.shape == (120, 200) and mask.dtype == bool
    assert mask[60, 20:181].all()  # the whole line, end points included
    assert mask[58:63, 100].all() and not mask[50, 100] and not mask[70, 100]
    assert not mask[:, :15].any() and not mask[:, 187:].any()
    assert painter.is_modified()


def test_painting_lands_on_the_right_pixel_when_zoomed_and_scrolled(qtbot, painter):
    painter.set_brush_size(1)
    painter.set_zoom(4.0)
    painter.horizontalScrollBar().setValue(200)
    painter.verticalScrollBar().setValue(100)
    # Independent of the painter's own mapping: at zoom 4 the viewport shows image pixel x
    # at 4 * x - scroll (the scene starts at 0 and is larger than the viewport).
    target_x, target_y = 70, 40
    pos = QPoint(4 * target_x + 2 - 200, 4 * target_y + 2 - 100)
    qtbot.mouseClick(painter.viewport(), LEFT, pos=pos)
    mask = painter.lesion_mask()
    assert np.argwhere(mask).tolist() == [[target_y, target_x]]


def test_eraser_removes_only_where_it_passes(qtbot, painter):
    painter.set_brush_size(20)
    _drag(qtbot, painter, [(20, 60), (180, 60)])
    painter.set_tool("eraser")
    painter.set_brush_size(10)
    _drag(qtbot, painter, [(100, 20), (100, 100)])
    mask = painter.lesion_mask()
    assert not mask[50:70, 97:103].any()
    assert mask[55:65, 30].all() and mask[55:65, 170].all()


def test_fill_fills_the_inside_of_a_closed_ring_and_nothing_outside(qtbot, painter):
    painter.set_brush_size(3)
    _drag(qtbot, painter, _ring(100, 60, 30))
    ring = painter.lesion_mask()
    painter.set_tool("fill")
    qtbot.mouseClick(painter.viewport(), LEFT, pos=painter.image_to_viewport(100.5, 60.5))
    mask = painter.lesion_mask()
    yy, xx = np.mgrid[:120, :200]
    distance = np.hypot(xx - 100, yy - 60)
    assert mask[distance < 27].all()
    assert not mask[distance > 34].any()
    assert (mask & ~ring).sum() > 2000  # the fill is new pixels, not just the ring
    painter.undo()
    assert np.array_equal(painter.lesion_mask(), ring)  # the fill is its own undo step


def test_fill_on_a_painted_pixel_does_nothing(painter):
    painter.paint_stroke([(50, 50), (60, 50)])
    before = painter.lesion_mask()
    assert painter.fill_at(55, 50) is False
    assert np.array_equal(painter.lesion_mask(), before)


def test_undo_and_redo_go_stroke_by_stroke(qtbot, painter):
    _drag(qtbot, painter, [(20, 30), (60, 30)])
    first = painter.lesion_mask()
    _drag(qtbot, painter, [(20, 90), (60, 90)])
    both = painter.lesion_mask()
    assert both.sum() > first.sum() > 0
    painter.undo()
    assert np.array_equal(painter.lesion_mask(), first)
    painter.undo()
    assert not painter.lesion_mask().any() and not painter.can_undo()
    assert not painter.is_modified()  # back at the state it was opened with
    painter.redo()
    painter.redo()
    assert np.array_equal(painter.lesion_mask(), both) and not painter.can_redo()
    painter.undo()
    _drag(qtbot, painter, [(150, 30), (150, 90)])  # a new stroke drops the redo step
    assert not painter.can_redo()


def test_clear_is_undoable(painter):
    painter.paint_stroke([(20, 20), (120, 100)])
    painted = painter.lesion_mask()
    painter.mark_saved()
    painter.clear()
    assert not painter.lesion_mask().any() and painter.is_modified()
    painter.undo()
    assert np.array_equal(painter.lesion_mask(), painted) and not painter.is_modified()


def test_modified_follows_saved_state(qtbot, painter):
    with qtbot.waitSignal(painter.modifiedChanged, check_params_cb=lambda m: m is True):
        painter.paint_stroke([(10, 10)])
    with qtbot.waitSignal(painter.modifiedChanged, check_params_cb=lambda m: m is False):
        painter.mark_saved()
    painter.paint_stroke([(30, 30)])
    painter.undo()
    assert not painter.is_modified()


def test_initial_mask_is_shown_and_unmodified(qtbot):
    painter = MaskPainter()
    qtbot.addWidget(painter)
    mask = np.zeros((120, 200), dtype=np.uint8)
    mask[10:20, 30:40] = 255
    painter.set_image(_grey(), mask)
    assert np.array_equal(painter.lesion_mask(), mask > 0) and not painter.is_modified()
    with pytest.raises(ValueError, match="does not match"):
        painter.set_image(_grey(), np.zeros((10, 10), dtype=bool))


def test_overlay_colour_changes_display_not_mask(painter):
    painter.paint_stroke([(50, 50), (80, 50)])
    mask = painter.lesion_mask()
    painter.set_overlay(QColor(0, 200, 0), 0.8)
    assert painter.overlay_color() == QColor(0, 200, 0)
    assert painter.overlay_opacity() == pytest.approx(0.8)
    assert painter._overlay_item.image.pixelColor(60, 50) == QColor(0, 200, 0)
    assert np.array_equal(painter.lesion_mask(), mask)


def test_wheel_with_modifiers_zooms_and_resizes_brush(painter):
    def wheel(modifiers: Qt.KeyboardModifier, steps: int) -> None:
        pos = QPointF(200, 150)
        event = QWheelEvent(
            pos, painter.viewport().mapToGlobal(pos), QPoint(), QPoint(0, 120 * steps),
            Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False,
        )  # fmt: skip
        QApplication.sendEvent(painter.viewport(), event)

    zoom, size = painter.zoom(), painter.brush_size()
    under_mouse = painter.viewport_to_image(QPointF(200, 150))
    wheel(Qt.KeyboardModifier.ControlModifier, 2)
    assert painter.zoom() == pytest.approx(zoom * 1.25**2)
    moved = painter.viewport_to_image(QPointF(200, 150)) - under_mouse
    assert abs(moved.x()) < 1 and abs(moved.y()) < 1  # zoom keeps the point under the mouse
    wheel(Qt.KeyboardModifier.ShiftModifier, 1)
    assert painter.brush_size() > size
    wheel(Qt.KeyboardModifier.ShiftModifier, -3)
    assert painter.brush_size() < size


def test_real_photo_is_painted_at_full_resolution(qtbot, eczema_photo_paths):
    image = open_image(eczema_photo_paths[0])
    painter = MaskPainter()
    qtbot.addWidget(painter)
    painter.resize(300, 240)
    painter.show()
    painter.set_image(image)
    assert painter.zoom() < 0.6  # fitted: the photo is bigger than the view
    painter.set_brush_size(40)
    _drag(qtbot, painter, [(100, 100), (300, 200)])
    mask = painter.lesion_mask()
    assert mask.shape == (image.height, image.width)
    assert mask[100, 100] and mask[200, 300] and mask[150, 200] and not mask[300, 100]


def test_keyboard_shortcuts_drive_the_dialog(qtbot):
    dialog = MaskEditorDialog(_grey(), save_mask=lambda m: None, ask_unsaved=lambda w: "discard")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    painter = dialog.painter
    for key, tool in ((Qt.Key.Key_E, "eraser"), (Qt.Key.Key_F, "fill"), (Qt.Key.Key_B, "brush")):
        qtbot.keyClick(painter, key)
        assert painter.tool() == tool
    size = painter.brush_size()
    qtbot.keyClick(painter, Qt.Key.Key_BracketRight)
    assert painter.brush_size() > size
    painter.paint_stroke([(30, 30), (90, 30)])
    qtbot.keyClick(painter, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not painter.lesion_mask().any()
    qtbot.keyClick(painter, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert painter.lesion_mask().any()
    for action in (dialog.toolbar.tool_actions["fill"], dialog.toolbar.undo_action):
        assert "(" in action.toolTip()  # the shortcut is named in the tooltip


def _dialog(qtbot, answer: str, saved: list):
    dialog = MaskEditorDialog(_grey(), save_mask=saved.append, ask_unsaved=lambda w: answer)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.painter.paint_stroke([(40, 40), (120, 80)])
    return dialog


def test_closing_with_unsaved_strokes_and_save_calls_the_callback(qtbot):
    saved: list[np.ndarray] = []
    dialog = _dialog(qtbot, "save", saved)
    expected = dialog.painter.labelled_mask()
    with qtbot.waitSignal(dialog.finished):
        dialog.reject()
    assert len(saved) == 1 and np.array_equal(saved[0], expected)
    assert dialog.result() == MaskEditorDialog.DialogCode.Accepted and not dialog.isVisible()


def test_discard_closes_without_saving_and_cancel_stays_open(qtbot):
    saved: list[np.ndarray] = []
    cancel = _dialog(qtbot, "cancel", saved)
    assert cancel.close() is False and cancel.isVisible()
    discard = _dialog(qtbot, "discard", saved)
    discard.reject()
    assert saved == [] and not discard.isVisible()
    assert discard.result() == MaskEditorDialog.DialogCode.Rejected


def test_unmodified_dialog_closes_without_asking(qtbot):
    def never(widget):
        raise AssertionError("asked about unsaved changes")

    dialog = MaskEditorDialog(_grey(), save_mask=lambda m: None, ask_unsaved=never)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.reject()
    assert not dialog.isVisible()


def test_failed_save_keeps_the_strokes_and_the_dialog(qtbot):
    errors: list[str] = []

    def broken(mask):
        raise OSError("disk full")

    dialog = MaskEditorDialog(
        _grey(), save_mask=broken, ask_unsaved=lambda w: "save",
        show_error=lambda w, message: errors.append(message),
    )  # fmt: skip
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.painter.paint_stroke([(40, 40)])
    dialog.reject()
    assert dialog.isVisible() and dialog.painter.is_modified()
    assert errors and "disk full" in errors[0]


def test_ctrl_s_saves_and_option_box_is_reported(qtbot):
    saved: list[tuple[np.ndarray, bool]] = []
    dialog = MaskEditorDialog(
        _grey(), np.ones((120, 200), dtype=bool), title="Correct result",
        save_text="Use as prompt", option_text="Use as prompt for this site",
        save_mask=lambda m: saved.append((m, dialog.option_checked())),
    )  # fmt: skip
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    dialog.option_box.setChecked(True)
    assert dialog.save_button.text() == "Use as prompt"
    with qtbot.waitSignal(dialog.maskSaved):
        qtbot.keyClick(dialog.painter, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert saved[0][0].all() and saved[0][1] is True  # an unmodified result mask can be promoted


def test_connected_area_matches_a_pixel_flood_fill():
    rng = np.random.default_rng(0)
    for _ in range(100):
        height, width = rng.integers(1, 30, size=2)
        free = rng.random((height, width)) < 0.6
        y, x = int(rng.integers(height)), int(rng.integers(width))
        region = connected_area(free, x, y)
        if not free[y, x]:
            assert region is None
            continue
        expected = np.zeros_like(free)
        expected[y, x] = True
        todo = deque([(y, x)])
        while todo:
            cy, cx = todo.popleft()
            for ny, nx in ((cy - 1, cx), (cy + 1, cx), (cy, cx - 1), (cy, cx + 1)):
                if 0 <= ny < height and 0 <= nx < width and free[ny, nx] and not expected[ny, nx]:
                    expected[ny, nx] = True
                    todo.append((ny, nx))
        got = np.zeros_like(free)
        rows, cols = region.pixels.shape
        got[region.y : region.y + rows, region.x : region.x + cols] = region.pixels
        assert np.array_equal(got, expected)


def test_history_is_bounded_and_knows_the_saved_state():
    history = MaskHistory(limit=3)
    start = history.state_id
    for i in range(5):
        history.record(0, 0, np.zeros((2, 2), bool), np.full((2, 2), i % 2 == 0))
    assert len(history) == 3
    while history.can_undo():
        history.undo()
    assert history.state_id != start  # the two oldest edits are gone for good
    edit = history.redo()
    assert edit is not None and edit.after().shape == (2, 2)


def test_middle_drag_and_space_drag_pan_without_painting(qtbot, painter):
    painter.set_zoom(4.0)
    viewport = painter.viewport()
    bar = painter.horizontalScrollBar()
    bar.setValue(300)
    middle = Qt.MouseButton.MiddleButton
    qtbot.mousePress(viewport, middle, pos=QPoint(200, 150))
    qtbot.mouseMove(viewport, QPoint(150, 150))
    qtbot.mouseRelease(viewport, middle, pos=QPoint(150, 150))
    assert bar.value() == 350
    qtbot.keyPress(painter, Qt.Key.Key_Space)
    qtbot.mousePress(viewport, LEFT, pos=QPoint(200, 150))
    qtbot.mouseMove(viewport, QPoint(260, 150))
    qtbot.mouseRelease(viewport, LEFT, pos=QPoint(260, 150))
    qtbot.keyRelease(painter, Qt.Key.Key_Space)
    assert bar.value() == 290
    assert not painter.lesion_mask().any()


def test_toolbar_follows_and_drives_the_painter(qtbot):
    picked = QColor(20, 120, 250)
    dialog = MaskEditorDialog(_grey(), save_mask=lambda m: None)
    qtbot.addWidget(dialog)
    toolbar, painter = dialog.toolbar, dialog.painter
    toolbar._choose_color = lambda current, parent: picked
    assert not toolbar.undo_action.isEnabled()
    painter.paint_stroke([(20, 20)])
    assert toolbar.undo_action.isEnabled() and not toolbar.redo_action.isEnabled()
    painter.set_brush_size(40)
    assert toolbar.size_label.text() == "40 px"
    toolbar.size_slider.setValue(0)
    assert painter.brush_size() == MaskPainter.MIN_BRUSH
    toolbar.size_slider.setValue(toolbar.size_slider.maximum())
    assert painter.brush_size() == MaskPainter.MAX_BRUSH
    toolbar.opacity_slider.setValue(30)
    assert painter.overlay_opacity() == pytest.approx(0.3)
    toolbar.color_button.click()
    assert painter.overlay_color() == picked
    painter.set_tool("fill")
    assert toolbar.tool_actions["fill"].isChecked()
    toolbar.tool_actions["eraser"].trigger()
    assert painter.tool() == "eraser"
    assert dialog.isWindowModified()


def test_undo_history_keeps_the_last_50_strokes(painter):
    painter.set_brush_size(1)
    for i in range(55):
        painter.paint_stroke([(i + 0.5, 0.5)])
    undone = 0
    while painter.can_undo():
        painter.undo()
        undone += 1
    assert undone == 50
    assert painter.lesion_mask()[0, :5].all() and not painter.lesion_mask()[0, 5:].any()
    assert painter.is_modified()  # the oldest strokes cannot be undone, so it is not "saved"


def test_reading_the_mask_mid_stroke_does_not_break_the_stroke(qtbot, painter):
    viewport = painter.viewport()
    qtbot.mousePress(viewport, LEFT, pos=painter.image_to_viewport(20, 60))
    qtbot.mouseMove(viewport, painter.image_to_viewport(80, 60))
    assert painter.lesion_mask()[60, 50]  # the stroke so far
    qtbot.mouseMove(viewport, painter.image_to_viewport(150, 60))
    qtbot.mouseRelease(viewport, LEFT, pos=painter.image_to_viewport(150, 60))
    assert painter.lesion_mask()[60, 20:151].all()
    painter.undo()
    assert not painter.lesion_mask().any()  # still one stroke, one undo step


# -- issue 25: strokes side by side, the brush size remembered, one colour per meaning, Ctrl+S --
def _shown_dialog(qtbot, image: np.ndarray, saved: list | None = None, **kwargs):
    dialog = MaskEditorDialog(
        image,
        save_mask=(saved.append if saved is not None else lambda m: None),
        ask_unsaved=lambda w: "discard",
        **kwargs,
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    return dialog


@pytest.mark.parametrize("brush", [23, 53, 77, 89, 119])
def test_strokes_laid_a_brush_width_apart_on_screen_leave_no_gap_in_the_saved_mask(qtbot, brush):
    """At fit zoom a screen pixel is several photo pixels: the second stroke, one brush
    outline (rounded to the screen pixel the mouse can reach) below the first, must meet it."""
    saved: list[np.ndarray] = []
    dialog = _shown_dialog(qtbot, _grey(1500, 2000), saved)
    painter = dialog.painter
    assert painter.zoom() < 0.5
    painter.set_brush_size(brush)
    viewport = painter.viewport()
    spacing = round(brush * painter.zoom())  # the outline's height on screen
    top = viewport.height() // 2 - spacing
    for y in (top, top + spacing):
        qtbot.mousePress(viewport, LEFT, pos=QPoint(60, y))
        for x in range(80, viewport.width() - 60, 20):
            qtbot.mouseMove(viewport, QPoint(x, y))
        qtbot.mouseRelease(viewport, LEFT, pos=QPoint(viewport.width() - 60, y))
    qtbot.keyClick(painter, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert len(saved) == 1
    middle = painter.viewport_to_image(QPoint(viewport.width() // 2, top))
    column = saved[0][:, int(middle.x())]
    rows = np.flatnonzero(column)
    assert rows.size and column[rows[0] : rows[-1] + 1].all(), (
        f"unpainted rows between the strokes: {np.flatnonzero(~column[rows[0] : rows[-1]])}"
    )


def test_close_hairlines_fills_gaps_of_up_to_2_px_and_nothing_else():
    bands = np.zeros((30, 40), dtype=bool)
    bands[2:8, 5:30] = True
    for gap in (1, 2, 3):
        mask = bands.copy()
        mask[8 + gap : 14 + gap, 5:30] = True
        closed = close_hairlines(mask)
        if gap < 3:
            assert closed[8 : 8 + gap, 5:30].all() and (closed & ~mask).sum() == 25 * gap
        else:
            assert np.array_equal(closed, mask)  # a gap the person can see stays
    square = np.zeros((30, 40), dtype=bool)
    square[5:20, 0:15] = True  # on the photo's edge: the edge does not move
    assert np.array_equal(close_hairlines(square), square)
    holed = np.ones((20, 20), dtype=bool)
    holed[5:8, 5:8] = False  # a 3 x 3 hole stays, a 2 x 2 one is filled
    holed[12:14, 12:14] = False
    closed = close_hairlines(holed)
    assert not closed[5:8, 5:8].any() and closed[12:14, 12:14].all()


def test_a_stroke_closes_a_hairline_next_to_it_but_not_an_erased_line_elsewhere(painter):
    painter.set_brush_size(10)
    painter.paint_stroke([(20, 20), (180, 20)])  # rows 15..24
    painter.set_brush_size(1)
    painter.paint_stroke([(100.5, 60), (100.5, 110)], erase=False)
    painter.paint_stroke([(100.5, 60), (100.5, 110)], erase=True)  # a 1-px line erased
    painter.paint_stroke([(90, 85.5), (112, 85.5)])
    painter.paint_stroke([(90, 85.5), (112, 85.5)], erase=True)
    assert not painter.lesion_mask()[60:110, 100].any()
    painter.set_brush_size(10)
    painter.paint_stroke([(20, 31), (180, 31)])  # rows 26..35: row 25 left unpainted
    mask = painter.lesion_mask()
    assert mask[15:36, 40:160].all()  # the hairline between the strokes is closed
    assert not mask[36:, :].any()  # nothing grew elsewhere
    painter.undo()  # the closing is part of the stroke's undo step
    assert not painter.lesion_mask()[25:36].any()


def test_the_brush_size_is_remembered_for_the_next_photo_and_the_next_start(qtbot):
    first = _shown_dialog(qtbot, _grey())
    default = first.painter.brush_size()
    for _ in range(3):
        qtbot.keyClick(first.painter, Qt.Key.Key_BracketRight)
    chosen = first.painter.brush_size()
    assert chosen > default
    layout = QSettings(str(paths.config_dir() / LAYOUT_FILE), QSettings.Format.IniFormat)
    assert layout.value(BRUSH_SIZE_KEY) is None  # not written on every step, once at the end
    first.done(0)
    second = _shown_dialog(qtbot, _grey(600, 900))  # another photo: its default would differ
    assert second.painter.brush_size() == chosen
    assert second.toolbar.size_label.text() == f"{chosen} px"
    second.done(0)
    # The next start reads the file the app keeps its layout in.
    layout = QSettings(str(paths.config_dir() / LAYOUT_FILE), QSettings.Format.IniFormat)
    assert int(layout.value(BRUSH_SIZE_KEY)) == chosen


def test_a_broken_remembered_brush_size_falls_back_to_the_photo_default(qtbot):
    layout = QSettings(str(paths.config_dir() / LAYOUT_FILE), QSettings.Format.IniFormat)
    layout.setValue(BRUSH_SIZE_KEY, "huge")
    layout.sync()
    dialog = _shown_dialog(qtbot, _grey())
    assert dialog.painter.brush_size() == 4  # 3 % of the short side, at least 4


@pytest.fixture
def app_window(qtbot, tmp_path):
    """The main window with 3 photos of one site, the first one shown."""
    win, _scripted = open_window(qtbot)
    ids = fill_store(win.store, tmp_path / "photos", 3)
    win.refresh()
    win.open_photo(ids[0])
    yield win, ids
    qtbot.waitUntil(lambda: not win.session.busy, timeout=WAIT_MS)
    win.store.close()


def _open_painter(qtbot, win, open_it) -> MaskEditorDialog:
    with qtbot.waitSignal(win.prompts.editorOpened, timeout=WAIT_MS) as opened:
        open_it()
    dialog = opened.args[0]
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=WAIT_MS)
    return dialog


def test_a_mask_is_painted_in_the_colour_it_is_shown_in(qtbot, app_window):
    win, ids = app_window
    dialog = _open_painter(qtbot, win, win.prompts.paint_prompt_of_current)
    assert dialog.painter.overlay_color() == PROMPT_MASK_COLOR
    assert BADGES["prompt"][1] == PROMPT_MASK_COLOR.name()  # the library's "P"
    w, h = dialog.painter.image_size()
    _drag(qtbot, dialog.painter, [(w * 0.3, h * 0.4), (w * 0.6, h * 0.5)])
    with qtbot.waitSignal(win.prompts.maskStored, timeout=WAIT_MS):
        qtbot.keyClick(dialog.painter, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    dialog.done(0)
    qtbot.waitUntil(lambda: win.settled() and win.photo_view.image_view.has_overlay())
    assert f"({PROMPT_MASK_COLOR_NAME})" in win.photo_view.mask_state.text()
    overlay = win.photo_view.details.prompt_overlay
    y, x = np.argwhere(win.store.load_mask(win.store.prompt(ids[0]).mask))[0]
    assert overlay.pixelColor(int(x), int(y)).rgb() == PROMPT_MASK_COLOR.rgb()

    record_analysis(win.store, ids[1])
    win.refresh()
    win.open_photo(ids[1])
    dialog = _open_painter(qtbot, win, win.prompts.correct_result_of_current)
    assert dialog.painter.overlay_color() == RESULT_MASK_COLOR  # a result, as shown
    dialog.done(0)


def test_after_ctrl_s_the_status_says_what_ctrl_z_undoes(qtbot, app_window):
    win, ids = app_window
    dialog = _open_painter(qtbot, win, win.prompts.paint_prompt_of_current)
    painter = dialog.painter
    w, h = painter.image_size()
    _drag(qtbot, painter, [(w * 0.3, h * 0.4), (w * 0.6, h * 0.5)])
    with qtbot.waitSignal(win.prompts.maskStored, timeout=WAIT_MS):
        qtbot.keyClick(painter, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    status = win.statusBar().currentMessage()
    assert "Ctrl+Z undoes it" not in status and "close the painter" in status
    # What it says is true: in the painter Ctrl+Z undoes the stroke, not the save ...
    qtbot.keyClick(painter, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not painter.lesion_mask().any()
    qtbot.keyClick(painter, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert win.store.photo(ids[0]).is_prompt
    qtbot.keyClick(painter, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    assert win.statusBar().currentMessage() == "Mask saved. Ctrl+Z undoes the save."
    # ... and once the painter is closed, the window's Ctrl+Z undoes the save.
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=WAIT_MS)
    focused = QApplication.focusWidget() or win
    qtbot.keyClick(focused, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: win.settled() and not win.store.photo(ids[0]).is_prompt)


# -- the second label: healthy skin -----------------------------------------------------------
def test_healthy_skin_is_painted_filled_and_undone_around_the_lesion(qtbot, painter):
    """A person paints the lesion, switches to healthy skin with K, outlines the arm and fills
    it with one click: the lesion stays lesion, the skin fills around it."""
    _drag(qtbot, painter, _ring(100, 60, 12))
    painter.set_tool("fill")
    qtbot.mouseClick(painter.viewport(), LEFT, pos=painter.image_to_viewport(100, 60))
    lesion = painter.lesion_mask()
    assert lesion[60, 100] and lesion.sum() > 300
    painter.set_label("skin")
    painter.set_tool("brush")
    _drag(qtbot, painter, _ring(100, 60, 40))  # the arm's outline, around the lesion
    painter.set_tool("fill")
    qtbot.mouseClick(painter.viewport(), LEFT, pos=painter.image_to_viewport(100, 30))
    labels = painter.labelled_mask()
    assert np.array_equal(labels == 255, lesion)  # skin never covered the lesion
    assert labels[30, 100] == 128 and labels[60, 80] == 128  # filled between outline and lesion
    assert labels[5, 5] == 0  # outside the arm: not skin
    share = painter.lesion_share_of_skin()
    assert share == pytest.approx(lesion.sum() / np.count_nonzero(labels))
    assert 0.0 < share < 1.0 and painter.mask_fraction() == pytest.approx(lesion.mean())
    # a skin click on the lesion does nothing; the skin eraser leaves the lesion alone
    assert not painter.fill_at(100, 60)
    painter.set_tool("eraser")
    _drag(qtbot, painter, [(60, 60), (140, 60)])
    after = painter.labelled_mask()
    assert np.array_equal(after == 255, lesion) and after[60, 70] == 0
    for _ in range(2):  # the erase, the fill: undone; the outline stays
        painter.undo()
    assert painter.labelled_mask()[30, 100] == 0 and (painter.labelled_mask() == 128).any()
    painter.redo()
    assert painter.labelled_mask()[30, 100] == 128


def test_the_lesion_eraser_leaves_skin_and_the_lesion_brush_paints_over_it(qtbot, painter):
    painter.set_label("skin")
    painter.paint_stroke([(20, 60), (180, 60)])
    painter.set_label("lesion")
    painter.paint_stroke([(100, 40), (100, 80)])
    labels = painter.labelled_mask()
    assert labels[60, 100] == 255 and labels[60, 40] == 128
    painter.set_tool("eraser")
    _drag(qtbot, painter, [(30, 60), (170, 60)])
    labels = painter.labelled_mask()
    assert labels[60, 100] == 0 and labels[60, 40] == 128  # only the lesion was erased
    assert labels[45, 100] == 255  # the lesion off the erased line is still there


def test_the_editor_switches_label_by_key_saves_both_and_shows_both_shares(qtbot):
    saved: list[np.ndarray] = []
    dialog = MaskEditorDialog(_grey(), save_mask=saved.append, ask_unsaved=lambda w: "save")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.painter.paint_stroke([(90, 60), (110, 60)])
    assert "of the photo" in dialog.coverage_label.text()
    assert "of the skin" not in dialog.coverage_label.text()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    qtbot.keyClick(dialog.painter, Qt.Key.Key_K)
    assert dialog.painter.label() == "skin" and dialog.toolbar.label_actions["skin"].isChecked()
    qtbot.keyClick(dialog.painter, Qt.Key.Key_F)
    qtbot.mouseClick(dialog.painter.viewport(), LEFT, pos=dialog.painter.image_to_viewport(5, 5))
    labels = dialog.painter.labelled_mask()
    assert labels[5, 5] == 128 and labels[60, 100] == 255
    share = dialog.painter.lesion_share_of_skin()
    assert f"{share:.1%} of the skin" in dialog.coverage_label.text()
    qtbot.keyClick(dialog.painter, Qt.Key.Key_L)
    assert dialog.painter.label() == "lesion"
    with qtbot.waitSignal(dialog.finished):
        dialog.reject()
    assert len(saved) == 1 and np.array_equal(saved[0], labels)
    # opened again with what was saved, the labels come back
    again = MaskEditorDialog(_grey(), saved[0], save_mask=saved.append)
    qtbot.addWidget(again)
    assert np.array_equal(again.painter.labelled_mask(), labels)
    assert not again.painter.is_modified()
