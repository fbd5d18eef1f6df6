"""Store benchmark: import real photos, list 10,000 photos, read a 10,000-point timeline.

Usage::

    python benchmarks/bench_store.py [--photos DIR] [--n-import 100] [--rows 10000] [--json OUT]

Everything happens in a temporary folder. The 10,000 rows are synthetic (inserted with SQL,
no files), which is what listing and timeline reads touch; the import uses real JPEGs.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from eczema_tracker.store import Store, db

DEFAULT_PHOTOS = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "eczema_photos" / "images"
)


def _timed(fn: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """(median seconds, best seconds, last result) of ``repeat`` calls."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), result


def bench_import(photos: list[Path], folder: Path) -> dict:
    with Store.open(folder) as store:
        start = time.perf_counter()
        results = store.import_paths(photos)
        seconds = time.perf_counter() - start
    imported = sum(r.status == "imported" for r in results)
    return {
        "name": f"import {len(photos)} shared photos",
        "seconds": seconds,
        "per_item_ms": 1000 * seconds / max(1, len(photos)),
        "note": f"{imported} imported; fsync'd files + WAL commits, thumbnails made",
    }


def fill_synthetic(folder: Path, rows: int, site: str) -> None:
    """``rows`` photos (no files) with an analysis and a rating each, all on ``site``."""
    Store.open(folder).close()
    rng = random.Random(0)
    conn = sqlite3.connect(folder / db.DB_NAME)
    with conn:
        conn.execute(
            "INSERT INTO mask_file (sha256, stored_name, width, height, area_fraction, created_at)"
            " VALUES ('m', 'masks/00/m.png', 640, 480, 0.1, '2025-01-01T00:00:00')"
        )
        for i in range(rows):
            day = f"20{10 + i // 4000:02d}-{1 + (i // 300) % 12:02d}-{1 + i % 28:02d}"
            cur = conn.execute(
                "INSERT INTO photo (sha256, stored_name, original_name, format, byte_size, width,"
                " height, taken_at, taken_at_source, imported_at, site) VALUES "
                "(?, ?, ?, 'JPEG', 50000, 640, 480, ?, 'exif', '2025-01-01T00:00:00', ?)",
                (f"{i:064x}", f"photos/00/{i:064x}.jpg", f"IMG_{i}.jpg",
                 f"{day}T{rng.randrange(24):02d}:00:00", site),
            )  # fmt: skip
            photo_id = cur.lastrowid
            cur = conn.execute(
                "INSERT INTO analysis (photo_id, created_at, site, prompt_seq, mask_id,"
                " lesion_area_fraction, probabilities, score, severity_class, features,"
                " features_dtype, features_shape, feature_source, model_sources, k) VALUES"
                " (?, '2025-01-02T00:00:00', ?, 0, 1, ?, '[0.1,0.2,0.3,0.4]', ?, 3, ?, '<f4',"
                " '[768]', 'dino', '{}', 2)",
                (photo_id, site, rng.random(), 3 * rng.random(), bytes(768 * 4)),
            )
            conn.execute(
                "UPDATE photo SET current_analysis_id = ? WHERE id = ?", (cur.lastrowid, photo_id)
            )
            conn.execute(
                "INSERT INTO rating (photo_id, rating, rated_at) VALUES (?, ?, '2025-01-03')",
                (photo_id, rng.randrange(4)),
            )
    conn.close()


def bench_reads(folder: Path, rows: int, site: str, repeat: int) -> list[dict]:
    out = []
    start = time.perf_counter()
    store = Store.open(folder)
    open_s = time.perf_counter() - start
    out.append(
        {
            "name": f"open store with {rows} photos (quick check)",
            "seconds": open_s,
            "per_item_ms": 1000 * open_s / rows,
            "note": "synthetic rows have no files: the check reports them missing",
        }
    )
    with store:
        med, best, photos = _timed(store.photos, repeat)
        assert len(photos) == rows
        out.append({"name": f"photos() listing {rows} photos", "seconds": med,
                    "best": best, "per_item_ms": 1000 * med / rows, "note": "median"})  # fmt: skip
        med, best, photos = _timed(lambda: store.photos(site), repeat)
        out.append({"name": f"photos(site) listing {rows} photos", "seconds": med,
                    "best": best, "per_item_ms": 1000 * med / rows, "note": "median"})  # fmt: skip
        med, best, points = _timed(lambda: store.timeline(site), repeat)
        assert len(points) == rows and points[0].score is not None
        out.append({"name": f"timeline(site) of {rows} points", "seconds": med,
                    "best": best, "per_item_ms": 1000 * med / rows, "note": "median"})  # fmt: skip
        ids = [p.id for p in photos[:1000]]
        med, best, _ = _timed(lambda: [store.current_analysis(i) for i in ids], 1)
        out.append({"name": "current_analysis() x 1000 (one by one)", "seconds": med,
                    "per_item_ms": med, "note": "features + masks loaded each"})  # fmt: skip
        med, best, by_photo = _timed(lambda: store.current_analyses(site), repeat)
        assert len(by_photo) == rows
        out.append({"name": f"current_analyses(site) for {rows} photos", "seconds": med,
                    "best": best, "per_item_ms": 1000 * med / rows,
                    "note": "median; one query"})  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--n-import", type=int, default=100)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, metavar="OUT")
    args = parser.parse_args(argv)

    photos = sorted(args.photos.rglob("*.jpg"))[: args.n_import]
    if len(photos) < args.n_import:
        print(f"only {len(photos)} photos found under {args.photos}", file=sys.stderr)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-store-") as work:
        if photos:
            results.append(bench_import(photos, Path(work) / "import"))
        fill_synthetic(Path(work) / "synthetic", args.rows, "left arm")
        results.extend(bench_reads(Path(work) / "synthetic", args.rows, "left arm", args.repeat))

    print(f"{'benchmark':<48} {'seconds':>9} {'ms/item':>9}  note")
    for r in results:
        print(f"{r['name']:<48} {r['seconds']:>9.3f} {r['per_item_ms']:>9.3f}  {r['note']}")
    if args.json:
        payload = {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "machine": platform.platform(),
            "results": results,
        }
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
