"""``checkin`` and ``treatments add|list|course|end|edit|delete``: the patient's record from the
command line.

``checkin`` stores, for one date (default today), any of: a POEM check-in (seven answers 0-4),
the daily itch and sleep-loss numbers (NRS 0-10), a flare mark and a note; all of it in one
transaction, after every value was checked. Bad input ends in one line and exit code 2, and
nothing is stored.

Exit codes: 0 done; 2 bad input or a store problem.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from eczema_tracker.cli import CliError
from eczema_tracker.commands.common import INPUT_ERROR_CODE, open_store, print_help
from eczema_tracker.core.poem import POEM_ATTRIBUTION, POEM_MAX_ANSWER, POEM_QUESTIONS, score_poem
from eczema_tracker.store import StoreError
from eczema_tracker.store.record import (
    POTENCIES,
    TREATMENT_KINDS,
    UNCHANGED,
    CourseRecord,
    TreatmentRecord,
    parse_day,
    today,
)

#: Other words accepted for --kind (after lower-casing and turning '-' and ' ' into '_').
KIND_ALIASES = {
    "steroid": "topical_corticosteroid",
    "corticosteroid": "topical_corticosteroid",
    "tcs": "topical_corticosteroid",
    "calcineurin_inhibitor": "topical_calcineurin_inhibitor",
    "tci": "topical_calcineurin_inhibitor",
    "systemic": "systemic_biologic",
    "biologic": "systemic_biologic",
}


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``checkin`` and ``treatments add|list|course``."""
    p = subparsers.add_parser(
        "checkin",
        parents=[common],
        help="record a POEM check-in, today's itch and sleep numbers, a flare or a note",
        description="Store, for one date (default today), any of: a POEM check-in, the itch "
        "and sleep-loss numbers, a flare mark and a note. Everything given is checked first "
        "and stored together, or nothing is. POEM: "
        + " ".join(f"({i}) {q}" for i, q in enumerate(POEM_QUESTIONS, start=1))
        + " Answers: 0 no days, 1 1-2 days, 2 3-4 days, 3 5-6 days, 4 every day. "
        + POEM_ATTRIBUTION,
    )
    p.add_argument("--date", default=None, metavar="YYYY-MM-DD", help="the day (default today)")
    p.add_argument(
        "--poem",
        default=None,
        metavar="A,B,C,D,E,F,G",
        help="the seven POEM answers 0-4 in order, separated by commas; '-' or nothing "
        "between two commas leaves a question unanswered",
    )
    p.add_argument("--itch", default=None, metavar="N", help="peak itch over the last 24 h, 0-10")
    p.add_argument("--sleep", default=None, metavar="N", help="sleep loss last night, 0-10")
    p.add_argument(
        "--flare",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="mark the day as a flare (--no-flare removes the mark)",
    )
    p.add_argument("--note", default=None, metavar="TEXT", help="the day's note ('' clears it)")
    p.add_argument("--json", action="store_true", help="print the day as one JSON object")
    p.set_defaults(func=run_checkin)

    treatments = subparsers.add_parser(
        "treatments",
        parents=[common],
        help="add, list or record courses of the treatments you use",
        description="Keep a short list of your treatments and record when you used them.",
    )
    actions = treatments.add_subparsers(dest="treatments_command", metavar="ACTION")
    p = actions.add_parser("add", parents=[common], help="add a treatment to your list")
    p.add_argument("name", metavar="NAME", help="e.g. 'Hydrocortisone 1% cream'")
    p.add_argument(
        "--kind", required=True, metavar="KIND", help=f"one of: {', '.join(TREATMENT_KINDS)}"
    )
    p.add_argument(
        "--potency",
        default=None,
        metavar="P",
        help=f"a topical corticosteroid's potency: {', '.join(POTENCIES)}",
    )
    p.add_argument("--json", action="store_true", help="print the treatment as JSON")
    p.set_defaults(func=run_treatments_add)
    p = actions.add_parser("list", parents=[common], help="list your treatments and courses")
    p.add_argument("--json", action="store_true", help="print one JSON object per treatment")
    p.set_defaults(func=run_treatments_list)
    p = actions.add_parser("course", parents=[common], help="record a course of a treatment")
    p.add_argument("name", metavar="NAME", help="the treatment (see `treatments list`)")
    p.add_argument("--start", required=True, metavar="YYYY-MM-DD", help="first day")
    p.add_argument("--end", default=None, metavar="YYYY-MM-DD", help="last day (omit: ongoing)")
    p.add_argument("--times-a-day", default=None, metavar="N", help="applications a day, 1-24")
    p.add_argument("--json", action="store_true", help="print the course as JSON")
    p.set_defaults(func=run_treatments_course)
    p = actions.add_parser("end", parents=[common], help="end the ongoing course of a treatment")
    p.add_argument("name", metavar="NAME", help="the treatment (see `treatments list`)")
    p.add_argument(
        "--date", default=None, metavar="YYYY-MM-DD", help="the course's last day (default today)"
    )
    p.add_argument(
        "--start",
        default=None,
        metavar="YYYY-MM-DD",
        help="the start of the ongoing course to end (needed only when it has several)",
    )
    p.add_argument("--json", action="store_true", help="print the course as JSON")
    p.set_defaults(func=run_treatments_end)
    p = actions.add_parser("edit", parents=[common], help="rename a treatment or change its kind")
    p.add_argument("name", metavar="NAME", help="the treatment (see `treatments list`)")
    p.add_argument("--name", dest="new_name", default=None, metavar="NEW", help="its new name")
    p.add_argument(
        "--kind", default=None, metavar="KIND", help=f"one of: {', '.join(TREATMENT_KINDS)}"
    )
    p.add_argument(
        "--potency",
        default=None,
        metavar="P",
        help=f"a topical corticosteroid's potency: {', '.join(POTENCIES)}",
    )
    p.add_argument("--json", action="store_true", help="print the treatment as JSON")
    p.set_defaults(func=run_treatments_edit)
    p = actions.add_parser("delete", parents=[common], help="delete a treatment from your list")
    p.add_argument("name", metavar="NAME", help="the treatment (see `treatments list`)")
    p.add_argument(
        "--with-courses",
        action="store_true",
        help="also delete its courses from the record (without this, one with courses is kept)",
    )
    p.set_defaults(func=run_treatments_delete)
    treatments.set_defaults(func=lambda _args: print_help(treatments))


# -- helpers --------------------------------------------------------------------------------------
def _sentence(exc: Exception) -> str:
    """The store's sentence, in the CLI's style (lower-case start, no full stop)."""
    text = str(exc).rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _day(text: str | None, flag: str) -> str:
    try:
        return (today() if text is None else parse_day(text, flag)).isoformat()
    except StoreError as exc:
        raise CliError(_sentence(exc), INPUT_ERROR_CODE) from None


def _whole(text: str | None, flag: str, low: int, high: int) -> int | None:
    if text is None:
        return None
    try:
        value = int(text.strip())
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise CliError(f"{flag} must be a whole number {low}-{high} (got '{text}')")
    return value


def parse_poem(text: str) -> tuple[int | None, ...]:
    """``--poem A,B,C,D,E,F,G``: seven answers 0-4; ``-`` or empty is unanswered."""
    items = [item.strip() for item in text.split(",")]
    if len(items) != len(POEM_QUESTIONS):
        raise CliError(
            f"--poem needs {len(POEM_QUESTIONS)} answers separated by commas, one per POEM "
            f"question (got {len(items)})"
        )
    answers: list[int | None] = []
    for number, item in enumerate(items, start=1):
        if item in ("", "-"):
            answers.append(None)
            continue
        answers.append(_whole(item, f"--poem answer {number}", 0, POEM_MAX_ANSWER))
    return tuple(answers)


def _kind(text: str) -> str:
    key = "_".join(text.strip().lower().replace("-", " ").replace("/", " ").split())
    key = KIND_ALIASES.get(key, key)
    if key not in TREATMENT_KINDS:
        raise CliError(f"--kind must be one of {', '.join(TREATMENT_KINDS)} (got '{text}')")
    return key


def _potency(text: str | None) -> str | None:
    if text is None:
        return None
    key = "_".join(text.strip().lower().replace("-", " ").split())
    if key not in POTENCIES:
        raise CliError(f"--potency must be one of {', '.join(POTENCIES)} (got '{text}')")
    return key


# -- checkin --------------------------------------------------------------------------------------
def run_checkin(args: argparse.Namespace) -> int:
    """``eczema-tracker checkin [--date D] [--poem ...] [--itch N] [--sleep N] [--flare] ...``."""
    day = _day(args.date, "--date")
    answers = None if args.poem is None else parse_poem(args.poem)
    itch = _whole(args.itch, "--itch", 0, 10)
    sleep = _whole(args.sleep, "--sleep", 0, 10)
    given = (answers, itch, sleep, args.flare, args.note)
    if all(value is None for value in given):
        raise CliError("nothing to record: give --poem, --itch, --sleep, --flare or --note")
    with open_store(args.data_dir, describe=_sentence) as store:
        store.record_day(
            day,
            answers=answers,
            itch=UNCHANGED if itch is None else itch,
            sleep_loss=UNCHANGED if sleep is None else sleep,
            flare=UNCHANGED if args.flare is None else args.flare,
            note=UNCHANGED if args.note is None else args.note,
        )
        entry = store.day_entry(day)
    score = None if entry.checkin is None else entry.checkin.score
    row = {
        "date": day,
        "poem_total": None if score is None else score.total,
        "poem_band": None if score is None else score.band,
        "itch": None if entry.daily is None else entry.daily.itch,
        "sleep": None if entry.daily is None else entry.daily.sleep_loss,
    }
    if answers is not None and score_poem(answers).unanswered:
        print(f"eczema-tracker: note: {score_poem(answers).explanation}", file=sys.stderr)
    if args.json:
        print(json.dumps(row))
        return 0
    parts = []
    if score is not None:
        parts.append(f"POEM {score.total}/28 ({score.band})" if score.scored else "POEM not scored")
    if row["itch"] is not None:
        parts.append(f"itch {row['itch']}/10")
    if row["sleep"] is not None:
        parts.append(f"sleep loss {row['sleep']}/10")
    if entry.mark is not None and entry.mark.flare:
        parts.append("flare")
    if entry.mark is not None and entry.mark.note:
        parts.append(f"note: {entry.mark.note}")
    print(f"{day}: " + ("; ".join(parts) or "nothing recorded"))
    return 0


# -- treatments -----------------------------------------------------------------------------------
def _course_row(course: CourseRecord) -> dict[str, Any]:
    return {
        "id": course.id,
        "treatment": course.treatment_name,
        "start": course.start.isoformat(),
        "end": None if course.end is None else course.end.isoformat(),
        "times_a_day": course.times_a_day,
    }


def _treatment_row(treatment: TreatmentRecord, courses: list[CourseRecord]) -> dict[str, Any]:
    return {
        "id": treatment.id,
        "name": treatment.name,
        "kind": treatment.kind,
        "potency": treatment.potency,
        "courses": [_course_row(c) for c in courses],
    }


def _treatment_text(treatment: TreatmentRecord) -> str:
    potency = "" if treatment.potency is None else f", {treatment.potency.replace('_', ' ')}"
    return f"{treatment.name} ({treatment.kind_label}{potency})"


def _course_text(course: CourseRecord) -> str:
    end = "ongoing" if course.end is None else course.end.isoformat()
    times = "" if course.times_a_day is None else f", {course.times_a_day} time(s) a day"
    return f"{course.start.isoformat()} to {end}{times}"


def run_treatments_add(args: argparse.Namespace) -> int:
    """``eczema-tracker treatments add NAME --kind KIND [--potency P]``."""
    kind = _kind(args.kind)
    potency = _potency(args.potency)
    with open_store(args.data_dir, describe=_sentence) as store:
        treatment = store.add_treatment(args.name, kind, potency)
    if args.json:
        print(json.dumps(_treatment_row(treatment, [])))
    else:
        print(f"added treatment {_treatment_text(treatment)}")
    return 0


def run_treatments_list(args: argparse.Namespace) -> int:
    """``eczema-tracker treatments list [--json]``."""
    with open_store(args.data_dir, readonly=True, describe=_sentence) as store:
        rows = [(t, store.courses(t.id)) for t in store.treatments()]
    for treatment, courses in rows:
        if args.json:
            print(json.dumps(_treatment_row(treatment, courses)))
            continue
        print(_treatment_text(treatment))
        for course in courses:
            print(f"    {_course_text(course)}")
    if not rows and not args.json:
        print(
            "no treatments yet (add one with `eczema-tracker treatments add NAME --kind KIND`)",
            file=sys.stderr,
        )
    return 0


def _find(store: Any, name: str) -> TreatmentRecord:
    """The treatment called ``name`` (any case), else a one-line CliError naming the known ones."""
    treatment = store.find_treatment(name)
    if treatment is None:
        known = ", ".join(f"'{t.name}'" for t in store.treatments()) or "none yet"
        raise CliError(
            f"there is no treatment '{name}' (your treatments: {known}; add one with "
            "`eczema-tracker treatments add`)"
        )
    return treatment


def run_treatments_course(args: argparse.Namespace) -> int:
    """``eczema-tracker treatments course NAME --start D [--end D] [--times-a-day N]``."""
    start = _day(args.start, "--start")
    end = None if args.end is None else _day(args.end, "--end")
    times = _whole(args.times_a_day, "--times-a-day", 1, 24)
    if end is not None and end < start:
        raise CliError(
            f"--end {end} is before --start {start}; a course cannot end before it starts"
        )
    with open_store(args.data_dir, describe=_sentence) as store:
        treatment = _find(store, args.name)
        course = store.add_course(treatment.id, start, end, times)
    if args.json:
        print(json.dumps(_course_row(course)))
    else:
        print(f"recorded a course of {_treatment_text(treatment)}: {_course_text(course)}")
    return 0


def run_treatments_end(args: argparse.Namespace) -> int:
    """``eczema-tracker treatments end NAME [--date D] [--start S]``: the ongoing course ends
    on D (today). A store from before overlapping courses were refused may hold several ongoing
    courses of one treatment: then ``--start`` says which, and without it nothing is changed."""
    end = _day(args.date, "--date")
    start = None if args.start is None else _day(args.start, "--start")
    with open_store(args.data_dir, describe=_sentence) as store:
        treatment = _find(store, args.name)
        ongoing = [c for c in store.courses(treatment.id) if c.end is None]
        if start is not None:
            ongoing = [c for c in ongoing if c.start.isoformat() == start]
        if not ongoing:
            started = "" if start is None else f" that started on {start}"
            raise CliError(
                f"'{treatment.name}' has no ongoing course{started} to end (see "
                "`eczema-tracker treatments list`)"
            )
        if len(ongoing) > 1:
            starts = ", ".join(c.start.isoformat() for c in ongoing)
            raise CliError(
                f"'{treatment.name}' has {len(ongoing)} ongoing courses (started {starts}); say "
                "which one to end with --start YYYY-MM-DD",
                INPUT_ERROR_CODE,
            )
        course = ongoing[0]
        if end < course.start.isoformat():
            raise CliError(
                f"--date {end} is before the course's start {course.start.isoformat()}; a course "
                "cannot end before it starts"
            )
        course = store.end_course(course.id, end)
    if args.json:
        print(json.dumps(_course_row(course)))
    else:
        print(f"ended the course of {_treatment_text(treatment)}: {_course_text(course)}")
    return 0


def run_treatments_edit(args: argparse.Namespace) -> int:
    """``eczema-tracker treatments edit NAME [--name NEW] [--kind KIND] [--potency P]``."""
    if args.new_name is None and args.kind is None and args.potency is None:
        raise CliError("nothing to change: give --name, --kind or --potency")
    kind = UNCHANGED if args.kind is None else _kind(args.kind)
    potency = UNCHANGED if args.potency is None else _potency(args.potency)
    name = UNCHANGED if args.new_name is None else args.new_name
    with open_store(args.data_dir, describe=_sentence) as store:
        treatment = _find(store, args.name)
        changed = store.update_treatment(treatment.id, name=name, kind=kind, potency=potency)
        courses = store.courses(changed.id)
    if args.json:
        print(json.dumps(_treatment_row(changed, courses)))
    else:
        print(f"changed {_treatment_text(treatment)} to {_treatment_text(changed)}")
    return 0


def run_treatments_delete(args: argparse.Namespace) -> int:
    """``eczema-tracker treatments delete NAME [--with-courses]``."""
    with open_store(args.data_dir, describe=_sentence) as store:
        treatment = _find(store, args.name)
        n = len(store.courses(treatment.id))
        if n and not args.with_courses:
            raise CliError(
                f"'{treatment.name}' has {n} course(s) in the record; add --with-courses to "
                "delete them too"
            )
        deleted = store.delete_treatment(treatment.id, with_courses=args.with_courses)
    more = f" and its {deleted} course(s)" if deleted else ""
    print(f"deleted treatment {_treatment_text(treatment)}{more}")
    return 0


# -- export --csv ---------------------------------------------------------------------------------
def run_export_csv(args: argparse.Namespace) -> int:
    """``eczema-tracker export --csv DIR``: every record kind as a CSV file, and a README.txt.

    For ``store_commands``' ``export`` (reads ``args.csv`` and ``args.data_dir``); the store is
    opened read-only, so the app may have it open at the same time.
    """
    from eczema_tracker.store.csv_export import README_NAME, export_csv

    with open_store(args.data_dir, readonly=True, describe=_sentence) as store:
        summary = export_csv(store, args.csv)
    counts = ", ".join(f"{name} {n}" for name, n in summary.rows.items())
    print(
        f"wrote {len(summary.rows)} CSV files and {README_NAME} to {summary.folder} ({counts} rows)"
    )
    return 0
