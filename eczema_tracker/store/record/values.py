"""The values of the patient's record: typed frozen records, kinds, and input checks.

Used by :mod:`eczema_tracker.store.record.diary` (the Store's record methods); every check raises
:class:`~eczema_tracker.store.errors.RecordInputError` with one sentence.
"""

from __future__ import annotations

import enum
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from eczema_tracker.core.poem import POEM_ITEMS, POEM_MAX_TOTAL, PoemScore, score_poem
from eczema_tracker.store.errors import RecordInputError

#: The kinds of treatment, as stored.
TREATMENT_KINDS: tuple[str, ...] = (
    "emollient",
    "topical_corticosteroid",
    "topical_calcineurin_inhibitor",
    "systemic_biologic",
    "antihistamine",
    "other",
)
#: Words to show for each kind.
TREATMENT_KIND_LABELS: dict[str, str] = {
    "emollient": "emollient",
    "topical_corticosteroid": "topical corticosteroid",
    "topical_calcineurin_inhibitor": "topical calcineurin inhibitor",
    "systemic_biologic": "systemic / biologic",
    "antihistamine": "antihistamine",
    "other": "other",
}


def potency_label(potency: str | None) -> str:
    """``"very_potent"`` -> ``"very potent"``; ``""`` for none."""
    return "" if potency is None else potency.replace("_", " ")


#: Potencies of a topical corticosteroid, mildest first.
POTENCIES: tuple[str, ...] = ("mild", "moderate", "potent", "very_potent")
NRS_MAX = 10
MAX_TIMES_A_DAY = 24
MAX_NAME_LENGTH = 200
MAX_NOTE_LENGTH = 10_000


class Unchanged(enum.Enum):
    """The type of :data:`UNCHANGED`: "leave this field as it is"."""

    UNCHANGED = "unchanged"


#: Default of optional fields in the update methods: keep the stored value.
UNCHANGED = Unchanged.UNCHANGED


@dataclass(frozen=True, slots=True)
class CheckinRecord:
    """One POEM check-in: the seven answers (``None``: unanswered) on ``day``."""

    id: int
    day: date
    answers: tuple[int | None, ...]
    created_at: str

    @property
    def score(self) -> PoemScore:
        """The POEM score of the answers (total ``None`` when not scored)."""
        return score_poem(self.answers)

    @property
    def total(self) -> int | None:
        return self.score.total

    @property
    def band(self) -> str | None:
        return self.score.band


class CheckinExistsError(RecordInputError):
    """A second POEM check-in for a date that has one (``existing``); nothing was stored."""

    def __init__(self, existing: CheckinRecord) -> None:
        day = existing.day
        total = existing.score.total
        what = "not scored" if total is None else f"POEM {total}/{POEM_MAX_TOTAL}"
        super().__init__(
            f"{day.day} {day:%b %Y} has a POEM check-in already ({what}); change that one "
            "instead of adding a second."
        )
        self.existing = existing


@dataclass(frozen=True, slots=True)
class DailyRecord:
    """The daily numbers of one date: peak itch and sleep loss, NRS 0-10 (``None``: not given)."""

    day: date
    itch: int | None
    sleep_loss: int | None


@dataclass(frozen=True, slots=True)
class TreatmentRecord:
    """A treatment on the person's list; ``potency`` only for a topical corticosteroid."""

    id: int
    name: str
    kind: str
    potency: str | None
    created_at: str

    @property
    def kind_label(self) -> str:
        """The kind in words (e.g. "topical corticosteroid")."""
        return TREATMENT_KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True, slots=True)
class CourseRecord:
    """A course of a treatment from ``start`` to ``end`` (``None``: still going), inclusive."""

    id: int
    treatment_id: int
    treatment_name: str
    start: date
    end: date | None
    times_a_day: int | None
    created_at: str

    def active_on(self, day: date) -> bool:
        """Whether the course ran on ``day``."""
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class DayMarkRecord:
    """A mark on a date: a flare, and/or a note."""

    day: date
    flare: bool
    note: str


@dataclass(frozen=True, slots=True)
class DayEntry:
    """What :meth:`RecordMixin.record_day` stored: the check-in it wrote (``None``: none written)
    and the date's numbers and mark (:meth:`RecordMixin.day_entry`: the date's check-in)."""

    day: date
    checkin: CheckinRecord | None
    daily: DailyRecord | None
    mark: DayMarkRecord | None


@dataclass(frozen=True, slots=True)
class RecordedDay:
    """Everything recorded on one date: its check-ins (oldest first; more than one only in a
    store from before one a day was the rule), its daily numbers and its mark."""

    day: date
    checkins: tuple[CheckinRecord, ...]
    daily: DailyRecord | None
    mark: DayMarkRecord | None

    @property
    def checkin(self) -> CheckinRecord | None:
        """The date's check-in (the newest, where there are several)."""
        return self.checkins[-1] if self.checkins else None

    @property
    def older_checkins(self) -> tuple[CheckinRecord, ...]:
        """Check-ins of the date made before :attr:`checkin` (not counted anywhere)."""
        return self.checkins[:-1]

    @property
    def is_empty(self) -> bool:
        """Nothing is recorded on the date."""
        return not self.checkins and self.daily is None and self.mark is None

    @property
    def itch(self) -> int | None:
        return None if self.daily is None else self.daily.itch

    @property
    def sleep_loss(self) -> int | None:
        return None if self.daily is None else self.daily.sleep_loss

    @property
    def flare(self) -> bool:
        return self.mark is not None and self.mark.flare

    @property
    def note(self) -> str:
        return "" if self.mark is None else self.mark.note


# -- input checks (each raises RecordInputError with one sentence) ----------------------------------
def today() -> date:
    """The person's local date (a date after it is in the future)."""
    return date.today()


def parse_day(value: date | str, what: str = "the date", *, allow_future: bool = False) -> date:
    """A calendar date from a ``date`` or ISO ``YYYY-MM-DD`` text; refuse one in the future."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = date.fromisoformat(text)
        except ValueError:
            raise RecordInputError(
                f"{what.capitalize()} '{value}' is not a date (write it as YYYY-MM-DD)."
            ) from None
        if len(text) != 10:  # fromisoformat also takes 20261202 and week dates: be plain
            raise RecordInputError(
                f"{what.capitalize()} '{value}' is not a date (write it as YYYY-MM-DD)."
            )
        value = parsed
    if not isinstance(value, date):
        raise RecordInputError(f"{what.capitalize()} must be a date, not {value!r}.")
    if not allow_future and value > today():
        raise RecordInputError(
            f"{what.capitalize()} {value.isoformat()} lies in the future (today is "
            f"{today().isoformat()})."
        )
    return value


def check_whole_number(value: Any, what: str, low: int, high: int) -> int:
    """A whole number ``low``-``high`` (not a bool), else RecordInputError."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RecordInputError(
            f"{what.capitalize()} must be a whole number {low}-{high}, not {value}."
        )
    return value


def check_nrs(value: int | None | Unchanged, what: str) -> int | None | Unchanged:
    """An NRS 0-10, ``None`` or :data:`UNCHANGED`, else RecordInputError."""
    if value is None or value is UNCHANGED:
        return value
    return check_whole_number(value, what, 0, NRS_MAX)


def check_treatment_name(value: str) -> str:
    """A treatment name with spaces collapsed; not empty, not too long."""
    text = " ".join(str(value).split())
    if not text:
        raise RecordInputError("A treatment needs a name.")
    if len(text) > MAX_NAME_LENGTH:
        raise RecordInputError(f"A treatment name is at most {MAX_NAME_LENGTH} characters.")
    return text


def with_article(words: str) -> str:
    """``an emollient``, ``a topical corticosteroid``: the words after "a" or "an"."""
    return ("an " if words[:1].lower() in "aeiou" else "a ") + words


def course_span_text(course: CourseRecord) -> str:
    """``from 2026-01-03 to 2026-01-20`` or ``from 2026-01-03, ongoing``."""
    start = course.start.isoformat()
    return f"from {start}, ongoing" if course.end is None else f"from {start} to {course.end}"


def check_kind_and_potency(kind: str, potency: str | None) -> tuple[str, str | None]:
    """A known kind, and a potency only for a topical corticosteroid."""
    if kind not in TREATMENT_KINDS:
        raise RecordInputError(
            f"'{kind}' is not a kind of treatment (one of: {', '.join(TREATMENT_KINDS)})."
        )
    if potency is not None:
        if kind != "topical_corticosteroid":
            raise RecordInputError(
                "Only a topical corticosteroid has a potency, not "
                f"{with_article(TREATMENT_KIND_LABELS[kind])}."
            )
        if potency not in POTENCIES:
            raise RecordInputError(
                f"'{potency}' is not a potency (one of: {', '.join(POTENCIES)})."
            )
    return kind, potency


def check_note(value: str) -> str:
    """A note without surrounding spaces, not too long."""
    text = str(value).strip()
    if len(text) > MAX_NOTE_LENGTH:
        raise RecordInputError(f"A note is at most {MAX_NOTE_LENGTH} characters.")
    return text


def check_range(from_day: date | str | None, to_day: date | str | None) -> tuple[str, str]:
    """A date range as ISO texts (open ends: everything); the end not before the start."""
    low = (
        "0000-00-00"
        if from_day is None
        else parse_day(from_day, "the first date", allow_future=True).isoformat()
    )
    high = (
        "9999-99-99"
        if to_day is None
        else parse_day(to_day, "the last date", allow_future=True).isoformat()
    )
    if low > high:
        raise RecordInputError(f"The range from {low} to {high} ends before it starts.")
    return low, high


# -- rows to records ---------------------------------------------------------------------------------
CHECKIN_COLUMNS = "id, day, " + ", ".join(POEM_ITEMS) + ", created_at"
COURSE_SELECT = (
    "SELECT c.id, c.treatment_id, t.name, c.start_day, c.end_day, c.times_a_day, c.created_at "
    "FROM course c JOIN treatment t ON t.id = c.treatment_id "
)


def checkin_from_row(row: sqlite3.Row | tuple) -> CheckinRecord:
    """A check-in from a row of :data:`CHECKIN_COLUMNS`."""
    n = len(POEM_ITEMS)
    return CheckinRecord(
        int(row[0]), date.fromisoformat(row[1]), tuple(row[2 : 2 + n]), str(row[2 + n])
    )


def daily_from_row(row: tuple) -> DailyRecord:
    """Daily numbers from a ``(day, itch, sleep_loss)`` row."""
    return DailyRecord(date.fromisoformat(row[0]), row[1], row[2])


def treatment_from_row(row: tuple) -> TreatmentRecord:
    """A treatment from an ``(id, name, kind, potency, created_at)`` row."""
    return TreatmentRecord(int(row[0]), str(row[1]), str(row[2]), row[3], str(row[4]))


def course_from_row(row: tuple) -> CourseRecord:
    """A course from a row of :data:`COURSE_SELECT`."""
    return CourseRecord(
        int(row[0]),
        int(row[1]),
        str(row[2]),
        date.fromisoformat(row[3]),
        None if row[4] is None else date.fromisoformat(row[4]),
        row[5],
        str(row[6]),
    )


def mark_from_row(row: tuple) -> DayMarkRecord:
    """A day mark from a ``(day, flare, note)`` row."""
    return DayMarkRecord(date.fromisoformat(row[0]), bool(row[1]), str(row[2]))
