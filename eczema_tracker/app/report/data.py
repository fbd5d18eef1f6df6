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

from eczema_tracker.app import personal_severity
from eczema_tracker.app.compare import load_shown_photo
from eczema_tracker.app.photo_result import AreaKind, AreaMeasure, graded_by, point_result
from eczema_tracker.app.report.request import (
    LETTER_COUNTRIES,
    PAPER_SIZES,
    ReportInputError,
    ReportRequest,
    check_request,
    default_paper,
    parse_report_day,
)
from eczema_tracker.app.report.then_and_now import ThenAndNow, gather_then_and_now
from eczema_tracker.app.timeline.data import TimelineData, gather_timeline_data
from eczema_tracker.app.trust.agreement import SiteReliability, result_in_doubt, site_reliability
from eczema_tracker.app.trust.familiarity_text import is_unfamiliar
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled, report
from eczema_tracker.core.poem import poem_band

if TYPE_CHECKING:
    from eczema_tracker.store import SeverityModelRecord, Store

__all__ = [  # the request's names too: callers need one import
    "LETTER_COUNTRIES",
    "PAPER_SIZES",
    "ReportData",
    "ReportInputError",
    "ReportRequest",
    "check_request",
    "default_paper",
    "gather_report",
    "parse_report_day",
]

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
    #: the area shown (``app.photo_result``: the model's whenever the photo has one), None: none
    area_fraction: float | None
    score: float | None  #: expected severity 0-3, None when not graded
    grade: str | None  #: e.g. "moderate (score 2.04 of 3)" or "no eczema found in this photo"
    severity_model_id: int | None
    mask_origin: str | None  #: whose mask the photo shows: "prompt", "corrected", "analysis"
    note: str = ""
    #: the current analysis' verdict: False when the photo looked unlike the site's example
    #: photos, True like them, None not judged
    familiar: bool | None = None
    #: whose area ``area_fraction`` is: "model" or "painted" (not analysed yet), None: no area
    area_kind: AreaKind | None = None
    #: the area the person painted (prompt mask or correction), None when none
    painted_area_fraction: float | None = None
    #: the model's lesion / (lesion + healthy skin), None when the site's examples mark no skin
    share_of_skin: float | None = None
    #: the same share of the mask the person painted, None when it marks no healthy skin
    painted_share_of_skin: float | None = None

    @property
    def model_area_fraction(self) -> float | None:
        """The model's area: the only kind compared across photos (first → last)."""
        return self.area_fraction if self.area_kind == "model" else None

    def compared_area(self, measure: AreaMeasure) -> float | None:
        """The model's lesion as a share of the skin shown or of the photo."""
        return self.share_of_skin if measure == "skin" else self.model_area_fraction

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
    #: whether its results are reliable (``app.trust.site_reliability``; None: not read)
    reliability: SiteReliability | None = None

    @property
    def unreliable(self) -> bool:
        """Its examples disagree: its results are "not reliable yet"."""
        return self.reliability is not None and not self.reliability.reliable

    @property
    def first(self) -> PhotoPoint | None:
        return self.points[0] if self.points else None

    @property
    def last(self) -> PhotoPoint | None:
        return self.points[-1] if self.points else None

    @property
    def measure(self) -> AreaMeasure:
        """What its areas are compared as: the share of the skin shown when every analysed
        photo has one (its examples mark healthy skin), else of the photo."""
        models = [p for p in self.points if p.model_area_fraction is not None]
        if models and all(p.share_of_skin is not None for p in models):
            return "skin"
        return "photo"

    @property
    def model_areas(self) -> tuple[float, ...]:
        """The model's areas of its photos in :attr:`measure`, in date order (never an area the
        person painted: first → last compares one kind of area)."""
        measure = self.measure
        return tuple(a for p in self.points if (a := p.compared_area(measure)) is not None)

    @property
    def first_area(self) -> float | None:
        areas = self.model_areas
        return areas[0] if areas else None

    @property
    def last_area(self) -> float | None:
        areas = self.model_areas
        return areas[-1] if areas else None

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
    """The severity model whose grades the report prints (the one in use, trusted)."""

    model_id: int
    kind: str  #: "personal" (trained on the person's ratings) or "imported" (a model file)
    file_name: str
    cv_accuracy: float | None  #: cross-validated accuracy, when one was recorded
    cv_scheme: str | None
    n_train: int | None
    #: a personal model's held-out agreement against the majority guess, e.g. "agreed with you
    #: on 7 of 9 photos (78 %), majority guess 44 %"; None without a recorded check
    agreement: str | None = None
    #: the person chose to use it although it did not beat the majority guess
    chosen_by_person: bool = False

    def describe(self) -> str:
        """E.g. "your personal model: agreed with you on 9 of 12 photos (75 %), majority guess
        42 % (stratified 3-fold cross-validation on 12 of your ratings)"."""
        if self.kind == "personal" and self.agreement is not None:
            how = ", ".join(
                part
                for part in (
                    self.cv_scheme,
                    f"on {self.n_train} of your ratings" if self.n_train else "",
                )
                if part
            )
            chosen = (
                "; used because you chose to, though not better than the majority guess"
                if self.chosen_by_person
                else ""
            )
            return f"your personal model: {self.agreement}" + (f" ({how})" if how else "") + chosen
        what = (
            "your personal model"
            + (f" (trained on {self.n_train} of your ratings)" if self.n_train else "")
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
    #: per site with photos in the range: its first and last analysed photo, or why not
    then_and_now: tuple[ThenAndNow, ...] = ()
    #: why no photo has a grade, in one sentence ('' when some have): grades come only from
    #: the severity model in use, and only when it earned its place or the person chose it
    no_grades_reason: str = ""

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


def _site_points(
    store: Store,
    request: ReportRequest,
    site: str,
    grading_model_id: int | None,
    reliability: SiteReliability | None = None,
) -> list[PhotoPoint]:
    """The site's photos in the range; a grade only from the model ``grading_model_id``."""
    notes = {p.id: p.note for p in store.photos(site)}
    analyses = store.current_analyses(site)
    points = []
    for point in store.timeline(site):
        taken = local_naive(point.taken_at)
        if not request.from_day <= taken.date() <= request.to_day:
            continue
        analysis = analyses.get(point.photo_id)
        doubt = analysis is not None and result_in_doubt(
            unfamiliar=is_unfamiliar(analysis.familiar, point.mask_origin),
            site=reliability,
            mask_origin=point.mask_origin,
        )
        result = graded_by(
            point_result(point, doubtful=doubt),
            scored_by=None if analysis is None else analysis.severity_model_id,
            grading_model_id=grading_model_id,
        )
        points.append(
            PhotoPoint(
                photo_id=point.photo_id,
                taken=taken,
                area_fraction=result.area_fraction,
                score=result.graded_score,
                grade=result.grade_text,
                severity_model_id=None if analysis is None else analysis.severity_model_id,
                mask_origin=point.mask_origin,
                note=(notes.get(point.photo_id) or "").strip(),
                familiar=None if analysis is None else analysis.familiar,
                area_kind=result.area_kind,
                painted_area_fraction=result.painted_area_fraction,
                share_of_skin=result.share_of_skin,
                painted_share_of_skin=result.painted_share_of_skin,
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
    loaded = load_shown_photo(store, point.photo_id, max_side)
    return StripPhoto(point, loaded.image, loaded.mask, loaded.problem)


def _model_info(record: SeverityModelRecord) -> ModelInfo:
    meta: dict[str, Any] = dict(record.metadata or {})
    standing = personal_severity.model_standing(record)
    accuracy = meta.get("cv_accuracy")
    n_train = meta.get("n_train")
    return ModelInfo(
        model_id=record.id,
        kind="personal" if meta.get("kind") == "personal" else "imported",
        file_name=record.file_name,
        cv_accuracy=float(accuracy) if isinstance(accuracy, (int, float)) else None,
        cv_scheme=str(meta["cv_scheme"]) if meta.get("cv_scheme") else None,
        n_train=int(n_train) if isinstance(n_train, int) and n_train > 0 else None,
        agreement=None if standing is None else standing.agreement_text(),
        chosen_by_person=standing is not None
        and standing.activated_by == "person"
        and not standing.earned,
    )


def no_grades_reason(store: Store, grading: SeverityModelRecord | None) -> str:
    """Why the report has no grades, in one sentence (for when no photo in it has one)."""
    if grading is not None:
        return (
            "No severity grades: no photo in this range was scored by the severity model in "
            "use (re-score them: Models \u25b8 Re-score analyses)."
        )
    record = store.active_severity_model() or personal_severity.latest_personal_model(store)
    standing = None if record is None else personal_severity.model_standing(record)
    if standing is not None:  # a personal model kept off, or on but never earned nor chosen
        return f"No severity grades: {standing.verdict_text()}"
    return "No severity grades: no severity model is in use."


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
    gathered: list[tuple[str, list[PhotoPoint], SiteReliability]] = []
    grading = personal_severity.grading_model(store)
    for site in site_names:
        raise_if_cancelled(cancel)
        reliability = site_reliability(store, site)
        points = _site_points(store, request, site, grading.id if grading else None, reliability)
        if points or request.sites:
            gathered.append((site, points, reliability))
    # each site's strip, and the two photos of its "then and now"
    to_decode = sum(len(strip_points(points)) + 2 for _, points, _ in gathered)
    done = 0
    sites = []
    for site, points, reliability in gathered:
        strip = []
        for point in strip_points(points):
            raise_if_cancelled(cancel)
            report(progress, done, to_decode, f"reading photos of {site}")
            strip.append(load_strip_photo(store, point))
            done += 1
        sites.append(SiteReport(site, tuple(points), tuple(strip), reliability))
    then_and_now = []
    for site, points, _ in gathered:
        if not points:
            continue
        report(progress, done, to_decode, f"reading the first and last photo of {site}")
        then_and_now.append(gather_then_and_now(store, site, low, high, cancel=cancel))
        done += 2
    report(progress, to_decode, to_decode, "photos read")
    any_graded = any(s.graded for s in sites)
    models = (_model_info(grading),) if grading is not None and any_graded else ()
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
        then_and_now=tuple(then_and_now),
        no_grades_reason="" if any_graded else no_grades_reason(store, grading),
    )
