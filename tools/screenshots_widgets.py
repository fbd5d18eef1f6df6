"""Screenshots of the mask editor, the timeline and the dialogs for the docs.

Run headless from the repository root:

    QT_QPA_PLATFORM=offscreen python tools/screenshots_widgets.py [--photo PATH] [--out docs/screenshots]

The editor shows a real photo from ../shared/data/eczema_photos with a mask painted through
the painter's own stroke and fill code; the timeline shows 20 synthetic points. Then a store
of 40 photos over 12 months (analyses, ratings, two prompts) is opened in the real main window
on its Timeline tab (``timeline_year.png``), and the dialog of a download that failed offline
is shown (``offline_dialog.png``). ``--hold SECONDS`` keeps the year window open that long
(e.g. to take ``import -window root`` under Xvfb).
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

from eczema_tracker.core.imaging import open_image  # noqa: E402
from eczema_tracker.gui.painter.editor import MaskEditorDialog  # noqa: E402
from eczema_tracker.gui.timeline.view import TimelineView  # noqa: E402

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


def year_store(folder: Path, photo_dir: Path, count: int = 40, seed: int = 5):
    """A store in ``folder`` with ``count`` photos over 12 months, analysed and partly rated."""
    from eczema_tracker.store import Store

    rng = np.random.default_rng(seed)
    sources = sorted(photo_dir.rglob("*.jpg"))[:count]
    if len(sources) < count:  # no shared photos: small generated ones
        sources = []
        for i in range(count):
            pixels = np.full((240, 320, 3), (222, 172, 150), dtype=np.uint8)
            pixels[60 + i % 40 : 150, 80:220] = (170, 70, 70)
            sources.append(folder.parent / f"generated_{i:02d}.jpg")
            Image.fromarray(pixels).save(sources[-1])
    store = Store.open(folder)
    ids = [r.photo_id for r in store.import_paths(sources, "left forearm") if r.photo_id]
    start = datetime(2025, 1, 4, 8, 30)
    for i, pid in enumerate(ids):
        store.update_photo(pid, taken_at=start + timedelta(days=int(i * 9.1), hours=i % 9))
    for pid in ids[:2]:
        photo = store.photo(pid)
        mask = np.zeros((photo.height, photo.width), dtype=bool)
        mask[photo.height // 3 : photo.height // 2, photo.width // 4 : photo.width // 2] = True
        store.set_prompt_mask(pid, mask)
    for i, pid in enumerate(ids):
        photo = store.photo(pid)
        flare = 2.3 * math.exp(-(((i - 10) / 5.0) ** 2)) + 1.6 * math.exp(-(((i - 30) / 4) ** 2))
        level = float(np.clip(0.35 + flare + rng.normal(0, 0.15), 0, 3))
        probs = np.exp(-((np.arange(4) - level) ** 2) / 0.35)
        probs /= probs.sum()
        area = max(0.0, 0.02 + 0.06 * level + rng.normal(0, 0.01))
        mask = np.zeros((photo.height, photo.width), dtype=bool)
        mask[: max(1, int(photo.height * area))] = True
        store.record_analysis(
            pid, mask=mask, lesion_area_fraction=float(mask.mean()), features=None,
            feature_source=None, probabilities=probs, score=float(probs @ np.arange(4)),
            model_sources={}, k=2,
        )  # fmt: skip
        if i % 3 == 0:
            store.rate(pid, int(round(level)))
    return store


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
    parser.add_argument("--hold", type=float, default=0.0, help="keep the year window open")
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
    timeline.close()
    names = ["painter.png", "timeline.png", *year_and_dialog_shots(app, args.out, args.hold)]
    for name in names:
        path = args.out / name
        print(f"{path} {path.stat().st_size // 1024} KB")
    return 0


def year_and_dialog_shots(app: QApplication, out: Path, hold: float) -> list[str]:
    """The main window's timeline over a year of photos, and the offline-download dialog."""
    import tempfile

    import shiboken6
    from PySide6.QtCore import QEventLoop, QThreadPool, QTimer

    from eczema_tracker.app.settings import Settings
    from eczema_tracker.gui.main_window import MainWindow
    from eczema_tracker.gui.models.download_failed_dialog import (
        DownloadFailedDialog,
        describe_download_failure,
    )

    with tempfile.TemporaryDirectory(prefix="eczema-shots-") as tmp:
        store = year_store(Path(tmp) / "store", DEFAULT_PHOTO_DIR)
        window = MainWindow(store, Settings())
        window.resize(1280, 800)
        window.show()
        window.tabs.setCurrentWidget(window.timeline_panel)
        for _ in range(20):
            app.processEvents()
        view = window.timeline_panel.ensure_view()
        view.set_range("12m")
        view.canvas.draw()
        app.processEvents()
        save_small_png(window, out / "timeline_year.png")
        if hold > 0:
            loop = QEventLoop()
            QTimer.singleShot(int(hold * 1000), loop.quit)
            loop.exec()

        try:
            import socket

            raise ConnectionError(socket.gaierror(-2, "Name or service not known"))
        except ConnectionError as exc:
            failure = describe_download_failure(exc)
        dialog = DownloadFailedDialog(failure, window)
        dialog.show()
        app.processEvents()
        save_small_png(dialog, out / "offline_dialog.png")
        dialog.close()
        window.thumbnails.wait_idle()
        window.close()
        from eczema_tracker.gui.tasks import BackgroundTask

        while BackgroundTask._running:  # photo decoding started by the window
            app.processEvents()
        QThreadPool.globalInstance().waitForDone(10000)
        app.processEvents()
        shiboken6.delete(window)  # delete its Qt objects now, not during interpreter exit
        store.close()
    return ["timeline_year.png", "offline_dialog.png"]


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # The shots are written; skip Python's teardown of the main window's Qt objects, which
    # PySide6 sometimes crashes on at exit (nothing is left unsaved here).
    os._exit(code)
