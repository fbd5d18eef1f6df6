"""A page of the report: a matplotlib figure the size of the paper, filled top to bottom.

:class:`ReportPage` keeps a cursor (inches from the top edge) and places headings, wrapped
paragraphs and small tables under each other, in inches, so the layout is the same on A4 and
Letter. No Qt and no pyplot: the figure is a plain :class:`matplotlib.figure.Figure` that
:class:`matplotlib.backends.backend_pdf.PdfPages` saves.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

MARGIN = 0.6  # inches, every side
INK = "#222222"
MUTED = "#666666"
RULE = "#bbbbbb"
HEADER_FILL = "#eef2f7"
#: Average glyph width of DejaVu Sans as a fraction of the font size (for wrapping).
GLYPH_WIDTH = 0.56


@dataclass(frozen=True)
class Column:
    """A table column: its heading, width in inches and alignment (``left`` or ``right``)."""

    heading: str
    width: float
    align: str = "left"


def wrap(text: str, width_in: float, size: float) -> list[str]:
    """``text`` broken into lines that fit ``width_in`` inches at ``size`` points."""
    chars = max(8, int(width_in * 72 / (GLYPH_WIDTH * size)))
    lines: list[str] = []
    for paragraph in str(text).splitlines() or [""]:
        lines.extend(textwrap.wrap(paragraph, chars) or [""])
    return lines


def fit(text: str, width_in: float, size: float) -> str:
    """``text`` cut with an ellipsis to fit one line of ``width_in`` inches."""
    chars = max(4, int(width_in * 72 / (GLYPH_WIDTH * size)))
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "\u2026"


class ReportPage:
    """One page; ``y`` is the cursor in inches from the top edge."""

    def __init__(self, size: tuple[float, float], footer: str = "") -> None:
        self.width, self.height = size
        self.figure = Figure(figsize=size)
        self.y = MARGIN
        self.content_width = self.width - 2 * MARGIN
        if footer:
            self.figure.text(
                MARGIN / self.width,
                0.35 / self.height,
                footer,
                fontsize=7,
                color=MUTED,
                va="bottom",
            )

    # -- geometry ---------------------------------------------------------------------------
    @property
    def remaining(self) -> float:
        """Inches left above the bottom margin."""
        return self.height - MARGIN - self.y

    def fx(self, x_in: float) -> float:
        """Figure x (0-1) of ``x_in`` inches from the left edge."""
        return x_in / self.width

    def fy(self, y_in: float) -> float:
        """Figure y (0-1) of ``y_in`` inches from the top edge."""
        return 1.0 - y_in / self.height

    def axes(self, left_in: float, top_in: float, width_in: float, height_in: float) -> Axes:
        """New axes at this box (inches from the left and top edges)."""
        return self.figure.add_axes(
            (
                self.fx(left_in),
                self.fy(top_in + height_in),
                width_in / self.width,
                height_in / self.height,
            )
        )

    def space(self, inches: float) -> None:
        self.y += inches

    # -- text -------------------------------------------------------------------------------
    def line(
        self,
        text: str,
        *,
        size: float = 9,
        weight: str = "normal",
        color: str = INK,
        x: float = 0.0,
        gap: float = 1.35,
    ) -> None:
        """One line of text at the cursor (``x`` inches in from the left margin)."""
        self.figure.text(
            self.fx(MARGIN + x),
            self.fy(self.y),
            text,
            fontsize=size,
            fontweight=weight,
            color=color,
            va="top",
        )
        self.y += size * gap / 72

    def paragraph(
        self,
        text: str,
        *,
        size: float = 9,
        color: str = INK,
        x: float = 0.0,
        max_lines: int | None = None,
    ) -> int:
        """Wrapped text at the cursor; returns the number of lines drawn."""
        lines = wrap(text, self.content_width - x, size)
        if max_lines is not None and len(lines) > max_lines:
            lines = lines[:max_lines]
            lines[-1] = fit(lines[-1] + " \u2026", self.content_width - x, size)
        for text_line in lines:
            self.line(text_line, size=size, color=color, x=x)
        return len(lines)

    def footnote(
        self, mark: str, text: str, *, mark_color: str, size: float = 7.5, color: str = MUTED
    ) -> int:
        """A footnote at the cursor: ``mark`` in ``mark_color`` (bold), then ``text`` wrapped
        with a hanging indent; returns the number of lines drawn."""
        indent = 1.6 * size / 72
        self.figure.text(
            self.fx(MARGIN),
            self.fy(self.y),
            mark,
            fontsize=size,
            fontweight="bold",
            color=mark_color,
            va="top",
        )
        return self.paragraph(text, size=size, color=color, x=indent)

    def heading(self, text: str) -> None:
        """A section heading with a rule under it."""
        self.space(0.06)
        self.line(text, size=11.5, weight="bold", gap=1.25)
        self.rule()
        self.space(0.06)

    def rule(self, color: str = RULE) -> None:
        y = self.fy(self.y)
        self.figure.add_artist(
            _line(self.fx(MARGIN), self.fx(self.width - MARGIN), y, color, self.figure)
        )
        self.y += 0.03

    # -- tables -----------------------------------------------------------------------------
    def table(
        self,
        columns: Sequence[Column],
        rows: Sequence[Sequence[str]],
        *,
        size: float = 8.5,
        row_height: float | None = None,
    ) -> None:
        """A table at the cursor: a shaded heading row, then ``rows`` (cut to fit each column)."""
        step = row_height or size * 1.75 / 72
        scale = min(1.0, self.content_width / max(1e-6, sum(c.width for c in columns)))
        widths = [c.width * scale for c in columns]
        self.figure.add_artist(
            _box(
                self.fx(MARGIN),
                self.fy(self.y + step),
                self.content_width / self.width,
                step / self.height,
                HEADER_FILL,
                self.figure,
            )
        )
        self._row([c.heading for c in columns], columns, widths, size, step, bold=True)
        for row in rows:
            self._row(list(row), columns, widths, size, step)
        self.rule()

    def _row(
        self,
        cells: list[str],
        columns: Sequence[Column],
        widths: list[float],
        size: float,
        step: float,
        *,
        bold: bool = False,
    ) -> None:
        x = MARGIN
        for cell, column, width in zip(cells, columns, widths, strict=False):
            pad = 0.05
            text = fit(str(cell), width - 2 * pad, size)
            right = column.align == "right"
            self.figure.text(
                self.fx(x + (width - pad if right else pad)),
                self.fy(self.y + step / 2),
                text,
                fontsize=size,
                fontweight="bold" if bold else "normal",
                color=INK,
                ha="right" if right else "left",
                va="center",
            )
            x += width
        self.y += step


def _line(x0: float, x1: float, y: float, color: str, figure: Figure) -> Line2D:
    return Line2D([x0, x1], [y, y], color=color, linewidth=0.6, transform=figure.transFigure)


def _box(x: float, y: float, w: float, h: float, color: str, figure: Figure) -> Rectangle:
    return Rectangle(
        (x, y), w, h, facecolor=color, edgecolor="none", transform=figure.transFigure, zorder=-1
    )
