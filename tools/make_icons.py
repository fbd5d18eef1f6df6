"""Render the app icon SVG to the PNG sizes a desktop wants (16-512 px).

    python3 tools/make_icons.py

Reads eczema_tracker/resources/eczema-tracker.svg and writes
eczema_tracker/resources/icons/eczema-tracker-<N>.png with PySide6's QSvgRenderer
(no other tool needed). Commit the PNGs it writes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[1] / "eczema_tracker" / "resources"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def render(svg: Path, size: int, out: Path) -> None:
    """Render `svg` into a transparent `size` x `size` PNG at `out`."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: error: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"make_icons: error: cannot write {out}")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    svg = RESOURCES / "eczema-tracker.svg"
    (RESOURCES / "icons").mkdir(exist_ok=True)
    for size in SIZES:
        out = RESOURCES / "icons" / f"eczema-tracker-{size}.png"
        render(svg, size, out)
        print(out.relative_to(RESOURCES.parents[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
