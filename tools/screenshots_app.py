"""Screenshots of the app's main views from a real run: 8 shared photos, tiny local models.

    QT_QPA_PLATFORM=offscreen python tools/screenshots_app.py [--out docs/screenshots]

What it does, through the app's own calls: imports 8 clinical photos from ../shared/data into a
temporary store (one body site; two a week over four weeks so the timeline has a
shape), paints two prompt masks (reddish skin, found by a simple colour threshold), analyses
everything with tiny *random* checkpoints (so the masks are not meaningful), rates the photos
with made-up levels and trains a personal model so the severity panel is populated; as the
tiny SegGPT finds nothing, one result mask is corrected with the app's own correction call.
Writes library.png, result.png, timeline_app.png and painter.png (the window at 1280x720, a
laptop screen, and the prompt painter over it), and the main window at 1024x640 and 1600x1000
(window-1024x640.png, window-1600x1000.png), each under 300 KB.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from PIL import Image, ImageFilter  # noqa: E402
from PySide6.QtCore import QBuffer, QEventLoop, QIODevice, QTimer  # noqa: E402

MAX_BYTES = 300_000
PHOTOS = REPO.parent / "shared" / "data" / "eczema_photos" / "images" / "eczema"
MADE_UP_RATINGS = [1, 2, 2, 3, 1, 0, 1, 0]  # for the demo only: not anyone's real ratings


def reddish_mask(image: Image.Image) -> np.ndarray:
    """Where the skin is redder than around it (a stand-in for a person painting)."""
    rgb = np.asarray(image.filter(ImageFilter.GaussianBlur(4)), dtype=np.float32)
    redness = rgb[..., 0] - (rgb[..., 1] + rgb[..., 2]) / 2
    return redness > np.percentile(redness, 80)


def wait_for(signal, timeout_s: float = 300) -> list:
    """Run the event loop until ``signal`` fires; return its arguments."""
    loop, got = QEventLoop(), []
    signal.connect(lambda *args: (got.extend(args), loop.quit()))
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    if not got and signal is not None:
        raise TimeoutError(f"{signal} did not fire within {timeout_s} s")
    return got


def settle(app, seconds: float = 0.5) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.02)


def save_png(widget, path: Path) -> int:
    """Grab ``widget`` as PNG; quantise to a palette when that is needed to stay < 300 KB."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    widget.grab().save(buffer, "PNG")
    image = Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGB")
    for colours in (None, 256, 128, 64):
        out = io.BytesIO()
        (image if colours is None else image.quantize(colours, dither=Image.Dither.NONE)).save(
            out, "PNG", optimize=True
        )
        if out.tell() < MAX_BYTES:
            break
    path.write_bytes(out.getvalue())
    return out.tell()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    photos = sorted(PHOTOS.rglob("*.jpg"))[:8]
    if len(photos) < 8:
        print(f"shared photos not found under {PHOTOS}", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="eczema-shots-"))
    os.environ["ECZEMA_TRACKER_CONFIG_DIR"] = str(tmp / "config")
    os.environ["ECZEMA_TRACKER_CACHE_DIR"] = str(tmp / "cache")

    from eczema_tracker.app.settings import Settings
    from eczema_tracker.gui.app import application
    from eczema_tracker.gui.main_window import MainWindow
    from eczema_tracker.store import Store
    from tests.tiny_models import make_tiny_dino, make_tiny_seggpt

    app = application()
    settings = Settings(
        dino_source=str(make_tiny_dino(tmp / "dino")),
        seggpt_source=str(make_tiny_seggpt(tmp / "seggpt")),
        device="cpu",
    )
    store = Store.open(tmp / "data")
    window = MainWindow(store, settings)
    window.show_message = lambda kind, title, text, details="", **_: print(
        f"[{kind}] {title}: {text}"
    )
    window.ask_site = lambda count: "left forearm"
    window.ask_question = lambda title, text: True
    window.resize(1280, 720)
    window.show()
    settle(app)

    window.import_paths([str(p) for p in photos])
    wait_for(window.importFinished)
    start = datetime(2025, 3, 3, 9, 30)
    for i, photo in enumerate(sorted(store.photos(), key=lambda p: p.id)):  # 2 photos a week
        store.update_photo(photo.id, taken_at=start + timedelta(days=7 * (i // 2), hours=i % 2))
    ids = [p.id for p in sorted(store.photos(), key=lambda p: p.taken_at)]
    for pid in ids[:2]:
        window.prompts.save_in_background(
            pid, reddish_mask(store.load_image(pid)), correcting=False, promote=False
        )
        wait_for(window.prompts.maskStored)
    window.refresh()
    window.analysis.analyse(ids)
    wait_for(window.analysis.analysisFinished)
    window.personal.maybe_offer_training = lambda: None  # train once, after all ratings
    for pid, level in zip(ids, MADE_UP_RATINGS, strict=True):
        store.rate(pid, level)
    task = window.personal.train()
    wait_for(window.personal.rescoreFinished)
    if window.personal.result_dialog is not None:
        window.personal.result_dialog.close()
    assert task is not None

    # The tiny random SegGPT finds nothing; correct one result as a person would (not promoted).
    shown = ids[-3]
    window.open_photo(shown)
    window.prompts.save_in_background(
        shown, reddish_mask(store.load_image(shown)), correcting=True, promote=False
    )
    wait_for(window.prompts.maskStored)
    window.refresh()
    window.open_photo(shown)
    settle(app, 3.0)  # the photo (already open: no new photoShown) and the thumbnails
    args.out.mkdir(parents=True, exist_ok=True)
    sizes = {"library.png": save_png(window, args.out / "library.png")}
    sizes["result.png"] = save_png(window.photo_view, args.out / "result.png")
    window.tabs.setCurrentWidget(window.timeline_panel)
    settle(app, 1.0)
    sizes["timeline_app.png"] = save_png(window, args.out / "timeline_app.png")
    window.tabs.setCurrentWidget(window.photo_view)
    opened: list = []
    window.prompts.editorOpened.connect(opened.append)
    window.open_photo(ids[2])
    wait_for(window.photoShown, 30)
    window.prompts.paint_prompt_of_current()
    end = time.perf_counter() + 30
    while not opened and time.perf_counter() < end:
        settle(app, 0.1)
    if opened:
        painter = opened[0]
        painter.resize(1280, 720)
        w, h = painter.painter.image_size()
        painter.painter.paint_stroke([(w * 0.3, h * 0.4), (w * 0.6, h * 0.55)])
        settle(app, 1.0)
        sizes["painter.png"] = save_png(painter, args.out / "painter.png")
        painter.done(0)
    window.splitter.setSizes([330, 950])  # the default layout, not a remembered one
    for width, height in ((1024, 640), (1600, 1000)):  # the photo gets the room at both sizes
        window.resize(width, height)
        settle(app, 1.0)
        name = f"window-{width}x{height}.png"
        sizes[name] = save_png(window, args.out / name)
    for name, size in sizes.items():
        print(f"{args.out / name}: {size / 1000:.0f} KB")
    window.close()
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
