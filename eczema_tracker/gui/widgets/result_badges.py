"""The badges on a library thumbnail: what each means, and how they are drawn.

A badge is a letter on a small disc in the thumbnail's top-right corner (prompt, analysed, out
of date), the rating a rounded square in the bottom-left corner, and a result unlike the site's
example photos (:mod:`eczema_tracker.app.trust.familiarity_text`) a ring: a white disc with a
coloured outline and a "?", hollow like its marker on the timeline.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from eczema_tracker.app.trust.familiarity_text import (  # UNFAMILIAR_COLOR: re-exported
    UNFAMILIAR_COLOR,
    UNFAMILIAR_LABEL,
    UNFAMILIAR_NOTE,
)
from eczema_tracker.gui.widgets.mask_colors import PROMPT_MASK_COLOR

#: Badge letter, colour and meaning (the legend and the Help page read this).
BADGES: dict[str, tuple[str, str, str]] = {
    "prompt": (
        "P",
        PROMPT_MASK_COLOR.name(),
        "prompt photo: you painted its mask, it teaches the app this site",
    ),
    "analysed": ("A", "#2e9d4f", "analysed: it has an up-to-date result"),
    "stale": ("A", "#d08a00", "out of date: the site's prompt masks changed since its analysis"),
    "unfamiliar": ("?", UNFAMILIAR_COLOR, UNFAMILIAR_NOTE),
    "rating": ("0–3", "#8e24aa", "your own rating (0 none, 1 mild, 2 moderate, 3 severe)"),
}
#: Badges drawn as a ring (white inside, coloured outline and letter) rather than a disc.
RING_BADGES = frozenset({"unfamiliar"})
#: Short names for the legend under the grid.
SHORT_NAMES = {
    "prompt": "prompt",
    "analysed": "analysed",
    "stale": "out of date",
    "unfamiliar": UNFAMILIAR_LABEL,
    "rating": "rating",
}


def badge_diameter(thumb: QRect) -> int:
    """The badges' size on a thumbnail of this size (readable from 64 to 256 pixels)."""
    return max(14, min(20, thumb.width() // 7))


def draw_badges(
    painter: QPainter, thumb: QRect, keys: list[str], rating: int | None = None
) -> None:
    """Draw the badges ``keys`` (of :data:`BADGES`, left to right) in the top-right corner of
    ``thumb`` and the rating (if any) in its bottom-left corner."""
    d = badge_diameter(thumb)
    x = thumb.right() - d - 2
    for key in reversed(keys):
        draw_badge(painter, QRect(x, thumb.top() + 3, d, d), key)
        x -= d + 3
    if rating is not None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(BADGES["rating"][1]))
        box = QRect(thumb.left() + 3, thumb.bottom() - d - 2, d, d)
        painter.drawRoundedRect(box, 3, 3)
        painter.setPen(QColor("white"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, str(rating))


def draw_badge(painter: QPainter, box: QRect, key: str) -> None:
    """One badge of :data:`BADGES` in ``box`` (a disc, or a ring for :data:`RING_BADGES`)."""
    letter, color, _ = BADGES[key]
    painter.save()  # the ring's bold letter must not leak into the caption drawn next
    if key in RING_BADGES:
        width = max(1.6, box.width() / 9)
        painter.setPen(QPen(QColor(color), width))
        painter.setBrush(QColor("white"))
        inset = width / 2
        painter.drawEllipse(QRectF(box).adjusted(inset, inset, -inset, -inset))
        font = painter.font()  # smaller than the discs' letters: it must fit inside the ring
        font.setPixelSize(max(8, round(box.height() * 0.62)))
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor(color))
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(color))
        painter.drawEllipse(box)
        painter.setPen(QColor("white"))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, letter)
    painter.restore()


def legend_html() -> str:
    """The badges as small coloured letters with their short meaning (under the grid)."""
    parts = []
    for key, (letter, color, _) in BADGES.items():
        shown = "2" if key == "rating" else letter
        if key in RING_BADGES:  # rich text has no round borders: the letter in the colour
            chip = f"<span style='color:{color}'><b>({shown})</b></span>"
        else:
            chip = (
                f"<span style='background:{color}; color:white'>&nbsp;<b>{shown}</b>&nbsp;</span>"
            )
        parts.append(f"{chip}&nbsp;{SHORT_NAMES[key]}&nbsp;")
    return " ".join(parts)
