"""Importing: every odd image imported or refused as its index predicts; folders; duplicates."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from eczema_tracker.store import Store, files


@pytest.fixture(scope="module")
def odd_import(odd_images_dir, tmp_path_factory):
    """The whole odd_images folder imported once (decoding the phone HEICs takes a few s)."""
    store = Store.open(tmp_path_factory.mktemp("odd") / "store")
    results = store.import_paths([odd_images_dir], site="Left Arm")
    yield store, {Path(r.path).name: r for r in results}
    store.close()


def _expected(odd_images_dir: Path) -> dict[str, str | None]:
    """file -> None (imports) or a word its refusal reason must contain, from index.csv."""
    out: dict[str, str | None] = {}
    with open(odd_images_dir / "index.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            decode = row["pillow13_decode"]
            if row["file"] == "pillow_heif__truncated.heic":
                # Its primary image decodes, but the file is cut short (image 1's data lies
                # past its end): a damaged copy, refused so the person copies it again.
                out[row["file"]] = "truncated"
            elif decode == "ok":
                out[row["file"]] = None
            elif "DecompressionBomb" in decode:
                out[row["file"]] = "decompression bomb"
            elif "UnidentifiedImageError" in decode:
                out[row["file"]] = "not an image or is corrupt"
            elif "OSError" in decode:
                out[row["file"]] = "truncated"
            else:  # pragma: no cover - a new kind of row in the index
                raise AssertionError(f"unknown prediction {decode!r}")
    return out


def test_every_odd_image_imported_or_refused_as_predicted(odd_images_dir, odd_import):
    store, by_name = odd_import
    expected = _expected(odd_images_dir)
    assert set(by_name) == set(expected)  # SOURCES.md / index.csv skipped (not image names)
    for name, want in expected.items():
        result = by_name[name]
        if want is None:
            assert result.status == "imported", (name, result.reason)
            assert result.photo_id is not None and result.reason is None
        else:
            assert result.status == "refused", name
            assert want in result.reason, (name, result.reason)
            assert "\n" not in result.reason and result.photo_id is None
    assert len(store.photos()) == sum(v is None for v in expected.values())


def test_phone_heics_have_their_sizes_and_exif_times(odd_import):
    store, by_name = odd_import
    sizes = {
        "pillow_heif__xiaomi.heic": (2592, 1944),
        "pillow_heif__pug.heic": (4032, 3024),
        "pillow_heif__arrow.heic": (3024, 4032),
        "pillow_heif__aux_YCbCr.heic": (4000, 1848),
        "pillow_heif__empty_icc.heic": (1025, 900),
    }
    for name, size in sizes.items():
        photo = store.photo(by_name[name].photo_id)
        assert (photo.width, photo.height) == size, name
        assert photo.format == "HEIF" and photo.site == "left arm"
    pug = store.photo(by_name["pillow_heif__pug.heic"].photo_id)
    assert (pug.taken_at, pug.taken_at_source) == ("2023-02-21T14:33:08+03:00", "exif")


def test_originals_are_byte_identical(odd_images_dir, odd_import):
    store, by_name = odd_import
    for name in ("pillow__hopper_orientation_6.jpg", "pillow_heif__pug.heic"):
        stored = store.photo_file(by_name[name].photo_id)
        assert stored.read_bytes() == (odd_images_dir / name).read_bytes()
        assert files.sha256_file(stored) == store.photo(by_name[name].photo_id).sha256


@pytest.mark.parametrize(
    ("name", "transpose"),
    [
        ("pillow__hopper_orientation_6.jpg", Image.Transpose.ROTATE_270),  # 90 deg clockwise
        ("pillow__hopper_orientation_8.jpg", Image.Transpose.ROTATE_90),  # 90 deg anticlockwise
    ],
)
def test_exif_rotated_photos_have_upright_thumbnails(odd_images_dir, odd_import, name, transpose):
    store, by_name = odd_import
    photo_id = by_name[name].photo_id
    thumb_path = store.thumbnail(photo_id)
    thumb_path.unlink()  # a cache: made again when missing
    thumb = np.asarray(Image.open(store.thumbnail(photo_id)).convert("RGB"), dtype=float)
    with Image.open(odd_images_dir / name) as raw:
        raw_rgb = raw.convert("RGB")
        manual = np.asarray(raw_rgb.transpose(transpose), dtype=float)
        unrotated = np.asarray(raw_rgb, dtype=float)
    assert thumb.shape == manual.shape
    right = np.abs(thumb - manual).mean()
    wrong = np.abs(thumb - unrotated).mean()
    assert right < 6, right  # JPEG re-encoding noise only
    assert wrong > 4 * right


def test_duplicates_and_batch_rules(tmp_path, eczema_photo_paths):
    photos = eczema_photo_paths[:3]
    folder = tmp_path / "camera"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.jpg").write_bytes(photos[0].read_bytes())
    (folder / "b.jpg").write_bytes(photos[1].read_bytes())
    (folder / "notes.txt").write_text("not a photo")  # skipped silently inside folders
    (folder / "._b.jpg").write_bytes(b"\x00\x05\x16\x07")  # macOS resource fork: hidden, skipped
    (folder / "album.jpg").mkdir()  # a folder with a photo's name: searched (empty here)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "named.txt"
    text.write_text("explicitly named files are always tried")
    with Store.open() as store:
        results = store.import_paths(
            [folder, photos[0], empty, text, tmp_path / "absent.jpg", photos[2], photos[2]]
        )
        by = [(Path(r.path).name, r.status) for r in results]
        assert by == [
            ("b.jpg", "imported"),
            ("a.jpg", "imported"),
            (photos[0].name, "duplicate"),
            ("empty.jpg", "refused"),
            ("named.txt", "refused"),
            ("absent.jpg", "refused"),
            (photos[2].name, "imported"),
            (photos[2].name, "duplicate"),
        ]
        assert results[2].photo_id == results[1].photo_id
        assert results[7].photo_id == results[6].photo_id
        assert "empty" in results[3].reason
        assert "not an image" in results[4].reason
        assert "does not exist" in results[5].reason
        assert len(store.photos()) == 3
        again = store.import_paths([folder])
        assert [r.status for r in again] == ["duplicate", "duplicate"]


def test_taken_at_falls_back_to_file_time(tmp_path):
    path = tmp_path / "plain.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(path)
    os.utime(path, (1_600_000_000, 1_600_000_000))
    with Store.open() as store:
        (result,) = store.import_paths([path])
        photo = store.photo(result.photo_id)
        assert photo.taken_at_source == "file"
        assert photo.taken_datetime.timestamp() == 1_600_000_000
        # the guess is said: by the import's result and by the photo, until the person dates it
        assert result.date_guessed and result.to_json()["date_guessed"] is True
        assert photo.date_guessed
        dated = store.update_photo(photo.id, taken_at="2020-09-01T10:00:00")
        assert not dated.date_guessed and dated.taken_at_source == "user"
        # an undo puts the date back as it was: guessed again
        back = store.update_photo(photo.id, taken_at=photo.taken_at, taken_at_source="file")
        assert back.date_guessed and back.taken_at == photo.taken_at
        with pytest.raises(ValueError, match="not one of exif, file, user"):
            store.update_photo(photo.id, taken_at=photo.taken_at, taken_at_source="guess")


def test_a_camera_date_is_not_marked_guessed(odd_import):
    store, by_name = odd_import
    assert not by_name["pillow_heif__pug.heic"].date_guessed
    assert not store.photo(by_name["pillow_heif__pug.heic"].photo_id).date_guessed


def test_progress_and_cancel(tmp_path, eczema_photo_paths):
    from eczema_tracker.core.jobs import Cancelled

    seen = []
    with Store.open() as store:
        results = store.import_paths(
            eczema_photo_paths[:3], progress=lambda d, t, m: seen.append((d, t))
        )
        assert seen[0] == (0, 3) and seen[-1] == (3, 3)
        assert [r.status for r in results] == ["imported"] * 3
        calls = iter([False, False, True])
        with pytest.raises(Cancelled) as info:
            store.import_paths(eczema_photo_paths[3:8], cancel=lambda: next(calls))
        assert [r.status for r in info.value.results] == ["imported", "imported"]
        assert len(store.photos()) == 5  # what was decoded before the cancel was kept


def test_gif_first_frame_and_bmp(tmp_path):
    gif = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (30, 20), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    bmp = tmp_path / "plain.bmp"
    Image.new("RGB", (12, 34), (0, 200, 0)).save(bmp)
    with Store.open() as store:
        results = store.import_paths([tmp_path])
        assert [(Path(r.path).name, r.status) for r in results] == [
            ("anim.gif", "imported"),
            ("plain.bmp", "imported"),
        ]
        first = store.load_image(results[0].photo_id)
        assert first.size == (30, 20) and first.getpixel((5, 5))[0] > 200  # the red first frame
        photo = store.photo(results[1].photo_id)
        assert (photo.format, photo.width, photo.height) == ("BMP", 12, 34)
        assert photo.stored_name.endswith(".bmp")


def test_binned_photos_come_back_only_when_asked(eczema_photo_paths):
    from eczema_tracker.core.jobs import Cancelled

    photos = eczema_photo_paths[:3]
    with Store.open() as store:
        ids = [r.photo_id for r in store.import_paths(photos, "face")]
        store.move_to_bin(ids)
        plain = store.import_paths(photos[:1])  # the app's default: the caller decides
        assert [r.status for r in plain] == ["duplicate"] and len(store.binned_photos()) == 3
        back = store.import_paths([photos[0], photos[0]], restore_binned=True)
        assert [(r.status, r.photo_id) for r in back] == [
            ("restored", ids[0]),
            ("duplicate", ids[0]),
        ]
        assert [p.id for p in store.photos()] == [ids[0]] and store.photo(ids[0]).site == "face"
        calls = iter([False, True])  # cancelled after the first file: it still comes back
        with pytest.raises(Cancelled) as info:
            store.import_paths(photos[1:], cancel=lambda: next(calls), restore_binned=True)
        assert [r.status for r in info.value.results] == ["restored"]
        assert [p.id for p in store.binned_photos()] == [ids[2]]
