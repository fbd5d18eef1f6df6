"""Fuzz the parsers that take outside bytes, many more cases than the test suite runs.

    python benchmarks/fuzz_parsers.py --cases 5000 [--seed 0] [--data ../shared/data]

Mutates real images (cut, cut + JPEG end marker, flipped bytes, spliced headers, inserted
bytes, rewritten sizes) and decodes each as a photo (full and reduced) and as a mask; writes
random ``labels.csv`` files into a tiny dataset and loads it. Every case must end in a result
or the one-line error (``ImageLoadError`` / ``DatasetError``). Prints a summary: outcomes per
parser, the slowest case, the peak memory (VmHWM) and any case that raised something else
(its mutation recipe, so it can be replayed). Exit code 1 if there was any such case.
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from eczema_tracker.core import imaging
from eczema_tracker.research.dataset import DatasetError, load_dataset

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the crafted-bytes helpers the fuzz tests use too
from image_crafting import with_claimed_size  # noqa: E402


def peak_mb() -> float:
    """This process's peak resident memory in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seeds(data_dir: Path) -> list[tuple[str, bytes]]:
    """(name, bytes) of the seed images: a few made here plus the shared odd images."""
    out = []
    pixels = np.random.default_rng(0).integers(0, 255, (40, 64, 3), dtype=np.uint8)
    for name, fmt, extra in (
        ("own.jpg", "JPEG", {}),
        ("own_progressive.jpg", "JPEG", {"progressive": True}),
        ("own_restart.jpg", "JPEG", {"restart_marker_blocks": 2}),
        ("own.png", "PNG", {}),
        ("own.gif", "GIF", {}),
        ("own.bmp", "BMP", {}),
    ):
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format=fmt, **extra)
        out.append((name, buf.getvalue()))
    odd = data_dir / "odd_images"
    for path in sorted(odd.glob("*")) if odd.is_dir() else []:
        if imaging.is_image_name(path) and path.stat().st_size < 600_000:
            out.append((path.name, path.read_bytes()))
    return out


def mutate(data: bytes, rng: random.Random, pool: list[bytes]) -> tuple[bytes, list[str]]:
    """``data`` after 0-3 random mutations, and the recipe that made it."""
    out = bytearray(data)
    recipe = []
    for _ in range(rng.randint(0, 3)):
        if not out:
            break
        kind = rng.choice(["flip", "flip", "cut", "cut_eoi", "splice", "insert", "size"])
        at = rng.randrange(len(out))
        if kind == "flip":
            out[at] ^= rng.randint(1, 255)
        elif kind == "cut":
            out = out[:at]
        elif kind == "cut_eoi":
            out = out[:at] + b"\xff\xd9"
        elif kind == "splice":
            other = rng.choice(pool)
            n = rng.randint(1, min(64, len(other)))
            out[:n] = other[:n]
            at = n
        elif kind == "insert":
            out[at:at] = rng.randbytes(rng.randint(1, 16))
        else:
            at = rng.randint(1, 65535) * 65536 + rng.randint(1, 65535)
            out = bytearray(with_claimed_size(bytes(out), at >> 16, at & 0xFFFF))
        recipe.append(f"{kind}@{at}")
    return bytes(out), recipe


def fuzz_images(cases: int, rng: random.Random, pool, tmp: Path, stats: Counter, failures) -> float:
    """Decode mutated images as photos and masks; return the slowest case's seconds."""
    slowest = 0.0
    mask_path = tmp / "mask.png"
    for case in range(cases):
        name, seed = rng.choice(pool)
        data, recipe = mutate(seed, rng, [d for _, d in pool])
        start = time.perf_counter()
        for parser in ("photo", "photo_reduced", "mask"):
            try:
                if parser == "mask":
                    mask_path.write_bytes(data)
                    imaging.load_mask(mask_path)
                else:
                    side = 256 if parser == "photo_reduced" else None
                    imaging.decode_photo(data, label=name, max_side=side)
                stats[f"{parser}: result"] += 1
            except imaging.ImageLoadError as exc:
                stats[f"{parser}: refused"] += 1
                if "\n" in str(exc):
                    failures.append((parser, case, name, recipe, "multi-line refusal"))
            except Exception:  # noqa: BLE001 - what the fuzzer looks for
                failures.append((parser, case, name, recipe, traceback.format_exc(limit=3)))
        slowest = max(slowest, time.perf_counter() - start)
    return slowest


def random_labels(rng: random.Random) -> bytes:
    """Random labels.csv bytes: mostly CSV-shaped with hostile cells, sometimes any bytes."""
    if rng.random() < 0.1:
        return rng.randbytes(rng.randint(0, 400))
    cells = [
        "photo_00.png",
        "photo_01.png",
        "missing.png",
        "../x.png",
        "/abs.png",
        "0",
        "3",
        "mild",
        "Severe",
        "4",
        "",
        '"',
        '"a,b"',
        "\x00",
        "\u0661",
        "\u00b2",
        "\ufeff",
        "\\",
    ]
    lines = [rng.choice(["file,label", "File , Label ,extra", "label,file", "x", ""])]
    good = rng.random() < 0.5  # all rows well formed, so loads succeed too
    for i in range(rng.randint(1, 3) if good else rng.randint(0, 10)):
        if good:
            lines.append(f"photo_0{i % 3}.png,{rng.choice(['0', '2', ' mild', 'SEVERE'])}")
        else:
            lines.append(",".join(rng.choice(cells) for _ in range(rng.randint(0, 4))))
    text = rng.choice(["\n", "\r\n", "\r"]).join(lines)
    return text.encode(rng.choice(["utf-8", "utf-8-sig", "utf-16", "latin-1"]), "replace")


def fuzz_labels(cases: int, rng: random.Random, root: Path, stats: Counter, failures) -> None:
    """Load the tiny dataset with random labels.csv files."""
    labels = root / "labels.csv"
    for case in range(cases):
        data = random_labels(rng)
        labels.write_bytes(data)
        try:
            load_dataset(root)
            stats["labels.csv: result"] += 1
        except DatasetError as exc:
            stats["labels.csv: refused"] += 1
            if "\n" in str(exc) or "\r" in str(exc):
                failures.append(("labels.csv", case, "labels.csv", [repr(data[:80])], "multi-line"))
        except Exception:  # noqa: BLE001
            failures.append(
                ("labels.csv", case, "labels.csv", [repr(data[:80])], traceback.format_exc(limit=3))
            )


def tiny_dataset(root: Path) -> Path:
    """images/photo_0N.png (N < 3), one mask, labels.csv."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(3):
        Image.new("RGB", (24, 24), (40 * i, 100, 150)).save(root / "images" / f"photo_{i:02}.png")
    Image.new("L", (24, 24), 255).save(root / "masks" / "photo_00.png")
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000, help="image cases (labels: half)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # Pillow warns about every broken EXIF block it skips
    rng = random.Random(args.seed)
    pool = seeds(args.data)
    stats: Counter = Counter()
    failures: list = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        slowest = fuzz_images(args.cases, rng, pool, Path(tmp), stats, failures)
        fuzz_labels(args.cases // 2, rng, tiny_dataset(Path(tmp) / "ds"), stats, failures)
    seconds = time.perf_counter() - start
    print(
        f"fuzz_parsers: {args.cases} image cases x 3 parsers, {args.cases // 2} labels.csv "
        f"cases, seed {args.seed}, {len(pool)} seed images, {seconds:.1f} s"
    )
    for key in sorted(stats):
        print(f"  {key:<24} {stats[key]:>7}")
    print(f"  slowest image case       {slowest * 1000:.0f} ms")
    print(f"  peak memory (VmHWM)      {peak_mb():.0f} MB")
    print(f"  other exceptions         {len(failures)}")
    for parser_name, case, name, recipe, what in failures[:10]:
        print(f"    {parser_name} case {case} seed {name} {' '.join(recipe)}\n      {what.strip()}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
