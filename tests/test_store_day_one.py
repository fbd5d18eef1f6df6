"""Issue 12 at store level: a person's masks are the truth, and a deleted photo goes to a bin.

Bugs 2 (a correction survives re-analysis) and 3 (a prompt photo shows its painted mask) and the
bin (delete, restore, empty) on a real photo.
"""

from __future__ import annotations

import numpy as np
import pytest

from eczema_tracker.store import Store


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "store") as s:
        yield s


@pytest.fixture
def photos(store, eczema_photo_paths):
    results = store.import_paths(eczema_photo_paths[:3], "left arm")
    return [r.photo_id for r in results]


def _mask(photo, fraction_rows: float) -> np.ndarray:
    mask = np.zeros((photo.height, photo.width), dtype=bool)
    mask[: int(photo.height * fraction_rows)] = True
    return mask


def _analyse(store, pid: int, rows: float = 0.0, probabilities=None) -> int:
    photo = store.photo(pid)
    mask = _mask(photo, rows)
    return store.record_analysis(
        pid,
        mask=mask,
        lesion_area_fraction=float(mask.mean()),
        features=None,
        feature_source=None,
        probabilities=probabilities,
        score=None,
        model_sources={},
        k=2,
    )


def _point(store, pid: int):
    return next(p for p in store.timeline(None) if p.photo_id == pid)


def test_bug2_a_correction_stays_the_mask_across_reanalysis(store, photos):
    pid = photos[0]
    first = _analyse(store, pid, 0.1)
    corrected = store.save_corrected_mask(first, _mask(store.photo(pid), 0.5))
    _analyse(store, pid, 0.0)  # the re-analysis finds nothing
    current = store.current_analysis(pid)
    assert current.id != first
    assert current.corrected_mask is not None and current.corrected_mask.id == corrected.id
    assert current.effective_mask.id == corrected.id
    point = _point(store, pid)
    assert point.painted_area_fraction == pytest.approx(corrected.area_fraction)
    assert point.lesion_area_fraction == pytest.approx(0.0)  # the model's own area, apart
    assert point.mask_origin == "corrected"
    shown = store.shown_mask(pid)
    assert shown.origin == "corrected" and shown.mask.id == corrected.id


def test_bug3_a_prompt_photo_shows_the_painted_mask(store, photos):
    pid = photos[0]
    painted = store.set_prompt_mask(pid, _mask(store.photo(pid), 0.34))
    _analyse(store, pid, 0.0)  # the app's own result on its prompt photo: empty
    point = _point(store, pid)
    assert point.painted_area_fraction == pytest.approx(painted.area_fraction)
    assert point.lesion_area_fraction == pytest.approx(0.0)  # the model's own area, apart
    assert point.mask_origin == "prompt"
    shown = store.shown_mask(pid)
    assert shown.origin == "prompt" and shown.mask.id == painted.id
    assert shown.area_fraction == pytest.approx(0.34, abs=0.01)
    store.unset_prompt(pid)  # no longer a prompt: the analysis is what is shown
    assert store.shown_mask(pid).origin == "analysis"
    assert _point(store, pid).lesion_area_fraction == pytest.approx(0.0)
    assert _point(store, pid).painted_area_fraction is None


def test_a_prompt_photo_never_analysed_is_on_the_timeline_with_its_mask(store, photos):
    pid = photos[1]
    painted = store.set_prompt_mask(pid, _mask(store.photo(pid), 0.2))
    point = _point(store, pid)
    assert point.painted_area_fraction == pytest.approx(painted.area_fraction)
    assert point.lesion_area_fraction is None  # no model area yet
    assert point.analysis_id is None and point.mask_origin == "prompt"


def test_undoing_a_correction_brings_the_previous_mask_back(store, photos):
    pid = photos[0]
    first = _analyse(store, pid, 0.1)
    store.save_corrected_mask(first, _mask(store.photo(pid), 0.5))
    store.set_corrected_mask(first, None)
    assert store.current_analysis(pid).corrected_mask is None
    assert store.shown_mask(pid).origin == "analysis"


def test_bin_hides_a_photo_everywhere_and_restores_it(store, photos):
    pid, other, third = photos
    store.set_prompt_mask(pid, _mask(store.photo(pid), 0.2))
    store.set_prompt_mask(other, _mask(store.photo(other), 0.2))
    _analyse(store, third, 0.1)
    store.rate(pid, 2)
    file = store.photo_file(pid)
    store.move_to_bin([pid])
    assert pid not in [p.id for p in store.photos()]
    assert pid not in [p.id for p in store.photos("left arm")]
    assert pid not in [p.photo_id for p in store.timeline(None)]
    assert pid not in [p.photo_id for p in store.prompts("left arm")]
    assert [p.id for p in store.binned_photos()] == [pid]
    assert store.photo(pid).deleted_at is not None
    assert file.is_file()  # the file stays until the bin is emptied
    # the site's prompt set changed: results made with that prompt are out of date
    assert store.current_analysis(third).stale
    store.restore_from_bin([pid])
    assert pid in [p.id for p in store.photos()]
    assert pid in [p.photo_id for p in store.prompts("left arm")]
    assert store.rating(pid) == 2 and store.binned_photos() == []


def test_a_site_with_only_binned_photos_is_not_listed(store, photos):
    store.update_photo(photos[0], site="face")
    assert "face" in store.sites()
    store.move_to_bin([photos[0]])
    assert "face" not in store.sites()


def test_emptying_the_bin_deletes_files_and_rows(store, photos):
    pid = photos[0]
    _analyse(store, pid, 0.3)
    file = store.photo_file(pid)
    store.move_to_bin([pid])
    assert store.empty_bin() == 1
    assert not file.exists()
    with pytest.raises(KeyError):
        store.photo(pid)
    assert len(store.photos()) == 2


def test_bin_survives_reopening(tmp_path, eczema_photo_paths):
    with Store.open(tmp_path / "s") as s:
        pid = s.import_paths(eczema_photo_paths[:1])[0].photo_id
        s.move_to_bin([pid])
    with Store.open(tmp_path / "s", readonly=True) as s:
        assert s.photos() == [] and [p.id for p in s.binned_photos()] == [pid]
        assert s.check.ok


def test_rename_site_moves_every_photo_and_counts_as_a_prompt_change(store, photos):
    pid = photos[0]
    store.set_prompt_mask(pid, _mask(store.photo(pid), 0.2))
    _analyse(store, photos[1], 0.1)
    assert store.rename_site("left arm", "Left forearm") == 3
    assert store.sites() == ["left forearm"]
    assert [p.photo_id for p in store.prompts("left forearm")] == [pid]
    with pytest.raises(ValueError):
        store.rename_site("no such site", "x")
