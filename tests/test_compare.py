"""Comparing two dates (no Qt): the default pair, the change in words, the crop around the
lesion, and the report's "then and now" pair."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from eczema_tracker.app.compare import (
    PNG_SOFTWARE,
    PNG_SOFTWARE_KEY,
    SHARE_OF_PHOTO,
    ComparePhoto,
    change_in_words,
    default_pair,
    is_own_png,
    lesion_crop_box,
    pair_for,
    site_photos,
)
from eczema_tracker.app.report.data import gather_report
from eczema_tracker.app.report.pdf import write_report
from eczema_tracker.app.report.request import check_request
from eczema_tracker.app.report.then_and_now import HEADING
from eczema_tracker.store import Store
from tests.report_support import SITES, populate

START = datetime(2026, 3, 3, 9, 0)


def _photo(
    photo_id: int, days: int, area: float | None, grade: int | None = None, text: str | None = None
) -> ComparePhoto:
    return ComparePhoto(
        photo_id=photo_id,
        site="left arm",
        taken=START + timedelta(days=days),
        area=area,
        area_kind=SHARE_OF_PHOTO,
        grade_label=grade,
        grade_text=text,
    )


# -- which two photos ---------------------------------------------------------------------------
def test_the_default_pair_is_the_first_and_latest_analysed_photo():
    photos = [
        _photo(5, 30, 0.10, 2),
        _photo(1, 0, None),  # the oldest photo has no mask: not analysed
        _photo(2, 3, 0.18, 2),
        _photo(4, 45, None),  # the newest neither
        _photo(3, 20, 0.12, 1),
    ]
    then, now = default_pair(photos)
    assert (then.photo_id, now.photo_id) == (2, 5)
    assert default_pair([_photo(1, 0, 0.1), _photo(2, 1, None)]) is None
    assert default_pair([]) is None


def test_a_photo_is_compared_with_the_first_analysed_or_when_it_is_that_with_the_latest():
    photos = [_photo(1, 0, 0.2, 2), _photo(2, 10, 0.1, 1), _photo(3, 20, 0.05, 1)]
    assert [p.photo_id for p in pair_for(photos, 2)] == [1, 2]
    assert [p.photo_id for p in pair_for(photos, 1)] == [1, 3]
    # a photo older than every analysed one (its own mask missing) goes with the latest
    assert [p.photo_id for p in pair_for([_photo(7, -5, None), *photos], 7)] == [7, 3]
    assert pair_for(photos[:1], 1) is None  # nothing to compare it with
    assert pair_for(photos, 99) is None


# -- the change in words ------------------------------------------------------------------------
def test_the_change_in_words_says_area_grade_and_days():
    then = _photo(1, 0, 0.18, 2, "moderate (score 2.10 of 3)")
    now = _photo(2, 41, 0.07, 1, "mild (score 1.00 of 3)")
    words = "lesion share of the photo 18 % \u2192 7 %, moderate \u2192 mild, 41 days"
    assert change_in_words(then, now) == words
    assert change_in_words(now, then) == words  # always from the earlier to the later
    healed = _photo(3, 1, 0.0004, None, "no eczema found in this photo")
    assert change_in_words(then, healed) == (
        "lesion share of the photo 18 % \u2192 < 0.1 %, moderate \u2192 no eczema found, 1 day"
    )
    same_day = _photo(4, 0, 0.004)
    assert change_in_words(then, same_day).endswith("moderate \u2192 not graded, the same day")
    assert "18 % \u2192 0.4 %" in change_in_words(then, same_day)
    neither_graded = change_in_words(_photo(5, 0, 0.2), _photo(6, 9, None))
    assert neither_graded == "lesion share of the photo 20 % \u2192 no mask, 9 days"


def test_an_area_of_another_kind_is_named_on_each_side():
    then = _photo(1, 0, 0.18, 2)
    now = ComparePhoto(2, "left arm", START + timedelta(days=2), 0.3, "share of the skin", 1, "")
    assert change_in_words(then, now).startswith(
        "lesion 18 % of the photo \u2192 30 % of the skin, "
    )


# -- the crop around the lesion -----------------------------------------------------------------
def test_the_crop_is_the_lesion_box_with_a_quarter_margin_each_side():
    mask = np.zeros((400, 600), bool)
    mask[100:200, 200:400] = True  # 200 wide, 100 high
    assert lesion_crop_box(mask) == (150, 75, 450, 225)


def test_the_crop_is_clamped_to_the_photo_keeping_its_size_where_it_can():
    mask = np.zeros((400, 600), bool)
    mask[0:100, 500:600] = True  # in the top right corner
    left, top, right, bottom = lesion_crop_box(mask)
    assert (right, top) == (600, 0)
    assert (right - left, bottom - top) == (150, 150)  # slid in from the edges, not cut
    everything = np.ones((400, 600), bool)
    assert lesion_crop_box(everything) == (0, 0, 600, 400)


def test_a_tiny_lesion_gets_at_least_a_fifth_of_the_photo_and_an_empty_mask_the_whole_photo():
    mask = np.zeros((500, 1000), bool)
    mask[250:252, 500:502] = True
    left, top, right, bottom = lesion_crop_box(mask)
    assert (right - left, bottom - top) == (200, 100)
    assert left <= 500 and right >= 502 and top <= 250 and bottom >= 252
    assert lesion_crop_box(np.zeros((50, 80), bool)) == (0, 0, 80, 50)


# -- the store and the report -------------------------------------------------------------------
@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    with Store.open(folder / "store") as store:
        info = populate(store, folder / "photos")
    return folder / "store", info


def test_site_photos_carry_area_and_grade_oldest_first(populated):
    data_dir, _ = populated
    with Store.open(data_dir, readonly=True) as store:
        photos = site_photos(store, SITES[1])
    assert [p.taken for p in photos] == sorted(p.taken for p in photos)
    assert all(p.area_kind == SHARE_OF_PHOTO for p in photos)
    # the first photo of the second site is a prompt: the area compared is the model's (from
    # the site's other prompts, like every other photo's); the painted one is shown beside it
    assert photos[0].area == pytest.approx(0.13, abs=0.01)
    assert photos[0].painted_area == pytest.approx(0.05, abs=0.01)
    assert "(you painted 5 %)" in photos[0].caption()
    assert photos[-1].grade_word in {"none", "mild", "moderate", "severe"}


def test_the_report_holds_each_sites_pair_and_says_why_a_site_has_none(populated, tmp_path):
    data_dir, info = populated
    with Store.open(data_dir) as store:  # a third site with one analysed photo
        photo = tmp_path / "lone.jpg"
        Image.new("RGB", (64, 48), (200, 150, 140)).save(photo)
        lone = store.import_paths([photo], site="scalp")[0].photo_id
        store.update_photo(lone, taken_at=datetime.combine(info["from"], datetime.min.time()))
        mask = np.zeros((48, 64), bool)
        mask[10:20, 10:30] = True
        store.record_analysis(
            lone, mask=mask, lesion_area_fraction=float(mask.mean()), features=None,
            feature_source=None, probabilities=None, score=None, model_sources={}, k=1,
        )  # fmt: skip
        request = check_request(info["from"], info["to"], paper="a4")
        data = gather_report(store, request)
    pairs = {p.site: p for p in data.then_and_now}
    assert set(pairs) == {*SITES, "scalp"}
    for site in SITES:
        pair = pairs[site]
        assert pair.then is not None and pair.now is not None and not pair.skipped
        assert pair.then.photo.taken < pair.now.photo.taken
        # cropped around the lesion: smaller than the 320 x 240 photo
        assert pair.then.image is not None and pair.then.image.shape[1] < 320
    assert pairs["scalp"].then is None and "only one analysed photo" in pairs["scalp"].skipped
    out = tmp_path / "report.pdf"
    write_report(data, out)
    text = "\n".join(page.extract_text() or "" for page in PdfReader(out).pages)
    flat = " ".join(text.split())
    assert " ".join(HEADING.split()) in flat
    assert "scalp: not shown, only one analysed photo in this range" in flat
    assert len(re.findall(r"\bthen: \d+ \w+ 20\d\d \u00b7 lesion ", flat)) == 2
    assert len(re.findall(r"\bnow: \d+ \w+ 20\d\d \u00b7 lesion ", flat)) == 2
    assert pairs[SITES[0]].change.split(",")[0] in flat


def test_only_a_png_the_app_wrote_counts_as_its_own(tmp_path):
    own = tmp_path / "own.png"
    Image.new("RGB", (4, 4)).save(own, pnginfo=_info({PNG_SOFTWARE_KEY: PNG_SOFTWARE}))
    foreign = tmp_path / "holiday.png"
    Image.new("RGB", (4, 4)).save(foreign, pnginfo=_info({PNG_SOFTWARE_KEY: "GIMP"}))
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    assert is_own_png(own)
    assert not is_own_png(foreign) and not is_own_png(text)
    assert not is_own_png(tmp_path / "missing.png")


def _info(chunks: dict[str, str]):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    return info
