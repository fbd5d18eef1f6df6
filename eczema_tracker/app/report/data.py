"""What the report for the doctor shows, gathered from the store for a date range (no drawing).

:func:`check_request` (from :mod:`.report_request`, re-exported here) turns what a person typed
(dates, sites, paper) into a :class:`ReportRequest` or refuses it with one sentence
(:class:`ReportInputError`); :func:`gather_report` reads everything the report shows for that range into the typed, frozen
:class:`ReportData`: POEM first/last/change, itch and sleep averages per week, per body site the
lesion area and predicted severity of its first and last photo and a strip of photos (first,
middle, last) decoded reduced with the mask shown, the severity model that scored them, the
treatment courses, flares and notes. :mod:`eczema_tracker.app.report.pdf` lays it out.

Dates are calendar dates; a photo belongs to the local date it was taken on. Photos in the bin
are left out. Only the store's public methods are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from eczema_tracker.app.report.request import (
    ReportRequest,
)
from eczema_tracker.app.timeline.data import TimelineData, gather_timeline_data
from eczema_tracker.app.trust.familiarity_text import is_unfamiliar
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled, report
from eczema_tracker.core.poem import poem_band
from eczema_tracker.core.severity_scale import shown_grade

if TYPE_CHECKING:
    from eczema_tracker.store import Store

__all__ = ["ReportData", "gather_report"]

#: Longest side photos of the strips are decoded at (a reduced decode: 200 photos stay fast).
STRIP_DECODE_SIDE = 480
#: Photos shown per body site: the first, the middle and the last of the range.
STRIP_LENGTH = 3


@dataclass(frozen=True)
class PoemSummary:
    """The scored POEM check-ins of the range: totals oldest first, with their dates."""

    days: tuple[date, ...]
    totals: tuple[int, ...]
    unscored: int  #: check-ins in the range with too many questions unanswered to score
    #: check-ins not counted: older ones of a date that has several (stores from before one a
    #: day was the rule); the newest of each date is the one counted
    not_counted: int = 0

    @property
    def first(self) -> int | None:
        return self.totals[0] if self.totals else None

    @property
    def last(self) -> int | None:
        return self.totals[-1] if self.totals else None

    @property
    def change(self) -> int | None:
        return None if not self.totals else self.totals[-1] - self.totals[0]

    @property
    def last_band(self) -> str | None:
        return None if not self.totals else poem_band(self.totals[-1])

    @property
    def first_band(self) -> str | None:
        return None if not self.totals else poem_band(self.totals[0])


@dataclass(frozen=True)
class PeriodNumbers:
    """Daily itch and sleep-loss numbers (NRS 0-10) of one week (from Monday ``start``) or one
    month (from the 1st), averaged over the days that have one."""

    start: date
    itch_mean: float | None
    itch_days: int
    sleep_mean: float | None
    sleep_days: int


@dataclass(frozen=True)
class DayNumbers:
    """One date's itch and sleep-loss numbers (for the timeline)."""

    day: date
    itch: int | None
    sleep_loss: int | None


@dataclass(frozen=True)
class PhotoPoint:
    """One photo of a site in the range, with what its current analysis and mask say."""

    photo_id: int
    taken: datetime  #: local time, naive
    area_fraction: float | None  #: of the mask shown (the person's own first), None: no mask
    score: float | None  #: expected severity 0-3, None when not graded
    grade: str | None  #: e.g. "moderate (score 2.04 of 3)" or "no eczema found in this photo"
    severity_model_id: int | None
    mask_origin: str | None  #: "prompt", "corrected", "analysis" or None
    note: str = ""
    #: the current analysis' verdict: False when the photo looked unlike the site's example
    #: photos, True like them, None not judged
    familiar: bool | None = None

    @property
    def unfamiliar(self) -> bool:
        """Whether the report marks it "unlike the example photos" (``familiarity_text``)."""
        return is_unfamiliar(self.familiar, self.mask_origin)


@dataclass(frozen=True, eq=False)
class StripPhoto:
    """A photo of a site's strip, decoded reduced, with its mask at the same size.

    ``image`` is ``None`` when the photo's file could not be read (``problem`` says why): the
    report shows the gap instead of failing.
    """

    point: PhotoPoint
    image: np.ndarray | None  # height x width x 3, uint8, upright
    mask: np.ndarray | None  # height x width, bool; None when the photo has no mask
    problem: str = ""


@dataclass(frozen=True, eq=False)
class SiteReport:
    """One body site: its photos in the range and the strip to show."""

    site: str
    points: tuple[PhotoPoint, ...]
    strip: tuple[StripPhoto, ...]

    @property
    def first(self) -> PhotoPoint | None:
        return self.points[0] if self.points else None

    @property
    def last(self) -> PhotoPoint | None:
        return self.points[-1] if self.points else None

    @property
    def first_area(self) -> float | None:
        measured = [p.area_fraction for p in self.points if p.area_fraction is not None]
        return measured[0] if measured else None

    @property
    def last_area(self) -> float | None:
        measured = [p.area_fraction for p in self.points if p.area_fraction is not None]
        return measured[-1] if measured else None

    @property
    def area_change(self) -> float | None:
        first, last = self.first_area, self.last_area
        return None if first is None or last is None else last - first

    @property
    def graded(self) -> tuple[PhotoPoint, ...]:
        return tuple(p for p in self.points if p.score is not None)

    @property
    def unfamiliar(self) -> tuple[PhotoPoint, ...]:
        """Its photos whose result looks unlike the site's example photos."""
        return tuple(p for p in self.points if p.unfamiliar)


@dataclass(frozen=True)
class ModelInfo:
    """A severity model that scored photos of the report."""

    model_id: int
    kind: str  #: "personal" (trained on the person's ratings) or "imported" (a model file)
    file_name: str
    cv_accuracy: float | None  #: cross-validated accuracy, when one was recorded
    cv_scheme: str | None
    n_train: int | None

    def describe(self) -> str:
        """E.g. "personal model (trained on 12 of your ratings; cross-validated accuracy 75%,
        stratified 3-fold cross-validation)"."""
        what = (
            "personal model (trained on your own ratings"
            + (f", {self.n_train} photos" if self.n_train else "")
            + ")"
            if self.kind == "personal"
            else f"imported model file '{self.file_name}'"
        )
        if self.cv_accuracy is None:
            return f"{what}; no cross-validated accuracy recorded"
        scheme = f", {self.cv_scheme}" if self.cv_scheme else ""
        return f"{what}; cross-validated accuracy {100 * self.cv_accuracy:.0f}%{scheme}"


@dataclass(frozen=True)
class CourseItem:
    """A treatment course that ran on at least one day of the range."""

    treatment: str
    kind: str  #: in words, e.g. "topical corticosteroid"
    potency: str | None  #: in words, e.g. "very potent"
    start: date
    end: date | None  #: None: still going
    times_a_day: int | None


@dataclass(frozen=True)
class NoteItem:
    """A note of a day, or of a photo (``site`` set)."""

    day: date
    text: str
    site: str | None = None


@dataclass(frozen=True, eq=False)
class ReportData:
    """Everything the report shows, for ``request``'s range."""

    request: ReportRequest
    generated: datetime
    poem: PoemSummary
    weeks: tuple[PeriodNumbers, ...]
    months: tuple[PeriodNumbers, ...]
    numbers: tuple[DayNumbers, ...]
    sites: tuple[SiteReport, ...]
    models: tuple[ModelInfo, ...]
    courses: tuple[CourseItem, ...]
    flares: tuple[date, ...]
    notes: tuple[NoteItem, ...]
    checkin_days: tuple[date, ...] = field(default=())
    #: what the timeline figure draws (``app.timeline_figure``), for the same range and sites
    timeline: TimelineData = field(default_factory=TimelineData)
    #: the folder of the store it was read from (a report is never written inside it)
    store_root: Path | None = None

    @property
    def is_empty(self) -> bool:
        """True when nothing at all was recorded in the range."""
        return not (
            self.poem.totals
            or self.poem.unscored
            or self.numbers
            or any(s.points for s in self.sites)
            or self.courses
            or self.flares
            or self.notes
        )

    @property
    def photo_count(self) -> int:
        return sum(len(s.points) for s in self.sites)


# -- gathering ------------------------------------------------------------------------------------
def local_naive(value: datetime | str) -> datetime:
    """A stored ISO time as local time without tzinfo (a naive time is taken as local)."""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    return when.astimezone().replace(tzinfo=None) if when.tzinfo is not None else when


def _poem(store: Store, request: ReportRequest) -> tuple[PoemSummary, tuple[date, ...]]:
    checkins = store.checkins(request.from_day, request.to_day)  # the newest of each date
    every_row = store.checkins(request.from_day, request.to_day, every_row=True)
    scored = [(c.day, int(c.total)) for c in checkins if c.total is not None]
    summary = PoemSummary(
        tuple(d for d, _ in scored),
        tuple(t for _, t in scored),
        len(checkins) - len(scored),
        len(every_row) - len(checkins),
    )
    return summary, tuple(c.day for c in checkins)


def _averaged(groups: dict[date, list[DayNumbers]]) -> tuple[PeriodNumbers, ...]:
    out = []
    for start in sorted(groups):
        itch = [r.itch for r in groups[start] if r.itch is not None]
        sleep = [r.sleep_loss for r in groups[start] if r.sleep_loss is not None]
        out.append(
            PeriodNumbers(
                start,
                float(np.mean(itch)) if itch else None,
                len(itch),
                float(np.mean(sleep)) if sleep else None,
                len(sleep),
            )
        )
    return tuple(out)


def weekly_numbers(numbers: Sequence[DayNumbers]) -> tuple[PeriodNumbers, ...]:
    """Itch and sleep-loss averages per week (weeks start on Monday), oldest first."""
    weeks: dict[date, list[DayNumbers]] = {}
    for row in numbers:
        weeks.setdefault(row.day - timedelta(days=row.day.weekday()), []).append(row)
    return _averaged(weeks)


def monthly_numbers(numbers: Sequence[DayNumbers]) -> tuple[PeriodNumbers, ...]:
    """Itch and sleep-loss averages per calendar month, oldest first (for long ranges)."""
    months: dict[date, list[DayNumbers]] = {}
    for row in numbers:
        months.setdefault(row.day.replace(day=1), []).append(row)
    return _averaged(months)


def _site_points(store: Store, request: ReportRequest, site: str) -> list[PhotoPoint]:
    notes = {p.id: p.note for p in store.photos(site)}
    analyses = store.current_analyses(site)
    points = []
    for point in store.timeline(site):
        taken = local_naive(point.taken_at)
        if not request.from_day <= taken.date() <= request.to_day:
            continue
        analysis = analyses.get(point.photo_id)
        grade = None
        if analysis is not None:
            grade = shown_grade(
                lesion_area_fraction=point.lesion_area_fraction,
                score=point.score,
                probabilities=analysis.probabilities,
            )
        graded = grade is not None and grade.graded
        points.append(
            PhotoPoint(
                photo_id=point.photo_id,
                taken=taken,
                area_fraction=point.lesion_area_fraction,
                score=grade.score if graded and grade is not None else None,
                grade=None if grade is None else grade.text,
                severity_model_id=None if analysis is None else analysis.severity_model_id,
                mask_origin=point.mask_origin,
                note=(notes.get(point.photo_id) or "").strip(),
                familiar=None if analysis is None else analysis.familiar,
            )
        )
    points.sort(key=lambda p: (p.taken, p.photo_id))
    return points


def strip_points(points: Sequence[PhotoPoint]) -> list[PhotoPoint]:
    """The first, middle and last photo (fewer when there are fewer)."""
    if len(points) <= STRIP_LENGTH:
        return list(points)
    return [points[0], points[(len(points) - 1) // 2], points[-1]]


def load_strip_photo(
    store: Store, point: PhotoPoint, max_side: int = STRIP_DECODE_SIDE
) -> StripPhoto:
    """Decode the photo reduced, and its shown mask (the person's own first) at that size.

    A photo or mask file that cannot be read gives a strip photo without it (and the reason).
    """
    from eczema_tracker.core import imaging

    try:
        image = imaging.decode_photo(store.photo_file(point.photo_id), max_side=max_side).image
    except (imaging.ImageLoadError, OSError) as exc:
        reason = exc.reason if isinstance(exc, imaging.ImageLoadError) else str(exc)
        return StripPhoto(point, None, None, f"the photo could not be read ({reason})")
    mask = None
    shown = store.shown_mask(point.photo_id)
    if shown is not None:
        try:
            full = store.load_mask(shown.mask)
        except (imaging.ImageLoadError, OSError):
            full = None  # the photo without its outline beats no report
        if full is not None:
            small = Image.fromarray(full.astype(np.uint8) * np.uint8(255), mode="L").resize(
                image.size, Image.Resampling.BILINEAR
            )
            mask = np.asarray(small) >= 128
    return StripPhoto(point, np.asarray(image, dtype=np.uint8), mask)


def _model_info(store: Store, model_id: int) -> ModelInfo | None:
    try:
        record = store.severity_model(model_id)
    except KeyError:
        return None
    meta: dict[str, Any] = dict(record.metadata or {})
    accuracy = meta.get("cv_accuracy")
    n_train = meta.get("n_train")
    return ModelInfo(
        model_id=record.id,
        kind="personal" if meta.get("kind") == "personal" else "imported",
        file_name=record.file_name,
        cv_accuracy=float(accuracy) if isinstance(accuracy, (int, float)) else None,
        cv_scheme=str(meta["cv_scheme"]) if meta.get("cv_scheme") else None,
        n_train=int(n_train) if isinstance(n_train, int) and n_train > 0 else None,
    )


def _words(value: str | None) -> str | None:
    return None if value is None else value.replace("_", " ")


def gather_report(
    store: Store,
    request: ReportRequest,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    now: datetime | None = None,
) -> ReportData:
    """Read everything the report shows for ``request`` from the store (photos decoded reduced)."""
    low, high = request.from_day, request.to_day
    poem, checkin_days = _poem(store, request)
    numbers = tuple(DayNumbers(d.day, d.itch, d.sleep_loss) for d in store.daily(low, high))
    site_names = request.sites or tuple(store.sites())
    gathered: list[tuple[str, list[PhotoPoint]]] = []
    for site in site_names:
        raise_if_cancelled(cancel)
        points = _site_points(store, request, site)
        if points or request.sites:
            gathered.append((site, points))
    to_decode = sum(len(strip_points(points)) for _, points in gathered)
    done = 0
    sites = []
    for site, points in gathered:
        strip = []
        for point in strip_points(points):
            raise_if_cancelled(cancel)
            report(progress, done, to_decode, f"reading photos of {site}")
            strip.append(load_strip_photo(store, point))
            done += 1
        sites.append(SiteReport(site, tuple(points), tuple(strip)))
    report(progress, done, to_decode, "photos read")
    model_ids = sorted(
        {p.severity_model_id for s in sites for p in s.points if p.severity_model_id is not None}
    )
    models = tuple(m for m in (_model_info(store, i) for i in model_ids) if m is not None)
    treatments = {t.id: t for t in store.treatments()}
    courses = []
    for course in store.courses(from_day=low, to_day=high):
        treatment = treatments.get(course.treatment_id)
        courses.append(
            CourseItem(
                treatment=course.treatment_name,
                kind=treatment.kind_label if treatment is not None else "",
                potency=_words(treatment.potency) if treatment is not None else None,
                start=course.start,
                end=course.end,
                times_a_day=course.times_a_day,
            )
        )
    marks = store.day_marks(low, high)
    notes = [NoteItem(m.day, m.note) for m in marks if m.note.strip()]
    notes += [NoteItem(p.taken.date(), p.note, s.site) for s in sites for p in s.points if p.note]
    notes.sort(key=lambda n: (n.day, n.site or ""))
    timeline = gather_timeline_data(store, sites=[s.site for s in sites], from_day=low, to_day=high)
    return ReportData(
        request=request,
        generated=now or datetime.now(),
        poem=poem,
        weeks=weekly_numbers(numbers),
        months=monthly_numbers(numbers),
        numbers=numbers,
        sites=tuple(sites),
        models=models,
        courses=tuple(courses),
        flares=tuple(m.day for m in marks if m.flare),
        notes=tuple(notes),
        checkin_days=checkin_days,
        timeline=timeline,
        store_root=Path(store.data_dir),
    )
