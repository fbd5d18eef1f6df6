"""What a report is asked for: the date range, body sites, name and paper, checked.

:func:`check_request` turns what a person typed (on the command line or in the dialog) into a
:class:`ReportRequest`, or refuses it with one sentence (:class:`ReportInputError`);
:func:`default_paper` picks US Letter for US and Canadian locales, A4 elsewhere. No Qt.
"""

from __future__ import annotations

import locale
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from eczema_tracker.core.errors import UserError

#: Paper sizes the report is laid out for: name -> (width, height) in inches.
PAPER_SIZES: dict[str, tuple[float, float]] = {"a4": (8.27, 11.69), "letter": (8.5, 11.0)}
#: Countries whose locale gets US Letter by default (everyone else gets A4).
LETTER_COUNTRIES = frozenset({"US", "CA"})


class ReportInputError(UserError):
    """A report request that cannot be made (one sentence); nothing was written."""


@dataclass(frozen=True)
class ReportRequest:
    """What to report: a date range (inclusive), body sites (empty: every site with photos in
    the range), an optional name for the header, and the paper size (``a4`` or ``letter``)."""

    from_day: date
    to_day: date
    sites: tuple[str, ...] = ()
    name: str = ""
    paper: str = "a4"


#: The longest range a report covers unless asked: a year, the doctor's view of the course.
DEFAULT_MAX_DAYS = 365
#: The range of a report of an empty record unless asked: the last 3 months.
EMPTY_RECORD_DAYS = 91


def default_range(first_recorded: date | None, today: date) -> tuple[date, date]:
    """The report's range unless the person picks one: from the record's first day (at most a
    year back) to ``today``, so the charts span the record rather than a fixed window that
    leaves most of them empty. An empty record gets the last 3 months."""
    if first_recorded is None:
        return today - timedelta(days=EMPTY_RECORD_DAYS - 1), today
    earliest = today - timedelta(days=DEFAULT_MAX_DAYS - 1)
    return min(today, max(first_recorded, earliest)), today


# -- the request ----------------------------------------------------------------------------------
def parse_report_day(value: date | str, flag: str) -> date:
    """A date from ``YYYY-MM-DD`` text (or a date); :class:`ReportInputError` otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or len(text) != 10:
        raise ReportInputError(f"{flag} '{value}' is not a date (write it as YYYY-MM-DD)")
    return parsed


def default_paper(locale_name: str | None = None) -> str:
    """``letter`` for US and Canadian locales, else ``a4``.

    ``locale_name`` (e.g. ``en_US.UTF-8``) defaults to the environment's paper locale
    (``LC_ALL``, ``LC_PAPER``, ``LANG``), then Python's idea of the current locale.
    """
    if locale_name is None:
        for key in ("LC_ALL", "LC_PAPER", "LANG"):
            if os.environ.get(key):
                locale_name = os.environ[key]
                break
        else:
            try:
                locale_name = locale.getlocale()[0] or ""
            except ValueError:
                locale_name = ""
    base = locale_name.split(".")[0].split("@")[0]
    country = base.replace("-", "_").split("_")[1].upper() if "_" in base.replace("-", "_") else ""
    return "letter" if country in LETTER_COUNTRIES else "a4"


def check_request(
    from_day: date | str,
    to_day: date | str,
    *,
    sites: Sequence[str] = (),
    name: str | None = None,
    paper: str | None = None,
    known_sites: Sequence[str] | None = None,
) -> ReportRequest:
    """The request, or :class:`ReportInputError` (one sentence) for a date that does not parse,
    a range that ends before it starts, an unknown paper size or (with ``known_sites``) a body
    site that has no photos."""
    first = parse_report_day(from_day, "--from")
    last = parse_report_day(to_day, "--to")
    if first > last:
        raise ReportInputError(
            f"the range from {first.isoformat()} to {last.isoformat()} ends before it starts"
        )
    paper_name = (paper or default_paper()).strip().lower()
    if paper_name not in PAPER_SIZES:
        raise ReportInputError(f"the paper is one of {', '.join(PAPER_SIZES)}, not '{paper}'")
    chosen = tuple(dict.fromkeys(" ".join(str(s).split()).lower() for s in sites if s.strip()))
    if known_sites is not None:
        unknown = [s for s in chosen if s not in set(known_sites)]
        if unknown:
            known = ", ".join(f"'{s}'" for s in known_sites) or "none yet"
            raise ReportInputError(
                f"no photos have the body site '{unknown[0]}' (the body sites: {known})"
            )
    return ReportRequest(first, last, chosen, " ".join((name or "").split()), paper_name)
