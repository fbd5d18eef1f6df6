"""Importing hostile input: odd file names, special files, crafted and damaged photos.

Each test reproduces a case of issue 13 (items 7-10) or issue 12 (a folder named like a photo)
that failed before the fix; the import must end in one result per file, quickly and with
bounded memory, never in a traceback or a hang.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from image_crafting import crafted_huge_jpeg
from PIL import Image, JpegImagePlugin

from eczema_tracker.store import Store, files, importer

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file names and special files")


def _png_bytes(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (8, 8, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def _cli(data_dir: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120):
    """Run ``eczema-tracker --data-dir DATA ARGS`` in a child; stdout is returned as bytes."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "eczema_tracker", "--data-dir", str(data_dir), *args],
        capture_output=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )


# -- item 7: file names that are not valid UTF-8 ---------------------------------------------


@posix_only
def test_a_non_utf8_name_does_not_abort_the_import(tmp_path):
    folder = tmp_path / "camera"
    folder.mkdir()
    for i in range(40):
        (folder / f"IMG_{i:02}.png").write_bytes(_png_bytes(i))
    raw_name = b"IMG_\xff\xfe caf\xe9.png"  # Latin-1 bytes, as from an old camera card
    with open(os.path.join(os.fsencode(folder), raw_name), "wb") as fh:
        fh.write(_png_bytes(99))
    with Store.open() as store:
        results = store.import_paths([folder])
        assert [r.status for r in results] == ["imported"] * 41
        odd = next(r for r in results if "caf" in r.path)
        odd.path.encode("utf-8")  # readable: no lone surrogates left
        assert "\\xff\\xfe" in odd.path
        record = store.photo(odd.photo_id)
        assert record.original_name == "IMG_\\xff\\xfe caf\\xe9.png"
        assert files.name_bytes(record.original_name) == raw_name  # lossless
        assert len(store.photos()) == 41


@pytest.mark.parametrize(
    "raw",
    [b"plain.jpg", "caf\u00e9 \u6f22.jpg".encode(), b"a\\b.jpg", b"\\xff.jpg", b"\xff\\x.jpg"],
)
def test_readable_names_round_trip_to_the_bytes(raw):
    text = os.fsdecode(raw)
    shown = files.readable_name(text)
    shown.encode("utf-8")
    assert files.name_bytes(shown) == raw
    if b"\\" not in raw:
        assert shown == raw.decode("utf-8", "backslashreplace")


@posix_only
@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_cli_shows_odd_names_readably_under_any_locale(tmp_path, locale):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.png").write_bytes(_png_bytes(1))
    with open(os.path.join(os.fsencode(folder), b"bad\xff.png"), "wb") as fh:
        fh.write(_png_bytes(2))
    data = tmp_path / "store"
    env = {"LC_ALL": locale, "LANG": locale}
    env.pop("PYTHONIOENCODING", None)
    done = _cli(data, "import", str(folder), env=env)
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode("ascii")  # nothing but ASCII escapes for the odd bytes
    assert "bad\\xff.png" in out and "Traceback" not in done.stderr.decode("utf-8", "replace")
    listed = _cli(data, "photos", env=env)
    assert listed.returncode == 0 and "bad\\xff.png" in listed.stdout.decode("ascii")
    as_json = _cli(data, "photos", "--json", env=env)
    names = {json.loads(line)["original_name"] for line in as_json.stdout.decode().splitlines()}
    assert names == {"good.png", "bad\\xff.png"}
    again = _cli(data, "import", "--json", str(folder), env=env)
    rows = [json.loads(line) for line in again.stdout.decode("ascii").splitlines()]
    assert {row["status"] for row in rows} == {"duplicate"}
    assert any(row["path"].endswith("bad\\xff.png") for row in rows)


# -- item 8: only regular files are read --------------------------------------------------------

_SPECIAL_IMPORT = textwrap.dedent(
    """
    import json, resource, sys, time
    from eczema_tracker.store import Store
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # a runaway read fails fast
    start = time.monotonic()
    with Store.open(sys.argv[1]) as store:
        results = store.import_paths(sys.argv[2:])
    status = open("/proc/self/status").read()  # VmHWM: this program's own peak (kB)
    peak = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
    print(json.dumps({"seconds": time.monotonic() - start, "maxrss_kb": int(peak),
                      "results": [r.to_json() for r in results]}))
    """
)


@posix_only
@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux /proc")
def test_devices_symlinks_to_devices_and_fifos_are_refused_quickly(tmp_path):
    folder = tmp_path / "card"
    folder.mkdir()
    (folder / "good.png").write_bytes(_png_bytes(3))
    (folder / "zero.jpg").symlink_to("/dev/zero")
    os.mkfifo(folder / "x.jpg")
    os.mkfifo(tmp_path / "named.jpg")
    linked = tmp_path / "linked.png"  # a symlink to a regular photo still imports
    linked.symlink_to(folder / "good.png")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _SPECIAL_IMPORT,
            str(tmp_path / "store"),
            "/dev/zero",
            str(folder),
            str(tmp_path / "named.jpg"),
            str(linked),
        ],
        capture_output=True,
        text=True,
        timeout=60,  # a FIFO once hung the import forever
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    by_name = {Path(r["path"]).name: r for r in report["results"]}
    assert set(by_name) == {"zero", "good.png", "x.jpg", "zero.jpg", "named.jpg", "linked.png"}
    for name in ("zero", "x.jpg", "zero.jpg", "named.jpg"):
        assert by_name[name]["status"] == "refused", name
        assert "not a regular file" in by_name[name]["reason"], by_name[name]
    assert "device" in by_name["zero"]["reason"] and "FIFO" in by_name["x.jpg"]["reason"]
    assert by_name["good.png"]["status"] == "imported"
    assert by_name["linked.png"]["status"] == "duplicate"
    assert report["seconds"] < 20
    assert report["maxrss_kb"] < 400 * 1024


@pytest.mark.skipif(not Path("/proc/self/maps").is_file(), reason="needs Linux /proc")
def test_the_byte_cap_holds_while_reading_not_only_by_st_size(monkeypatch):
    # /proc files are regular files whose st_size is 0 whatever they hold.
    assert os.stat("/proc/self/maps").st_size == 0
    monkeypatch.setattr(importer, "MAX_FILE_BYTES", 200)
    with Store.open() as store:
        (result,) = store.import_paths(["/proc/self/maps"])
    assert result.status == "refused"
    assert "too large" in result.reason and "200" in result.reason


def test_a_file_over_the_cap_by_size_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    path.write_bytes(_png_bytes(5))
    monkeypatch.setattr(importer, "MAX_FILE_BYTES", 100)
    with Store.open() as store:
        (result,) = store.import_paths([path])
    assert result.status == "refused" and "too large" in result.reason


# -- issue 12: a folder named like a photo ------------------------------------------------------


def test_a_folder_named_like_a_photo_is_searched(tmp_path):
    top = tmp_path / "trip"
    (top / "holiday.jpg" / "day1").mkdir(parents=True)
    (top / "holiday.jpg" / "beach.png").write_bytes(_png_bytes(10))
    (top / "holiday.jpg" / "day1" / "sea.png").write_bytes(_png_bytes(11))
    named = tmp_path / "album.jpeg"
    named.mkdir()
    (named / "hills.png").write_bytes(_png_bytes(12))
    with Store.open() as store:
        results = store.import_paths([top, named])
    assert [(Path(r.path).name, r.status) for r in results] == [
        ("beach.png", "imported"),
        ("sea.png", "imported"),
        ("hills.png", "imported"),
    ]


# -- items 9 and 10: crafted and damaged photos -------------------------------------------------

_DECODE_PEAK = textwrap.dedent(
    """
    import sys
    from eczema_tracker.core import imaging
    data = open(sys.argv[1], "rb").read()
    try:
        imaging.decode_photo(data, label="x.jpg")
        print("decoded")
    except imaging.ImageLoadError as exc:
        print("refused:", exc.reason)
    status = open("/proc/self/status").read()  # VmHWM: this program's own peak (kB)
    print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
    """
)


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux /proc")
def test_a_632_byte_jpeg_claiming_9000x9000_is_refused_with_little_memory(tmp_path):
    data = crafted_huge_jpeg(9000, 9000, total_bytes=632)
    assert len(data) == 632
    path = tmp_path / "claims_81mp.jpg"
    path.write_bytes(data)
    done = subprocess.run(
        [sys.executable, "-c", _DECODE_PEAK, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    outcome, peak_kb = done.stdout.strip().splitlines()
    assert outcome.startswith("refused:"), outcome
    assert "9000x9000" in outcome and "too little data" in outcome
    assert int(peak_kb) < 250 * 1024  # decoding it used ~815 MB before
    with Store.open() as store:
        (result,) = store.import_paths([path])
    assert result.status == "refused" and "too little data" in result.reason


def _cut_with_eoi(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)] + b"\xff\xd9"


def test_damaged_copies_of_real_photos_are_refused_and_the_rest_imports(
    tmp_path, eczema_photo_paths, odd_images_dir
):
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    jpeg = eczema_photo_paths[0].read_bytes()
    (damaged / "cut60_eoi.jpg").write_bytes(_cut_with_eoi(jpeg, 0.6))
    progressive = io.BytesIO()
    Image.open(eczema_photo_paths[1]).save(progressive, format="JPEG", progressive=True)
    (damaged / "progressive_cut60_eoi.jpg").write_bytes(_cut_with_eoi(progressive.getvalue(), 0.6))
    pug = (odd_images_dir / "pillow_heif__pug.heic").read_bytes()
    (damaged / "pug_third.heic").write_bytes(pug[: len(pug) // 3])
    with Store.open() as store:
        results = store.import_paths([damaged, *eczema_photo_paths])
        by_name = {Path(r.path).name: r for r in results[:3]}
        for name in ("cut60_eoi.jpg", "progressive_cut60_eoi.jpg", "pug_third.heic"):
            assert by_name[name].status == "refused", name
            assert "truncated or damaged" in by_name[name].reason, by_name[name].reason
        assert [r.status for r in results[3:]] == ["imported"] * len(eczema_photo_paths)


def test_import_decodes_large_jpegs_reduced(tmp_path, monkeypatch):
    """Import decodes JPEGs reduced (draft) for the thumbnail; the stored size is the full one.

    What keeps a large JPEG's import quick is the reduced decode, checked here directly (not
    with a time limit, which would depend on the machine the suite runs on).
    """
    big = tmp_path / "big.jpg"
    noise = np.random.default_rng(1).integers(0, 255, (1500, 4000, 3), dtype=np.uint8)
    Image.fromarray(noise).save(big, format="JPEG", quality=70)
    decoded_sizes: list[tuple[int, int]] = []
    full_draft = JpegImagePlugin.JpegImageFile.draft

    def recording_draft(self, mode, size):
        result = full_draft(self, mode, size)
        decoded_sizes.append(self.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", recording_draft)
    with Store.open() as store:
        (result,) = store.import_paths([big])
        photo = store.photo(result.photo_id)
    assert (photo.width, photo.height) == (4000, 1500)
    assert decoded_sizes and all(w <= 2000 and h <= 750 for w, h in decoded_sizes)
