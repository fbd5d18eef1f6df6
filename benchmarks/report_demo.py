"""A realistic demo store and its report for the doctor; page 1 rendered for the docs.

Uses a few of the shared clinical photos *by path* (``../shared/data/eczema_photos``: internal
test data, not copied into the repository) for two body sites over three months, with masks
from a simple redness threshold (no models needed), analyses scored by a "personal" model,
weekly POEM check-ins, daily itch and sleep numbers, a steroid course, an emollient, a flare and
notes. Writes the PDF and, with poppler's ``pdftoppm``, page 1 as a PNG::

    python benchmarks/report_demo.py --out /tmp/demo.pdf --png docs/screenshots/report-page1.png
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "eczema_photos" / "images"
SITES = {
    "left hand": [
        "eczema/hand_dermatitis/" + n
        for n in ("2825.jpg", "eczchrmanb.jpg", "dscn5441.jpg", "2835.jpg", "2806.jpg")
    ],
    "knee creases": [
        "eczema/atopic_dermatitis/" + n
        for n in (
            "atopic-dermatitis-0004.jpg",
            "atopic-dermatitis-0001.jpg",
            "atopic-dermatitis-0002.jpg",
            "atopic-dermatitis-0003.jpg",
        )  # fmt: skip
    ],
}


def redness_mask(path: Path, area: float) -> np.ndarray:
    """The reddest ``area`` of the photo (red over green and blue), smoothed: a stand-in for
    the app's segmentation that follows each photo's own lesions."""
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    redness = rgb[..., 0] - 0.5 * (rgb[..., 1] + rgb[..., 2])
    smooth = np.asarray(
        Image.fromarray(np.clip(redness + 64, 0, 255).astype(np.uint8)).filter(
            ImageFilter.GaussianBlur(5)
        ),
        dtype=np.float32,
    )
    return smooth > np.quantile(smooth, 1.0 - area)


def _existing(names: list[str]) -> list[Path]:
    found = [PHOTOS / n for n in names if (PHOTOS / n).is_file()]
    if len(found) < 3:  # a different copy of the data: any photos of that condition
        folder = (PHOTOS / names[0]).parent
        found = sorted(folder.glob("*.jpg"))[:5]
    return found


def build_demo(data_dir: Path) -> tuple[date, date]:
    """Fill a store in ``data_dir``; returns the report's range."""
    from eczema_tracker.store import Store

    today = date.today()
    first = today - timedelta(days=89)
    with Store.open(data_dir) as store, tempfile.TemporaryDirectory() as tmp:
        model_file = Path(tmp) / "personal-severity.safetensors"
        model_file.write_bytes(b"demo")
        model_id = store.add_severity_model(
            model_file,
            {
                "kind": "personal",
                "cv_accuracy": 0.72,
                "n_train": 18,
                "cv_scheme": "stratified 3-fold cross-validation",
            },  # fmt: skip
        )
        for s, (site, names) in enumerate(SITES.items()):
            paths = _existing(names)
            results = store.import_paths(paths, site=site)
            for i, (path, result) in enumerate(zip(paths, results, strict=True)):
                assert result.photo_id is not None, result.reason
                when = first + timedelta(days=2 + s * 3 + i * 20)
                store.update_photo(
                    result.photo_id, taken_at=datetime(when.year, when.month, when.day, 8, 15)
                )
                mask = redness_mask(path, area=0.2 - 0.13 * i / max(1, len(paths) - 1) - 0.03 * s)
                score = max(0.3, 2.5 - 0.45 * i - 0.2 * s)
                store.record_analysis(
                    result.photo_id,
                    mask=mask,
                    lesion_area_fraction=float(mask.mean()),
                    features=None,
                    feature_source=None,
                    probabilities=[0.05, 0.25, 0.45, 0.25],
                    score=score,
                    model_sources={"dino": "demo"},
                    k=2,
                    severity_model_id=model_id,
                )
                if i == 0:
                    store.update_photo(result.photo_id, note="Before starting the steroid.")
        rng = np.random.default_rng(3)
        for week in range(13):
            day = first + timedelta(days=7 * week)
            level = 3 if week < 3 else (2 if week < 7 else 1)
            steps = rng.integers(-1, 2, 7)
            answers: list[int | None] = [int(np.clip(level + v, 0, 4)) for v in steps]
            store.record_day(day, answers=answers)
        for n in range(90):
            itch = int(np.clip(8 - n / 12 + rng.normal(0, 1.2), 0, 10))
            sleep = int(np.clip(6 - n / 15 + rng.normal(0, 1.5), 0, 10))
            store.set_daily(first + timedelta(days=n), itch=itch, sleep_loss=sleep)
        steroid = store.add_treatment(
            "Mometasone 0.1% ointment", "topical_corticosteroid", "potent"
        )
        emollient = store.add_treatment("Emollient cream (QV)", "emollient")
        store.add_course(steroid.id, first + timedelta(days=4), first + timedelta(days=25), 1)
        store.add_course(steroid.id, first + timedelta(days=50), first + timedelta(days=57), 1)
        store.add_course(emollient.id, first - timedelta(days=60), None, 3)
        store.set_day_mark(
            first + timedelta(days=47), flare=True, note="Flare after a week of cold weather."
        )
        store.set_day_mark(
            first + timedelta(days=70), note="Switched to fragrance-free soap at work."
        )
    return first, today


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the PDF to write")
    parser.add_argument("--png", default=None, help="page 1 as PNG (needs pdftoppm)")
    parser.add_argument("--dpi", type=int, default=80)
    args = parser.parse_args(argv)
    from eczema_tracker.app.report.data import gather_report
    from eczema_tracker.app.report.pdf import write_report
    from eczema_tracker.app.report.request import check_request
    from eczema_tracker.store import Store

    with tempfile.TemporaryDirectory(prefix="report-demo-") as tmp:
        first, last = build_demo(Path(tmp) / "store")
        with Store.open(Path(tmp) / "store", readonly=True) as store:
            request = check_request(first, last, name="Sam Patient", paper="a4")
            written = write_report(gather_report(store, request), args.out, overwrite=True)
    print(f"wrote {written.path} ({written.pages} pages)")
    if args.png:
        png = Path(args.png)
        with tempfile.TemporaryDirectory() as tmp:
            stem = Path(tmp) / "page"
            subprocess.run(
                ["pdftoppm", "-png", "-r", str(args.dpi), "-f", "1", "-l", "1", "-singlefile",
                 str(written.path), str(stem)],
                check=True,
            )  # fmt: skip
            shutil.copyfile(stem.with_suffix(".png"), png)
        print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
