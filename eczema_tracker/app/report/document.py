"""The report's document: an fpdf2 PDF laid out by the library (wrapping, tables split across
pages with their heading row repeated, page breaks), in inches, with the report's fonts.

Fonts: DejaVu Sans (shipped with matplotlib, so always there) for text; when a text holds a
character DejaVu Sans lacks (Chinese, Japanese, Korean, emoji...), the first system fonts that
have it are added as per-glyph fallbacks (:data:`FALLBACK_FAMILIES`, found through matplotlib's
font list). A character no font has is never drawn as an empty box: it is printed as its
Unicode name in brackets (``[grinning face]``), so the doctor still reads what was written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF, FontFace

MARGIN = 0.6  # inches, every side
INK = "#000000"  # black: fpdf2 2.8.9 loses the font of later lines after a fallback glyph
# in coloured text, so text that needs a fallback font is always drawn black (see text_line)
MUTED = "#666666"
RULE = "#bbbbbb"
HEADER_FILL = "#eef2f7"
FONT = "DejaVu Sans"
#: System fonts tried, in this order, for characters DejaVu Sans lacks (regular style only).
FALLBACK_FAMILIES = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Source Han Sans",
    "Droid Sans Fallback",
    "WenQuanYi Zen Hei",
    "Noto Sans Symbols2",
    "Noto Sans Symbols",
    "Noto Color Emoji",
    "Noto Emoji",
    "Symbola",
    "Segoe UI Emoji",
    "Segoe UI Symbol",
    "Microsoft YaHei",
    "Yu Gothic",
    "Malgun Gothic",
    "Apple Color Emoji",
    "PingFang SC",
    "Hiragino Sans",
    "Arial Unicode MS",
)
_IGNORABLE = {"\n", "\t", "\u200d", "\ufe0f", "\ufe0e"}  # line breaks, joiners, variation marks


@dataclass(frozen=True)
class Column:
    """A table column: its heading, width in inches and alignment (``left`` or ``right``)."""

    heading: str
    width: float
    align: str = "left"


def _dejavu_files() -> dict[str, Path]:
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return {"": folder / "DejaVuSans.ttf", "B": folder / "DejaVuSans-Bold.ttf"}


def _system_fallbacks() -> list[tuple[str, Path]]:
    """(family, file) of the installed fallback fonts, in :data:`FALLBACK_FAMILIES` order."""
    from matplotlib import font_manager

    found: dict[str, Path] = {}
    for entry in font_manager.fontManager.ttflist:
        if entry.name in FALLBACK_FAMILIES and entry.style == "normal":
            found.setdefault(entry.name, Path(entry.fname))
    return [(name, found[name]) for name in FALLBACK_FAMILIES if name in found]


def _font_characters(pdf: FPDF, family: str) -> set[int]:
    """The code points an added TrueType font has glyphs for."""
    font = pdf.fonts.get(family.lower())
    return set(getattr(font, "cmap", None) or ())


class ReportDocument(FPDF):
    """The PDF being laid out: A4 or Letter in inches, margins of :data:`MARGIN`, a footer with
    the page number on each page."""

    def __init__(self, size: tuple[float, float], footer_text: str = "") -> None:
        super().__init__(unit="in", format=size)
        self.footer_text = footer_text
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN)
        for style, path in _dejavu_files().items():
            self.add_font(FONT, style, str(path))
        self._covered: set[int] = _font_characters(self, FONT)
        self._own: frozenset[int] = frozenset(self._covered)  # DejaVu Sans' own characters
        self._fallbacks_loaded = False
        #: characters printed by name because no font has them (for the caller to tell)
        self.unprintable: set[str] = set()
        self.set_font(FONT, size=9)
        self.set_text_color(INK)
        self.set_draw_color(RULE)
        self.set_line_width(0.008)

    # -- fonts --------------------------------------------------------------------------------
    def _load_fallbacks(self) -> None:
        self._fallbacks_loaded = True
        names = []
        for family, path in _system_fallbacks():
            try:
                self.add_font(family, "", str(path))
            except Exception:  # noqa: BLE001 - a font fpdf2 cannot read is skipped
                continue
            self._covered |= _font_characters(self, family)
            names.append(family)
        if names:
            self.set_fallback_fonts(names, exact_match=False)

    def printable(self, text: str) -> str:
        """``text`` with every character that no font has replaced by its name in brackets."""
        missing = [c for c in set(text) if ord(c) not in self._covered and c not in _IGNORABLE]
        if not missing:
            return text
        if not self._fallbacks_loaded:
            self._load_fallbacks()
            missing = [c for c in missing if ord(c) not in self._covered]
        for char in missing:
            self.unprintable.add(char)
            name = unicodedata.name(char, "").lower() or f"U+{ord(char):04X}"
            text = text.replace(char, f"[{name}]")
        return text

    def _break_long_words(self, text: str, width: float) -> str:
        """``text`` with every word wider than ``width`` inches cut into lines that fit.

        fpdf2 breaks such a word itself, but (2.8.9) drops the rest of the text when a fallback
        font was used earlier in the same paragraph; cutting it here avoids that.
        """
        words = re.split(r"(\s+)", text)
        if all(self.get_string_width(w) <= width for w in words if not w.isspace()):
            return text
        out = []
        for word in words:
            if word.isspace() or self.get_string_width(word) <= width:
                out.append(word)
                continue
            piece = ""
            for char in word:
                if piece and self.get_string_width(piece + char) > width:
                    out.append(piece + "\n")
                    piece = ""
                piece += char
            out.append(piece)
        return "".join(out)

    # -- page furniture -----------------------------------------------------------------------
    def footer(self) -> None:
        """Every page: the footer text and ``page N of M``."""
        self.set_y(-0.45)
        self.set_font(FONT, "", 7)
        text = self.printable(f"{self.footer_text}   \u00b7   page {self.page_no()} of {{nb}}")
        own = all(ord(c) in self._own or c in _IGNORABLE for c in text)
        self.set_text_color(MUTED if own else INK)  # see text_line
        self.cell(0, 0.15, text.strip(" \u00b7"))
        self.set_text_color(INK)

    @property
    def remaining(self) -> float:
        """Inches left above the bottom margin of this page."""
        return self.h - self.b_margin - self.y

    def need(self, inches: float) -> None:
        """Start a new page unless ``inches`` fit on this one (keeps a heading with its text)."""
        if self.remaining < inches:
            self.add_page()

    def space(self, inches: float) -> None:
        """Move down (never onto the bottom margin: a new page then)."""
        if self.remaining <= inches:
            self.add_page()
        else:
            self.set_y(self.y + inches)

    # -- text ---------------------------------------------------------------------------------
    def text_line(
        self,
        text: str,
        *,
        size: float = 9,
        bold: bool = False,
        color: str = INK,
        indent: float = 0.0,
        gap: float = 1.35,
    ) -> None:
        """``text`` at the cursor, wrapped to the page (``indent`` inches in from the margin)."""
        self.set_font(FONT, "B" if bold else "", size)
        shown = self.printable(text)
        if any(ord(c) not in self._own and c not in _IGNORABLE for c in shown):
            color = INK  # a fallback font in coloured text loses the lines after it (fpdf2 2.8.9)
        self.set_text_color(color)
        self.set_x(self.l_margin + indent)
        self.multi_cell(
            self.epw - indent,
            size * gap / 72,
            self._break_long_words(shown, self.epw - indent - 0.05),
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.set_text_color(INK)

    def paragraph(
        self, text: str, *, size: float = 9, color: str = INK, indent: float = 0.0
    ) -> None:
        """Wrapped text at the cursor (a line gap a little tighter than :meth:`text_line`)."""
        self.text_line(text, size=size, color=color, indent=indent, gap=1.3)

    def footnote(self, mark: str, text: str, *, mark_color: str, size: float = 7.5) -> None:
        """``mark`` in ``mark_color`` (bold), then ``text`` wrapped with a hanging indent."""
        indent = 1.6 * size / 72
        self.need(2 * size * 1.3 / 72)
        top = self.y
        self.set_font(FONT, "B", size)
        self.set_text_color(mark_color)
        self.cell(indent, size * 1.3 / 72, self.printable(mark))
        self.set_y(top)
        self.paragraph(text, size=size, color=MUTED, indent=indent)

    def heading(self, text: str, *, keep_with: float = 0.7) -> None:
        """A section heading with a rule under it, kept with ``keep_with`` inches of what
        follows."""
        self.need(0.4 + keep_with)
        self.space(0.06)
        self.text_line(text, size=11.5, bold=True, gap=1.25)
        self.rule()
        self.space(0.06)

    def rule(self) -> None:
        """A thin line across the page at the cursor."""
        self.line_between(self.l_margin, self.w - self.r_margin, self.y)
        self.set_y(self.y + 0.03)

    def line_between(self, x0: float, x1: float, y: float) -> None:
        """A thin line from ``x0`` to ``x1`` (inches from the left edge) at height ``y``."""
        self.set_draw_color(RULE)
        super().line(x0, y, x1, y)

    # -- tables -------------------------------------------------------------------------------
    def table_of(
        self,
        columns: Sequence[Column],
        rows: Sequence[Sequence[str]],
        *,
        size: float = 8.5,
    ) -> None:
        """A table at the cursor: a shaded heading row (repeated on each page the table runs
        onto), then ``rows``, each cell wrapped to its column."""
        total = sum(c.width for c in columns)
        width = min(self.epw, total)
        self.set_font(FONT, "", size)
        heading = FontFace(emphasis="BOLD", fill_color=HEADER_FILL, color=INK)
        self.set_draw_color(RULE)
        with self.table(
            col_widths=tuple(c.width for c in columns),
            width=width,
            align="LEFT",
            text_align=tuple("RIGHT" if c.align == "right" else "LEFT" for c in columns),
            headings_style=heading,
            borders_layout="HORIZONTAL_LINES",
            line_height=size * 1.3 / 72,
            padding=(0.03, 0.05),
            repeat_headings=1,
            v_align="MIDDLE",
        ) as table:
            table.row([self.printable(c.heading) for c in columns])
            for row in rows:
                table.row([self.printable(str(cell)) for cell in row])
        self.set_y(self.y + 0.04)
