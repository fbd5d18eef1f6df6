"""Property-based fuzzing of the two parsers that take outside bytes (issue 13, "Fuzzing").

Photo and mask decoding (:mod:`eczema_tracker.core.imaging`) get real image files mutated: cut,
bytes flipped, headers spliced from another format, sizes rewritten to huge values. The
dataset's ``labels.csv`` parser (:mod:`eczema_tracker.research.dataset`) gets random and
structured CSV text and bytes. Every case must end in a result or the one-line error type
(``ImageLoadError`` / ``DatasetError``), never another exception, and the peak memory of the
whole run stays bounded. ``benchmarks/fuzz_parsers.py`` runs many more cases.
"""

from __future__ import annotations

import io
import os
import resource
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from image_crafting import with_claimed_size
from PIL import Image
from research_synthetic import make_dataset

from eczema_tracker.core import imaging
from eczema_tracker.core.imaging import ImageLoadError
from eczema_tracker.research.dataset import DatasetError, ResearchDataset, load_dataset

ODD = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "odd_images"
SEED_FILES = (
    "pillow__hopper_orientation_6.jpg",
    "pillow__app13-multiple.jpg",  # progressive
    "pillow__pil_sample_cmyk.jpg",
    "pillow_heif__L_16__128x128.png",
    "pillow__hopper_orientation_6.webp",
    "pillow__hopper.tif",
    "pillow_heif__RGB_10__128x128.heif",
    "pillow_heif__L_exif_xmp_iptc.heic",
)
#: The whole fuzz run may raise the process's peak memory by at most this much.
PEAK_GROWTH_LIMIT_MB = 400
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure is reproducible
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)


def _own_seeds() -> list[bytes]:
    """Small images made here (always available), one per format the app reads."""
    out = []
    pixels = np.random.default_rng(0).integers(0, 255, (24, 40, 3), dtype=np.uint8)
    for fmt, extra in (("JPEG", {}), ("JPEG", {"progressive": True}), ("PNG", {}), ("GIF", {})):
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format=fmt, **extra)
        out.append(buf.getvalue())
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", restart_marker_blocks=2)
    out.append(buf.getvalue())
    return out


SEEDS: list[bytes] = _own_seeds() + [
    (ODD / name).read_bytes() for name in SEED_FILES if (ODD / name).is_file()
]


class _PeakMemory:
    """Peak resident memory growth over a block (Linux: VmHWM reset; else ru_maxrss)."""

    def __enter__(self) -> _PeakMemory:
        self._reset = _reset_peak()
        self.start_kb = _peak_kb()
        return self

    def __exit__(self, *exc: object) -> None:
        self.growth_mb = (_peak_kb() - self.start_kb) / 1024


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM to the current RSS
        return True
    except OSError:
        return False


def _peak_kb() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@st.composite
def mutated_images(draw) -> bytes:
    """A real image's bytes after a few random mutations."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 3))):  # 0: the seed as it is
        kinds = ["flip", "flip", "cut", "cut_eoi", "splice", "insert", "size"]
        kind = draw(st.sampled_from(kinds))
        n = len(data)
        if n == 0:
            break
        at = draw(st.integers(0, n - 1))
        if kind == "cut":
            data = data[:at]
        elif kind == "cut_eoi":
            data = data[:at] + b"\xff\xd9"
        elif kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "splice":  # another file's header over this one's start
            other = draw(st.sampled_from(SEEDS))
            cut = draw(st.integers(1, min(64, len(other))))
            data[:cut] = other[:cut]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            side = st.integers(1, 65535)
            data = bytearray(with_claimed_size(bytes(data), draw(side), draw(side)))
    return bytes(data)


def _decode_or_refuse(data: bytes, **kwargs) -> str:
    """``"decoded"`` or ``"refused"``; any other exception fails the test."""
    try:
        decoded = imaging.decode_photo(data, label="fuzz.img", **kwargs)
    except ImageLoadError as exc:
        assert "\n" not in str(exc) and exc.reason
        return "refused"
    assert decoded.image.mode == "RGB"
    assert decoded.width * decoded.height <= imaging.MAX_PIXELS
    if kwargs.get("max_side"):
        assert max(decoded.image.size) <= kwargs["max_side"]
    return "decoded"


@pytest.mark.skipif(len(SEEDS) < 6, reason="seed images missing")
def test_mutated_photos_decode_or_are_refused_in_one_line():
    outcomes = {"decoded": 0, "refused": 0}
    with _PeakMemory() as peak:

        @FUZZ
        @given(data=mutated_images(), reduced=st.booleans())
        def check(data: bytes, reduced: bool) -> None:
            outcomes[_decode_or_refuse(data, max_side=256 if reduced else None)] += 1

        check()
    assert outcomes["decoded"] > 10 and outcomes["refused"] > 10, outcomes
    assert peak.growth_mb < PEAK_GROWTH_LIMIT_MB, peak.growth_mb


def test_mutated_masks_load_or_are_refused_in_one_line(tmp_path):
    mask = np.zeros((30, 50), dtype=bool)
    mask[5:20, 10:40] = True
    seeds = [imaging.mask_png_bytes(mask)] + SEEDS[:3]
    path = tmp_path / "mask.png"

    with _PeakMemory() as peak:

        @settings(FUZZ, max_examples=100)
        @given(
            seed=st.sampled_from(seeds),
            cut=st.floats(0.0, 1.0),
            flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=3),
            size=st.none() | st.tuples(st.integers(1, 60000), st.integers(1, 60000)),
        )
        def check(seed: bytes, cut: float, flips, size) -> None:
            data = bytearray(seed if size is None else with_claimed_size(seed, *size))
            for where, value in flips:
                if data:
                    data[int(where * (len(data) - 1))] ^= value
            path.write_bytes(bytes(data[: max(1, int(len(data) * cut))] if cut < 1 else data))
            try:
                loaded = imaging.load_mask(path)
            except ImageLoadError as exc:
                assert "\n" not in str(exc) and exc.reason
                return
            assert loaded.dtype == bool and loaded.ndim == 2
            assert loaded.size <= imaging.MAX_PIXELS

        check()
    assert peak.growth_mb < PEAK_GROWTH_LIMIT_MB, peak.growth_mb


# -- labels.csv ---------------------------------------------------------------------------

_NAMES = ["photo_00.png", "photo_01.png", "photo_02.png", "missing.png", "../up.png", "/abs.png"]
_CELL = st.one_of(
    st.sampled_from(_NAMES + ["0", "1", "3", "4", "mild", "Severe", "-1", "", " ", '"', "\\"]),
    st.sampled_from(['"a\nb.png"', '"photo_00.png\r"', '"x,y"', '"1\n"']),  # quoted cells
    st.text(max_size=12),
    st.text(alphabet="\x00\n\r,\"' \t\u0661\u00b2\ufeff\\/.", max_size=8),
)


@st.composite
def labels_text(draw) -> bytes:
    """labels.csv bytes: a header (usually right) and rows of mixed good and hostile cells."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=300))  # any bytes at all (not UTF-8, NULs...)
    header = draw(st.sampled_from(["file,label", "File , Label,extra", "label,file", "x,y", ""]))
    good = st.tuples(
        st.sampled_from(_NAMES[:3]),
        st.sampled_from(["0", "1", "2", "3", " mild", "Severe ", "none", "MODERATE"]),
    ).map(list)
    hostile = st.lists(_CELL, min_size=0, max_size=4)
    rows = draw(st.lists(good, max_size=4) | st.lists(good | hostile, max_size=8))
    sep = draw(st.sampled_from([",", ",", ",", ";", "\t"]))
    lines = [header] + [sep.join(cells) for cells in rows]
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return text.encode(encoding, "replace")


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("fuzz") / "ds", n_images=3, n_masked=1)


def test_fuzzed_labels_csv_loads_or_is_one_dataset_error(tiny_dataset):
    labels = tiny_dataset / "labels.csv"
    original = labels.read_bytes()
    outcomes = {"loaded": 0, "refused": 0}
    try:
        with _PeakMemory() as peak:

            @FUZZ
            @given(data=labels_text())
            def check(data: bytes) -> None:
                labels.write_bytes(data)
                try:
                    dataset = load_dataset(tiny_dataset)
                except DatasetError as exc:
                    assert "\n" not in str(exc) and "\r" not in str(exc), str(exc)
                    outcomes["refused"] += 1
                    return
                assert isinstance(dataset, ResearchDataset) and len(dataset) >= 1
                assert set(dataset.labels.tolist()) <= {0, 1, 2, 3}
                outcomes["loaded"] += 1

            check()
    finally:
        labels.write_bytes(original)
    assert outcomes["refused"] > 0 and outcomes["loaded"] > 0, outcomes  # both paths exercised
    assert peak.growth_mb < PEAK_GROWTH_LIMIT_MB, peak.growth_mb


def test_fuzz_peak_memory_probe_can_see_a_large_allocation():
    """The memory bound above can fail: the probe sees a 300 MB allocation."""
    with _PeakMemory() as peak:
        block = np.ones(300 * 1024 * 1024 // 8)
        del block
    if os.path.exists("/proc/self/clear_refs") and _reset_peak():
        assert peak.growth_mb > 250, peak.growth_mb
