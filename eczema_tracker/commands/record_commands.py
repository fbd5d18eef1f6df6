"""``checkin [list|delete]`` and ``treatments add|list|course|end|edit|delete``: the patient's
record from the command line.

``checkin`` stores, for one date (default today), any of: a POEM check-in (seven answers 0-4),
the daily itch and sleep-loss numbers (NRS 0-10), a flare mark and a note; all of it in one
transaction, after every value was checked. A date has one POEM: a second is refused unless
``--replace`` is given. ``checkin list`` shows what is recorded, a date a line (``--json``: one
JSON object per line); ``checkin delete --date D`` deletes the parts named (``--poem``,
``--numbers``, ``--flare``, ``--note``), or with none of them the whole date, once ``--yes``
confirms it. Bad input ends in one line and exit code 2, and nothing is stored.

Exit codes: 0 done; 2 bad input or a store problem.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from typing import Any

from eczema_tracker.cli import CliError
from eczema_tracker.commands.common import (
    INPUT_ERROR_CODE,
    escape_control_characters,
    open_store,
    print_help,
)
from eczema_tracker.core.poem import POEM_ATTRIBUTION, POEM_MAX_ANSWER, POEM_QUESTIONS, score_poem
from eczema_tracker.store import StoreError
from eczema_tracker.store.record.values import (
    POTENCIES,
    TREATMENT_KINDS,
    UNCHANGED,
    CheckinRecord,
    CourseRecord,
    RecordedDay,
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
        help="record a POEM check-in, today's itch and sleep numbers, a flare or a note; "
        "list or delete what is recorded",
        description="Store, for one date (default today), any of: a POEM check-in, the itch "
        "and sleep-loss numbers, a flare mark and a note. Everything given is checked first "
        "and stored together, or nothing is. A day has one POEM: a second is refused unless "
        "--replace is given. `checkin list` shows what is recorded; `checkin delete` deletes it. "
        "POEM: "
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
    p.add_argument(
        "--replace",
        action="store_true",
        help="replace the day's POEM check-in (without this, a day that has one keeps it and "
        "nothing is stored)",
    )
    p.add_argument("--json", action="store_true", help="print the day as one JSON object")
    p.set_defaults(func=run_checkin)
    _register_checkin_actions(p, common)

    treatments = subparsers.add_parser(
        "treatments",
        parents=[common],
        help="add, list or record courses of the treatments you use",
        description="Keep a short list of your treatments and record when you used them.",
    )
    actions = treatments.add_subparsers(dest="treatments_command", metavar="ACTION")
    p = actions.add_parser("add", parents=[common], help="add a treatment to your list")
    p.add_argument("name", metavar="NAME", help="e.g. 'Hydrocortisone 1%% cream'")
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


def _register_checkin_actions(
    checkin: argparse.ArgumentParser, common: argparse.ArgumentParser
) -> None:
    """``checkin list`` and ``checkin delete`` (``checkin`` alone records, as before)."""
    actions = checkin.add_subparsers(
        dest="checkin_command", metavar="[ACTION]", title="to see or correct what is recorded"
    )
    p = actions.add_parser(
        "list",
        parents=[common],
        help="list what is recorded, a day a line",
        description="List every day with something recorded (POEM, itch and sleep-loss "
        "numbers, flare, note), oldest first. --json prints one JSON object per line (JSON "
        "Lines), a day each: date, poem_total (null: no POEM, or not scored), poem_band, "
        "poem_answers (null: no POEM), older_poems (older check-ins of the same day, from "
        "before one a day was the rule; not counted), itch, sleep, flare, note.",
    )
    p.add_argument("--from", dest="from_day", default=None, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="to_day", default=None, metavar="YYYY-MM-DD")
    p.add_argument("--json", action="store_true", help="one JSON object per line, a day each")
    p.set_defaults(func=run_checkin_list)
    p = actions.add_parser(
        "delete",
        parents=[common],
        help="delete what is recorded on a day (or parts of it)",
        description="Delete the parts of a day named (--poem, --numbers, --flare, --note). "
        "With none of them, the whole day: it prints what that would delete, and deletes it "
        "only when --yes is given too. What was deleted is printed, with the command that "
        "records it again.",
    )
    p.add_argument("--date", dest="delete_day", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--poem", dest="delete_poem", action="store_true", help="the POEM check-in")
    p.add_argument(
        "--numbers", action="store_true", help="the itch and sleep-loss numbers of the day"
    )
    p.add_argument("--flare", dest="delete_flare", action="store_true", help="the flare mark")
    p.add_argument("--note", dest="delete_note", action="store_true", help="the note")
    p.add_argument("--yes", action="store_true", help="delete the whole day (no part named)")
    p.set_defaults(func=run_checkin_delete)


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
    replaced: CheckinRecord | None = None
    with open_store(args.data_dir, describe=_sentence) as store:
        if answers is not None:
            replaced = store.day_entry(day).checkin
            if replaced is not None and not args.replace:
                raise CliError(
                    f"{day} has a POEM check-in already ({_poem_text(replaced)}) and nothing was "
                    "stored; add --replace to replace it (see `eczema-tracker checkin list`)",
                    INPUT_ERROR_CODE,
                )
        store.record_day(
            day,
            answers=answers,
            replace_checkin=args.replace,
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
    if replaced is not None:
        print(
            f"eczema-tracker: note: replaced the POEM of {day} ({_poem_text(replaced)}, "
            f"answers {_answers_text(replaced.answers)})",
            file=sys.stderr,
        )
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
        parts.append(f"note: {escape_control_characters(entry.mark.note)}")
    print(f"{day}: " + ("; ".join(parts) or "nothing recorded"))
    return 0


def _poem_text(checkin: CheckinRecord) -> str:
    """``POEM 18/28 (moderate)`` or ``POEM not scored``."""
    score = checkin.score
    return f"POEM {score.total}/28 ({score.band})" if score.scored else "POEM not scored"


def _answers_text(answers: tuple[int | None, ...]) -> str:
    """``4,3,-,0,2,3,3``: as ``--poem`` takes them."""
    return ",".join("-" if a is None else str(a) for a in answers)


def _day_json(day: RecordedDay) -> dict[str, Any]:
    checkin = day.checkin
    return {
        "date": day.day.isoformat(),
        "poem_total": None if checkin is None else checkin.total,
        "poem_band": None if checkin is None else checkin.band,
        "poem_answers": None if checkin is None else list(checkin.answers),
        "older_poems": [
            {"poem_total": c.total, "poem_answers": list(c.answers), "created_at": c.created_at}
            for c in day.older_checkins
        ],
        "itch": day.itch,
        "sleep": day.sleep_loss,
        "flare": day.flare,
        "note": day.note,
    }


def _day_parts(
    day: RecordedDay,
    *,
    poem: bool = True,
    numbers: bool = True,
    flare: bool = True,
    note: bool = True,
) -> list[str]:
    """What is recorded on the day (of the parts asked), in words."""
    parts = []
    if poem:
        parts += [_poem_text(c) for c in reversed(day.checkins)]
    if numbers and day.itch is not None:
        parts.append(f"itch {day.itch}/10")
    if numbers and day.sleep_loss is not None:
        parts.append(f"sleep loss {day.sleep_loss}/10")
    if flare and day.flare:
        parts.append("flare")
    if note and day.note:
        parts.append(f"note: {escape_control_characters(day.note)}")
    return parts


def run_checkin_list(args: argparse.Namespace) -> int:
    """``eczema-tracker checkin list [--from D] [--to D] [--json]``."""
    low = None if args.from_day is None else _day(args.from_day, "--from")
    high = None if args.to_day is None else _day(args.to_day, "--to")
    if low is not None and high is not None and high < low:
        raise CliError(f"--to {high} is before --from {low}")
    with open_store(args.data_dir, readonly=True, describe=_sentence) as store:
        days = store.recorded_days(low, high)
    for day in days:
        if args.json:
            print(json.dumps(_day_json(day)))
            continue
        line = f"{day.day.isoformat()}: " + "; ".join(_day_parts(day, poem=False) or ["-"])
        if day.checkin is not None:
            line = f"{day.day.isoformat()}: " + "; ".join(
                [_poem_text(day.checkin), *_day_parts(day, poem=False)]
            )
        print(line)
        for older in reversed(day.older_checkins):
            print(
                f"    also an older {_poem_text(older)} of this day, not counted (made "
                f"{older.created_at[:16].replace('T', ' ')}; `checkin delete --date "
                f"{day.day.isoformat()} --poem` deletes the day's POEMs)"
            )
    if not days and not args.json:
        print(
            "nothing recorded in that range" if low or high else "nothing recorded yet",
            file=sys.stderr,
        )
    return 0


def _again_command(day: RecordedDay, *, poem: bool, numbers: bool, flare: bool, note: bool) -> str:
    """The ``checkin`` command that records the deleted parts again."""
    words = [f"eczema-tracker checkin --date {day.day.isoformat()}"]
    if poem and day.checkin is not None:
        words.append(f"--poem {_answers_text(day.checkin.answers)}")
    if numbers and day.itch is not None:
        words.append(f"--itch {day.itch}")
    if numbers and day.sleep_loss is not None:
        words.append(f"--sleep {day.sleep_loss}")
    if flare and day.flare:
        words.append("--flare")
    if note and day.note:
        words.append("--note " + _shell_word(day.note))
    return " ".join(words)


def _shell_word(text: str) -> str:
    """``text`` quoted for a POSIX shell, with no control character printed raw: plain quoting,
    or bash's ``$'...'`` with escapes when the text holds a newline, tab or other control."""
    if all(ch.isprintable() for ch in text):
        return shlex.quote(text)
    named = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    body = "".join(
        named.get(
            ch,
            ch
            if ch.isprintable()
            else f"\\x{ord(ch):02x}"
            if ord(ch) < 256
            else f"\\u{ord(ch):04x}",
        )
        for ch in text
    )
    return f"$'{body}'"


def run_checkin_delete(args: argparse.Namespace) -> int:
    """``eczema-tracker checkin delete --date D [--poem] [--numbers] [--flare] [--note] [--yes]``."""
    day = _day(args.delete_day, "--date")
    named = {
        "poem": args.delete_poem,
        "numbers": args.numbers,
        "flare": args.delete_flare,
        "note": args.delete_note,
    }
    whole_day = not any(named.values())
    parts = dict.fromkeys(named, True) if whole_day else named
    with open_store(args.data_dir, describe=_sentence) as store:
        current = store.recorded_day(day)
        there = _day_parts(current, **parts)
        if not there:
            what = "nothing recorded" if whole_day else "none of that recorded"
            raise CliError(f"{day} has {what}; nothing was deleted")
        if whole_day and not args.yes:
            raise CliError(
                f"this would delete everything recorded on {day} ({'; '.join(there)}); add --yes "
                "to delete it, or name the parts to delete (--poem, --numbers, --flare, --note)"
            )
        before = store.remove_from_day(day, **parts)
    print(f"deleted from {day}: " + "; ".join(_day_parts(before, **parts)))
    missing = [
        name
        for name, on in named.items()
        if on and not _day_parts(before, **{k: k == name for k in named})
    ]
    if missing:
        words = {"poem": "POEM", "numbers": "numbers", "flare": "flare mark", "note": "note"}
        print(
            f"eczema-tracker: note: {day} had no {', no '.join(words[m] for m in missing)} to "
            "delete",
            file=sys.stderr,
        )
    print(f"to record it again: {_again_command(before, **parts)}")
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
    return f"{escape_control_characters(treatment.name)} ({treatment.kind_label}{potency})"


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
            escape_control_characters(
                f"there is no treatment '{name}' (your treatments: {known}; add one with "
                "`eczema-tracker treatments add`)"
            )
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
                escape_control_characters(
                    f"'{treatment.name}' has no ongoing course{started} to end "
                )
                + "(see `eczema-tracker treatments list`)"
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
                escape_control_characters(f"'{treatment.name}' has {n} course(s) in the record; ")
                + "add --with-courses to delete them too"
            )
        deleted = store.delete_treatment(treatment.id, with_courses=args.with_courses)
    more = f" and its {deleted} course(s)" if deleted else ""
    print(f"deleted treatment {_treatment_text(treatment)}{more}")
    return 0


# -- export --csv ---------------------------------------------------------------------------------
def run_export_csv(args: argparse.Namespace) -> int:
    """``eczema-tracker export --csv DIR``: every record kind as a CSV file, and a README.txt,
    in a new folder ``DIR/eczema-record-YYYY-MM-DD`` (see ``store.csv_export``).

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
