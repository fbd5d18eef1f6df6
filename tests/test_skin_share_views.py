"""The timeline, the report and Compare speak of the share of the skin shown for a site whose
examples mark healthy skin, and of the share of the photo otherwise: one measure per site, and
every axis and heading says which."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest
from matplotlib.figure import Figure

from eczema_tracker.app.compare import SHARE_OF_PHOTO, SHARE_OF_SKIN, site_photos
from eczema_tracker.app.report.data import gather_report
from eczema_tracker.app.report.request import ReportRequest
from eczema_tracker.app.timeline.data import gather_timeline_data
from eczema_tracker.app.timeline.figure import draw_timeline
from eczema_tracker.store import Store
from tests.report_support import ellipse_mask, synthetic_photo

SKIN_SITE, PHOTO_SITE = "left arm", "right knee"
START = date.today() - timedelta(days=40)
#: per site: (area of the photo, share of the skin or None) of three photos 10 days apart
PLAN = {
    SKIN_SITE: [(0.10, 0.40), (0.20, 0.25), (0.05, 0.10)],  # framing changed: share of skin fell
    PHOTO_SITE: [(0.08, None), (0.06, None), (0.04, None)],
}


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("skinviews")
    with Store.open(folder / "store") as store:
        n = 0
        for site, plan in PLAN.items():
            paths = [synthetic_photo(folder / f"{site}{i}.jpg", 60 + n + i) for i in range(3)]
            n += 3
            ids = [int(r.photo_id) for r in store.import_paths(paths, site=site)]
            for i, (pid, (area, share)) in enumerate(zip(ids, plan, strict=True)):
                day = START + timedelta(days=10 * i)
                store.update_photo(pid, taken_at=datetime(day.year, day.month, day.day, 9))
                photo = store.photo(pid)
                store.record_analysis(
                    pid,
                    mask=ellipse_mask(photo.width, photo.height, area),
                    lesion_area_fraction=area,
                    features=None,
                    feature_source=None,
                    probabilities=None,
                    score=None,
                    model_sources={"dino": "test"},
                    k=2,
                    lesion_share_of_skin=share,
                )
    return folder / "store"


def test_the_timeline_draws_each_sites_own_measure_and_says_which(store_dir):
    with Store.open(store_dir, readonly=True) as store:
        data = gather_timeline_data(store, sites=[SKIN_SITE, PHOTO_SITE])
    drawn = draw_timeline(Figure(figsize=(8, 5)), data)
    assert drawn.area is not None
    assert drawn.area.get_ylabel() == "Lesion area (% of skin shown or of photo)"
    lines = [ln for ln in drawn.area.get_lines() if ln.get_gid() == "area"]
    values = sorted(round(v, 1) for ln in lines for v in ln.get_ydata())
    assert values == sorted([40.0, 25.0, 10.0, 8.0, 6.0, 4.0])
    labels = [ln.get_label() for ln in lines]
    assert any("of the skin shown" in label and SKIN_SITE in label for label in labels)


def test_a_site_of_one_measure_names_it_on_the_axis(store_dir):
    with Store.open(store_dir, readonly=True) as store:
        data = gather_timeline_data(store, sites=[SKIN_SITE])
    drawn = draw_timeline(Figure(figsize=(8, 5)), data)
    assert drawn.area is not None and drawn.area.get_ylabel() == "Lesion area (% of the skin shown)"


def test_the_report_compares_a_skin_site_by_its_share_of_the_skin(store_dir):
    with Store.open(store_dir, readonly=True) as store:
        request = ReportRequest(START - timedelta(days=1), date.today())
        data = gather_report(store, request)
    sites = {s.site: s for s in data.sites}
    skin, photo = sites[SKIN_SITE], sites[PHOTO_SITE]
    assert skin.measure == "skin" and photo.measure == "photo"
    # the share of the photo went 10 % -> 5 % only because the framing changed; of the skin
    # it went 40 % -> 10 %
    assert (skin.first_area, skin.last_area) == (pytest.approx(0.40), pytest.approx(0.10))
    assert (photo.first_area, photo.last_area) == (pytest.approx(0.08), pytest.approx(0.04))


def test_compare_says_which_share_it_compares(store_dir):
    with Store.open(store_dir, readonly=True) as store:
        skin = site_photos(store, SKIN_SITE)
        photo = site_photos(store, PHOTO_SITE)
    assert [p.area_kind for p in skin] == [SHARE_OF_SKIN] * 3
    assert [p.area for p in skin] == [pytest.approx(v) for v in (0.40, 0.25, 0.10)]
    assert [p.area_kind for p in photo] == [SHARE_OF_PHOTO] * 3


def test_compare_gives_the_painted_area_in_the_same_share(tmp_path):
    with Store.open(tmp_path / "store") as store:
        (pid,) = [
            int(r.photo_id)
            for r in store.import_paths([synthetic_photo(tmp_path / "p.jpg", 90)], site=SKIN_SITE)
        ]
        photo = store.photo(pid)
        painted = np.zeros((photo.height, photo.width), np.uint8)
        painted[: photo.height // 2] = 128  # healthy skin: the top half
        painted[: photo.height // 4] = 255  # lesion: the top quarter (half of the skin shown)
        store.set_prompt_mask(pid, painted)
        store.record_analysis(
            pid,
            mask=ellipse_mask(photo.width, photo.height, 0.1),
            lesion_area_fraction=0.1,
            features=None,
            feature_source=None,
            probabilities=None,
            score=None,
            model_sources={"dino": "test"},
            k=2,
            lesion_share_of_skin=0.3,
        )
        (shown,) = site_photos(store, SKIN_SITE)
    assert shown.area_kind == SHARE_OF_SKIN and shown.area == pytest.approx(0.3)
    assert shown.painted_area == pytest.approx(0.5, abs=0.01)  # of the skin, not 0.25 of the photo
    assert "(you painted 50 %)" in shown.caption()


def test_the_photo_view_names_both_shares_for_a_skin_site():
    from eczema_tracker.app.photo_result import photo_result
    from eczema_tracker.gui.widgets.photo_view import area_text

    skin = photo_result(
        model_area_fraction=0.1,
        model_share_of_skin=0.3,
        painted_area_fraction=0.25,
        painted_share_of_skin=0.5,
    )
    assert area_text(skin) == (
        "30.0 % of the skin shown, 10.0 % of the photo (the app's result); "
        "you painted 50.0 % of the skin"
    )
    photo = photo_result(model_area_fraction=0.1, painted_area_fraction=0.25)
    assert (
        area_text(photo)
        == "10.0 % of the photo (the app's result); you painted 25.0 % of the photo"
    )


def test_the_reports_photo_captions_use_the_sites_share(store_dir):
    from eczema_tracker.app.report.pdf import _photo_caption

    with Store.open(store_dir, readonly=True) as store:
        data = gather_report(store, ReportRequest(START - timedelta(days=1), date.today()))
    sites = {s.site: s for s in data.sites}
    skin = [_photo_caption(p, sites[SKIN_SITE].measure) for p in sites[SKIN_SITE].strip]
    photo = [_photo_caption(p, sites[PHOTO_SITE].measure) for p in sites[PHOTO_SITE].strip]
    assert "area 40.0% of skin" in skin[0] and all("of skin" in c for c in skin)
    assert "area 8.0%" in photo[0] and not any("of skin" in c for c in photo)


def test_the_timelines_hover_text_gives_the_share_it_plots(store_dir):
    from eczema_tracker.gui.timeline.points import describe_point

    with Store.open(store_dir, readonly=True) as store:
        skin = store.timeline(SKIN_SITE)[0]
        photo = store.timeline(PHOTO_SITE)[0]
    assert "Lesion 40.0% of the skin shown, 10.0% of the photo" in describe_point(skin)
    assert "Lesion area 8.0% (the app's result)" in describe_point(photo)
