"""Build the PROXY research dataset "atopic dermatitis vs the other conditions" (no masks).

The shared clinical photos (``../shared/data/eczema_photos``) carry diagnoses, not severity
ratings, and no lesion masks. To exercise ``eczema-tracker evaluate`` end to end on real
photos with a real backbone, this script writes a dataset folder whose label is
1 for ``eczema:atopic_dermatitis`` and 0 for every other condition. It is a stand-in task,
NOT the paper's severity task: report its numbers as a proxy only. With no masks, only the
methods that need none (``dino-full``, and the baselines when their weights are present) can
run; no masks are invented.

Usage::

    python tools/make_proxy_dataset.py /tmp/proxy_dataset [--photos ../shared/data/eczema_photos]

Images are hard-linked (or copied when links are impossible) into DATASET/images/.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
from pathlib import Path

POSITIVE = "eczema:atopic_dermatitis"
DEFAULT_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "eczema_photos"


def build(photos: Path, out: Path) -> tuple[int, int]:
    """Write ``out/images`` and ``out/labels.csv`` from ``photos/index.csv``; return (pos, neg)."""
    index = photos / "index.csv"
    if not index.is_file():
        raise SystemExit(f"error: {index} not found")
    if (out / "labels.csv").exists():
        raise SystemExit(f"error: {out} already holds a dataset; choose an empty folder")
    (out / "images").mkdir(parents=True, exist_ok=True)
    rows, positives = [], 0
    with open(index, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            source = photos / row["file"]
            relative = Path(row["file"]).relative_to("images")
            target = out / "images" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)
            label = 1 if row["label"] == POSITIVE else 0
            positives += label
            rows.append((relative.as_posix(), label))
    with open(out / "labels.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "label"])
        writer.writerows(rows)
    (out / "README.txt").write_text(
        "PROXY dataset: label 1 = atopic dermatitis, 0 = any other condition "
        f"(from {index}). Not a severity dataset; no masks.\n",
        encoding="utf-8",
    )
    return positives, len(rows) - positives


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="dataset folder to create (e.g. /tmp/proxy_dataset)")
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS, help="eczema_photos folder")
    args = parser.parse_args(argv)
    positives, negatives = build(args.photos, args.out)
    print(f"wrote {args.out}: {positives} atopic dermatitis (label 1), {negatives} other (label 0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
