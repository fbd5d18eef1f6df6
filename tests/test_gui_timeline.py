"""TimelineView: drawn data, hover text, click-to-open and export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import matplotlib.dates as mdates
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox
from widgets_dialogs_support import fill_store, open_window, record_analysis

from eczema_tracker.core.output_files import OutputFileError
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.gui.timeline.points import describe_point, to_local_naive
from eczema_tracker.gui.timeline.view import TimelineView
from eczema_tracker.store import Store


@dataclass(frozen=True)
class Point:
    photo_id: int
    taken_at: datetime | str
    score: float | None
    severity_class: int | None
    lesion_area_fraction: float | None
    rating: int | None
    stale: bool = False
    painted_area_fraction: float | None = None
    mask_origin: str | None = None


def _points() -> list[Point]:
    start = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
    return [
        Point(11, (start + timedelta(days=10)).isoformat(), 2.4, 2, 0.12, 3),
        Point(10, start.isoformat(), 0.4, 0, 0.02, None),  # out of order on purpose
        Point(12, start + timedelta(days=20), 1.1, 1, 0.05, None),
        Point(13, (start + timedelta(days=30)).isoformat(), 0.8, 1, 0.04, 1, stale=True),
        Point(14, (start + timedelta(days=40)).isoformat(), None, None, None, 2),
    ]


@pytest.fixture
def view(qtbot) -> TimelineView:
    widget = TimelineView()
    qtbot.addWidget(widget)
    widget.resize(800, 480)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_points(_points(), "left forearm")
    widget.canvas.draw()
    return widget


def _line(axes, gid: str):
    lines = [line for line in axes.get_lines() if line.get_gid() == gid]
    assert len(lines) == 1, gid
    return lines[0]


def _x(point: Point) -> float:
    return mdates.date2num(to_local_naive(point.taken_at))


def _widget_pos(view: TimelineView, axes, x: float, y: float) -> QPoint:
    """Where a data point appears in the canvas widget (computed from the axes' transform)."""
    dx, dy = axes.transData.transform((x, y))
    ratio = view.canvas.device_pixel_ratio
    return QPoint(round(dx / ratio), round((view.figure.bbox.height - dy) / ratio))


def test_series_carry_the_points_data(view):
    points = {p.photo_id: p for p in _points()}
    fresh = _line(view.score_axes, "score")
    assert np.allclose(fresh.get_xdata(), [_x(points[i]) for i in (10, 11, 12)])
    assert np.allclose(fresh.get_ydata(), [0.4, 2.4, 1.1])
    stale = _line(view.score_axes, "score-stale")
    assert np.allclose(stale.get_ydata(), [0.8]) and stale.get_markerfacecolor() == "white"
    ratings = _line(view.score_axes, "rating")
    assert list(ratings.get_ydata()) == [3, 1, 2] and ratings.get_marker() == "D"
    area = _line(view.area_axes, "area")
    assert np.allclose(area.get_ydata(), [2.0, 12.0, 5.0])
    assert view.area_axes.get_ylabel().startswith("Lesion area")
    labels = [t.get_text() for t in view.score_axes.get_yticklabels()]
    assert labels == ["none (0)", "mild (1)", "moderate (2)", "severe (3)"]
    bands = [p for p in view.score_axes.patches if p.get_alpha() == pytest.approx(0.13)]
    assert len(bands) == 4
    assert "left forearm" in view.score_axes.get_title(loc="left")


def test_clicking_a_point_emits_its_photo_id(qtbot, view):
    point = next(p for p in _points() if p.photo_id == 12)
    pos = _widget_pos(view, view.score_axes, _x(point), point.score)
    with qtbot.waitSignal(view.photoActivated) as blocker:
        qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [12]
    # The area marker of another photo opens that photo too.
    other = next(p for p in _points() if p.photo_id == 11)
    pos = _widget_pos(view, view.area_axes, _x(other), 100 * other.lesion_area_fraction)
    with qtbot.waitSignal(view.photoActivated) as blocker:
        qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [11]


def test_clicking_empty_space_emits_nothing(qtbot, view):
    with qtbot.assertNotEmitted(view.photoActivated):
        qtbot.mouseClick(view.canvas, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))


def test_hover_shows_date_and_values(qtbot, view):
    point = next(p for p in _points() if p.photo_id == 11)
    qtbot.mouseMove(view.canvas, _widget_pos(view, view.score_axes, _x(point), point.score))
    qtbot.waitUntil(lambda: view.hover_text() != "")
    date_text = f"{to_local_naive(point.taken_at):%d %b %Y}"
    assert date_text in view.hover_text()
    assert "2.40 (moderate)" in view.hover_text() and "12.0%" in view.hover_text()
    assert "Your rating 3 (severe)" in view.hover_text()
    assert date_text in view.status_label.text()
    stale = next(p for p in _points() if p.stale)
    qtbot.mouseMove(view.canvas, _widget_pos(view, view.score_axes, _x(stale), stale.score))
    qtbot.waitUntil(lambda: "Out of date" in view.hover_text())


def test_empty_and_unanalysed_timelines_explain_themselves(view):
    view.set_points([], "scalp")
    texts = " ".join(t.get_text() for t in view.score_axes.texts)
    assert "No photos" in texts and "scalp" in texts
    view.set_points([Point(1, "2025-01-01T10:00:00", None, None, None, None)], "scalp")
    texts = " ".join(t.get_text() for t in view.score_axes.texts)
    assert "none analysed yet" in texts
    assert view.score_axes.get_lines() == []


def test_export_writes_png_and_pdf(tmp_path, view):
    png = view.export(tmp_path / "timeline.png")
    pdf = view.export(tmp_path / "timeline.pdf")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 5_000
    with pytest.raises(ValueError, match=r"\.png, \.pdf or \.svg"):
        view.export(tmp_path / "timeline.jpg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["timeline.pdf", "timeline.png"]


def test_export_button_asks_for_a_path(qtbot, tmp_path):
    asked: list[str] = []

    def ask(parent, suggested):
        asked.append(suggested)
        return str(tmp_path / "chart.pdf")

    view = TimelineView(ask_export_path=ask)
    qtbot.addWidget(view)
    view.set_points(_points(), "hands")
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    assert asked == ["eczema-timeline-hands.png"]
    assert (tmp_path / "chart.pdf").read_bytes()[:5] == b"%PDF-"


def test_single_point_and_mixed_timezones_plot(view):
    view.set_points([Point(5, datetime(2025, 6, 1, 12, 0), 1.5, 2, 0.3, None)], "neck")
    low, high = view.score_axes.get_xlim()
    assert high - low >= 2  # padded by at least a day either side
    mixed = [
        Point(1, "2025-06-01T08:00:00+02:00", 1.0, 1, 0.1, None),
        Point(2, datetime(2025, 6, 3, 8, 0), 2.0, 2, 0.2, None),
    ]
    view.set_points(mixed, "neck")
    assert [p.photo_id for p in view.points()] == [1, 2]
    assert len(_line(view.score_axes, "score").get_xdata()) == 2


def _year_of_points() -> list[Point]:
    start = datetime(2025, 1, 5, 9, 0)
    points = [
        Point(100 + i, start + timedelta(days=9 * i), 0.5 + (i % 5) * 0.5, None, 0.02 + i / 400,
              i % 4 if i % 3 == 0 else None)
        for i in range(40)
    ]  # fmt: skip
    # a long gap, then one old photo: "All" would squeeze the year into a corner
    return [Point(99, datetime(2023, 6, 1, 9, 0), 1.0, 1, 0.05, None), *points]


def _shown_days(view: TimelineView) -> float:
    low, high = view.score_axes.get_xlim()
    return high - low


def test_default_range_is_the_last_three_months_with_photos(view):
    view.set_points(_year_of_points(), "left arm")
    low, high = view.date_range()
    newest = datetime(2025, 1, 5, 9, 0) + timedelta(days=9 * 39)
    assert high >= newest and 85 <= _shown_days(view) <= 100
    assert view.range_choice.currentText() == "Last 3 months"
    view.range_choice.setCurrentIndex(view.range_choice.findData("12m"))
    assert 360 <= _shown_days(view) <= 400
    view.set_range("4w")
    assert 27 <= _shown_days(view) <= 32 and view.range_choice.currentText() == "Last 4 weeks"
    view.set_range("all")
    assert _shown_days(view) > 700  # back to 2023
    with pytest.raises(ValueError):
        view.set_range("decade")


def test_wheel_zooms_drag_pans_and_double_click_resets(qtbot, view):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    view.set_points(_year_of_points(), "left arm")
    view.canvas.draw()
    before = _shown_days(view)
    center = QPoint(view.canvas.width() // 2, view.canvas.height() // 2)
    wheel = QWheelEvent(
        QPointF(center), QPointF(view.canvas.mapToGlobal(center)), QPoint(), QPoint(0, 120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
        False,
    )  # fmt: skip
    QApplication.sendEvent(view.canvas, wheel)
    assert _shown_days(view) == pytest.approx(before * 0.8, rel=0.01)
    low_before = view.score_axes.get_xlim()[0]
    with qtbot.assertNotEmitted(view.photoActivated):
        qtbot.mousePress(view.canvas, Qt.MouseButton.LeftButton, pos=center)
        qtbot.mouseMove(view.canvas, center + QPoint(120, 0))
        qtbot.mouseRelease(view.canvas, Qt.MouseButton.LeftButton, pos=center + QPoint(120, 0))
    assert view.score_axes.get_xlim()[0] < low_before  # dragged right: earlier dates
    qtbot.mouseDClick(view.canvas, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert _shown_days(view) == pytest.approx(before)


def test_plotted_class_and_score_follow_the_one_severity_rule(view):
    points = [
        Point(1, "2025-03-01T10:00:00", 2.04, 3, 0.2, None),  # stored class says severe
        Point(2, "2025-03-02T10:00:00", 1.31, 1, 0.0, None),  # empty mask: no grade
        Point(3, "2025-03-03T10:00:00", 0.4, 0, 0.1, None),
    ]
    view.set_points(points, "neck")
    assert "2.04 (moderate)" in describe_point(points[0])  # the band of the score
    assert "No eczema found" in describe_point(points[1])
    assert list(_line(view.score_axes, "score").get_ydata()) == [2.04, 0.4]


def test_export_says_where_it_saved(qtbot, tmp_path):
    view = TimelineView(ask_export_path=lambda _p, _s: str(tmp_path / "year.png"))
    qtbot.addWidget(view)
    view.set_points(_points(), "hands")
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    assert str(tmp_path / "year.png") in view.status_label.text()
    assert view.last_export == tmp_path / "year.png"


def test_export_follows_the_rules_of_every_output(qtbot, tmp_path, monkeypatch):
    store_root = tmp_path / "store"
    store_root.mkdir()
    view = TimelineView(ask_export_path=lambda _p, _s: str(store_root / "chart.png"))
    qtbot.addWidget(view)
    view.store_root = store_root
    view.set_points(_points(), "hands")
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warned.append(text))
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    assert len(warned) == 1 and "inside the photo store" in warned[0]
    assert list(store_root.iterdir()) == []
    old = tmp_path / "old.png"
    old.write_bytes(b"someone's picture")
    with pytest.raises(OutputFileError, match="already exists"):
        view.export(old)
    assert old.read_bytes() == b"someone's picture"
    assert view.export(old, overwrite=True).read_bytes()[:4] == b"\x89PNG"


# -- one body site for the library and the timeline, remembered (issue 25) ----------------------
WAIT_MS = 15000


def _two_site_window(qtbot, tmp_path):
    """A window on a store of 3 analysed "face" and 3 analysed "left arm" photos."""
    store = Store.open()
    ids = {
        "face": fill_store(store, tmp_path / "face", 3, site="face", seed=1),
        "left arm": fill_store(store, tmp_path / "arm", 3, site="left arm", seed=2),
    }
    for site_ids in ids.values():
        for pid in site_ids:
            record_analysis(store, pid, score=1.6)
    store.close()
    win, _ = open_window(qtbot)
    return win, ids


def _close(qtbot, win) -> None:
    qtbot.waitUntil(lambda: not win.session.busy, timeout=WAIT_MS)
    win.close()  # as a person closes it: the layout (and the site) is saved
    qtbot.waitUntil(lambda: not BackgroundTask._running, timeout=WAIT_MS)  # reads end first
    win.store.close()


def _timeline_shown(qtbot, win):
    win.tabs.setCurrentWidget(win.timeline_panel)
    panel = win.timeline_panel
    qtbot.waitUntil(lambda: panel.view is not None and panel.view.drawn.extent is not None)
    return panel


def _choose_with_keys(qtbot, chooser, site: str) -> None:
    """Pick ``site`` in a combo box the way a person does without the mouse: focus, arrows."""
    chooser.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(chooser.hasFocus)
    key = Qt.Key.Key_Down if chooser.findText(site) > chooser.currentIndex() else Qt.Key.Key_Up
    for _ in range(abs(chooser.findText(site) - chooser.currentIndex())):
        qtbot.keyClick(chooser, key)
    assert chooser.currentText() == site


def test_the_library_and_the_timeline_show_one_site(qtbot, tmp_path):
    win, ids = _two_site_window(qtbot, tmp_path)
    try:
        win.activateWindow()
        panel = _timeline_shown(qtbot, win)
        _choose_with_keys(qtbot, win.site_filter, "left arm")  # the library's filter ...
        assert panel.site.currentText() == "left arm"  # ... turns the timeline
        assert [s.site for s in panel.view.data().sites] == ["left arm"]
        assert sorted(win.library_model.photo_ids()) == sorted(ids["left arm"])
        _choose_with_keys(qtbot, panel.site, "face")  # the timeline's site turns the library
        assert win.site_filter.currentText() == "face"
        assert sorted(win.library_model.photo_ids()) == sorted(ids["face"])
        assert [s.site for s in panel.view.data().sites] == ["face"]
        _choose_with_keys(qtbot, panel.site, "All body sites")  # every site: one line each
        assert win.current_site_filter() is None and win.site_filter.currentIndex() == 0
        assert [s.site for s in panel.view.data().sites] == ["face", "left arm"]
        lines = [ln for ln in panel.view.drawn.severity.get_lines() if ln.get_gid() == "score"]
        assert len(lines) == 2
    finally:
        _close(qtbot, win)


def test_clicking_a_point_opens_its_photo_and_keeps_the_filter(qtbot, tmp_path):
    win, ids = _two_site_window(qtbot, tmp_path)
    try:
        win.activateWindow()
        _choose_with_keys(qtbot, win.site_filter, "left arm")  # not the first site listed
        panel = _timeline_shown(qtbot, win)
        view = panel.view
        view.canvas.draw()
        point = next(p for p in view.points() if p.photo_id == ids["left arm"][1])
        with qtbot.waitSignal(win.photoShown, timeout=WAIT_MS) as shown:
            qtbot.mouseClick(
                view.canvas, Qt.MouseButton.LeftButton, pos=view.widget_position(point)
            )
        assert shown.args == [ids["left arm"][1]] and win.tabs.currentWidget() is win.photo_view
        assert win.site_filter.currentText() == "left arm"  # the filter was not reset
        assert sorted(win.library_model.photo_ids()) == sorted(ids["left arm"])
        assert win.library.selected_photo_ids() == [ids["left arm"][1]]
    finally:
        _close(qtbot, win)


def test_a_photo_the_filter_hides_turns_both_to_its_site(qtbot, tmp_path):
    """Opened from elsewhere (the examples' summary, the personal model's list)."""
    win, ids = _two_site_window(qtbot, tmp_path)
    try:
        win.show_site("face")
        with qtbot.waitSignal(win.photoShown, timeout=WAIT_MS):
            win.open_photo(ids["left arm"][0])
        assert win.site_filter.currentText() == "left arm"
        assert win.timeline_panel.site.currentText() == "left arm"
        assert win.library.selected_photo_ids() == [ids["left arm"][0]]
    finally:
        _close(qtbot, win)


def test_the_site_shown_is_remembered_across_restarts(qtbot, tmp_path):
    win, _ids = _two_site_window(qtbot, tmp_path)
    win.activateWindow()
    panel = _timeline_shown(qtbot, win)
    _choose_with_keys(qtbot, panel.site, "left arm")
    _close(qtbot, win)
    again, _ = open_window(qtbot)
    try:
        assert again.site_filter.currentText() == "left arm"
        assert _timeline_shown(qtbot, again).site.currentText() == "left arm"
        assert [s.site for s in again.timeline_panel.view.data().sites] == ["left arm"]
        again.store.rename_site("left arm", "right arm")  # gone by the next start: all sites
    finally:
        _close(qtbot, again)
    third, _ = open_window(qtbot)
    try:
        assert third.current_site_filter() is None
        assert third.site_filter.currentText() == third.timeline_panel.site.currentText()
    finally:
        _close(qtbot, third)
