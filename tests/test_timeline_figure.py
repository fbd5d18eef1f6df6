"""app.timeline_figure: the layers drawn from plain data, sizes 3 and 500, and reading a Store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import matplotlib.dates as mdates
import numpy as np
import pytest
from matplotlib.figure import Figure

from eczema_tracker.app.timeline.figure import (
    CourseBar,
    DailyPoint,
    DayMarkPoint,
    PoemPoint,
    SiteSeries,
    TimelineData,
    draw_timeline,
    gather_timeline_data,
    nearest_target,
    range_limits,
)

START = date(2025, 3, 3)


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


def _data(n: int, *, end: date | None = None) -> TimelineData:
    """``n`` photos, check-ins, daily numbers; two treatments (one open course); flare, note."""
    step = 400 / n
    points = tuple(
        Point(i, datetime(2025, 3, 3, 9) + timedelta(days=i * step), (i % 7) / 2.2, None,
              0.02 + (i % 9) / 100, i % 4 if i % 5 == 0 else None)
        for i in range(n)
    )  # fmt: skip
    poem = tuple(
        PoemPoint(START + timedelta(days=round(i * step)), (3 * i) % 29, "mild", "POEM")
        for i in range(n)
    )
    daily = tuple(
        DailyPoint(START + timedelta(days=round(i * step)), i % 11, (3 * i) % 11) for i in range(n)
    )
    courses = (
        CourseBar("Hydrocortisone 1%", "topical_corticosteroid", "mild",
                  START + timedelta(days=1), START + timedelta(days=20), 2),
        CourseBar("Emollient", "emollient", None, START, None),
    )  # fmt: skip
    marks = (
        DayMarkPoint(START + timedelta(days=2), True, "after the swim"),
        DayMarkPoint(START + timedelta(days=5), False, "new soap"),
    )
    return TimelineData((SiteSeries("left arm", points),), poem, daily, courses, marks, end)


def _gids(ax) -> dict[str, int]:
    found: dict[str, int] = {}
    for artist in [*ax.get_lines(), *ax.patches]:
        if artist.get_gid():
            found[artist.get_gid()] = found.get(artist.get_gid(), 0) + 1
    return found


@pytest.mark.parametrize("n", [3, 500])
def test_every_layer_is_drawn_and_the_dates_are_readable(n):
    figure = Figure(figsize=(9, 6), layout="constrained")
    drawn = draw_timeline(figure, _data(n, end=START + timedelta(days=410)))
    figure.canvas.draw()  # renders without error
    assert [ax.get_ylabel().split("\n")[0] for ax in drawn.panels] == [
        "Severity (0–3)", "POEM", "Itch, sleep", ""
    ]  # fmt: skip
    assert {"score", "rating"} <= set(_gids(drawn.severity)) and "area" in _gids(drawn.area)
    assert _gids(drawn.poem)["poem"] == 1
    assert len(drawn.poem.get_lines()[0].get_xdata()) == n
    assert {"itch", "sleep"} <= set(_gids(drawn.nrs))
    events = _gids(drawn.events)
    assert events["course"] == 2 and events["course-open"] == 1
    assert events["flare"] == 1 and events["note"] == 1
    assert _gids(drawn.poem)["flare-line"] == 1  # the flare also marks the panels above
    labels = [t.get_text() for t in drawn.events.get_yticklabels()]
    assert labels == ["Flares, notes", "Emollient", "Hydrocortisone 1%"]
    # one shared date axis with a handful of labelled ticks, on the bottom panel only
    low, high = drawn.first.get_xlim()
    assert drawn.events.get_xlim() == (low, high)
    ticks = [t for t in drawn.events.get_xticks() if low <= t <= high]
    assert 3 <= len(ticks) <= 9
    assert all(
        t.get_text() for t in drawn.events.get_xticklabels() if low <= t.get_position()[0] <= high
    )
    assert not any(t.get_text() for t in drawn.poem.get_xticklabels())


def test_poem_bands_are_the_published_ones():
    drawn = draw_timeline(Figure(), _data(3))
    spans = [p for p in drawn.poem.patches if p.get_alpha() == pytest.approx(0.13)]
    edges = sorted({round(p.get_extents().y0) for p in spans})
    assert len(spans) == 5 and len(edges) == 5
    # the band edges in data units: halfway between the last total of a band and the next
    ys = sorted(round(p.get_path().transformed(p.get_patch_transform()).vertices[0][1], 1)
                for p in spans)  # fmt: skip
    assert ys == [-0.5, 2.5, 7.5, 16.5, 24.5]
    assert [t.get_text() for t in drawn.poem.get_yticklabels()] == [
        "clear", "mild", "moderate", "severe", "very severe"
    ]  # fmt: skip


def test_open_course_runs_to_the_range_end_and_ended_one_stops():
    end = START + timedelta(days=60)
    drawn = draw_timeline(Figure(), _data(3, end=end), date_range=(START, end))
    bars = sorted(
        (p for p in drawn.events.patches if p.get_gid() == "course"), key=lambda p: p.get_y()
    )
    open_bar = next(b for b in bars if b.get_x() == pytest.approx(mdates.date2num(START)))
    right = open_bar.get_x() + open_bar.get_width()
    assert right == pytest.approx(mdates.date2num(end + timedelta(days=1)))
    ended = next(b for b in bars if b is not open_bar)
    assert ended.get_x() + ended.get_width() == pytest.approx(
        mdates.date2num(START + timedelta(days=21))
    )
    assert drawn.first.get_xlim() == pytest.approx(
        (mdates.date2num(START), mdates.date2num(end + timedelta(days=1)))
    )


def test_hover_targets_carry_notes_courses_and_photos():
    figure = Figure(figsize=(8, 5), layout="constrained")
    drawn = draw_timeline(figure, _data(3))
    figure.canvas.draw()
    texts = [t.text for t in drawn.targets if t.text]
    assert any("Note: after the swim" in t and "Flare" in t for t in texts)
    assert any("Hydrocortisone 1%" in t and "2 time(s) a day" in t for t in texts)
    assert any("Peak itch" in t for t in texts) and any("POEM" in t for t in texts)
    course = next(t for t in drawn.targets if t.x_end is not None and "Hydro" in t.text)
    # anywhere along the bar hovers it
    middle = drawn.events.transData.transform(((course.x + course.x_end) / 2, course.y))
    assert nearest_target(drawn.targets, *middle, radius=9) is course
    photo = next(t for t in drawn.targets if t.point is not None)
    where = photo.axes.transData.transform((photo.x, photo.y))
    assert nearest_target(drawn.targets, *where, radius=9).point is not None
    assert nearest_target(drawn.targets, 1, 1, radius=9) is None


def test_panels_without_data_are_left_out_and_empty_explains():
    only_photos = TimelineData(
        (SiteSeries("neck", (Point(1, "2025-01-01T10:00", 1.0, 1, 0.1, 1),)),)
    )
    drawn = draw_timeline(Figure(), only_photos)
    assert drawn.poem is None and drawn.nrs is None and drawn.events is None
    assert "neck" in drawn.first.get_title(loc="left")
    empty = draw_timeline(Figure(), TimelineData((SiteSeries("scalp", ()),)))
    assert "No photos" in " ".join(t.get_text() for t in empty.first.texts)
    assert empty.extent is None
    # a record without photos: the record panels, and a note in the site's panel
    record = TimelineData((SiteSeries("scalp", ()),), poem=(PoemPoint(START, 9, "moderate", "x"),))
    drawn = draw_timeline(Figure(), record)
    assert drawn.poem is not None and "No analysed photos" in drawn.severity.texts[0].get_text()
    # no site at all (a report of the record only): no severity panel
    assert draw_timeline(Figure(), TimelineData(poem=record.poem)).severity is None


def test_unscored_checkin_is_shown_apart():
    data = TimelineData(poem=(PoemPoint(START, None, None, "Not scored: 2 of 7 ..."),
                              PoemPoint(START + timedelta(days=7), 5, "mild", "POEM 5/28")))  # fmt: skip
    drawn = draw_timeline(Figure(), data)
    assert _gids(drawn.poem) == {"poem": 1, "poem-unscored": 1}
    assert any("Not scored" in t.text for t in drawn.targets)


def test_range_limits():
    assert range_limits((0.0, 100.0), 28) == pytest.approx((72 - 1.12, 101.12))
    assert range_limits((10.0, 10.0), None) == (9.0, 11.0)


def test_gather_reads_a_store(tmp_path):
    from eczema_tracker.store import Store

    store = Store.open(tmp_path / "store")
    try:
        store.record_day(START, answers=[1, 2, 0, 0, 1, 2, 3], itch=6, sleep_loss=2, flare=True,
                         note="hot day")  # fmt: skip
        store.add_checkin(START + timedelta(days=7), [1, None, None, 0, 0, 0, 0])
        cream = store.add_treatment("Cream", "topical_corticosteroid", "potent")
        store.add_course(cream.id, START, START + timedelta(days=5), 2)
        store.add_course(cream.id, START - timedelta(days=90), START - timedelta(days=80))
        data = gather_timeline_data(store, sites=[], from_day=START - timedelta(days=1))
    finally:
        store.close()
    assert data.sites == ()
    assert [(p.total, p.band) for p in data.poem] == [(9, "moderate"), (None, None)]
    assert data.daily == (DailyPoint(START, 6, 2),)
    assert data.courses == (
        CourseBar("Cream", "topical_corticosteroid", "potent", START, START + timedelta(days=5), 2),
    )
    assert data.marks == (DayMarkPoint(START, True, "hot day"),)
    assert data.end == date.today()
    assert np.isfinite(draw_timeline(Figure(), data).extent).all()


def test_gather_draws_the_newest_checkin_of_a_date_once(tmp_path):
    """An old store may hold two POEMs of a date (issue 21 item 2): the timeline draws one."""
    from eczema_tracker.store import Store

    with Store.open(tmp_path / "store") as store:
        store.add_checkin(START, [4, 3, 3, 3, 2, 2, 1])
        with store._write() as conn:  # the correction, stored beside it the old way
            conn.execute(
                "INSERT INTO checkin (day, itchy, sleep_disturbed, bleeding, weeping, cracked, "
                "flaking, dry, created_at) VALUES (?, 0, 0, 0, 0, 0, 0, 0, 'old')",
                (START.isoformat(),),
            )
        data = gather_timeline_data(store, sites=[])
    assert [(p.day, p.total) for p in data.poem] == [(START, 0)]


# -- the date axis names its months and years (issue 25) ------------------------------------------
def _tick_labels(low: date, high: date, size: tuple[float, float] = (9, 6)) -> list[tuple]:
    """(date, label) of each tick drawn for a figure of daily numbers from ``low`` to ``high``."""
    days = [low + timedelta(days=i) for i in range((high - low).days + 1)]
    figure = Figure(figsize=size, layout="constrained")
    data = TimelineData(daily=tuple(DailyPoint(d, 3, 2) for d in days))
    drawn = draw_timeline(figure, data, date_range=(low, high))
    figure.canvas.draw()
    bottom = drawn.panels[-1]
    left, right = bottom.get_xlim()
    return [
        (mdates.num2date(t.get_position()[0]).replace(tzinfo=None), t.get_text())
        for t in bottom.get_xticklabels()
        if left <= t.get_position()[0] <= right
    ]


def _assert_named(ticks: list[tuple]) -> None:
    """The first tick and each tick in a new month name the month (unless the ticks are years
    apart), and the first and each in a new year name the year."""
    assert len(ticks) >= 3
    years_apart = all(w.month == 1 and w.day == 1 for w, _ in ticks)
    for index, (when, label) in enumerate(ticks):
        before = ticks[index - 1][0] if index else None
        if not years_apart and (before is None or before.month != when.month):
            assert f"{when:%b}" in label, (when, label, ticks)
        if before is None or before.year != when.year:
            assert str(when.year) in label, (when, label, ticks)
        if before is not None and before.month == when.month:
            assert f"{when:%b}" not in label, (when, label)  # no clutter within a month


def test_an_axis_from_november_to_december_names_november():
    ticks = _tick_labels(date(2025, 11, 5), date(2025, 12, 10))
    assert [label for _, label in ticks] == ["8 Nov\n2025", "15", "22", "1 Dec", "8"]
    _assert_named(ticks)


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (date(2025, 11, 3), date(2025, 11, 28)),  # within one month: it is still named
        (date(2025, 12, 28), date(2026, 1, 3)),  # a week over the new year
        (date(2025, 6, 10), date(2026, 6, 9)),  # a year
        (date(2023, 3, 1), date(2026, 2, 1)),  # years
        (date(2025, 11, 1), date(2026, 1, 30)),  # three months
        (date(2016, 1, 1), date(2026, 1, 1)),  # ten years
    ],
)
@pytest.mark.parametrize("size", [(9, 6), (5, 3)])
def test_the_date_axis_names_every_month_and_year_it_shows(low, high, size):
    _assert_named(_tick_labels(low, high, size))


def test_hours_say_their_day():
    ticks = _tick_labels(date(2025, 12, 31), date(2025, 12, 31))
    assert ticks[0][1].endswith("31 Dec 2025")
    assert all(":" in label for _, label in ticks)
    assert [label.split("\n")[1] for _, label in ticks if "\n" in label] == [
        "31 Dec 2025",
        "1 Jan 2026",
    ]


# -- the predicted-score line is broken at every photo without a grade (issue 25) -----------------
def _segments(line) -> list[list[float]]:
    """The runs of a line between its NaN gaps (what is drawn joined)."""
    runs: list[list[float]] = [[]]
    for y in line.get_ydata():
        if np.isnan(y):
            runs.append([])
        else:
            runs[-1].append(round(float(y), 3))
    return [run for run in runs if run]


def test_the_score_line_never_bridges_a_photo_without_a_grade():
    def at(day: int, score, area, rating=None) -> Point:
        return Point(day, datetime(2025, 11, 1, 9) + timedelta(days=day), score, None, area, rating)

    points = (
        at(0, 1.0, 0.05),
        at(5, None, None, rating=2),  # not analysed (rated): no grade
        at(10, 2.0, 0.08),
        at(15, 1.2, 0.0005),  # "no eczema found": a score, but no grade
        at(20, 2.4, 0.09),
        at(25, 1.6, 0.07),
    )
    shuffled = (points[3], points[0], points[5], points[1], points[4], points[2])
    drawn = draw_timeline(Figure(), TimelineData((SiteSeries("left arm", shuffled),)))
    (score_line,) = [line for line in drawn.severity.get_lines() if line.get_gid() == "score-line"]
    assert _segments(score_line) == [[1.0], [2.0], [2.4, 1.6]]
    (area_line,) = [line for line in drawn.area.get_lines() if line.get_gid() == "area-line"]
    assert _segments(area_line) == [[5.0], [8.0, 0.05, 9.0, 7.0]]  # an area of ~0 is measured
    # the markers are unchanged: every graded photo, in date order
    (markers,) = [line for line in drawn.severity.get_lines() if line.get_gid() == "score"]
    assert list(markers.get_ydata()) == [1.0, 2.0, 2.4, 1.6]


def test_painted_areas_have_their_own_marker_and_never_join_the_model_area_line():
    def at(day: int, area, painted=None, origin=None) -> Point:
        when = datetime(2025, 11, 1, 9) + timedelta(days=day)
        return Point(day, when, 1.0 if area else None, None, area, None, False, painted, origin)

    points = (
        at(0, 0.04, painted=0.119, origin="prompt"),  # a prompt photo: model area from the others
        at(5, None, painted=0.06, origin="prompt"),  # a prompt photo not analysed yet
        at(10, 0.05),
        at(15, 0.03, painted=0.08, origin="corrected"),
    )
    figure = Figure(layout="constrained")
    drawn = draw_timeline(figure, TimelineData((SiteSeries("left arm", points),)))
    lines = {line.get_gid(): line for line in drawn.area.get_lines()}
    assert _segments(lines["area-line"]) == [[4.0], [5.0, 3.0]]  # the model's areas only
    assert list(lines["area"].get_ydata()) == pytest.approx([4.0, 5.0, 3.0])
    assert list(lines["area-painted"].get_ydata()) == pytest.approx([11.9, 6.0, 8.0])
    assert lines["area-painted"].get_linestyle() == "None"  # markers, never joined
    assert lines["area-painted"].get_marker() != lines["area"].get_marker()
    (legend,) = figure.legends
    assert "Area you painted (%)" in [t.get_text() for t in legend.get_texts()]
