"""The library: a dense grid grouped by month, badges explained, thumbnail size adjustable."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent

from eczema_tracker.gui.widgets.library_view import (
    IsHeaderRole,
    LibraryItem,
    LibraryView,
    PhotoListModel,
)
from eczema_tracker.gui.widgets.result_badges import BADGES
from eczema_tracker.gui.widgets.thumbnail_loader import ThumbnailLoader


def _items(n: int = 40, days_apart: float = 9.0) -> list[LibraryItem]:
    start = datetime(2025, 1, 3, 10, 0)
    items = [
        LibraryItem(
            photo_id=i + 1,
            taken_at=start + timedelta(days=i * days_apart),
            site="left arm",
            is_prompt=i < 2,
            analysed=i % 2 == 0,
            stale=i % 4 == 0,
            rating=i % 4 if i % 3 == 0 else None,
        )
        for i in range(n)
    ]
    return items[::-1]  # newest first, as the store gives them


@pytest.fixture
def library(qtbot, tmp_path):
    loader = ThumbnailLoader(lambda _pid: tmp_path / "none.jpg")
    model = PhotoListModel(loader)
    view = LibraryView(model)
    qtbot.addWidget(view)
    view.resize(420, 600)
    model.set_items(_items())
    view.show()
    qtbot.waitExposed(view)
    yield view
    loader.wait_idle()


def _header_indexes(view: LibraryView) -> list:
    model = view.photo_model()
    return [model.index(r) for r in range(model.rowCount()) if model.index(r).data(IsHeaderRole)]


def test_photos_are_grouped_by_month_each_month_on_rows_of_its_own(library):
    model = library.photo_model()
    assert len(model.photo_ids()) == 40
    headers = model.headers()
    assert headers[0] == "December 2025" and headers[-1] == "January 2025"
    assert len(headers) == 12  # one per month, not one per day (40)
    assert "photos" in _header_indexes(library)[0].data(Qt.ItemDataRole.ToolTipRole)
    photo_rects = [library.visualRect(model.index_of(pid)) for pid in model.photo_ids()]
    left_edge = min(rect.left() for rect in photo_rects)
    for header in _header_indexes(library):
        rect = library.visualRect(header)
        # as wide as the grid: no photo of another month sits beside it
        assert rect.width() > library.viewport().width() - 40
        assert not any(rect.intersects(p) or p.top() == rect.top() for p in photo_rects)
        first_photo = library.visualRect(model.index(header.row() + 1))
        assert first_photo.left() == left_edge and first_photo.top() > rect.bottom()


def test_a_click_where_the_first_thumbnail_is_selects_it(qtbot, library):
    newest = library.photo_model().photo_ids()[0]
    with qtbot.waitSignal(library.photoSelected) as selected:
        qtbot.mouseClick(library.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(30, 60))
    assert selected.args == [newest]


def test_arrow_keys_step_over_month_headers(qtbot, library):
    model = library.photo_model()
    ids = model.photo_ids()  # December 2025: 3 photos, November: 3, ...
    library.setFocus()
    library.select_photo(ids[0])
    qtbot.keyClick(library, Qt.Key.Key_Down)
    assert library.currentIndex() == model.index_of(ids[3])  # November's first photo
    qtbot.keyClick(library, Qt.Key.Key_Up)
    assert library.currentIndex() == model.index_of(ids[0])
    qtbot.keyClick(library, Qt.Key.Key_Up)  # nothing above December: stays
    assert library.currentIndex() == model.index_of(ids[0])


def test_badges_are_explained_in_tooltips_and_a_legend(library):
    model = library.photo_model()
    stale_prompt = model.index_of(1)  # oldest: prompt, analysed but out of date, rated 0
    tip = stale_prompt.data(Qt.ItemDataRole.ToolTipRole)
    assert "Prompt photo" in tip and "Out of date" in tip and "Your rating: 0" in tip
    assert "Not analysed yet" in model.index_of(2).data(Qt.ItemDataRole.ToolTipRole)
    legend = library.footer.legend.text()
    for word in ("prompt", "analysed", "out of date", "unlike your examples", "rating"):
        assert word in legend
    assert library.footer.isVisible() and len(BADGES) == 5


def test_thumbnail_size_follows_ctrl_wheel_and_the_slider_and_is_remembered(qtbot, library):
    before = library.thumbnail_size()
    photo = library.photo_model().index_of(library.photo_model().photo_ids()[0])
    width_before = library.visualRect(photo).width()
    event = QWheelEvent(
        QPointF(50, 50), QPointF(library.mapToGlobal(QPoint(50, 50))), QPoint(), QPoint(0, 120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    library.wheelEvent(event)
    assert library.thumbnail_size() > before
    assert library.footer.slider.value() == library.thumbnail_size()
    qtbot.waitUntil(lambda: library.visualRect(photo).width() > width_before)
    library.footer.slider.setValue(200)
    assert library.thumbnail_size() == 200
    again = LibraryView(PhotoListModel(ThumbnailLoader(lambda _pid: None)))
    qtbot.addWidget(again)
    assert again.thumbnail_size() == 200  # remembered


def test_several_photos_can_be_selected(qtbot, library):
    model = library.photo_model()
    ids = model.photo_ids()
    library.select_photo(ids[0])
    with qtbot.waitSignal(library.selectionChangedIds) as changed:
        library.selectionModel().select(
            model.index_of(ids[3]), library.selectionModel().SelectionFlag.Select
        )
    assert changed.args[0] == [ids[0], ids[3]] == library.selected_photo_ids()
