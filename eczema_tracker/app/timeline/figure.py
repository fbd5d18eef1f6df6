"""Draw the timeline onto a matplotlib figure, from plain data; no Qt (the app and the report).

One date axis, stacked panels (each only when it has something to show):

- **severity**: each site's predicted score (0-3, shaded class bands), the person's ratings on
  the same scale, and the model's lesion area (% of the photo) on a twin axis on the right,
  with the areas the person painted as separate stars (never joined to the line); a result
  unlike the site's example photos (:mod:`.familiarity_text`) is hollow, in full colour (an
  out-of-date one hollow and faded);
- **POEM**: check-in totals 0-28 over the published bands (0-2 clear or almost clear, 3-7 mild,
  8-16 moderate, 17-24 severe, 25-28 very severe); a check-in that is not scored is a grey x;
- **itch and sleep**: the daily numbers, NRS 0-10;
- **treatments**: one row per treatment, a bar per course (an open course runs to the range
  end, with an arrow), and a top row of flares (red triangles, also a faint line over the panels
  above) and notes.

Use::

    figure = Figure(figsize=(7.5, 5), layout="constrained")
    drawn = draw_timeline(figure, gather_timeline_data(store, sites=["left arm"]),
                          date_range=(date(2026, 9, 1), date(2026, 11, 30)))
    figure.savefig("timeline.pdf")

Artists carry a ``gid`` naming their layer ("score", "score-stale", "score-unfamiliar",
"score-unreliable", "area-unreliable",
"score-line" (the line through a site's grades, broken at every photo without one), "rating",
"area", "area-line", "area-stale", "area-unfamiliar", "area-painted" (the areas the person
painted: prompt masks and corrections, never on the model's area line), "poem", "poem-unscored", "itch", "sleep",
"course", "course-open", "flare", "flare-line", "note"), and :class:`TimelineAxes.targets`
lists what a mouse can hover, with its text (photo points carry the point instead: the GUI
describes them and opens the photo). The date axis names every month and year it shows
(:class:`.timeline_axes.TimelineDateFormatter`). The data types live in :mod:`.timeline_data`,
the shared pieces in :mod:`.timeline_axes`, the record's layers in
:mod:`.timeline_record_layers`; import them all from here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import FigureBase

from eczema_tracker.app.photo_result import MEASURE_WORDS, point_result, site_measure
from eczema_tracker.app.timeline.axes import (
    AREA_COLOR,
    BAND_ALPHA,
    BAND_COLORS,
    BAND_LABEL_COLORS,
    CLASS_BANDS,
    PANEL_HEIGHTS,
    RATING_COLOR,
    SITE_COLORS,
    HoverTarget,
    TimelineAxes,
    TimelineDateFormatter,
    marker_size,
    nearest_target,
    range_limits,
)
from eczema_tracker.app.timeline.data import (
    CourseBar,
    DailyPoint,
    DayMarkPoint,
    PoemPoint,
    SiteSeries,
    TimelineData,
    TimelinePointLike,
    gather_timeline_data,
    plotted_grade,
    to_local_naive,
)
from eczema_tracker.app.timeline.record_layers import (
    draw_events,
    draw_nrs,
    draw_poem,
    event_rows,
    record_end,
)
from eczema_tracker.app.trust.agreement import UNRELIABLE_LABEL
from eczema_tracker.app.trust.familiarity_text import UNFAMILIAR_LABEL, point_is_unfamiliar
from eczema_tracker.core.severity_scale import CLASS_NAMES

__all__ = [
    "CourseBar",
    "DailyPoint",
    "DayMarkPoint",
    "HoverTarget",
    "PoemPoint",
    "SiteSeries",
    "TimelineAxes",
    "TimelineData",
    "TimelinePointLike",
    "draw_timeline",
    "gather_timeline_data",
    "nearest_target",
    "plotted_grade",
    "range_limits",
    "to_local_naive",
]


def draw_timeline(
    figure: FigureBase,
    data: TimelineData,
    *,
    date_range: tuple[date, date] | None = None,
    title: str | None = None,
    legend: bool = True,
) -> TimelineAxes:
    """Clear ``figure`` (a Figure or SubFigure) and draw ``data`` on one date axis.

    ``date_range``: the dates shown (inclusive); ``None``: everything drawn, padded.
    ``title``: over the top panel (default "Eczema timeline — SITE"). Returns the panels and
    what the mouse can hover.
    """
    figure.clear()
    has_photos = any(_has_values(s.points) for s in data.sites)
    kinds = []
    if data.sites or not data.has_record:
        kinds.append("severity")
    if data.poem:
        kinds.append("poem")
    if any(d.itch is not None or d.sleep_loss is not None for d in data.daily):
        kinds.append("nrs")
    rows = event_rows(data)
    if rows:
        kinds.append("events")
    heights = [PANEL_HEIGHTS.get(k, 0.45 + 0.3 * len(rows)) for k in kinds]
    axes_list = figure.subplots(len(kinds), 1, sharex=True, squeeze=False,
                                gridspec_kw={"height_ratios": heights})[:, 0]  # fmt: skip
    drawn = TimelineAxes(**{k: a for k, a in zip(kinds, axes_list, strict=True)})
    sites = ", ".join(s.site for s in data.sites if s.site)
    heading = title if title is not None else (
        f"Eczema timeline — {sites}" if sites else "Eczema timeline"
    )  # fmt: skip
    drawn.first.set_title(heading, loc="left", fontsize=11)
    if not has_photos and not data.has_record:
        _draw_empty(drawn.first, data)
        return drawn
    numbers: list[float] = []
    if drawn.severity is not None:
        if has_photos:
            numbers += _draw_severity(drawn, data.sites)
        else:
            _draw_empty(drawn.severity, data, small=True)
    if drawn.poem is not None:
        numbers += draw_poem(drawn, data.poem)
    if drawn.nrs is not None:
        numbers += draw_nrs(drawn, data.daily)
    open_end = record_end(data, numbers)
    if drawn.events is not None:
        numbers += draw_events(drawn, data, rows, open_end)
    if numbers:
        drawn.extent = (min(numbers), max(numbers))
    _format_dates(drawn)
    if date_range is not None:
        drawn.set_date_range(*date_range)
    elif drawn.extent is not None:
        drawn.first.set_xlim(*range_limits(drawn.extent, None))
    if legend:
        _legend(figure, drawn)
    return drawn


def _has_values(points: Sequence[TimelinePointLike]) -> bool:
    return any(
        p.score is not None
        or p.rating is not None
        or p.lesion_area_fraction is not None
        or p.painted_area_fraction is not None
        for p in points
    )


def _draw_empty(ax: Axes, data: TimelineData, *, small: bool = False) -> None:
    points = [p for s in data.sites for p in s.points]
    sites = [s.site for s in data.sites if s.site]
    where = f"“{sites[0]}”" if len(sites) == 1 else "this body site"
    if small:
        message = f"No analysed photos of {where} in this range."
        ax.set_yticks([])
    elif points:
        message = (f"{len(points)} photo(s) of {where}, none analysed yet.\n"
                   "Analyse them to see how the eczema changes over time.")  # fmt: skip
    else:
        message = (f"No photos of {where} yet.\n"
                   "Import photos and analyse them to see how the eczema changes over time.")  # fmt: skip
    if not small:
        ax.set_axis_off()
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center",
            fontsize=9 if small else 11, color="0.35", wrap=True)  # fmt: skip


# -- severity (per site) -----------------------------------------------------------------------
def _draw_severity(drawn: TimelineAxes, sites: Sequence[SiteSeries]) -> list[float]:
    ax = drawn.severity
    assert ax is not None
    for (low, high), color in zip(CLASS_BANDS, BAND_COLORS, strict=True):
        ax.axhspan(low, high, color=color, alpha=BAND_ALPHA, lw=0, zorder=0)
    ax.set_ylim(CLASS_BANDS[0][0], CLASS_BANDS[-1][1])
    ax.set_yticks(range(len(CLASS_NAMES)), [f"{n} ({i})" for i, n in enumerate(CLASS_NAMES)])
    for label, color in zip(ax.get_yticklabels(), BAND_LABEL_COLORS, strict=True):
        label.set_color(color)
    ax.set_ylabel("Severity (0–3)")
    ax.grid(axis="x", color="0.9", lw=0.8)
    numbers: list[float] = []
    several = len(sites) > 1
    # each site's area measure, known before drawing: with both kinds, each legend entry says
    drawn.area_measures = sorted(
        {site_measure([point_result(p) for p in s.points]) for s in sites if s.points}
    )
    for index, series in enumerate(sites):
        points = sorted(series.points, key=lambda p: (to_local_naive(p.taken_at), p.photo_id))
        dates = [float(mdates.date2num(to_local_naive(p.taken_at))) for p in points]
        numbers += dates
        color = SITE_COLORS[index % len(SITE_COLORS)]
        suffix = f" — {series.site}" if several else ""
        doubt = series.unreliable
        _draw_scores(drawn, ax, points, dates, color, suffix, doubt)
        _draw_ratings(drawn, ax, points, dates, suffix)
        _draw_areas(drawn, ax, points, dates, AREA_COLOR if not several else color, suffix, doubt)
    return numbers


def _draw_scores(
    drawn: TimelineAxes,
    ax: Axes,
    points: list[TimelinePointLike],
    dates: list[float],
    color: str,
    suffix: str,
    unreliable: bool = False,
) -> None:
    scored = [(d, p, float(g.score)) for d, p in zip(dates, points, strict=True)
              if (g := plotted_grade(p)) is not None and g.score is not None]  # fmt: skip
    if not scored:
        return
    ms = marker_size(len(scored), 6)
    # the line never joins two grades across a photo without one: nothing says it went that way
    grades = [None if (g := plotted_grade(p)) is None else g.score for p in points]
    line_x, line_y = broken_line(dates, grades)
    ax.plot(line_x, line_y, "-", color=color, lw=1.4 if len(scored) <= 200 else 0.9, alpha=0.7,
            zorder=3, gid="score-line")  # fmt: skip
    doubt = [(d, y) for d, p, y in scored if not p.stale and unreliable]
    fresh = [(d, y) for d, p, y in scored if not p.stale and not unreliable
             and not point_is_unfamiliar(p)]  # fmt: skip
    unlike = [(d, y) for d, p, y in scored if not p.stale and not unreliable
              and point_is_unfamiliar(p)]  # fmt: skip
    stale = [(d, y) for d, p, y in scored if p.stale]
    if doubt:  # the site's examples disagree: every result of it hollow, the legend says why
        ax.plot([d for d, _ in doubt], [y for _, y in doubt], "o", mfc="white", mec=color,
                mew=1.8, ms=ms, zorder=4, label=f"Predicted, hollow: {UNRELIABLE_LABEL}" + suffix,
                gid="score-unreliable")  # fmt: skip
    if fresh:
        ax.plot([d for d, _ in fresh], [y for _, y in fresh], "o", color=color, ms=ms,
                zorder=4, label="Predicted score" + suffix, gid="score")  # fmt: skip
    if unlike:  # hollow, in full colour: the result may be wrong (stale is hollow and faded)
        ax.plot([d for d, _ in unlike], [y for _, y in unlike], "o", mfc="white", mec=color,
                mew=1.8, ms=ms, zorder=4, label=f"Predicted ({UNFAMILIAR_LABEL})" + suffix,
                gid="score-unfamiliar")  # fmt: skip
    if stale:
        ax.plot([d for d, _ in stale], [y for _, y in stale], "o", mfc="white", mec=color,
                alpha=0.55, ms=ms, zorder=4, label="Predicted (out of date)" + suffix,
                gid="score-stale")  # fmt: skip
    drawn.targets += [HoverTarget(ax, d, float(y), point=p) for d, p, y in scored]


def _draw_ratings(
    drawn: TimelineAxes, ax: Axes, points: list[TimelinePointLike], dates: list[float], suffix: str
) -> None:
    rated = [(d, p, float(p.rating)) for d, p in zip(dates, points, strict=True)
             if p.rating is not None]  # fmt: skip
    if not rated:
        return
    ax.plot([d for d, _, _ in rated], [r for _, _, r in rated], "D", mfc="none",
            mec=RATING_COLOR, mew=1.6, ms=marker_size(len(rated), 8), zorder=5,
            label="Your rating" + suffix, gid="rating")  # fmt: skip
    drawn.targets += [HoverTarget(ax, d, r, point=p) for d, p, r in rated]


def area_axis_label(measures: Sequence[str]) -> str:
    """The area axis' label: which share its values are (``photo_result.site_measure``)."""
    if measures == ["skin"]:
        return "Lesion area (% of the skin shown)"
    if "skin" in measures:
        return "Lesion area (% of skin shown or of photo)"
    return "Lesion area (% of photo)"


def _draw_areas(
    drawn: TimelineAxes,
    ax: Axes,
    points: list[TimelinePointLike],
    dates: list[float],
    color: str,
    suffix: str,
    unreliable: bool = False,
) -> None:
    # the line and its markers are the model's areas only; the areas the person painted get
    # their own marker, never joined in (two kinds of area are not one series). A site whose
    # examples mark healthy skin is drawn as the share of the skin shown, else of the photo
    # (one measure per site: site_measure).
    results = [point_result(p) for p in points]
    measure = site_measure(results)
    models = [None if (a := r.compared_area(measure)) is None else 100 * a for r in results]
    measured = [(d, p, pc) for d, p, pc in zip(dates, points, models, strict=True)
                if pc is not None]  # fmt: skip
    painted = [(d, p, 100 * a) for d, p, r in zip(dates, points, results, strict=True)
               if (a := r.compared_painted_area(measure)) is not None]  # fmt: skip
    if not measured and not painted:
        return
    if measure not in drawn.area_measures:
        drawn.area_measures.append(measure)
    if drawn.area is None:
        drawn.area = ax.twinx()
        drawn.area.tick_params(axis="y", colors=AREA_COLOR)
        drawn.area.set_ylim(0, 5.0)
    drawn.area.set_ylabel(area_axis_label(drawn.area_measures), color=AREA_COLOR)
    if len(drawn.area_measures) > 1:  # sites of both kinds: each legend entry says which
        suffix = f" ({MEASURE_WORDS[measure].removeprefix('share ')})" + suffix
    area_ax = drawn.area
    percent = [pc for _, _, pc in measured] + [pc for _, _, pc in painted]
    ms = marker_size(len(measured) + len(painted), 5)
    if measured:
        line_x, line_y = broken_line(dates, models)  # broken where a photo has no model area
        area_ax.plot(line_x, line_y, "--", color=color, lw=1.1, alpha=0.7, zorder=2,
                     gid="area-line")  # fmt: skip
    doubt = [(d, pc) for d, p, pc in measured if not p.stale and unreliable]
    fresh = [(d, pc) for d, p, pc in measured if not p.stale and not unreliable
             and not point_is_unfamiliar(p)]  # fmt: skip
    unlike = [(d, pc) for d, p, pc in measured if not p.stale and not unreliable
              and point_is_unfamiliar(p)]  # fmt: skip
    stale = [(d, pc) for d, p, pc in measured if p.stale]
    if doubt:
        area_ax.plot([d for d, _ in doubt], [pc for _, pc in doubt], "s", mfc="white", mec=color,
                     mew=1.8, ms=ms, zorder=3, label=f"Area, hollow: {UNRELIABLE_LABEL}" + suffix,
                     gid="area-unreliable")  # fmt: skip
    if fresh:
        area_ax.plot([d for d, _ in fresh], [pc for _, pc in fresh], "s", color=color, ms=ms,
                     zorder=3, label="Lesion area (%)" + suffix, gid="area")  # fmt: skip
    if unlike:
        area_ax.plot([d for d, _ in unlike], [pc for _, pc in unlike], "s", mfc="white",
                     mec=color, mew=1.8, ms=ms, zorder=3,
                     label=f"Area ({UNFAMILIAR_LABEL})" + suffix, gid="area-unfamiliar")  # fmt: skip
    if stale:
        area_ax.plot([d for d, _ in stale], [pc for _, pc in stale], "s", mfc="white", mec=color,
                     alpha=0.55, ms=ms, zorder=3, label="Area (out of date)" + suffix,
                     gid="area-stale")  # fmt: skip
    if painted:
        area_ax.plot([d for d, _, _ in painted], [pc for _, _, pc in painted], "*",
                     color=color, mec="white", mew=0.5, ms=ms * 2.4, ls="none",
                     zorder=4, label="Area you painted (%)" + suffix,
                     gid="area-painted")  # fmt: skip
    top = max(area_ax.get_ylim()[1], max(percent) * 1.15)
    area_ax.set_ylim(0, top)
    drawn.targets += [HoverTarget(area_ax, d, pc, point=p) for d, p, pc in measured]
    drawn.targets += [HoverTarget(area_ax, d, pc, point=p) for d, p, pc in painted]


def broken_line(
    dates: Sequence[float], values: Sequence[float | None]
) -> tuple[list[float], list[float]]:
    """x and y of a line through the ``values`` that are not ``None`` (in date order), with a
    NaN (a gap matplotlib does not draw across) wherever a ``None`` lies between two of them."""
    xs: list[float] = []
    ys: list[float] = []
    for x, value in zip(dates, values, strict=True):
        if value is not None:
            xs.append(x)
            ys.append(float(value))
        elif ys and not math.isnan(ys[-1]):
            xs.append(x)
            ys.append(math.nan)
    return xs, ys


# -- axes, legend, hover -----------------------------------------------------------------------
def _format_dates(drawn: TimelineAxes) -> None:
    bottom = drawn.panels[-1]
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(TimelineDateFormatter(locator))
    for ax in drawn.panels[:-1]:
        ax.tick_params(axis="x", labelbottom=False)


def _legend(figure: FigureBase, drawn: TimelineAxes) -> None:
    handles, labels = [], []
    for ax in (drawn.severity, drawn.area, drawn.poem, drawn.nrs, drawn.events):
        if ax is not None:
            more_handles, more_labels = ax.get_legend_handles_labels()
            handles += more_handles
            labels += more_labels
    if not handles:
        return
    # one row while it fits (8 short labels); else two rows, filled in reading order
    ncols = len(handles) if len(handles) <= 8 else -(-len(handles) // 2)
    if ncols < len(handles):  # matplotlib fills columns first: interleave the two rows
        order = [i for col in range(ncols) for i in (col, col + ncols) if i < len(handles)]
        handles, labels = [handles[i] for i in order], [labels[i] for i in order]
    kwargs = {"ncols": ncols, "fontsize": 8, "frameon": False}
    try:
        figure.legend(handles, labels, loc="outside lower center", **kwargs)
    except (ValueError, TypeError, AttributeError):  # a SubFigure or no constrained layout
        figure.legend(handles, labels, loc="lower center", **kwargs)
