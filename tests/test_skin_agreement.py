"""Prompt agreement per label: healthy skin (128) is never counted as lesion, and a site whose
examples mark skin has the skin of SegGPT's one pass checked too, kept and said."""

from __future__ import annotations

import numpy as np
import pytest

from eczema_tracker.app.trust import agreement as trust
from eczema_tracker.core.mask_labels import labelled_mask
from eczema_tracker.ml.familiarity import prompt_agreement
from eczema_tracker.store import Store

SITE = "left arm"


def _labelled(h: int, w: int, lesion_rows: slice, skin_rows: slice) -> np.ndarray:
    lesion = np.zeros((h, w), bool)
    skin = np.zeros((h, w), bool)
    lesion[lesion_rows] = True
    skin[skin_rows] = True
    return labelled_mask(lesion, skin & ~lesion)


def test_skin_is_not_counted_as_lesion_and_is_checked_as_its_own_label():
    h, w = 40, 30
    painted = [_labelled(h, w, slice(10, 20), slice(0, 40)) for _ in range(3)]

    def finds_the_lesion_and_half_the_skin(_image, _others, _masks):
        return _labelled(h, w, slice(10, 20), slice(0, 20))

    result = prompt_agreement([object()] * 3, painted, finds_the_lesion_and_half_the_skin, k=2)
    # the lesion was found exactly: skin painted around it does not count against it
    assert result.ious == (1.0, 1.0, 1.0)
    assert result.skin_ious is not None and result.skin_mean == pytest.approx(10 / 30)
    binary = [m == 255 for m in painted]
    plain = prompt_agreement([object()] * 3, binary, lambda *_a: binary[0], k=2)
    assert plain.skin_ious is None and plain.ious == (1.0, 1.0, 1.0)


class SkinFinder:
    """Finds every example's lesion exactly and the healthy skin only above it."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def prepare(self, prompts):
        self.sizes = [p.image.size for p in prompts]
        return None

    def segment(self, index, others):
        w, h = self.sizes[index]
        return _labelled(h, w, slice(h // 3, 2 * h // 3), slice(0, 2 * h // 3))


def test_a_skin_sites_check_says_both_labels_and_is_kept_with_them(eczema_photo_paths, tmp_path):
    with Store.open(tmp_path / "store") as store:
        store.import_paths(eczema_photo_paths[:3], SITE)
        for photo in store.photos(SITE):
            h, w = photo.height, photo.width
            store.set_prompt_mask(photo.id, _labelled(h, w, slice(h // 3, 2 * h // 3), slice(0, h)))
        result = trust.prompt_agreement(store, SITE, SkinFinder(), k=2)
        assert result.agreement is not None
        assert result.mean_iou == pytest.approx(1.0, abs=0.02)  # skin is not lesion
        skin = result.agreement.skin_mean
        assert skin is not None and skin == pytest.approx(0.5, abs=0.05)
        assert "The healthy skin they mark overlaps 50 %." in result.describe()
        key, models = trust.prompt_set_key(store, SITE), "test-models"
        assert trust.keep_agreement(store, result, key, models)
        kept = store.kept_prompt_agreement(SITE, key, models)
        assert kept is not None and kept.skin_ious == result.agreement.skin_ious


def test_a_kept_result_with_bad_skin_ious_is_refused(tmp_path, eczema_photo_paths):
    with Store.open(tmp_path / "store") as store:
        store.import_paths(eczema_photo_paths[:2], SITE)
        ids = [p.id for p in store.photos(SITE)]
        with pytest.raises(ValueError, match="skin_ious"):
            store.keep_prompt_agreement(
                SITE, "k", "m", photo_ids=ids, ious=[0.5, 0.5], used=[[1], [0]], k_used=1,
                skin_ious=[0.5],
            )  # fmt: skip
