"""Screenshots of the mask editor and the timeline for the docs.

Run headless from the repository root:

    QT_QPA_PLATFORM=offscreen python tools/screenshots_widgets.py [--photo PATH] [--out docs/screenshots]

The editor shows a real photo from ../shared/data/eczema_photos with a mask painted through
the painter's own stroke and fill code; the timeline shows 20 synthetic points.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtGui import QColor  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from eczema_tracker.gui.dialogs.mask_editor import MaskEditorDialog  # noqa: E402
from eczema_tracker.gui.widgets.timeline import TimelineView  # noqa: E402
from eczema_tracker.imaging import open_image  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PHOTO_DIR = REPO.parent / "shared" / "data" / "eczema_photos" / "images"


@dataclass(frozen=True)
class SyntheticPoint:
    """A timeline point shaped like ``store.records.TimelinePoint``."""

    photo_id: int
    taken_at: str
    score: float | None
    severity_class: int | None
    lesion_area_fraction: float | None
    rating: int | None
    stale: bool


def synthetic_points(count: int = 20, seed: int = 3) -> list[SyntheticPoint]:
    """A flare that peaks and settles over ~5 months, with some ratings and stale points."""
    rng = np.random.default_rng(seed)
    start = datetime(2025, 9, 1, 8, 30).astimezone()
    points = []
    for i in range(count):
        when = start + timedelta(
            days=int(i * 7.5 + rng.integers(0, 3)), hours=int(rng.integers(0, 12))
        )
        level = 2.4 * math.exp(-(((i - 6) / 4.5) ** 2)) + 0.3 + rng.normal(0, 0.18)
        score = float(np.clip(level, 0, 3))
        area = float(np.clip(0.02 + 0.11 * (level / 2.7) + rng.normal(0, 0.01), 0.002, 1))
        points.append(
            SyntheticPoint(
                photo_id=100 + i,
                taken_at=when.isoformat(timespec="seconds"),
                score=None if i == 13 else score,
                severity_class=None if i == 13 else int(round(score)),
                lesion_area_fraction=None if i == 13 else area,
                rating=int(np.clip(round(level + rng.normal(0, 0.4)), 0, 3))
                if i % 3 == 0
                else None,
                stale=i >= count - 3,
            )
        )
    return points


def paint_lesion(dialog: MaskEditorDialog) -> None:
    """Outline a blob with the brush and fill it, then add a free stroke, like a user would."""
    painter = dialog.painter
    width, height = painter.image_size()
    cx, cy = width * 0.47, height * 0.5
    painter.set_brush_size(max(3, round(min(width, height) * 0.012)))
    outline = []
    for i in range(73):
        angle = 2 * math.pi * i / 72
        wobble = 1 + 0.18 * math.sin(3 * angle) + 0.08 * math.cos(5 * angle)
        outline.append((cx + 0.2 * width * wobble * math.cos(angle),
                        cy + 0.2 * height * wobble * math.sin(angle)))  # fmt: skip
    painter.paint_stroke(outline)
    painter.fill_at(int(cx), int(cy))
    painter.set_brush_size(max(6, round(min(width, height) * 0.05)))
    painter.paint_stroke([(width * 0.72, height * 0.25), (width * 0.8, height * 0.32),
                          (width * 0.83, height * 0.42)])  # fmt: skip
    painter.set_overlay(QColor(255, 0, 110), 0.45)


def save_small_png(widget, path: Path) -> None:
    """Grab ``widget`` and save it as a 256-colour PNG (photos stay well under 300 KB)."""
    widget.grab().save(str(path))
    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--photo", type=Path, help="photo for the editor (default: first shared photo)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args(argv)
    photo = args.photo or next(iter(sorted(DEFAULT_PHOTO_DIR.rglob("*.jpg"))), None)
    if photo is None:
        print(f"no photo given and none found under {DEFAULT_PHOTO_DIR}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])

    dialog = MaskEditorDialog(
        open_image(photo), save_mask=lambda mask: None, title="Paint prompt mask"
    )
    dialog.resize(1000, 720)
    dialog.show()
    paint_lesion(dialog)
    app.processEvents()
    dialog.painter.zoom_fit()
    app.processEvents()
    save_small_png(dialog, args.out / "painter.png")
    dialog.painter.mark_saved()
    dialog.close()

    timeline = TimelineView()
    timeline.resize(900, 520)
    timeline.set_points(synthetic_points(), "left forearm")
    timeline.show()
    app.processEvents()
    timeline.canvas.draw()
    hovered = timeline.points()[6]
    QTest.mouseMove(timeline.canvas, timeline.widget_position(hovered))  # show the hover box
    timeline.canvas.draw()
    app.processEvents()
    save_small_png(timeline, args.out / "timeline.png")
    for name in ("painter.png", "timeline.png"):
        path = args.out / name
        print(f"{path} {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
