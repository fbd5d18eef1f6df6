"""Issue 14: a result unlike the site's example photos (``familiar is False``) is marked wherever
it appears: a badge in the library, a note in the photo view, a hollow marker on the timeline,
a mark and a footnote in the report. ``familiar`` True or None (not judged) shows nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from pypdf import PdfReader
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage

from eczema_tracker.app.report.data import gather_report
from eczema_tracker.app.report.pdf import write_report
from eczema_tracker.app.report.request import check_request
from eczema_tracker.app.report.summary import unfamiliar_footnote
from eczema_tracker.app.timeline.data import gather_timeline_data
from eczema_tracker.app.timeline.figure import draw_timeline
from eczema_tracker.app.trust.familiarity_text import (
    UNFAMILIAR_COLOR,
    UNFAMILIAR_EXPLAINED,
    UNFAMILIAR_FOOTNOTE,
    UNFAMILIAR_LABEL,
    UNFAMILIAR_MARK,
    UNFAMILIAR_NOTE,
    is_unfamiliar,
    sentence,
)
from eczema_tracker.gui.library_state import LibraryState
from eczema_tracker.gui.timeline.points import describe_point
from eczema_tracker.gui.widgets.library_view import (
    LibraryView,
    PhotoListModel,
    badges_of,
    photo_tooltip,
)
from eczema_tracker.gui.widgets.photo_view import PhotoView
from eczema_tracker.gui.widgets.thumbnail_loader import ThumbnailLoader
from eczema_tracker.store import Store
from tests.report_support import ellipse_mask, populate, synthetic_photo

SITE = "left arm"
#: familiar verdicts of the three photos, oldest first
VERDICTS = (False, True, None)
NOTE = sentence(UNFAMILIAR_NOTE)


def _analyse(store: Store, photo_id: int, familiar: bool | None, fraction: float = 0.1) -> None:
    photo = store.photo(photo_id)
    store.record_analysis(
        photo_id,
        mask=ellipse_mask(photo.width, photo.height, fraction),
        lesion_area_fraction=fraction,
        features=None,
        feature_source=None,
        probabilities=[0.1, 0.2, 0.5, 0.2],
        score=1.8,
        model_sources={"dino": "test"},
        k=2,
        nearest_prompt_distance=None if familiar is None else (0.9 if not familiar else 0.1),
        prompt_distance_scale=None if familiar is None else 0.15,
        familiar=familiar,
    )


@pytest.fixture
def judged(tmp_path) -> tuple[Store, dict[bool | None, int]]:
    """A store with three analysed photos of one site: unlike, like and not judged."""
    store = Store.open(tmp_path / "store")
    paths = [synthetic_photo(tmp_path / f"p{i}.jpg", i + 1) for i in range(len(VERDICTS))]
    ids = [int(r.photo_id) for r in store.import_paths(paths, site=SITE) if r.photo_id]
    start = datetime.now() - timedelta(days=20)
    by_verdict = {}
    for i, (photo_id, verdict) in enumerate(zip(ids, VERDICTS, strict=True)):
        store.update_photo(photo_id, taken_at=start + timedelta(days=5 * i))
        _analyse(store, photo_id, verdict, 0.08 + 0.02 * i)
        by_verdict[verdict] = photo_id
    yield store, by_verdict
    store.close()


def test_only_false_is_marked_and_a_prompt_photo_never():
    assert is_unfamiliar(False) and is_unfamiliar(False, "analysis")
    assert is_unfamiliar(False, "corrected")
    assert not is_unfamiliar(True) and not is_unfamiliar(None)
    assert not is_unfamiliar(False, "prompt")  # it is one of the examples now


# -- the library ----------------------------------------------------------------------------------
def _color_pixels(image: QImage, rect: QRect, color: str) -> int:
    want = QColor(color)
    count = 0
    for y in range(rect.top(), rect.bottom(), 1):
        for x in range(rect.left(), rect.right(), 1):
            got = image.pixelColor(x, y)
            if (
                abs(got.red() - want.red()) + abs(got.green() - want.green())
                + abs(got.blue() - want.blue()) < 40
            ):  # fmt: skip
                count += 1
    return count


def test_library_badges_an_unfamiliar_result_only(qtbot, tmp_path, judged):
    store, ids = judged
    items = {item.photo_id: item for item in LibraryState(lambda: store).items(SITE)}
    assert items[ids[False]].unfamiliar
    assert not items[ids[True]].unfamiliar and not items[ids[None]].unfamiliar
    assert "unfamiliar" in badges_of(items[ids[False]])
    assert NOTE.rstrip(".") in photo_tooltip(items[ids[False]])
    for verdict in (True, None):
        assert "unfamiliar" not in badges_of(items[ids[verdict]])
        assert "unlike your example" not in photo_tooltip(items[ids[verdict]])

    loader = ThumbnailLoader(lambda _pid: tmp_path / "none.jpg")
    model = PhotoListModel(loader)
    view = LibraryView(model)
    qtbot.addWidget(view)
    view.resize(520, 300)
    model.set_items(list(items.values()))
    view.show()
    qtbot.waitExposed(view)
    image = view.viewport().grab().toImage()
    drawn = {
        verdict: _color_pixels(image, view.visualRect(model.index_of(photo_id)), UNFAMILIAR_COLOR)
        for verdict, photo_id in ids.items()
    }
    assert drawn[False] > 20  # the ring is drawn
    assert drawn[True] == 0 and drawn[None] == 0
    assert UNFAMILIAR_LABEL in view.footer.legend.text()
    loader.wait_idle()


# -- the photo view -------------------------------------------------------------------------------
def test_photo_view_notes_an_unfamiliar_result_only(qtbot, judged):
    store, ids = judged
    state = LibraryState(lambda: store)
    view = PhotoView()
    qtbot.addWidget(view)
    view.show()
    details = state.details(ids[False], load_masks=False)
    assert details.unfamiliar and details.prompt_distance_ratio == pytest.approx(6.0)
    view.set_details(details)
    assert view.unfamiliar_note.isVisible()
    assert view.unfamiliar_note.text() == NOTE
    assert "6.0 times as far" in view.unfamiliar_note.toolTip()
    for verdict in (True, None):
        view.set_details(state.details(ids[verdict], load_masks=False))
        assert not view.unfamiliar_note.isVisible()
    view.set_details(None)
    assert not view.unfamiliar_note.isVisible()


def test_a_prompt_photo_is_not_marked_even_with_an_old_unlike_verdict(judged):
    store, ids = judged
    photo = store.photo(ids[False])
    store.set_prompt_mask(ids[False], ellipse_mask(photo.width, photo.height, 0.05))
    state = LibraryState(lambda: store)
    assert not state.details(ids[False], load_masks=False).unfamiliar
    assert not state.item(ids[False]).unfamiliar


# -- the timeline ---------------------------------------------------------------------------------
def _artists(figure: Figure, gid: str) -> list:
    return [a for ax in figure.axes for a in ax.get_lines() if a.get_gid() == gid]


def test_timeline_draws_an_unfamiliar_result_hollow_with_a_reason(judged):
    store, ids = judged
    data = gather_timeline_data(store, sites=[SITE])
    figure = Figure(figsize=(7, 4), layout="constrained")
    drawn = draw_timeline(figure, data)
    for gid in ("score-unfamiliar", "area-unfamiliar"):
        (line,) = _artists(figure, gid)
        assert len(line.get_xdata()) == 1  # only the photo judged unlike
        assert line.get_markerfacecolor() == "white"
        assert UNFAMILIAR_LABEL in line.get_label()
    (filled,) = _artists(figure, "score")
    assert len(filled.get_xdata()) == 2  # like (True) and not judged (None): filled
    assert filled.get_color() == _artists(figure, "score-unfamiliar")[0].get_markeredgecolor()
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert any(UNFAMILIAR_LABEL in text for text in legend)
    points = {p.photo_id: p for p in data.sites[0].points}
    assert NOTE in describe_point(points[ids[False]])
    assert "unlike" not in describe_point(points[ids[True]])
    assert "unlike" not in describe_point(points[ids[None]])
    assert {t.point.photo_id for t in drawn.targets if t.point is not None} == set(ids.values())


def test_timeline_without_unfamiliar_results_has_no_hollow_marker(judged):
    store, ids = judged
    _analyse(store, ids[False], True)  # analysed again: now like the examples
    figure = Figure(figsize=(7, 4), layout="constrained")
    draw_timeline(figure, gather_timeline_data(store, sites=[SITE]))
    assert not _artists(figure, "score-unfamiliar") and not _artists(figure, "area-unfamiliar")
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert not any(UNFAMILIAR_LABEL in text for text in legend)


# -- the report -----------------------------------------------------------------------------------
def _report_text(store: Store, info: dict, out: Path) -> tuple[str, object]:
    data = gather_report(store, check_request(info["from"], info["to"], paper="a4"))
    write_report(data, out)
    text = "\n".join(page.extract_text() or "" for page in PdfReader(out).pages)
    return " ".join(text.split()), data


@pytest.fixture
def populated(tmp_path):
    store = Store.open(tmp_path / "store")
    info = populate(store, tmp_path / "photos", photos_per_site=3)
    yield store, info
    store.close()


def test_report_flags_an_unfamiliar_photo_with_a_footnote(populated, tmp_path):
    store, info = populated
    photos = {p.id: p for p in store.photos("left arm")}
    newest = max(photos.values(), key=lambda p: p.taken_at).id  # in the strip (the last)
    _analyse(store, newest, False)
    text, data = _report_text(store, info, tmp_path / "report.pdf")
    (site,) = [s for s in data.sites if s.site == "left arm"]
    assert [p.photo_id for p in site.unfamiliar] == [newest]
    assert any(p.point.unfamiliar for p in site.strip)
    assert UNFAMILIAR_FOOTNOTE == f"{UNFAMILIAR_MARK} {UNFAMILIAR_EXPLAINED}"
    assert text.count(UNFAMILIAR_EXPLAINED) == 2  # under the site table and under the photos
    assert "1 of 6 photos in this range" in text  # the summary's count
    assert f"3 (1 {UNFAMILIAR_MARK})" in text  # left arm's Photos column
    assert unfamiliar_footnote(data).startswith(UNFAMILIAR_EXPLAINED)


def test_report_without_unfamiliar_photos_has_no_footnote(populated, tmp_path):
    store, info = populated
    # a judged-familiar and a not-judged analysis: neither is marked
    ids = [p.id for p in store.photos("left arm")]
    _analyse(store, ids[0], True)
    _analyse(store, ids[1], None)
    text, data = _report_text(store, info, tmp_path / "report.pdf")
    assert "unlike the example photos" not in text.lower()
    assert unfamiliar_footnote(data) == ""
    assert not any(s.unfamiliar for s in data.sites)


def test_report_data_keeps_the_verdict_per_photo(populated):
    store, info = populated
    ids = [p.id for p in store.photos("left arm")]
    _analyse(store, ids[0], False)
    data = gather_report(store, check_request(info["from"], info["to"]))
    verdicts = {p.photo_id: p.familiar for s in data.sites for p in s.points}
    assert verdicts[ids[0]] is False
    assert all(v is None for pid, v in verdicts.items() if pid != ids[0])
    assert sum(p.unfamiliar for s in data.sites for p in s.points) == 1
