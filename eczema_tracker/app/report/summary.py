"""Page 1's summary of the report: the POEM row, itch and sleep per week (or month), per body
site the lesion area and predicted severity, and the sentence naming the masks and the model.

Laid out on a :class:`~eczema_tracker.app.report.document.ReportDocument`; no Qt.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from eczema_tracker.app.report.data import PeriodNumbers, ReportData, SiteReport
from eczema_tracker.app.report.document import MUTED, Column, ReportDocument
from eczema_tracker.app.trust.agreement import UNRELIABLE_COLOR, UNRELIABLE_MARK
from eczema_tracker.app.trust.familiarity_text import (
    UNFAMILIAR_COLOR,
    UNFAMILIAR_EXPLAINED,
    UNFAMILIAR_MARK,
)
from eczema_tracker.core.poem import POEM_MAX_TOTAL
from eczema_tracker.core.severity_scale import band_of_score, class_name

#: Columns (weeks or months) per row block of the itch/sleep table (3 months of weeks fit
#: one), and row blocks at most; longer ranges are shown per month.
PERIODS_PER_BLOCK = 14
MAX_BLOCKS = 2


def day_text(day: date) -> str:
    """``3 Sep 2026``."""
    return f"{day.day} {day:%b %Y}"


def short_day(day: date) -> str:
    """``3 Sep``."""
    return f"{day.day} {day:%b}"


def week_heading(day: date) -> str:
    """A week column's heading: ``3 Sep`` over ``2026`` (a year-long table spans two years)."""
    return f"{short_day(day)}\n{day.year}"


def _signed(value: float, digits: int = 0, unit: str = "") -> str:
    text = f"{value:+.{digits}f}".replace("-", "\u2212")
    return f"{text}{unit}"


def pct(fraction: float | None) -> str:
    """``12.3%`` of a fraction (a dash for none)."""
    return "\u2013" if fraction is None else f"{100 * fraction:.1f}%"


def _poem_rows(data: ReportData) -> list[list[str]]:
    poem = data.poem
    # a date with several check-ins (an old store) counts its newest; the report says so
    older = f" ({poem.not_counted} older of the same date not counted)" if poem.not_counted else ""
    if not poem.totals:  # the words where there is room for them: the band column
        count = (f"0 (+{poem.unscored} not scored)" if poem.unscored else "0") + older
        return [["POEM (0\u201328)", "\u2013", "\u2013", "", "no scored check-in", count]]
    return [
        [
            f"POEM (0\u2013{POEM_MAX_TOTAL})",
            f"{poem.first} ({short_day(poem.days[0])})",
            f"{poem.last} ({short_day(poem.days[-1])})",
            _signed(poem.change or 0),
            f"{poem.first_band} \u2192 {poem.last_band}",
            str(len(poem.totals))
            + (f" (+{poem.unscored} not scored)" if poem.unscored else "")
            + older,
        ]
    ]


def _grade(score: float | None) -> str:
    """``moderate (2.1)``."""
    return "\u2013" if score is None else f"{class_name(band_of_score(score))} ({score:.1f})"


def _site_rows(
    sites: Sequence[SiteReport], *, grades: bool = True, mark_skin: bool = False
) -> list[list[str]]:
    """One row per site; the severity column only with ``grades``; with ``mark_skin`` a site
    whose areas are shares of the skin shown is marked \u00a7."""
    rows = []
    for site in sites:
        if not site.points:
            rows.append(
                [site.site, "0", "no photos in this range", "", "", ""][: 6 if grades else 5]
            )
            continue
        first_area, last_area, change = site.first_area, site.last_area, site.area_change
        graded = site.graded
        if graded:
            a, b = graded[0], graded[-1]
            severity = (
                f"{_grade(a.score)} \u2192 {_grade(b.score)}"
                if len(graded) > 1
                else _grade(b.score)
            )
        else:
            severity = "not predicted"
        unlike = len(site.unfamiliar)
        name = f"{site.site} \u00a7" if mark_skin and site.measure == "skin" else site.site
        row = [
            f"{name} {UNRELIABLE_MARK}" if site.unreliable else name,
            f"{len(site.points)}" + (f" ({unlike} {UNFAMILIAR_MARK})" if unlike else ""),
            pct(first_area),
            pct(last_area),
            "\u2013" if change is None else _signed(100 * change, 1, " pts"),
        ]
        rows.append([*row, severity] if grades else row)
    return rows


def _blocks(periods: Sequence[PeriodNumbers]) -> list[Sequence[PeriodNumbers]]:
    """The periods in blocks of at most :data:`PERIODS_PER_BLOCK`, as even as possible."""
    blocks = -(-len(periods) // PERIODS_PER_BLOCK)
    size = -(-len(periods) // max(1, blocks))
    return [periods[i : i + size] for i in range(0, len(periods), size)]


def _mean_text(value: float | None) -> str:
    return "\u2013" if value is None else f"{value:.1f}"


def _numbers_table(page: ReportDocument, data: ReportData) -> None:
    """Itch and sleep-loss averages per week (per month when the range is long); at most
    :data:`MAX_BLOCKS` rows of columns, the most recent."""
    if not data.weeks:
        page.text_line(
            "Itch and sleep loss (NRS 0\u201310): none recorded in this range.", size=8.5
        )
        return
    weekly = len(data.weeks) <= PERIODS_PER_BLOCK * MAX_BLOCKS
    periods = data.weeks if weekly else data.months
    label = "week (starting)" if weekly else "month"
    page.text_line(
        f"Itch (peak over 24 h) and sleep loss, NRS 0\u201310: average per {label}",
        size=8.5,
        bold=True,
    )
    blocks = _blocks(periods)
    for block in blocks[-MAX_BLOCKS:]:
        label_width = 0.8
        width = (page.epw - label_width) / PERIODS_PER_BLOCK
        columns = [Column("", label_width)] + [
            Column(week_heading(p.start) if weekly else f"{p.start:%b %y}", width, "right")
            for p in block
        ]
        rows = [
            ["itch"] + [_mean_text(p.itch_mean) for p in block],
            ["sleep loss"] + [_mean_text(p.sleep_mean) for p in block],
        ]
        page.table_of(columns, rows, size=7)
    hidden = sum(len(b) for b in blocks[:-MAX_BLOCKS])
    if hidden:
        page.text_line(
            f"{hidden} earlier {'weeks' if weekly else 'months'} are not in the table; the "
            "timeline shows them.",
            size=7.5,
            color=MUTED,
        )


def summary(page: ReportDocument, data: ReportData) -> None:
    """The "Summary" section at the cursor: POEM, itch and sleep, body sites, the model."""
    page.heading("Summary")
    page.table_of(
        [
            Column("Measure", 1.25),
            Column("First", 1.05),
            Column("Last", 1.05),
            Column("Change", 0.8, "right"),
            Column("Band (first \u2192 last)", 2.0),
            Column("Check-ins", 0.95, "right"),
        ],
        _poem_rows(data),
    )
    page.space(0.08)
    _numbers_table(page, data)
    page.space(0.08)
    if data.sites:
        grades = not data.no_grades_reason
        measures = {s.measure for s in data.sites if s.model_areas}
        share = (
            "share of the skin shown"
            if measures == {"skin"}
            else "share of the skin shown for sites marked \u00a7, else of the photo"
            if "skin" in measures
            else "share of the photo"
        )
        page.text_line(
            f"Lesion area ({share})"
            + (" and predicted severity" if grades else "")
            + ", first \u2192 last photo",
            size=8.5,
            bold=True,
        )
        columns = [
            Column("Body site", 1.45),
            Column("Photos", 0.8, "right"),
            Column("Area first", 0.9, "right"),
            Column("Area last", 0.9, "right"),
            Column("Change", 0.82, "right"),
        ]
        if grades:
            columns.append(Column("Predicted severity (0\u20133)", 2.2, "right"))
        page.table_of(columns, _site_rows(data.sites, grades=grades, mark_skin=len(measures) > 1))
        page.paragraph(model_sentence(data), size=7.5, color=MUTED)
        for line in unreliable_lines(data):
            page.footnote(UNRELIABLE_MARK, line, mark_color=UNRELIABLE_COLOR)
        footnote = unfamiliar_footnote(data)
        if footnote:
            page.footnote(UNFAMILIAR_MARK, footnote, mark_color=UNFAMILIAR_COLOR)
    else:
        page.text_line("Photos: none taken in this range.", size=8.5)


def model_sentence(data: ReportData) -> str:
    """The line under the site table: whose masks the areas are of, and the severity model
    whose grades are printed with its agreement against the majority guess (or, when there are
    no grades, why)."""
    masks = (
        "Areas are the app's segmentation of each photo (for an example photo, from the "
        "site's other examples), so first and last compare like with like; an area the "
        "patient painted is shown apart, as \u201cpainted\u201d."
    )
    if data.no_grades_reason or not data.models:
        return f"{masks} {data.no_grades_reason or 'No severity model scored these photos.'}"
    return (
        f"{masks} Severity (0 none, 1 mild, 2 moderate, 3 severe): grades by "
        + "; ".join(m.describe() for m in data.models)
        + "."
    )


def unreliable_lines(data: ReportData) -> list[str]:
    """One line per body site whose results are not reliable yet (after its mark,
    :data:`~eczema_tracker.app.trust.UNRELIABLE_MARK`): why, and how its results are marked."""
    return [
        f"{site.site}: {site.reliability.reason}. Its areas and severities may be wrong "
        f"({UNRELIABLE_MARK} in the table, hollow markers on the timeline)."
        for site in data.sites
        if site.unreliable and site.reliability is not None
    ]


def unfamiliar_footnote(data: ReportData) -> str:
    """The footnote (after its mark, :data:`UNFAMILIAR_MARK`) explaining the mark of photos
    unlike the example photos, with how many there are ('' when none is marked)."""
    marked = sum(len(s.unfamiliar) for s in data.sites)
    if not marked:
        return ""
    total = data.photo_count
    return (
        f"{UNFAMILIAR_EXPLAINED}: {marked} of {total} photo{'s' if total != 1 else ''} in this "
        f"range ({UNFAMILIAR_MARK} in the Photos column and on the photos, hollow markers on "
        "the timeline)."
    )
