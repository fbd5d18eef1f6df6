"""The report for the doctor as a PDF a clinician reads in a few minutes.

Page 1: the header (name, range, when it was made, "not a diagnosis"), the summary tables
(:mod:`.report_summary`: POEM first/last/change/band, itch and sleep averages per week with the
year, per body site the lesion area and the predicted severity with the model that predicted
it) and the timeline figure (:mod:`.timeline_figure`, as in the app). Then (when the range has
photos) per body site its first, middle and last photo with the outline of the mask shown, the
date and the area, and its "then and now" (:mod:`.then_and_now`: the first and last
analysed photo, cropped around the lesion). Then every treatment course, flare and note of the range, most recent first,
on as many pages as they take; past :data:`MAX_COURSES` courses, :data:`MAX_FLARES` flares or
:data:`MAX_NOTES` notes (or :data:`MAX_NOTE_CHARS` characters of one note) a line says how many
were left out and that the CSV export has all of them: nothing is dropped without a word. An
empty range gives one page saying so.

Laid out by fpdf2 (:mod:`.report_document`: it wraps text, splits tables across pages with the
heading row repeated and breaks pages by itself; chosen over reportlab's platypus for its
per-glyph font fallback, so Chinese or emoji in a note print in a system font instead of boxes,
and its smaller footprint: pure Python on fontTools, Pillow and defusedxml). The timeline stays
a matplotlib figure, placed as SVG (vector, its labels real text). Written through
:func:`eczema_tracker.core.output_files.writing_output`: the target follows the rules of every
output and is the whole report or is left as it was, and no temp copy of it outlives the write.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image

from eczema_tracker.app.photo_result import AreaMeasure
from eczema_tracker.app.report.data import ReportData, SiteReport, StripPhoto
from eczema_tracker.app.report.document import FONT, MUTED, Column, ReportDocument
from eczema_tracker.app.report.request import PAPER_SIZES
from eczema_tracker.app.report.summary import day_text, pct, summary
from eczema_tracker.app.report.then_and_now import draw_then_and_now
from eczema_tracker.app.trust.agreement import UNRELIABLE_MARK
from eczema_tracker.app.trust.familiarity_text import (
    UNFAMILIAR_COLOR,
    UNFAMILIAR_EXPLAINED,
    UNFAMILIAR_MARK,
)
from eczema_tracker.core.imaging import mask_outline
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled, report
from eczema_tracker.core.output_files import check_output_target, writing_output
from eczema_tracker.core.poem import POEM_ATTRIBUTION
from eczema_tracker.core.severity_scale import NO_ECZEMA_FOUND, NO_LESION_CHECK_PHOTO

TITLE = "Eczema record for the doctor"
DISCLAIMER = (
    "Made on the patient's own computer with Eczema Tracker; not a diagnosis. Lesion areas and "
    "severities are computed from the patient's photos and may be wrong."
)
MASK_COLOR = (0, 229, 255)  # the outline drawn on the photos
LEGEND_COLUMNS = 4
#: A timeline with a line or marker set of more points than this is placed as one PNG (at
#: :data:`RASTER_DPI`) instead of SVG: a 10,000-check-in record would otherwise take fpdf2 tens of
#: seconds to place, point by point. (Not a raster artist inside the SVG: fpdf2 2.8 ignores the
#: transform of an SVG <image>, and the points landed on the tables at the top of the page.)
DENSE_POINTS = 500
RASTER_DPI = 200
#: The most items of each kind printed (the most recent); a line tells how many more there are.
MAX_COURSES = 150
MAX_FLARES = 400
MAX_NOTES = 150
#: The most characters of one note printed; a longer note says how much is left out.
MAX_NOTE_CHARS = 2000
MORE_IN_CSV = "(all are in the CSV export)"


@dataclass(frozen=True)
class ReportFile:
    """A written report: where, how many pages, and how many items it left out (each said on
    the page with a line pointing to the CSV export)."""

    path: Path
    pages: int
    left_out: int = 0


# -- page 1 ---------------------------------------------------------------------------------------
def _header(doc: ReportDocument, data: ReportData) -> None:
    request = data.request
    doc.text_line(TITLE, size=16, bold=True, gap=1.3)
    if request.name:
        doc.text_line(f"Patient: {request.name}", size=11, gap=1.4)
    days = (request.to_day - request.from_day).days + 1
    doc.text_line(
        f"From {day_text(request.from_day)} to {day_text(request.to_day)} ({days} days)"
        f"   \u00b7   generated {day_text(data.generated.date())} {data.generated:%H:%M}",
        size=9.5,
    )
    doc.paragraph(DISCLAIMER, size=8, color=MUTED)
    doc.space(0.04)


def _point_count(artist: object) -> int:
    """How many points a line or a collection (markers, bars) of the timeline draws."""
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D

    if isinstance(artist, Line2D):
        return int(np.size(artist.get_xdata()))
    if isinstance(artist, Collection):
        return max(int(np.shape(artist.get_offsets())[0]), len(artist.get_paths()))
    return 0


def timeline_picture(data: ReportData, width: float, height: float) -> bytes:
    """The timeline figure (drawn by :mod:`eczema_tracker.app.timeline.figure`, as in the app)
    of ``width`` x ``height`` inches: SVG with its text kept as text, or a PNG when it holds more
    than :data:`DENSE_POINTS` points in one line or marker set."""
    from matplotlib.figure import Figure

    from eczema_tracker.app.timeline.figure import draw_timeline

    with matplotlib.rc_context({"svg.fonttype": "none", "font.family": FONT}):
        figure = Figure(figsize=(width, height))
        request = data.request
        drawn = draw_timeline(
            figure,
            data.timeline,
            date_range=(request.from_day, request.to_day),
            title="",
            legend=False,
        )
        handles, labels = [], []
        for ax in [*drawn.panels, drawn.area]:
            if ax is not None:
                ax.tick_params(labelsize=7)
                ax.yaxis.label.set_fontsize(7.5)
                more_handles, more_labels = ax.get_legend_handles_labels()
                handles += more_handles
                labels += more_labels
        # The legend takes at most half the figure's height: many sites (up to 7 entries each)
        # get more columns instead of rows that would push the plots off the figure.
        most_rows = max(1, int((0.5 * height - 0.4) / 0.13))
        columns = max(LEGEND_COLUMNS, -(-len(handles) // most_rows))
        rows = -(-len(handles) // columns)
        if handles:  # the app's legend is one wide row; the page is narrower: four columns
            figure.legend(handles, labels, loc="lower center", ncols=columns,
                          fontsize=6.5 if columns == LEGEND_COLUMNS else 5.5, frameon=False,
                          borderaxespad=0.1)  # fmt: skip
        # Room on the left for the labels, on the right for the area axis, below for the legend.
        bottom = min(0.5, (0.4 + 0.13 * rows) / height)
        figure.subplots_adjust(left=0.14, right=0.9, top=0.97, bottom=bottom, hspace=0.12)
        dense = any(
            _point_count(artist) > DENSE_POINTS
            for ax in figure.axes
            for artist in [*ax.lines, *ax.collections]
        )
        out = io.BytesIO()
        if dense:  # thousands of markers: one image (fast to place, and placed right)
            figure.savefig(out, format="png", dpi=RASTER_DPI)
            return out.getvalue()
        figure.savefig(out, format="svg")
    # fpdf2 draws no <metadata> (and logs a warning for it): the PDF has its own
    return re.sub(rb"<metadata>.*?</metadata>", b"", out.getvalue(), count=1, flags=re.DOTALL)


def _timeline(doc: ReportDocument, data: ReportData) -> None:
    """The timeline in the rest of page 1 (on a page of its own when too little is left)."""
    doc.heading("Timeline", keep_with=2.3)
    height = max(2.2, doc.remaining - 0.1)
    picture = timeline_picture(data, doc.epw, height)
    doc.image(io.BytesIO(picture), x=doc.l_margin, y=doc.y, w=doc.epw, h=height)
    doc.set_y(doc.y + height)


# -- the photos -----------------------------------------------------------------------------------
def _photo_caption(
    photo: StripPhoto, measure: AreaMeasure = "photo", *, unreliable: bool = False
) -> str:
    """``1 Sep 2026 · area 24.6% · painted 11.1%``: areas in the site's ``measure`` (a skin
    site's are shares of the skin shown, marked so); a result of a site whose examples
    disagree (``unreliable``) is marked as the site is."""
    point = photo.point
    parts = [day_text(point.taken.date())]
    if unreliable and point.model_area_fraction is not None:
        parts[0] = f"{UNRELIABLE_MARK} {parts[0]}"
    area = point.compared_area(measure)
    painted = point.painted_share_of_skin if measure == "skin" else point.painted_area_fraction
    of = " of skin" if measure == "skin" else ""
    if area is not None:
        parts.append(f"area {pct(area)}{of}")
    elif painted is None:
        parts.append("no mask")
    if painted is not None:
        parts.append(f"painted {pct(painted)}")
    if point.score is not None:
        parts.append(f"severity {point.score:.1f}")
    elif point.grade in (NO_ECZEMA_FOUND, NO_LESION_CHECK_PHOTO):
        parts.append("no eczema found" if point.grade == NO_ECZEMA_FOUND else point.grade)
    return " \u00b7 ".join(parts)


def outlined_jpeg(image: np.ndarray, mask: np.ndarray | None) -> bytes:
    """The photo (height x width x 3, uint8) as JPEG with the mask's outline drawn on it."""
    pixels = image.copy()
    if mask is not None and mask.any():
        pixels[mask_outline(mask, width=2)] = MASK_COLOR  # two pixels: visible when printed
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=85)
    return out.getvalue()


def _photos(doc: ReportDocument, sites: Sequence[SiteReport]) -> None:
    """Per body site its first, middle and last photo with the lesion outline (a new page)."""
    doc.add_page()
    doc.heading("Photos: first, middle and last of the range, with the lesion outline")
    shown = [s for s in sites if s.strip]
    gap = 0.12
    photo_width = (doc.epw - 2 * gap) / 3
    tallest = max(
        (
            p.image.shape[0] / p.image.shape[1]
            for s in shown
            for p in s.strip
            if p.image is not None
        ),
        default=0.75,
    )
    box = min(photo_width * tallest, 2.4)
    caption = 2 * 7.5 * 1.2 / 72  # two lines at most
    for site in shown:
        count = len(site.points)
        doc.need(0.25 + caption + box + 0.1)
        doc.text_line(
            f"{site.site}  ({count} photo{'s' if count != 1 else ''} in this range)",
            size=9.5,
            bold=True,
            gap=1.3,
        )
        top = doc.y
        for i, photo in enumerate(site.strip):
            x = doc.l_margin + i * (photo_width + gap)
            doc.set_xy(x, top)
            doc.set_font(FONT, "", 7.5)
            doc.multi_cell(photo_width, 7.5 * 1.2 / 72, doc.printable(_photo_caption(photo, site.measure, unreliable=site.unreliable)),
                           align="L")  # fmt: skip
            y = top + caption
            if photo.image is None:
                doc.set_xy(x, y + box / 3)
                doc.multi_cell(photo_width, 7 * 1.25 / 72, doc.printable(photo.problem), align="C")
                continue
            aspect = photo.image.shape[0] / photo.image.shape[1]
            w = min(photo_width, box / aspect)
            h = w * aspect
            doc.image(io.BytesIO(outlined_jpeg(photo.image, photo.mask)), x=x, y=y, w=w, h=h)
            if photo.point.unfamiliar:  # the footnote's mark, in the corner
                r = 0.07
                doc.set_draw_color(UNFAMILIAR_COLOR)
                doc.set_fill_color("#ffffff")
                doc.set_line_width(0.03)
                doc.ellipse(x + w - 0.1 - 2 * r, y + 0.08, 2 * r, 2 * r, style="FD")
                doc.set_line_width(0.008)
        doc.set_xy(doc.l_margin, top + caption + box + 0.12)
    if any(p.point.unfamiliar for s in shown for p in s.strip):
        doc.footnote(UNFAMILIAR_MARK, UNFAMILIAR_EXPLAINED + ".", mark_color=UNFAMILIAR_COLOR,
                     size=8)  # fmt: skip


# -- treatments, flares, notes --------------------------------------------------------------------
def _more(doc: ReportDocument, count: int, what: str) -> int:
    """The line saying ``count`` more ``what`` were left out; returns ``count``."""
    if count <= 0:
        return 0
    doc.text_line(f"\u2026 and {count} more {what} {MORE_IN_CSV}", size=8, color=MUTED)
    return count


def _record_section(doc: ReportDocument, data: ReportData) -> int:
    """Treatments, flares and notes of the range, each most recent first; returns how many
    items were left out (each said with a line)."""
    left_out = 0
    doc.heading("Treatments used in this range")
    if data.courses:
        courses = sorted(data.courses, key=lambda c: c.start, reverse=True)
        rows = []
        for c in courses[:MAX_COURSES]:
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
        doc.table_of(
            [
                Column("Treatment", 2.0),
                Column("Kind", 2.0),
                Column("Course", 1.7),
                Column("How often", 0.8, "right"),
            ],
            rows,
        )
        left_out += _more(doc, len(courses) - MAX_COURSES, "treatment courses")
    else:
        doc.text_line("No treatment courses recorded in this range.", size=9)
    doc.heading("Flares", keep_with=0.3)
    if data.flares:
        flares = sorted(data.flares, reverse=True)
        doc.paragraph(
            f"{len(flares)} day(s) marked as a flare (most recent first): "
            + ", ".join(day_text(d) for d in flares[:MAX_FLARES])
            + ("." if len(flares) <= MAX_FLARES else ""),
            size=9,
        )
        left_out += _more(doc, len(flares) - MAX_FLARES, "flare days")
    else:
        doc.text_line("No day marked as a flare in this range.", size=9)
    doc.heading("Notes (most recent first)", keep_with=0.5)
    if not data.notes:
        doc.text_line("No notes in this range.", size=9)
    notes = sorted(data.notes, key=lambda n: (n.day, n.site or ""), reverse=True)
    for note in notes[:MAX_NOTES]:
        where = f"photo of {note.site}" if note.site else "day note"
        doc.need(0.35)
        doc.text_line(f"{day_text(note.day)} ({where})", size=8, bold=True, gap=1.25)
        text = note.text
        if len(text) > MAX_NOTE_CHARS:
            rest = len(text) - MAX_NOTE_CHARS
            text = f"{text[:MAX_NOTE_CHARS]}\u2026 ({rest} more characters; the whole note is in the CSV export)"
            left_out += 1
        doc.paragraph(text, size=8.5, indent=0.15)
        doc.space(0.03)
    left_out += _more(doc, len(notes) - MAX_NOTES, "notes")
    doc.space(0.1)
    doc.paragraph(POEM_ATTRIBUTION, size=7, color=MUTED)
    return left_out


def _empty_page(doc: ReportDocument, data: ReportData) -> None:
    doc.heading("Nothing recorded")
    request = data.request
    sites = f" for {', '.join(request.sites)}" if request.sites else ""
    doc.paragraph(
        f"Nothing was recorded from {day_text(request.from_day)} to {day_text(request.to_day)}"
        f"{sites}: no POEM check-ins, itch or sleep numbers, photos, treatment courses, "
        "flares or notes.",
        size=10,
    )


# -- the file -------------------------------------------------------------------------------------
def build_document(
    data: ReportData, cancel: CancelCheck | None = None
) -> tuple[ReportDocument, int]:
    """The report laid out (not yet written), and how many items it left out."""
    request = data.request
    footer = (
        f"Eczema Tracker \u00b7 {TITLE} \u00b7 {day_text(request.from_day)} \u2013 "
        f"{day_text(request.to_day)}" + (f" \u00b7 {request.name}" if request.name else "")
    )
    doc = ReportDocument(PAPER_SIZES[request.paper], footer)
    doc.set_title(f"{TITLE}: {request.from_day.isoformat()} to {request.to_day.isoformat()}")
    doc.set_creator("Eczema Tracker")
    doc.set_subject("A patient's own eczema record (not a diagnosis)")
    if request.name:
        doc.set_author(request.name)
    doc.add_page()
    _header(doc, data)
    if data.is_empty:
        _empty_page(doc, data)
        return doc, 0
    summary(doc, data)
    raise_if_cancelled(cancel)
    _timeline(doc, data)
    raise_if_cancelled(cancel)
    if any(s.strip for s in data.sites):
        _photos(doc, data.sites)
        doc.space(0.2)
        draw_then_and_now(doc, data.then_and_now)
        doc.space(0.2)
    else:
        doc.add_page()
    raise_if_cancelled(cancel)
    left_out = _record_section(doc, data)
    return doc, left_out


def write_report(
    data: ReportData,
    target: str | Path,
    *,
    overwrite: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> ReportFile:
    """Lay out the report and write it to ``target`` atomically (all of it, or nothing).

    The target follows the rules of every output
    (:func:`~eczema_tracker.core.output_files.check_output_target`, with the store the data came
    from): an existing file is replaced only with ``overwrite=True``. Refusals and write
    failures are an :class:`~eczema_tracker.core.output_files.OutputFileError` (one sentence).
    """
    path = check_output_target(target, store_root=data.store_root, overwrite=overwrite)
    report(progress, 0, 3, "laying out the report")
    doc, left_out = build_document(data, cancel)
    raise_if_cancelled(cancel)
    report(progress, 1, 3, "writing the PDF")
    content = doc.output()
    raise_if_cancelled(cancel)
    with writing_output(path) as temp:
        temp.write_bytes(content)
    report(progress, 3, 3, "report written")
    return ReportFile(path, doc.pages_count, left_out)
