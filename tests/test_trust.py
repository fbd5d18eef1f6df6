"""Issue 14 in the app: familiarity recorded with each analysis, prompt agreement, next to paint."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from eczema_tracker.app import analysis_models, services
from eczema_tracker.app.trust import agreement as trust
from eczema_tracker.app.trust import examples as trust_examples
from eczema_tracker.core.jobs import Cancelled
from eczema_tracker.ml.familiarity import ExampleSpace
from eczema_tracker.store import Store, db
from eczema_tracker.store.csv_export import export_csv


@pytest.fixture
def store(eczema_photo_paths):
    with Store.open() as s:
        s.import_paths(eczema_photo_paths[:4], "left arm")
        yield s


def box(h: int, w: int, rows=(4, 2), cols=(4, 2)) -> np.ndarray:
    """A box from h/rows[0] to h/rows[1] (likewise across)."""
    mask = np.zeros((h, w), dtype=bool)
    mask[h // rows[0] : h // rows[1], w // cols[0] : w // cols[1]] = True
    return mask


def test_a_prompt_photo_analysed_is_familiar_at_distance_0_and_it_is_kept(store, tiny_choice):
    """The tiny random DINO has no measured bound and the site too few photos to calibrate one:
    its other photo is undecided (not flagged), with the reason; every feature is kept."""
    ids = [p.id for p in store.photos("left arm")]
    for pid in ids[:3]:
        photo = store.photo(pid)
        store.set_prompt_mask(pid, box(photo.height, photo.width))
    summary = services.analyse_photos(store, analysis_models.PipelineCache(), tiny_choice, ids)
    assert sorted(summary.analysed) == sorted(ids)
    for pid in ids[:3]:
        a = store.current_analysis(pid)
        assert a.nearest_prompt_distance == 0.0 and a.familiar is True
    other = store.current_analysis(ids[3])
    assert other.nearest_prompt_distance is not None and other.nearest_prompt_distance > 0
    assert other.familiar is None and other.prompt_distance_scale is None
    sources = store.retrieval_feature_sources(ids)
    assert len(sources) == 2 and any(
        s.endswith(trust_examples.FAMILIARITY_FEATURES) for s in sources
    )
    for source in sources:  # every analysed photo's [CLS] and familiarity features are kept
        assert sorted(store.kept_retrieval_features(ids, source)) == sorted(ids)
    kept = store.kept_retrieval_features(
        ids, next(s for s in sources if s.endswith(trust_examples.FAMILIARITY_FEATURES))
    )
    space = ExampleSpace(np.stack([kept[i] for i in ids[:3]]), own_features={ids[3]: kept[ids[3]]})
    judged = space.judge(kept[ids[3]], key=ids[3])
    assert other.nearest_prompt_distance == pytest.approx(judged.nearest_prompt_distance)
    assert judged.familiar is None


def _brightness_and_pixel_change(self, images):
    """Hand-made familiarity features in place of DINO's: mean grey level and mean change
    between neighbouring pixels, down and across. Noise changes ~0.22 from pixel to pixel, the
    shared photos ~0.01-0.03."""
    rows = []
    for image in images:
        grey = np.asarray(image.convert("L"), dtype=np.float64) / 255
        down, across = np.abs(np.diff(grey, axis=0)).mean(), np.abs(np.diff(grey, axis=1)).mean()
        rows.append([grey.mean(), down, across])
    return np.asarray(rows, dtype=np.float32)


def test_noise_is_unlike_against_a_bound_calibrated_from_the_sites_own_photos(
    tmp_path, eczema_photo_paths, tiny_choice, monkeypatch
):
    """No measured bound for the tiny DINO: analysing the noise photo alone calibrates the bound
    from the site's other photos (their features computed once and kept), and flags it."""
    from eczema_tracker.ml.dino import DinoEncoder

    monkeypatch.setattr(DinoEncoder, "familiarity_features", _brightness_and_pixel_change)
    rng = np.random.default_rng(0)
    noise = tmp_path / "noise.png"
    Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)).save(noise)
    with Store.open(tmp_path / "s") as store:
        store.import_paths(eczema_photo_paths[:11], "left arm")
        store.import_paths([noise], "left arm")
        photos = store.photos("left arm")
        prompts = [p for p in photos if p.original_name != "noise.png"][:3]
        for p in prompts:
            store.set_prompt_mask(p.id, box(p.height, p.width))
        noisy = next(p for p in photos if p.original_name == "noise.png")
        services.analyse_photos(store, analysis_models.PipelineCache(), tiny_choice, [noisy.id])
        a = store.current_analysis(noisy.id)
        assert a.familiar is False and a.prompt_distance_scale is not None
        assert a.nearest_prompt_distance > a.prompt_distance_scale
        sources = [s for s in store.retrieval_feature_sources([p.id for p in photos])]
        source = next(s for s in sources if s.endswith(trust_examples.FAMILIARITY_FEATURES))
        assert len(store.kept_retrieval_features([p.id for p in photos], source)) == len(photos)


class FakeSegmenter:
    """Predicts each prompt's mask as the box every good example shows."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []
        self.calls: list[tuple[int, tuple[int, ...]]] = []

    def prepare(self, prompts):
        self.sizes = [p.image.size for p in prompts]
        return None

    def segment(self, index, others):
        self.calls.append((index, tuple(others)))
        w, h = self.sizes[index]
        return box(h, w)


def test_prompt_agreement_finds_the_deliberately_wrong_example(store):
    ids = [p.id for p in store.photos("left arm")]
    for pid in ids[:3]:
        photo = store.photo(pid)
        store.set_prompt_mask(pid, box(photo.height, photo.width))
    wrong = store.photo(ids[3])
    store.set_prompt_mask(wrong.id, box(wrong.height, wrong.width, rows=(2, 1), cols=(3, 1)))
    fake = FakeSegmenter()
    progress = []
    result = trust.prompt_agreement(
        store, "left arm", fake, k=2, progress=lambda d, t, m: progress.append((d, t))
    )
    assert result.weakest_photo_id == wrong.id
    assert result.agreement.ious[result.photo_ids.index(wrong.id)] < 0.2
    assert 0.0 <= result.mean_iou < 1.0 and result.k_used == 2
    assert all(i not in others and len(others) == 2 for i, others in fake.calls)
    assert progress[-1] == (4, 4)
    text = result.describe()
    assert text.startswith("Your examples agree: ") and "% overlap on average" in text
    assert result.to_json()["weakest_photo_id"] == wrong.id


def test_prompt_agreement_with_two_prompts_uses_k_1_and_says_so(store):
    ids = [p.id for p in store.photos("left arm")][:2]
    for pid in ids:
        photo = store.photo(pid)
        store.set_prompt_mask(pid, box(photo.height, photo.width))
    result = trust.prompt_agreement(store, "left arm", FakeSegmenter(), k=2)
    assert result.k_used == 1 and "K=1" in result.note and result.mean_iou == 1.0
    assert "checked with 1 other" in result.describe()
    one = trust.prompt_agreement(store, "face", FakeSegmenter())
    assert one.agreement is None and "at least 2" in one.describe()


def test_prompt_agreement_is_cancellable(store):
    for p in store.photos("left arm")[:3]:
        store.set_prompt_mask(p.id, box(p.height, p.width))
    with pytest.raises(Cancelled):
        trust.prompt_agreement(store, "left arm", FakeSegmenter(), cancel=lambda: True)


def test_prompt_agreement_with_the_real_seggpt_class(store, tiny_choice):
    for p in store.photos("left arm")[:3]:
        store.set_prompt_mask(p.id, box(p.height, p.width))
    cache = analysis_models.PipelineCache()
    result = trust.seggpt_agreement(store, "left arm", cache, tiny_choice)
    assert len(result.agreement.ious) == 3 and all(0 <= v <= 1 for v in result.agreement.ious)
    assert cache.pool_lock.acquire(blocking=False)  # released again
    cache.pool_lock.release()
    kept = trust.seggpt_agreement(store, "left arm", NoModels(), tiny_choice)  # no model loaded
    assert kept.agreement == result.agreement and kept.computed_at


def test_next_to_paint_is_the_photo_farthest_from_its_nearest_prompt(store):
    ids = [p.id for p in store.photos("left arm")]
    for pid in ids[:2]:
        photo = store.photo(pid)
        store.set_prompt_mask(pid, box(photo.height, photo.width))
    features = {
        ids[0]: np.array([1.0, 0.0, 0.0]),
        ids[1]: np.array([0.9, 0.1, 0.0]),
        ids[2]: np.array([0.8, 0.3, 0.0]),  # near the prompts
        ids[3]: np.array([0.0, 0.0, 1.0]),  # unlike them: paint this one
    }
    store.keep_retrieval_features(features, "tiny@1024")
    pick = trust_examples.next_to_paint(store, "left arm")
    assert pick is not None and pick.photo_id == ids[3] and pick.candidates == 2
    assert pick.distance == pytest.approx(1.0)
    assert trust_examples.next_to_paint(store, "nowhere") is None
    # familiarity features kept later beside the [CLS] (another order) are not read for it
    swapped = {ids[0]: features[ids[0]], ids[1]: features[ids[1]]}
    swapped |= {ids[2]: features[ids[3]], ids[3]: features[ids[2]]}
    store.keep_retrieval_features(swapped, "tiny@1024" + trust_examples.FAMILIARITY_FEATURES)
    pick = trust_examples.next_to_paint(store, "left arm")
    assert pick is not None and pick.photo_id == ids[3]


def test_familiarity_is_kept_exported_and_survives_the_schema_3_migration(
    tmp_path, eczema_photo_paths, monkeypatch
):
    bundled = db.bundled_migrations()
    folder = tmp_path / "store"
    with monkeypatch.context() as patch:
        patch.setattr(db, "bundled_migrations", lambda: bundled[:3])
        with Store.open(folder) as old:
            old.import_paths(eczema_photo_paths[:2], "left arm")
            photo = old.photos()[0]
            old_id = old.record_analysis(
                photo.id,
                mask=box(photo.height, photo.width),
                lesion_area_fraction=0.1,
                features=np.arange(3, dtype=np.float32),
                feature_source="dino:test",
                probabilities=None,
                score=None,
                model_sources={"dino": "test"},
                k=2,
            )
            old.add_checkin("2026-01-05", [1] * 7)
            before = old.analysis(old_id)
            assert db.schema_version(old._db) == 3
    with Store.open(folder) as store:
        assert db.schema_version(store._db) == db.latest_version() >= 4
        kept = store.analysis(old_id)
        assert kept == before or (kept.id, kept.mask, kept.k) == (before.id, before.mask, before.k)
        assert (kept.nearest_prompt_distance, kept.prompt_distance_scale, kept.familiar) == (
            None,
            None,
            None,
        )
        assert store.checkins()[0].total == 7
        new_id = store.record_analysis(
            photo.id,
            mask=box(photo.height, photo.width),
            lesion_area_fraction=0.1,
            features=None,
            feature_source=None,
            probabilities=None,
            score=None,
            model_sources={},
            k=2,
            nearest_prompt_distance=0.5,
            prompt_distance_scale=0.1,
            familiar=False,
        )
        new = store.analysis(new_id)
        assert (new.nearest_prompt_distance, new.prompt_distance_scale, new.familiar) == (
            0.5,
            0.1,
            False,
        )
        with pytest.raises(ValueError):
            store.record_analysis(
                photo.id,
                mask=box(photo.height, photo.width),
                lesion_area_fraction=0.1,
                features=None,
                feature_source=None,
                probabilities=None,
                score=None,
                model_sources={},
                k=2,
                nearest_prompt_distance=-1.0,
            )
        assert db.check_own_schema(store._db, folder) == db.latest_version()
        out = tmp_path / "csv"
        text = (export_csv(store, out).folder / "analyses.csv").read_text()
        assert "nearest_prompt_distance,prompt_distance_scale,familiar" in text.splitlines()[0]
        assert text.splitlines()[-1].endswith("0.5,0.1,0")


# -- kept agreement results ----------------------------------------------------------------------
class CountingSegGpt:
    """Stands in for :class:`trust.SegGptPromptSegmenter` (FakeSegmenter's masks): counts the
    checks that open it and the photos it segments."""

    opened: list[str] = []
    segmented: list[int] = []

    def __init__(self, store, pipelines, choice, **_kwargs) -> None:
        self._fake = FakeSegmenter()

    def __enter__(self):
        CountingSegGpt.opened.append("open")
        return self

    def __exit__(self, *exc) -> None:
        pass

    def prepare(self, prompts):
        return self._fake.prepare(prompts)

    def segment(self, index, others):
        CountingSegGpt.segmented.append(index)
        return self._fake.segment(index, others)


class NoModels(analysis_models.PipelineCache):
    """A PipelineCache that fails the test if a model is asked for."""

    def get(self, *args, **kwargs):
        raise AssertionError("no model may be loaded for a kept result")


@pytest.fixture
def counting(monkeypatch):
    CountingSegGpt.opened, CountingSegGpt.segmented = [], []
    monkeypatch.setattr(trust, "SegGptPromptSegmenter", CountingSegGpt)
    return CountingSegGpt


CHOICE = analysis_models.ModelChoice(dino="dino-a", seggpt="seggpt-a", k=2)


def paint_three(store) -> list[int]:
    ids = [p.id for p in store.photos("left arm")]
    for pid in ids[:3]:
        photo = store.photo(pid)
        store.set_prompt_mask(pid, box(photo.height, photo.width))
    return ids


def test_a_kept_agreement_is_reused_without_segmenting_or_loading_a_model(store, counting):
    paint_three(store)
    assert trust.kept_agreement(store, "left arm", CHOICE) is None
    first = trust.seggpt_agreement(store, "left arm", NoModels(), CHOICE)
    assert counting.opened == ["open"] and len(counting.segmented) == 3
    assert first.computed_at is None and first.mean_iou == 1.0
    again = trust.seggpt_agreement(store, "left arm", NoModels(), CHOICE)
    assert counting.opened == ["open"] and len(counting.segmented) == 3  # nothing new
    assert again.photo_ids == first.photo_ids and again.agreement == first.agreement
    assert again.describe() == first.describe() and again.computed_at
    cheap = trust.kept_agreement(store, "left arm", CHOICE)
    assert cheap is not None and cheap.agreement == first.agreement
    fresh = trust.seggpt_agreement(store, "left arm", NoModels(), CHOICE, reuse=False)
    assert len(counting.segmented) == 6 and fresh.agreement == first.agreement


def test_a_new_mask_version_or_another_prompt_invalidates_the_kept_result(store, counting):
    ids = paint_three(store)
    trust.seggpt_agreement(store, "left arm", NoModels(), CHOICE)
    before = trust.prompt_set_key(store, "left arm")
    photo = store.photo(ids[1])
    store.set_prompt_mask(ids[1], box(photo.height, photo.width, rows=(2, 1), cols=(3, 1)))
    assert trust.prompt_set_key(store, "left arm") != before
    assert trust.kept_agreement(store, "left arm", CHOICE) is None
    changed = trust.seggpt_agreement(store, "left arm", NoModels(), CHOICE)
    assert len(counting.opened) == 2 and changed.weakest_photo_id == ids[1]
    assert changed.agreement.ious[changed.photo_ids.index(ids[1])] < 0.2
    store.unset_prompt(ids[2])  # a removed prompt changes the set too
    assert trust.kept_agreement(store, "left arm", CHOICE) is None
    assert trust.seggpt_agreement(store, "left arm", NoModels(), CHOICE).k_used == 1
    assert len(counting.opened) == 3


def test_another_model_or_k_invalidates_the_kept_result(store, counting):
    paint_three(store)
    trust.seggpt_agreement(store, "left arm", NoModels(), CHOICE)
    for other in (
        analysis_models.ModelChoice(dino="dino-a", seggpt="seggpt-b", k=2),
        analysis_models.ModelChoice(dino="dino-b", seggpt="seggpt-a", k=2),
        analysis_models.ModelChoice(dino="dino-a", seggpt="seggpt-a", k=1),
    ):
        assert trust.model_key(other) != trust.model_key(CHOICE)
        assert trust.kept_agreement(store, "left arm", other) is None
    same = analysis_models.ModelChoice(dino="dino-a", seggpt="seggpt-a", k=2, device="cuda")
    assert trust.kept_agreement(store, "left arm", same) is not None  # the device plays no part
    trust.seggpt_agreement(store, "left arm", NoModels(), replace_k(CHOICE, 1))
    assert len(counting.opened) == 2
    assert trust.kept_agreement(store, "left arm", CHOICE) is not None  # both are kept


def replace_k(choice: analysis_models.ModelChoice, k: int) -> analysis_models.ModelChoice:
    from dataclasses import replace

    return replace(choice, k=k)


def test_a_corrupt_kept_row_is_ignored_and_checked_again(store, counting):
    paint_three(store)
    trust.seggpt_agreement(store, "left arm", NoModels(), CHOICE)
    with store._write() as conn:
        conn.execute('UPDATE prompt_agreement SET result = \'{"photo_ids": [1, 2], "ious": \'')
    assert trust.kept_agreement(store, "left arm", CHOICE) is None
    again = trust.seggpt_agreement(store, "left arm", NoModels(), CHOICE)
    assert len(counting.opened) == 2 and again.mean_iou == 1.0
    assert trust.kept_agreement(store, "left arm", CHOICE) is not None  # kept again, whole
    # a well-formed row of other photos under this key (copied by hand) is not believed
    key, models = trust.prompt_set_key(store, "left arm"), trust.model_key(CHOICE)
    store.keep_prompt_agreement(
        "left arm", key, models, photo_ids=[901, 902, 903], ious=[1, 1, 1],
        used=[[1, 2], [0, 2], [0, 1]], k_used=2,
    )  # fmt: skip
    assert trust.kept_agreement(store, "left arm", CHOICE) is None


def test_a_result_of_prompts_that_changed_while_it_ran_is_not_kept(store, monkeypatch):
    ids = paint_three(store)

    class ChangesMidway(CountingSegGpt):
        def segment(self, index, others):
            if index == 0:  # the person saves another mask while the check runs
                photo = store.photo(ids[0])
                store.set_prompt_mask(ids[0], box(photo.height, photo.width, rows=(3, 1)))
            return super().segment(index, others)

    monkeypatch.setattr(trust, "SegGptPromptSegmenter", ChangesMidway)
    trust.seggpt_agreement(store, "left arm", NoModels(), CHOICE)
    assert store.forget_prompt_agreements() == 0  # nothing was kept, under either key


def test_the_kept_order_follows_the_prompts_current_order(store, counting):
    ids = paint_three(store)
    wrong = store.photo(ids[0])
    store.set_prompt_mask(wrong.id, box(wrong.height, wrong.width, rows=(2, 1), cols=(3, 1)))
    first = trust.seggpt_agreement(store, "left arm", NoModels(), CHOICE)
    store.update_photo(wrong.id, taken_at="1999-01-01T10:00:00")  # now the oldest prompt
    kept = trust.kept_agreement(store, "left arm", CHOICE)
    assert kept.photo_ids[0] == wrong.id and kept.photo_ids != first.photo_ids
    assert kept.weakest_photo_id == wrong.id and kept.weakest_taken_at.startswith("1999")
    assert sorted(kept.agreement.ious) == sorted(first.agreement.ious)
    for i, used in enumerate(kept.agreement.used):
        old = first.photo_ids.index(kept.photo_ids[i])
        assert [kept.photo_ids[j] for j in used] == [
            first.photo_ids[j] for j in first.agreement.used[old]
        ]


def test_the_agreement_side_is_the_analysis_size():
    from eczema_tracker.ml.pipeline import ANALYSIS_MAX_SIDE

    assert trust.AGREEMENT_SIDE == ANALYSIS_MAX_SIDE


# -- retrieval features in batches ---------------------------------------------------------------
class CountingEncoder:
    """Records the size of every batch; features from each image's mean colour."""

    backbone_id = "counting"

    def __init__(self, cancel_after: int | None = None) -> None:
        self.batches: list[int] = []
        self.cancel_after = cancel_after

    def retrieval_features(self, images):
        self.batches.append(len(images))
        return np.stack([np.asarray(im, dtype=np.float32).mean(axis=(0, 1)) for im in images])

    def cancel(self) -> bool:
        return self.cancel_after is not None and len(self.batches) >= self.cancel_after


def test_photo_features_go_through_the_encoder_in_batches_and_stop_between_them(
    tmp_path, eczema_photo_paths, monkeypatch
):
    monkeypatch.setattr(trust_examples, "FEATURE_BATCH", 3)
    with Store.open(tmp_path / "s") as s:
        s.import_paths(eczema_photo_paths[:8], "left arm")
        ids = sorted(p.id for p in s.photos())
        stopping = CountingEncoder(cancel_after=2)
        with pytest.raises(Cancelled):
            trust_examples.photo_features(s, ids, stopping, cancel=stopping.cancel)
        assert stopping.batches == [3, 3]
        source = trust_examples.feature_source_of(stopping)
        assert len(s.kept_retrieval_features(ids, source)) == 6  # each batch kept as it came
        encoder = CountingEncoder()
        features = trust_examples.photo_features(s, ids, encoder)
        assert encoder.batches == [2] and features.shape == (8, 3)  # only the 2 left
        again = CountingEncoder()
        assert (
            np.array_equal(trust_examples.photo_features(s, ids, again), features)
            and not again.batches
        )
