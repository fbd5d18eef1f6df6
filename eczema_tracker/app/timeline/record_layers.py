"""The record's layers of the timeline (no Qt): POEM totals, itch and sleep numbers, treatment
courses, flares and notes. Drawn by :func:`eczema_tracker.app.timeline.figure.draw_timeline`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from matplotlib.axes import Axes

from eczema_tracker.app.timeline.axes import (
    BAND_ALPHA,
    FLARE_COLOR,
    ITCH_COLOR,
    KIND_COLORS,
    MAX_LABEL,
    NOTE_COLOR,
    POEM_BAND_COLORS,
    POEM_BAND_LABEL_COLORS,
    POEM_COLOR,
    POEM_SHORT_BANDS,
    POTENCY_COLORS,
    SLEEP_COLOR,
    HoverTarget,
    TimelineAxes,
    day_number,
    format_day,
    marker_size,
)
from eczema_tracker.app.timeline.data import (
    CourseBar,
    DailyPoint,
    DayMarkPoint,
    PoemPoint,
    TimelineData,
)
from eczema_tracker.core.poem import POEM_BANDS, POEM_MAX_TOTAL


def draw_poem(drawn: TimelineAxes, poem: Sequence[PoemPoint]) -> list[float]:
    ax = drawn.poem
    assert ax is not None
    for (low, high, _name), color in zip(POEM_BANDS, POEM_BAND_COLORS, strict=True):
        ax.axhspan(low - 0.5, high + 0.5, color=color, alpha=BAND_ALPHA, lw=0, zorder=0)
    ax.set_ylim(-0.5, POEM_MAX_TOTAL + 0.5)
    ax.set_yticks([(low + high) / 2 for low, high, _ in POEM_BANDS], POEM_SHORT_BANDS,
                  fontsize=8)  # fmt: skip
    for label, color in zip(ax.get_yticklabels(), POEM_BAND_LABEL_COLORS, strict=True):
        label.set_color(color)
    ax.set_ylabel("POEM\n(0–28)", fontsize=9)
    ax.grid(axis="x", color="0.9", lw=0.8)
    items = sorted(poem, key=lambda c: c.day)
    numbers = [day_number(c.day) for c in items]
    scored = [(x, c.total) for x, c in zip(numbers, items, strict=True) if c.total is not None]
    unscored = [(x, c) for x, c in zip(numbers, items, strict=True) if c.total is None]
    if scored:
        ax.plot([x for x, _ in scored], [t for _, t in scored], "-o", color=POEM_COLOR,
                ms=marker_size(len(scored), 5), lw=1.2, zorder=3, label="POEM total",
                gid="poem")  # fmt: skip
    if unscored:
        ax.plot([x for x, _ in unscored], [0] * len(unscored), "x", color="0.45", ms=6, mew=1.5,
                zorder=3, label="POEM not scored", gid="poem-unscored", clip_on=False)  # fmt: skip
    for x, c in zip(numbers, items, strict=True):
        text = f"{format_day(c.day)}\n{c.explanation}"
        drawn.targets.append(HoverTarget(ax, x, float(c.total or 0), text))
    return numbers


def draw_nrs(drawn: TimelineAxes, daily: Sequence[DailyPoint]) -> list[float]:
    ax = drawn.nrs
    assert ax is not None
    ax.set_ylim(-0.5, 10.5)
    ax.set_yticks([0, 5, 10])
    ax.set_ylabel("Itch, sleep\nloss (0–10)", fontsize=9)
    ax.grid(axis="x", color="0.9", lw=0.8)
    ax.grid(axis="y", color="0.93", lw=0.6)
    items = sorted(daily, key=lambda d: d.day)
    numbers = [day_number(d.day) for d in items]
    for attr, color, label, gid, marker in (
        ("itch", ITCH_COLOR, "Peak itch", "itch", "o"),
        ("sleep_loss", SLEEP_COLOR, "Sleep loss", "sleep", "^"),
    ):
        values = [(x, getattr(d, attr)) for x, d in zip(numbers, items, strict=True)
                  if getattr(d, attr) is not None]  # fmt: skip
        if not values:
            continue
        style = "-" + marker if len(values) <= 120 else "-"
        ax.plot([x for x, _ in values], [v for _, v in values], style, color=color,
                ms=marker_size(len(values), 4.5), lw=1.1, alpha=0.85, zorder=3, label=label,
                gid=gid)  # fmt: skip
    for x, d in zip(numbers, items, strict=True):
        parts = []
        if d.itch is not None:
            parts.append(f"Peak itch {d.itch}/10")
        if d.sleep_loss is not None:
            parts.append(f"Sleep loss {d.sleep_loss}/10")
        y = d.itch if d.itch is not None else d.sleep_loss
        drawn.targets.append(HoverTarget(ax, x, float(y or 0), f"{format_day(d.day)}\n" +
                                         "\n".join(parts)))  # fmt: skip
        if d.itch is not None and d.sleep_loss is not None and d.sleep_loss != d.itch:
            drawn.targets.append(HoverTarget(ax, x, float(d.sleep_loss),
                                             f"{format_day(d.day)}\n" + "\n".join(parts)))  # fmt: skip
    return numbers


# -- treatments, flares and notes --------------------------------------------------------------
FLARES_ROW = "Flares, notes"


def event_rows(data: TimelineData) -> list[str]:
    """Row labels of the bottom panel, top first: flares/notes, then treatments by first start."""
    rows = [FLARES_ROW] if data.marks else []
    for course in sorted(data.courses, key=lambda c: (c.start, c.treatment)):
        if course.treatment not in rows:
            rows.append(course.treatment)
    return rows


def record_end(data: TimelineData, numbers: list[float]) -> float:
    """Where open courses end: the end of the range's last day, else of the newest thing."""
    if data.end is not None:
        return day_number(data.end, 24)
    days = [c.end or c.start for c in data.courses] + [m.day for m in data.marks]
    ends = [day_number(d, 24) for d in days] + numbers
    return max(ends) if ends else day_number(date.today(), 24)


def _course_text(course: CourseBar) -> str:
    kind = course.kind.replace("_", " ").replace("systemic biologic", "systemic / biologic")
    if course.potency:
        kind += f", {course.potency.replace('_', ' ')}"
    end = "ongoing" if course.end is None else format_day(course.end)
    lines = [f"{course.treatment} ({kind})", f"{format_day(course.start)} to {end}"]
    if course.times_a_day:
        lines.append(f"{course.times_a_day} time(s) a day")
    return "\n".join(lines)


def draw_events(
    drawn: TimelineAxes, data: TimelineData, rows: list[str], record_end: float
) -> list[float]:
    ax = drawn.events
    assert ax is not None
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first row on top
    ax.set_yticks(range(len(rows)),
                  [r if len(r) <= MAX_LABEL else r[: MAX_LABEL - 1] + "…" for r in rows],
                  fontsize=8)  # fmt: skip
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="0.9", lw=0.8)
    numbers: list[float] = []
    for course in data.courses:
        row = rows.index(course.treatment)
        left = day_number(course.start, 0)
        right = record_end if course.end is None else day_number(course.end, 24)
        right = max(right, left + 1)
        color = POTENCY_COLORS.get(course.potency or "", KIND_COLORS.get(course.kind, "#a1887f"))
        ax.barh(row, right - left, left=left, height=0.56, color=color, edgecolor="0.35",
                lw=0.6, zorder=3, gid="course")  # fmt: skip
        if course.end is None:
            ax.plot([right], [row], ">", color="0.35", ms=5, zorder=4, gid="course-open",
                    clip_on=False)  # fmt: skip
        numbers += [left, right]  # an open course: to the range end (it is going on)
        drawn.targets.append(HoverTarget(ax, left, float(row), _course_text(course), x_end=right))
    if data.marks:
        numbers += _draw_marks(drawn, ax, data.marks)
    return numbers


def _draw_marks(drawn: TimelineAxes, ax: Axes, marks: Sequence[DayMarkPoint]) -> list[float]:
    items = sorted(marks, key=lambda m: m.day)
    flares = [day_number(m.day) for m in items if m.flare]
    notes = [day_number(m.day) for m in items if m.note and not m.flare]
    if flares:
        ax.plot(flares, [0] * len(flares), "v", color=FLARE_COLOR, ms=8, zorder=4,
                label="Flare", gid="flare")  # fmt: skip
        for other in drawn.panels:
            if other is not ax:
                for x in flares:
                    other.axvline(x, color=FLARE_COLOR, alpha=0.3, lw=1, zorder=1,
                                  gid="flare-line")  # fmt: skip
    if notes:
        ax.plot(notes, [0] * len(notes), "o", mfc="white", mec=NOTE_COLOR, mew=1.4, ms=6,
                zorder=4, label="Note", gid="note")  # fmt: skip
    for m in items:
        lines = [format_day(m.day)] + (["Flare"] if m.flare else [])
        if m.note:
            note = m.note if len(m.note) <= 300 else m.note[:299] + "…"
            lines.append(f"Note: {note}")
        drawn.targets.append(HoverTarget(ax, day_number(m.day), 0.0, "\n".join(lines)))
    return [day_number(m.day) for m in items]
