"""How dates are written on screen: one format everywhere (library headers, photo view,
timeline tooltips, dialogs), e.g. "Wednesday 2 December 2026" and "Wednesday 2 December 2026, 14:05".
"""

from __future__ import annotations

from datetime import datetime

#: What a guessed date is called wherever a photo's date is shown (library, photo view).
GUESSED_DATE_NOTE = "date from the file, not the camera"
#: The mark before a guessed date where there is room for one character only.
GUESSED_DATE_MARK = "≈"


def format_day(when: datetime | None) -> str:
    """``Wednesday 2 December 2026``; ``date unknown`` for None."""
    if when is None:
        return "date unknown"
    return f"{when:%A} {when.day} {when:%B %Y}"


def format_day_time(when: datetime | None) -> str:
    """``Wednesday 2 December 2026, 14:05``; ``date unknown`` for None."""
    if when is None:
        return "date unknown"
    return f"{format_day(when)}, {when:%H:%M}"


def format_short_day(when: datetime | None) -> str:
    """``2 Dec 2026`` for compact places (axis ticks, tooltips, lists)."""
    if when is None:
        return "date unknown"
    return f"{when.day} {when:%b %Y}"
