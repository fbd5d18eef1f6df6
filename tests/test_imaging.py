"""imaging: safe decoding, EXIF rotation and capture time, masks."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from eczema_tracker import imaging
from eczema_tracker.imaging import ImageLoadError


def _jpeg_with_exif(**tags) -> bytes:
    im = Image.new("RGB", (40, 20), (200, 30, 30))
    exif = Image.Exif()
    sub = exif.get_ifd(0x8769)
    for key, value in tags.items():
        if key == "orientation":
            exif[0x0112] = value
        elif key == "dto":
            sub[0x9003] = value
        elif key == "offset":
            sub[0x9011] = value
    buf = io.BytesIO()
    im.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def test_capture_time_with_and_without_offset():
    plain = imaging.decode_photo(_jpeg_with_exif(dto="2024:05:01 10:20:30"))
    assert plain.taken_at == "2024-05-01T10:20:30"
    offset = imaging.decode_photo(_jpeg_with_exif(dto="2024:05:01 10:20:30", offset="-05:00"))
    assert offset.taken_at == "2024-05-01T10:20:30-05:00"
    assert imaging.decode_photo(_jpeg_with_exif(dto="0000:00:00 00:00:00")).taken_at is None
    assert imaging.decode_photo(_jpeg_with_exif()).taken_at is None


def test_orientation_applied_and_size_upright():
    decoded = imaging.decode_photo(_jpeg_with_exif(orientation=6))
    assert decoded.orientation == 6
    assert (decoded.width, decoded.height) == (20, 40)
    assert decoded.image.mode == "RGB"


def test_heic_capture_time_from_exif(odd_images_dir):
    decoded = imaging.decode_photo(odd_images_dir / "pillow_heif__pug.heic")
    assert decoded.format == "HEIF"
    assert decoded.taken_at == "2023-02-21T14:33:08+03:00"
    assert (decoded.width, decoded.height) == (4032, 3024)


def _truncated_jpeg() -> bytes:
    noise = np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, format="JPEG")
    return buf.getvalue()[: len(buf.getvalue()) // 2]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"hello, not an image", "not an image"),
        (_truncated_jpeg(), "truncated"),
    ],
    ids=["empty", "text", "truncated"],
)
def test_bad_bytes_are_refused_with_a_reason(data, reason):
    with pytest.raises(ImageLoadError) as info:
        imaging.decode_photo(data, label="x.jpg")
    assert reason in info.value.reason
    assert info.value.path == "x.jpg"


def test_folder_and_missing_file(tmp_path):
    folder = tmp_path / "photo.jpg"
    folder.mkdir()
    with pytest.raises(ImageLoadError, match="folder"):
        imaging.open_image(folder)
    with pytest.raises(ImageLoadError, match="cannot be read"):
        imaging.open_image(tmp_path / "absent.jpg")


def test_pixel_limit_is_checked_before_decoding(tmp_path):
    path = tmp_path / "big.png"
    Image.new("L", (300, 300)).save(path)
    with pytest.raises(ImageLoadError, match="decompression bomb"):
        imaging.open_image(path, max_pixels=300 * 299)
    assert imaging.open_image(path, max_pixels=300 * 300).size == (300, 300)


def test_sixteen_bit_and_alpha_become_rgb(odd_images_dir):
    grey16 = imaging.open_image(odd_images_dir / "pillow_heif__L_16__128x128.png")
    assert grey16.mode == "RGB" and grey16.size == (128, 128)
    rgba = imaging.open_image(odd_images_dir / "pillow__transparent.png")
    assert rgba.mode == "RGB"


def test_mask_png_round_trip_is_lossless(tmp_path):
    rng = np.random.default_rng(0)
    mask = rng.random((33, 47)) > 0.5
    data = imaging.mask_png_bytes(mask)
    assert data == imaging.mask_png_bytes(mask.copy())  # deterministic bytes
    path = tmp_path / "m.png"
    path.write_bytes(data)
    np.testing.assert_array_equal(imaging.load_mask(path), mask)
    with pytest.raises(ValueError, match="2-D"):
        imaging.mask_png_bytes(np.zeros((2, 3, 4), bool))


def test_thumbnail_keeps_aspect_and_never_upscales():
    big = Image.new("RGB", (1000, 500))
    assert imaging.thumbnail(big, 256).size == (256, 128)
    small = Image.new("RGB", (100, 50))
    assert imaging.thumbnail(small, 256).size == (100, 50)


def test_is_image_name():
    assert imaging.is_image_name("a/B.HEIC")
    assert imaging.is_image_name("x.jpeg")
    assert not imaging.is_image_name("notes.txt")
