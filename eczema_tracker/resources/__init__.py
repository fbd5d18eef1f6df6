"""Files the app loads at run time that are not code (the app icon), shipped as package data.

No Qt here: callers get paths and build their own QIcon.
"""

from __future__ import annotations

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent
ICON_SVG = RESOURCES_DIR / "eczema-tracker.svg"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def icon_png(size: int) -> Path:
    """The PNG of the app icon at `size` x `size` pixels (one of ICON_SIZES)."""
    if size not in ICON_SIZES:
        raise ValueError(f"no {size} px icon; sizes: {', '.join(map(str, ICON_SIZES))}")
    return RESOURCES_DIR / "icons" / f"eczema-tracker-{size}.png"


def icon_files() -> list[Path]:
    """Every icon file, the PNGs smallest first, then the SVG."""
    return [icon_png(size) for size in ICON_SIZES] + [ICON_SVG]
