"""How long the report for the doctor takes for a store of 200 photos and 30 check-ins.

Builds a store in a temp folder (not timed): 200 synthetic JPEGs of 2000x1500 pixels (3 MP;
12-MP ones take minutes just to make, and the report decodes every photo reduced anyway, by DCT
scaling, so its cost barely depends on the megapixels) over 4 body sites and ~7 months, each with
an analysis and a full-size mask; 30 weekly POEM check-ins, daily itch and sleep numbers,
two treatments with three courses, flares and notes. Then times, over the whole range,
:func:`~eczema_tracker.app.report.data.gather_report` (reading the store, decoding the strip
photos and masks) and :func:`~eczema_tracker.app.report.pdf.write_report` (drawing and writing
the PDF), and prints one JSON object::

    python benchmarks/bench_report.py              # 200 photos, 30 check-ins
    python benchmarks/bench_report.py --photos 40  # a quicker run
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SITES = ("left arm", "right arm", "left knee crease", "neck")


def _photo(path: Path, rng: np.random.Generator, size: tuple[int, int], fraction: float) -> None:
    w, h = size
    small = rng.normal(0, 8, (h // 8, w // 8, 3))  # smooth noise: a realistic JPEG size
    noise = np.asarray(Image.fromarray(np.clip(small + 128, 0, 255).astype(np.uint8)).resize(size))
    skin = np.clip(np.array([222, 178, 150]) + noise.astype(np.int16) - 128, 0, 255)
    im = Image.fromarray(skin.astype(np.uint8))
    r = int(np.sqrt(fraction * w * h / np.pi))
    ImageDraw.Draw(im).ellipse((w // 2 - r, h // 2 - r, w // 2 + r, h // 2 + r), fill=(185, 80, 70))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=90)
    path.write_bytes(buf.getvalue())


def build_store(
    folder: Path, photos: int, checkins: int, size: tuple[int, int]
) -> tuple[date, date]:
    """Fill a store in ``folder``; returns the range that holds everything."""
    from eczema_tracker.store import Store

    rng = np.random.default_rng(0)
    today = date.today()
    first = today - timedelta(days=7 * checkins)
    span = (today - first).days
    with Store.open(folder / "store") as store:
        model_file = folder / "personal.safetensors"
        model_file.write_bytes(b"benchmark: the store only copies this file")
        model_id = store.add_severity_model(
            model_file, {"kind": "personal", "cv_accuracy": 0.7, "n_train": 20}
        )
        per_site = -(-photos // len(SITES))
        made = 0
        for s, site in enumerate(SITES):
            n = min(per_site, photos - made)
            paths = []
            fractions = np.linspace(0.15, 0.04, n) if n > 1 else np.array([0.1])
            for i in range(n):
                path = folder / "photos" / f"{s}-{i}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                _photo(path, rng, size, float(fractions[i]))
                paths.append(path)
            results = store.import_paths(paths, site=site)
            for i, result in enumerate(results):
                assert result.photo_id is not None, result.reason
                when = first + timedelta(days=int(i * span / max(1, n - 1)))
                store.update_photo(
                    result.photo_id, taken_at=datetime(when.year, when.month, when.day, 8)
                )
                w, h = size
                yy, xx = np.ogrid[0:h, 0:w]
                r2 = fractions[i] * w * h / np.pi
                mask = (xx - w / 2) ** 2 + (yy - h / 2) ** 2 <= r2
                store.record_analysis(
                    result.photo_id,
                    mask=mask,
                    lesion_area_fraction=float(mask.mean()),
                    features=None,
                    feature_source=None,
                    probabilities=[0.1, 0.3, 0.4, 0.2],
                    score=2.5 - 2 * i / max(1, n),
                    model_sources={"dino": "bench"},
                    k=2,
                    severity_model_id=model_id,
                )
            made += n
        for week in range(checkins):
            answers: list[int | None] = [int(v) for v in rng.integers(0, 5, 7)]
            store.record_day(first + timedelta(days=7 * week), answers=answers)
        for day in range(0, span, 1):
            store.set_daily(first + timedelta(days=day), itch=int(rng.integers(0, 11)),
                            sleep_loss=int(rng.integers(0, 11)))  # fmt: skip
        cream = store.add_treatment("Mometasone 0.1% ointment", "topical_corticosteroid", "potent")
        emollient = store.add_treatment("Emollient cream", "emollient")
        for start in (span // 20, span // 2):
            store.add_course(cream.id, first + timedelta(days=start),
                             first + timedelta(days=start + min(14, span // 10)), 1)  # fmt: skip
        store.add_course(emollient.id, first, None, 3)
        for day in (span // 15, span // 2, 3 * span // 4):
            store.set_day_mark(first + timedelta(days=day), flare=True, note="flare")
    return first, today


def _peak_rss_mb() -> float:
    """The process's peak resident set so far, in MB (Linux and macOS)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1e6 if sys.platform == "darwin" else 1e3), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--checkins", type=int, default=30)
    parser.add_argument("--width", type=int, default=2000)
    parser.add_argument("--height", type=int, default=1500)
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="build the store in DIR once and reuse it on later runs (to compare two versions "
        "of the report on the same store)",
    )
    args = parser.parse_args(argv)
    from eczema_tracker.app.report.data import gather_report
    from eczema_tracker.app.report.pdf import write_report
    from eczema_tracker.app.report.request import check_request
    from eczema_tracker.store import Store

    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        started = time.perf_counter()
        range_file = folder / "range.json"
        if range_file.is_file():
            kept = json.loads(range_file.read_text())
            first, last = date.fromisoformat(kept[0]), date.fromisoformat(kept[1])
        else:
            size = (args.width, args.height)
            first, last = build_store(folder, args.photos, args.checkins, size)
            range_file.write_text(json.dumps([first.isoformat(), last.isoformat()]))
        built = time.perf_counter() - started
        with Store.open(folder / "store", readonly=True) as store:
            rss_before = _peak_rss_mb()
            t0 = time.perf_counter()
            data = gather_report(store, check_request(first, last))
            t1 = time.perf_counter()
            out = folder / "report.pdf"
            out.unlink(missing_ok=True)
            written = write_report(data, out)
            t2 = time.perf_counter()
        result = {
            "photos": data.photo_count,
            "checkins": len(data.poem.totals) + data.poem.unscored,
            "photo_size": f"{args.width}x{args.height}",
            "pages": written.pages,
            "pdf_bytes": written.path.stat().st_size,
            "gather_seconds": round(t1 - t0, 3),
            "write_seconds": round(t2 - t1, 3),
            "seconds": round(t2 - t0, 3),
            "store_build_seconds": round(built, 1),
            # the process's peak resident memory (a kept store: the report's own peak)
            "peak_rss_mb_before_report": rss_before,
            "peak_rss_mb": _peak_rss_mb(),
        }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
