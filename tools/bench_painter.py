"""Time the mask painter on a 12-MP (4000 x 3000) image, headless.

    QT_QPA_PLATFORM=offscreen python tools/bench_painter.py

Prints the time of set_image, of each mouse move of a 200-event brush stroke (painting and
repaint included), of committing the stroke, and of fill, clear, undo and mask().
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from eczema_tracker.gui.painter.canvas import MaskPainter  # noqa: E402


def timed(label: str, action) -> None:
    start = time.perf_counter()
    action()
    QApplication.processEvents()
    print(f"{label}: {1e3 * (time.perf_counter() - start):.1f} ms")


def main() -> None:
    app = QApplication.instance() or QApplication([])
    image = np.random.default_rng(0).integers(0, 255, (3000, 4000, 3), dtype=np.uint8)
    painter = MaskPainter()
    painter.resize(1000, 750)
    painter.show()
    app.processEvents()
    timed("set_image 12 MP", lambda: painter.set_image(image))
    painter.set_brush_size(80)
    viewport = painter.viewport()
    points = [
        painter.image_to_viewport(200 + 18 * i, 1500 + 800 * np.sin(i / 20)) for i in range(200)
    ]
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
    moves = []
    for point in points[1:]:
        start = time.perf_counter()
        QTest.mouseMove(viewport, point)
        app.processEvents()
        moves.append(time.perf_counter() - start)
    print(f"mouse move + repaint: median {1e3 * np.median(moves):.2f} ms, "
          f"95th percentile {1e3 * np.percentile(moves, 95):.2f} ms, max {1e3 * max(moves):.2f} ms")  # fmt: skip
    timed("stroke release (commit + undo entry)", lambda: QTest.mouseRelease(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1]))  # fmt: skip
    timed("undo stroke", painter.undo)
    angles = np.linspace(0, 2 * np.pi, 200)
    painter.set_brush_size(10)
    painter.paint_stroke(
        list(zip(2000 + 1200 * np.cos(angles), 1500 + 900 * np.sin(angles), strict=True))
    )
    timed("fill inside a 2400 x 1800 ring", lambda: painter.fill_at(2000, 1500))
    timed("clear", painter.clear)
    timed("undo clear", painter.undo)
    timed("mask()", painter.mask)
    kib = sum(edit.nbytes for edit in painter._history._undo) / 1024
    print(f"undo history: {len(painter._history)} entries, {kib:.0f} KiB")


if __name__ == "__main__":
    main()
