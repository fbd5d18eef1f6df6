"""The report for the doctor as a PDF: 1-3 pages a clinician reads in a minute.

Page 1: the header (name, range, when it was made, "not a diagnosis"), the summary tables
(:mod:`.report_summary`: POEM first/last/change/band, itch and sleep averages per week, per body
site the lesion area and the predicted severity with the model that predicted it) and the
timeline figure (:mod:`.timeline_figure`, as in the app). Page 2 (when the range has photos):
per body site its first, middle and last photo with the outline of the mask shown, the date and
the area. Then treatments used in the range, flares and notes: under the photos when they fit,
else on page 3. An empty range gives one page saying so.

Drawn with matplotlib's PDF backend (:class:`~matplotlib.backends.backend_pdf.PdfPages`, plain
figures sized to the paper, TrueType text so it can be searched and copied) and written
atomically: the target is the whole report or is left as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib.lines import Line2D

from eczema_tracker.app.familiarity_text import (
    UNFAMILIAR_COLOR,
    UNFAMILIAR_EXPLAINED,
    UNFAMILIAR_MARK,
)
from eczema_tracker.app.report_data import (
    PAPER_SIZES,
    ReportData,
    ReportInputError,
    SiteReport,
    StripPhoto,
)
from eczema_tracker.app.report_page import MARGIN, MUTED, Column, ReportPage, fit, wrap
from eczema_tracker.app.report_summary import day_text, pct, summary
from eczema_tracker.core.atomic import atomic_path
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled, report
from eczema_tracker.core.poem import POEM_ATTRIBUTION
from eczema_tracker.core.severity_scale import NO_ECZEMA_FOUND

TITLE = "Eczema record for the doctor"
DISCLAIMER = (
    "Made on the patient's own computer with Eczema Tracker; not a diagnosis. Lesion areas and "
    "severities are computed from the patient's photos and may be wrong."
)
MASK_COLOR = "#00e5ff"
MAX_SITE_STRIPS = 8
LEGEND_COLUMNS = 4


@dataclass(frozen=True)
class ReportFile:
    """A written report: where, and how many pages."""

    path: Path
    pages: int


# -- page 1 ---------------------------------------------------------------------------------------
def _header(page: ReportPage, data: ReportData) -> None:
    request = data.request
    page.line(TITLE, size=16, weight="bold", gap=1.3)
    if request.name:
        page.line(f"Patient: {request.name}", size=11, gap=1.4)
    days = (request.to_day - request.from_day).days + 1
    page.line(
        f"From {day_text(request.from_day)} to {day_text(request.to_day)} ({days} days)"
        f"   \u00b7   generated {day_text(data.generated.date())} {data.generated:%H:%M}",
        size=9.5,
    )
    page.paragraph(DISCLAIMER, size=8, color=MUTED)
    page.space(0.04)


def _timeline(page: ReportPage, data: ReportData) -> None:
    """The timeline figure (drawn by :mod:`eczema_tracker.app.timeline_figure`, as in the app)
    in the rest of page 1, on a subfigure placed at the cursor."""
    from eczema_tracker.app.timeline_figure import draw_timeline

    page.heading("Timeline")
    height = max(2.2, page.remaining - 0.1)
    below = page.height - page.y - height
    grid = page.figure.add_gridspec(
        3,
        3,
        width_ratios=(MARGIN, page.content_width, MARGIN),
        height_ratios=(page.y, height, max(below, 1e-3)),
        wspace=0,
        hspace=0,
    )
    sub = page.figure.add_subfigure(grid[1, 1])
    request = data.request
    drawn = draw_timeline(
        sub, data.timeline, date_range=(request.from_day, request.to_day), title="", legend=False
    )
    handles, labels = [], []
    for ax in [*drawn.panels, drawn.area]:
        if ax is not None:
            ax.tick_params(labelsize=7)
            ax.yaxis.label.set_fontsize(7.5)
            more_handles, more_labels = ax.get_legend_handles_labels()
            handles += more_handles
            labels += more_labels
    rows = -(-len(handles) // LEGEND_COLUMNS)
    if handles:  # the app's legend is one wide row; the page is narrower: four columns
        sub.legend(handles, labels, loc="lower center", ncols=LEGEND_COLUMNS, fontsize=6.5,
                   frameon=False, borderaxespad=0.1)  # fmt: skip
    # Room on the left for the labels, on the right for the area axis, below for the legend.
    bottom = (0.4 + 0.13 * rows) / height
    sub.subplots_adjust(left=0.14, right=0.9, top=0.97, bottom=bottom, hspace=0.12)
    page.space(height)


# -- page 2: photos -------------------------------------------------------------------------------
def _photo_caption(photo: StripPhoto) -> str:
    point = photo.point
    parts = [day_text(point.taken.date())]
    parts.append("no mask" if point.area_fraction is None else f"area {pct(point.area_fraction)}")
    if point.score is not None:
        parts.append(f"severity {point.score:.1f}")
    elif point.grade == NO_ECZEMA_FOUND:
        parts.append("no eczema found")
    return " \u00b7 ".join(parts)


def _photo_page(page: ReportPage, sites: Sequence[SiteReport]) -> None:
    page.heading("Photos: first, middle and last of the range, with the lesion outline")
    shown = [s for s in sites if s.strip][:MAX_SITE_STRIPS]
    gap = 0.12
    photo_width = (page.content_width - 2 * gap) / 3
    tallest = max(
        (
            p.image.shape[0] / p.image.shape[1]
            for s in shown
            for p in s.strip
            if p.image is not None
        ),
        default=0.75,
    )
    box = min(photo_width * tallest, (page.remaining - 0.3) / max(1, len(shown)) - 0.57)
    for site in shown:
        page.line(
            f"{site.site}  ({len(site.points)} photo{'s' if len(site.points) != 1 else ''} "
            "in this range)",
            size=9.5,
            weight="bold",
            gap=1.3,
        )
        page.space(0.15)  # the captions sit above the photos
        for i, photo in enumerate(site.strip):
            ax = page.axes(MARGIN + i * (photo_width + gap), page.y, photo_width, box)
            if photo.image is None:
                ax.text(0.5, 0.5, "\n".join(wrap(photo.problem, photo_width - 0.2, 7)),
                        ha="center", va="center", fontsize=7, color=MUTED,
                        transform=ax.transAxes)  # fmt: skip
                ax.set_axis_off()
                ax.set_title(fit(_photo_caption(photo), photo_width, 7.5), fontsize=7.5, pad=2,
                             loc="left")  # fmt: skip
                continue
            ax.imshow(photo.image, interpolation="bilinear")
            if photo.mask is not None and photo.mask.any():
                ax.contour(photo.mask, levels=[0.5], colors=MASK_COLOR, linewidths=1.0)
            if photo.point.unfamiliar:  # the footnote's mark, in the corner
                ax.add_artist(Line2D([0.93], [0.9], transform=ax.transAxes, marker="o", ms=11,
                                     mfc="white", mec=UNFAMILIAR_COLOR, mew=2.2, ls=""))  # fmt: skip
            ax.set_axis_off()
            ax.set_title(
                fit(_photo_caption(photo), photo_width, 7.5), fontsize=7.5, pad=2, loc="left"
            )
        page.space(box + 0.12)
    if any(p.point.unfamiliar for s in shown for p in s.strip):
        page.footnote(UNFAMILIAR_MARK, UNFAMILIAR_EXPLAINED + ".", mark_color=UNFAMILIAR_COLOR,
                      size=8)  # fmt: skip
    hidden = [s for s in sites if s.strip][MAX_SITE_STRIPS:]
    if hidden:
        page.line(
            f"{len(hidden)} more body site(s) not shown: " + ", ".join(s.site for s in hidden),
            size=8,
            color=MUTED,
        )


# -- page 3: treatments, flares, notes ------------------------------------------------------------
def _record_height(data: ReportData, size: tuple[float, float]) -> float:
    """How tall the treatments, flares and notes are when drawn (on a page of their own)."""
    scratch = ReportPage(size)
    start = scratch.y
    _record_section(scratch, data)
    return scratch.y - start


def _record_section(page: ReportPage, data: ReportData) -> None:
    page.heading("Treatments used in this range")
    if data.courses:
        rows = []
        for c in data.courses:
            kind = c.kind + (f", {c.potency}" if c.potency else "")
            end = "ongoing" if c.end is None else day_text(c.end)
            rows.append(
                [
                    c.treatment,
                    kind,
                    f"{day_text(c.start)} \u2013 {end}",
                    "" if c.times_a_day is None else f"{c.times_a_day}\u00d7 a day",
                ]
            )
        page.table(
            [
                Column("Treatment", 2.0),
                Column("Kind", 2.6),
                Column("Course", 1.8),
                Column("How often", 0.75, "right"),
            ],
            rows,
        )
    else:
        page.line("No treatment courses recorded in this range.", size=9)
    page.heading("Flares")
    if data.flares:
        page.paragraph(
            f"{len(data.flares)} day(s) marked as a flare: "
            + ", ".join(day_text(d) for d in data.flares),
            size=9,
        )
    else:
        page.line("No day marked as a flare in this range.", size=9)
    page.heading("Notes")
    if not data.notes:
        page.line("No notes in this range.", size=9)
    for i, note in enumerate(data.notes):
        if page.remaining < 0.6:
            page.line(
                f"\u2026 and {len(data.notes) - i} more note(s), in the app.", size=8, color=MUTED
            )
            break
        where = f"photo of {note.site}" if note.site else "day note"
        page.line(f"{day_text(note.day)} ({where})", size=8, weight="bold", gap=1.25)
        page.paragraph(note.text, size=8.5, x=0.15, max_lines=6)
        page.space(0.03)
    page.space(0.1)
    page.paragraph(POEM_ATTRIBUTION, size=7, color=MUTED)


def _empty_page(page: ReportPage, data: ReportData) -> None:
    page.heading("Nothing recorded")
    request = data.request
    sites = f" for {', '.join(request.sites)}" if request.sites else ""
    page.paragraph(
        f"Nothing was recorded from {day_text(request.from_day)} to {day_text(request.to_day)}"
        f"{sites}: no POEM check-ins, itch or sleep numbers, photos, treatment courses, "
        "flares or notes.",
        size=10,
    )


# -- the file -------------------------------------------------------------------------------------
def build_pages(data: ReportData) -> list[ReportPage]:
    """The report's pages, drawn (not yet written)."""
    size = PAPER_SIZES[data.request.paper]
    footer = (
        f"Eczema Tracker \u00b7 {TITLE} \u00b7 {day_text(data.request.from_day)} \u2013 "
        f"{day_text(data.request.to_day)}"
        + (f" \u00b7 {data.request.name}" if data.request.name else "")
    )
    first = ReportPage(size, footer)
    _header(first, data)
    if data.is_empty:
        _empty_page(first, data)
        return [first]
    summary(first, data)
    _timeline(first, data)
    pages = [first]
    if any(s.strip for s in data.sites):
        photos = ReportPage(size, footer)
        _photo_page(photos, data.sites)
        pages.append(photos)
    last = pages[-1]
    if len(pages) == 1 or _record_height(data, size) > last.remaining - 0.2:
        last = ReportPage(size, footer)
        pages.append(last)
    else:
        last.space(0.2)
    _record_section(last, data)
    return pages


def write_report(
    data: ReportData,
    target: str | Path,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> ReportFile:
    """Draw the report and write it to ``target`` atomically (all of it, or nothing).

    Refuses (:class:`ReportInputError`) a target whose folder does not exist or that is a
    folder itself.
    """
    from matplotlib.backends.backend_pdf import PdfPages

    path = Path(target)
    if path.is_dir():
        raise ReportInputError(f"{path} is a folder; give the report a file name")
    if not path.parent.is_dir():
        raise ReportInputError(f"the folder {path.parent} does not exist")
    with matplotlib.rc_context({"pdf.fonttype": 42, "font.family": "DejaVu Sans"}):
        report(progress, 0, 3, "drawing the report")
        pages = build_pages(data)
        raise_if_cancelled(cancel)
        metadata = {
            "Title": f"{TITLE}: {data.request.from_day.isoformat()} to "
            f"{data.request.to_day.isoformat()}",
            "Creator": "Eczema Tracker",
            "Subject": "A patient's own eczema record (not a diagnosis)",
        }
        if data.request.name:
            metadata["Author"] = data.request.name
        with atomic_path(path) as tmp:
            with PdfPages(tmp, metadata=metadata) as pdf:
                for i, page in enumerate(pages):
                    raise_if_cancelled(cancel)
                    report(progress, 1 + i, 1 + len(pages), "writing the PDF")
                    pdf.savefig(page.figure)
        report(progress, 1 + len(pages), 1 + len(pages), "report written")
    return ReportFile(path, len(pages))
