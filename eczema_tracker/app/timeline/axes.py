"""The timeline's shared pieces (no Qt): colours, the drawn panels, hover targets, date numbers.

Used by :mod:`eczema_tracker.app.timeline.figure` (which re-exports the public names) and
:mod:`eczema_tracker.app.timeline.record_layers`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes

from eczema_tracker.app.timeline.data import TimelinePointLike

#: Score range of each class band: a score is the expected class, so class k is k ± 0.5.
CLASS_BANDS = ((-0.25, 0.5), (0.5, 1.5), (1.5, 2.5), (2.5, 3.25))
BAND_COLORS = ("#4caf50", "#ffc107", "#ff7043", "#c62828")
BAND_LABEL_COLORS = ("#2e7d32", "#9a7400", "#d84315", "#b71c1c")  # darker: legible as text
BAND_ALPHA = 0.13
SCORE_COLOR = "#1f4e99"
RATING_COLOR = "#8e24aa"
AREA_COLOR = "#00897b"
#: More sites than one: each its own colour (the first keeps the one-site colour).
SITE_COLORS = (SCORE_COLOR, "#6d4c41", "#00838f", "#5e35b1", "#558b2f", "#ad1457")
POEM_BAND_COLORS = ("#4caf50", "#c0ca33", "#ffc107", "#ff7043", "#c62828")
POEM_BAND_LABEL_COLORS = ("#2e7d32", "#827717", "#9a7400", "#d84315", "#b71c1c")
POEM_SHORT_BANDS = ("clear", "mild", "moderate", "severe", "very severe")
POEM_COLOR = "#37474f"
ITCH_COLOR = "#d81b60"
SLEEP_COLOR = "#3949ab"
FLARE_COLOR = "#e53935"
NOTE_COLOR = "#546e7a"
KIND_COLORS = {
    "emollient": "#90a4ae",
    "topical_corticosteroid": "#ffa726",
    "topical_calcineurin_inhibitor": "#7986cb",
    "systemic_biologic": "#ba68c8",
    "antihistamine": "#4db6ac",
    "other": "#a1887f",
}
POTENCY_COLORS = {
    "mild": "#ffcc80",
    "moderate": "#ffa726",
    "potent": "#f57c00",
    "very_potent": "#e65100",
}
#: Relative heights of the panels.
PANEL_HEIGHTS = {"severity": 3.0, "poem": 1.5, "nrs": 1.2}
MAX_LABEL = 24  # treatment names on the axis are cut to this many characters


@dataclass(frozen=True)
class HoverTarget:
    """Something drawn that the mouse can hover: a marker at (x, y), or a bar to ``x_end``.

    ``x`` is a matplotlib date number; ``point`` is set for a photo (click opens it), ``text``
    for everything else (one or more lines).
    """

    axes: Axes
    x: float
    y: float
    text: str = ""
    point: TimelinePointLike | None = None
    x_end: float | None = None


@dataclass
class TimelineAxes:
    """The panels :func:`draw_timeline` made (``None``: not drawn), sharing one date axis."""

    severity: Axes | None = None
    area: Axes | None = None  #: twin of ``severity`` (lesion area, %)
    #: what the area axis' values are a share of, per site drawn: "skin" and/or "photo"
    area_measures: list[str] = field(default_factory=list)
    poem: Axes | None = None
    nrs: Axes | None = None
    events: Axes | None = None  #: treatments, flares and notes
    targets: list[HoverTarget] = field(default_factory=list)
    #: date numbers of the first and last thing drawn (``None``: nothing drawn)
    extent: tuple[float, float] | None = None

    @property
    def panels(self) -> list[Axes]:
        """The panels top to bottom (not the twin area axis)."""
        return [a for a in (self.severity, self.poem, self.nrs, self.events) if a is not None]

    @property
    def first(self) -> Axes:
        """The top panel (the one every x limit is set on)."""
        return self.panels[0]

    def set_date_range(self, low: date | float, high: date | float) -> None:
        """Show the dates ``low`` to ``high`` (inclusive dates, or date numbers)."""
        left = low if isinstance(low, float | int) else day_number(low, 0)
        right = high if isinstance(high, float | int) else day_number(high, 24)
        self.first.set_xlim(left, right)


def range_limits(extent: tuple[float, float], days: float | None) -> tuple[float, float]:
    """The x limits showing the last ``days`` of ``extent`` (``None``: all), padded a little."""
    low, high = extent
    if days is not None and high - low > days:
        low = high - days
    pad = max((high - low) * 0.04, 1.0)  # at least a day either side
    return low - pad, high + pad


class TimelineDateFormatter(mdates.ConciseDateFormatter):
    """Concise date labels that always say which month and year they are in.

    Matplotlib's concise labels name a month only on its first day and leave the year to an
    offset text, so an axis from 5 Nov to 10 Dec reads "08 15 22 Dec 08" and never says
    November. Here the first tick shown names everything coarser than its unit, and so does
    every tick where that changes: days read "8 Nov / 2025", "15", "22", "1 Dec", "8" (the
    year on a second line, again at "1 Jan / 2026"); months "Nov / 2025", "Dec", "Jan / 2026";
    years "2025"; hours "09:00 / 8 Nov 2025", "15:00", "00:00 / 9 Nov". No offset text.
    """

    def __init__(self, locator: mdates.DateLocator) -> None:
        super().__init__(locator, show_offset=False)

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        """One label per tick value (date numbers); ticks outside the view count as unseen."""
        if len(values) == 0:
            return []
        when = [mdates.num2date(v, tz=self._tz).replace(tzinfo=None) for v in values]
        low, high = -np.inf, np.inf
        if self.axis is not None:
            low, high = sorted(self.axis.get_view_interval())
        # The finest unit the ticks differ in: 0 years, 1 months, 2 days, 3 hours, 4 minutes.
        parts = np.array([w.timetuple()[:5] for w in when])
        level = next((u for u in range(4, -1, -1) if len(np.unique(parts[:, u])) > 1), 2)
        labels, previous = [], None
        tolerance = 1e-6  # days (a tenth of a second): ticks at the view's very edge are shown
        for value, w in zip(values, when, strict=True):
            seen = low - tolerance <= value <= high + tolerance
            new = {  # which coarser units this tick is the first shown of
                "year": previous is None or w.year != previous.year,
                "month": previous is None or (w.year, w.month) != (previous.year, previous.month),
                "day": previous is None or w.date() != previous.date(),
            }
            # a tick outside the view is not drawn: it must not take the month name away
            labels.append(_tick_label(w, level, new) if seen else "")
            previous = w if seen else previous
        return labels


def _tick_label(when: datetime, level: int, new: dict[str, bool]) -> str:
    """One tick's label at ``level`` (see :class:`TimelineDateFormatter`)."""
    month = f"{when:%b}"
    if level == 0:
        return str(when.year)
    if level == 1:
        return f"{month}\n{when.year}" if new["year"] else month
    if level == 2:
        text = f"{when.day} {month}" if new["month"] else str(when.day)
        return f"{text}\n{when.year}" if new["year"] else text
    text = f"{when:%H:%M}"
    if new["day"]:
        text += f"\n{when.day} {month}" + (f" {when.year}" if new["year"] else "")
    return text


def format_day(day: date) -> str:
    """``2 Dec 2026``."""
    return f"{day.day} {day:%b %Y}"


def day_number(day: date, hour: float = 12) -> float:
    return float(mdates.date2num(datetime.combine(day, time(0)) + timedelta(hours=hour)))


def marker_size(count: int, base: float) -> float:
    """Smaller markers when there are many (readable with 3 points and with 500)."""
    return base if count <= 60 else base * 0.7 if count <= 200 else base * 0.5


def nearest_target(
    targets: Sequence[HoverTarget], x: float, y: float, radius: float
) -> HoverTarget | None:
    """The target drawn nearest to display position (x, y) (pixels), if within ``radius``.

    A bar counts along its whole length.
    """
    best, best_distance = None, radius
    for axes in {id(t.axes): t.axes for t in targets}.values():
        group = [t for t in targets if t.axes is axes]
        starts = axes.transData.transform([(t.x, t.y) for t in group])  # n x 2 pixels
        ends = axes.transData.transform([(t.x if t.x_end is None else t.x_end, t.y) for t in group])
        dx = np.maximum(0.0, np.maximum(starts[:, 0] - x, x - ends[:, 0]))
        distances = np.hypot(dx, starts[:, 1] - y)
        index = int(np.argmin(distances))
        if distances[index] <= best_distance:
            best, best_distance = group[index], float(distances[index])
    return best
