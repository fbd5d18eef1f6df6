"""What the timeline knows of a point, without Qt or matplotlib: the point protocol, local
plotting time, the grade plotted (``severity_scale.shown_grade``) and the hover text."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from eczema_tracker.core.severity_scale import ShownGrade, class_name, shown_grade
from eczema_tracker.gui.formatting import format_short_day


class TimelinePointLike(Protocol):
    """What the timeline needs of a point; ``store.records.TimelinePoint`` matches."""

    @property
    def photo_id(self) -> int: ...
    @property
    def taken_at(self) -> datetime | str: ...
    @property
    def score(self) -> float | None: ...
    @property
    def severity_class(self) -> int | None: ...
    @property
    def lesion_area_fraction(self) -> float | None: ...
    @property
    def rating(self) -> int | None: ...
    @property
    def stale(self) -> bool: ...


def to_local_naive(value: datetime | str) -> datetime:
    """A datetime from an ISO string or datetime, in local time without tzinfo (for plotting)."""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value.strip())
    return when.astimezone().replace(tzinfo=None) if when.tzinfo is not None else when


def plotted_grade(point: TimelinePointLike) -> ShownGrade | None:
    """The grade shown for ``point`` (``severity_scale.shown_grade``), None when not graded."""
    if point.score is None:
        return None
    grade = shown_grade(lesion_area_fraction=point.lesion_area_fraction, score=point.score)
    return grade if grade is not None and grade.graded else None


def describe_point(point: TimelinePointLike) -> str:
    """Multi-line hover text: date, then each value the point has."""
    when = to_local_naive(point.taken_at)
    lines = [f"{format_short_day(when)}, {when:%H:%M}"]
    grade = plotted_grade(point)
    if grade is not None:
        lines.append(f"Predicted score {grade.score:.2f} ({class_name(grade.label)})")
    elif point.score is not None:
        lines.append("No eczema found in this photo")
    if point.rating is not None:
        lines.append(f"Your rating {point.rating} ({class_name(point.rating)})")
    if point.lesion_area_fraction is not None:
        lines.append(f"Lesion area {100 * point.lesion_area_fraction:.1f}%")
    if point.score is None and point.lesion_area_fraction is None and point.rating is None:
        lines.append("Not analysed yet")
    if point.stale:
        lines.append("Out of date: this site's prompts changed since the analysis")
    return "\n".join(lines)
