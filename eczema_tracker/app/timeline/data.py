"""What the timeline shows, as plain data (no Qt, no matplotlib), and how it is read from a Store.

:class:`TimelineData` holds, for a date range: per body site the photo points (the store's
``TimelinePoint`` fits :class:`TimelinePointLike`), the POEM check-ins, the daily itch and
sleep-loss numbers, the treatment courses and the day marks (flares and notes).
:func:`gather_timeline_data` builds one from a store, reading only. The drawing lives in
:mod:`eczema_tracker.app.timeline.figure`, which re-exports these names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from eczema_tracker.app.photo_result import point_result
from eczema_tracker.app.trust.agreement import site_reliability
from eczema_tracker.core.severity_scale import ShownGrade


class TimelinePointLike(Protocol):
    """What the timeline needs of a photo point; ``store.records.TimelinePoint`` matches.

    ``lesion_area_fraction`` is the model's area (None: not analysed), ``painted_area_fraction``
    the area the person painted (prompt mask or correction; None: none): two kinds, never mixed
    (``app.photo_result``)."""

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
    @property
    def painted_area_fraction(self) -> float | None: ...
    @property
    def mask_origin(self) -> str | None: ...


def to_local_naive(value: datetime | str) -> datetime:
    """A datetime from an ISO string or datetime, in local time without tzinfo (for plotting)."""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value.strip())
    return when.astimezone().replace(tzinfo=None) if when.tzinfo is not None else when


def plotted_grade(point: TimelinePointLike) -> ShownGrade | None:
    """The grade plotted for ``point`` (``photo_result.point_result``), None when not graded."""
    grade = point_result(point).grade
    return grade if grade is not None and grade.graded else None


@dataclass(frozen=True, slots=True)
class SiteSeries:
    """The photos of one body site, in any order; ``unreliable``: the site's examples disagree
    (``app.trust.site_reliability``): its results are drawn hollow."""

    site: str
    points: tuple[TimelinePointLike, ...]
    unreliable: bool = False


@dataclass(frozen=True, slots=True)
class PoemPoint:
    """A POEM check-in: its total 0-28 and band (``None`` when not scored) and why."""

    day: date
    total: int | None
    band: str | None
    explanation: str  #: e.g. "POEM 12/28: moderate." or "Not scored: 2 of 7 ... unanswered"


@dataclass(frozen=True, slots=True)
class DailyPoint:
    """A date's peak itch and sleep loss, NRS 0-10 (``None``: not given)."""

    day: date
    itch: int | None
    sleep_loss: int | None


@dataclass(frozen=True, slots=True)
class CourseBar:
    """A course of a treatment from ``start`` to ``end`` inclusive (``None``: still going)."""

    treatment: str
    kind: str  #: one of the store's ``TREATMENT_KINDS`` (e.g. "topical_corticosteroid")
    potency: str | None
    start: date
    end: date | None
    times_a_day: int | None = None


@dataclass(frozen=True, slots=True)
class DayMarkPoint:
    """A date marked as a flare and/or with a note."""

    day: date
    flare: bool
    note: str


@dataclass(frozen=True, slots=True)
class TimelineData:
    """Everything one timeline shows. ``end`` is the last date of the range: open-ended
    courses run to it (``None``: to the newest thing shown)."""

    sites: tuple[SiteSeries, ...] = ()
    poem: tuple[PoemPoint, ...] = ()
    daily: tuple[DailyPoint, ...] = ()
    courses: tuple[CourseBar, ...] = ()
    marks: tuple[DayMarkPoint, ...] = ()
    end: date | None = None

    @property
    def has_record(self) -> bool:
        """Whether any check-in, daily number, course or day mark is in it."""
        return bool(self.poem or self.daily or self.courses or self.marks)


def _in_range(when: date, low: date | None, high: date | None) -> bool:
    return (low is None or when >= low) and (high is None or when <= high)


def gather_timeline_data(
    store: Any,
    *,
    sites: Sequence[str] | None = None,
    from_day: date | None = None,
    to_day: date | None = None,
) -> TimelineData:
    """Read a :class:`TimelineData` from ``store`` (reads only; safe on any thread that may read).

    ``sites``: the body sites whose photos are shown (``None``: every site in the library, each
    its own series; ``[]``: none). ``from_day``/``to_day``: the range, inclusive (open ends:
    everything; the range end of open courses is ``to_day``, else today).
    """
    names = list(store.sites()) if sites is None else list(sites)
    series = []
    for site in names:
        points = [
            p
            for p in store.timeline(site)
            if _in_range(to_local_naive(p.taken_at).date(), from_day, to_day)
        ]
        unreliable = not site_reliability(store, site).reliable
        series.append(SiteSeries(site, tuple(points), unreliable))
    poem = []
    for checkin in store.checkins(from_day, to_day):
        score = checkin.score
        poem.append(PoemPoint(checkin.day, score.total, score.band, score.explanation))
    daily = [DailyPoint(d.day, d.itch, d.sleep_loss) for d in store.daily(from_day, to_day)]
    kinds = {t.id: t for t in store.treatments()}
    courses = []
    for course in store.courses(None, from_day, to_day):
        treatment = kinds.get(course.treatment_id)
        courses.append(
            CourseBar(
                course.treatment_name,
                "other" if treatment is None else treatment.kind,
                None if treatment is None else treatment.potency,
                course.start,
                course.end,
                course.times_a_day,
            )
        )
    marks = [DayMarkPoint(m.day, m.flare, m.note) for m in store.day_marks(from_day, to_day)]
    return TimelineData(
        tuple(series),
        tuple(poem),
        tuple(daily),
        tuple(courses),
        tuple(marks),
        to_day or date.today(),
    )
