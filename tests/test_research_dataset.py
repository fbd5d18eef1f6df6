"""Loading and validating a research dataset folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from research_synthetic import make_dataset

from eczema_tracker.research.dataset import DatasetError, load_dataset, parse_label


def test_loads_labels_names_and_masks(tmp_path: Path):
    root = make_dataset(tmp_path / "ds", n_images=8, n_masked=3, subfolder="arm")
    (root / "images" / "not_listed.png").write_bytes(
        (root / "images/arm/photo_00.png").read_bytes()
    )
    dataset = load_dataset(root, min_masked=3)
    assert len(dataset) == 8
    assert dataset.labels.tolist() == [0, 1, 2, 3, 0, 1, 2, 3]  # names and digits both parse
    assert dataset.masked_indices == [0, 1, 2]
    assert dataset.items[0].key == "arm/photo_00.png"
    assert dataset.ignored_images == ["not_listed.png"]
    assert dataset.load_mask(0).dtype == bool and dataset.load_mask(0).any()
    assert dataset.load_image(0).size == (48, 48)
    assert len({item.sha256 for item in dataset.items}) == 8


@pytest.mark.parametrize(
    ("text", "value"), [("0", 0), ("3", 3), ("Severe", 3), (" mild ", 1), ("moderate", 2)]
)
def test_parse_label(text: str, value: int):
    assert parse_label(text) == value


@pytest.mark.parametrize("text", ["4", "-1", "bad", "", "1.5"])
def test_parse_label_refuses(text: str):
    with pytest.raises(ValueError, match="unknown label"):
        parse_label(text)


def _write_labels(root: Path, text: str) -> None:
    (root / "labels.csv").write_text(text, encoding="utf-8")


def test_every_problem_is_reported_with_its_line(tmp_path: Path):
    root = make_dataset(tmp_path / "ds", n_images=4, n_masked=0)
    _write_labels(
        root,
        "file,label\nphoto_00.png,0\nmissing.png,1\nphoto_01.png,terrible\n"
        "../escape.png,1\nphoto_00.png,2\n",
    )
    with pytest.raises(DatasetError) as info:
        load_dataset(root)
    message = str(info.value)
    assert "\n" not in message
    assert "4 problem(s)" in message
    assert "line 3: images/missing.png not found" in message
    assert "line 4: unknown label 'terrible'" in message
    assert "line 5: file '../escape.png' must be a path inside images/" in message
    assert "line 6: photo_00.png is listed twice" in message


def test_mask_size_is_compared_with_the_upright_image(tmp_path: Path):
    root = make_dataset(tmp_path / "ds", n_images=4, n_masked=0)
    # a 60x40 photo stored sideways with EXIF orientation 6: upright it is 40x60
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (60, 40), (200, 100, 100)).save(root / "images/rotated.jpg", exif=exif)
    Image.new("L", (60, 40), 255).save(root / "masks/rotated.png")  # stored size, not upright
    _write_labels(root, "file,label\nrotated.jpg,2\nphoto_00.png,0\n")
    with pytest.raises(
        DatasetError, match=r"mask masks/rotated.png is 60x40 but the upright image is 40x60"
    ):
        load_dataset(root)
    Image.new("L", (40, 60), 255).save(root / "masks/rotated.png")
    assert load_dataset(root).items[0].has_mask


def test_corrupt_image_and_too_few_masks(tmp_path: Path):
    root = make_dataset(tmp_path / "ds", n_images=4, n_masked=2)
    with pytest.raises(DatasetError, match="has 2 masked image.s. but needs at least 3"):
        load_dataset(root, min_masked=3)
    (root / "images/photo_03.png").write_bytes(b"not an image")
    with pytest.raises(
        DatasetError, match="line 5: images/photo_03.png is not an image or is corrupt"
    ):
        load_dataset(root)


def test_missing_parts_and_bad_header(tmp_path: Path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nothing")
    (tmp_path / "ds").mkdir()
    with pytest.raises(DatasetError, match="no images/ folder"):
        load_dataset(tmp_path / "ds")
    (tmp_path / "ds/images").mkdir()
    with pytest.raises(DatasetError, match="no labels.csv"):
        load_dataset(tmp_path / "ds")
    _write_labels(tmp_path / "ds", "image,severity\na.png,1\n")
    with pytest.raises(DatasetError, match="header 'file,label'"):
        load_dataset(tmp_path / "ds")
    _write_labels(tmp_path / "ds", "file,label\n")
    with pytest.raises(DatasetError, match="lists no images"):
        load_dataset(tmp_path / "ds")


def test_empty_mask_is_allowed(tmp_path: Path):
    root = make_dataset(tmp_path / "ds", n_images=4, n_masked=1)
    Image.fromarray(np.zeros((48, 48), np.uint8)).save(root / "masks/photo_00.png")
    assert not load_dataset(root).load_mask(0).any()


def test_a_mask_over_the_pixel_limit_is_one_dataset_problem(tmp_path: Path):
    from image_crafting import png_claiming

    root = make_dataset(tmp_path / "ds", n_images=4, n_masked=2)
    (root / "masks" / "photo_01.png").write_bytes(png_claiming(30000, 10000))
    with pytest.raises(DatasetError) as info:
        load_dataset(root)
    message = str(info.value)
    assert "1 problem(s)" in message and "masks/photo_01.png" in message
    assert "too large" in message and "\n" not in message


@pytest.mark.parametrize(
    ("row", "why"),
    [
        ("a\x00b.png,1", "NUL byte in a file name"),
        ("photo_00.png,\u0661", "an Arabic-Indic digit is not a label"),
        ("photo_00.png,\u00b2", "a superscript two is not a label"),
        ('"a\nb.png",1', "a newline inside a quoted file name"),
    ],
)
def test_hostile_labels_rows_are_problems_not_tracebacks(tmp_path: Path, row: str, why: str):
    root = make_dataset(tmp_path / "ds", n_images=2, n_masked=0)
    _write_labels(root, f"file,label\n{row}\n")
    with pytest.raises(DatasetError, match="line [23]") as info:
        load_dataset(root)
    assert "\n" not in str(info.value), why


def test_an_oversized_labels_csv_is_refused(tmp_path: Path, monkeypatch):
    from eczema_tracker.research import dataset

    root = make_dataset(tmp_path / "ds", n_images=2, n_masked=0)
    monkeypatch.setattr(dataset, "MAX_LABELS_BYTES", 100)
    _write_labels(root, "file,label\n" + "photo_00.png,1\n" * 20)
    with pytest.raises(DatasetError, match="too large"):
        load_dataset(root)
