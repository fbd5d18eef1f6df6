"""SegGptSegmenter: K-nearest prompt retrieval, cached prompt features, binary masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from eczema_tracker.core.imaging import open_image
from eczema_tracker.ml.dino import DinoEncoder
from eczema_tracker.ml.seggpt import Prompt, SegGptSegmenter, lesion_area_fraction
from tests.ml_support import box_mask


@pytest.fixture(scope="module")
def photos(eczema_photo_paths):
    return [open_image(p) for p in eczema_photo_paths[::30][:5]]


@pytest.fixture(scope="module")
def segmenter(tiny_dino_dir, tiny_seggpt_dir):
    encoder = DinoEncoder(str(tiny_dino_dir))
    return SegGptSegmenter(str(tiny_seggpt_dir), encoder=encoder, k=2)


def _prompts(photos):
    return [
        Prompt(im, box_mask(im.height, im.width, 40 + 10 * i, 60, 300, 420), key=f"p{i}")
        for i, im in enumerate(photos)
    ]


def test_nearest_prompts_are_the_k_nearest_by_euclidean_dino_cls(segmenter, photos):
    segmenter.set_prompts(_prompts(photos[:4]))
    query = photos[4]
    pool = segmenter.encoder.retrieval_features(photos[:4])
    q = segmenter.encoder.retrieval_features([query])[0]
    expected = list(np.argsort(np.linalg.norm(pool - q, axis=1))[:2])
    assert segmenter.nearest_prompts(query) == expected
    # exclude_keys drops the image itself (research: leave-one-out)
    assert segmenter.nearest_prompts(photos[0])[0] == 0
    assert 0 not in segmenter.nearest_prompts(photos[0], exclude_keys=["p0"])
    with pytest.raises(ValueError, match="excluded"):
        segmenter.nearest_prompts(query, exclude_keys=["p0", "p1", "p2", "p3"])


def test_prompt_features_computed_once_and_query_preprocessed_once(segmenter, photos, monkeypatch):
    calls = []
    original = segmenter.encoder.retrieval_features
    monkeypatch.setattr(
        segmenter.encoder, "retrieval_features", lambda ims: calls.append(len(ims)) or original(ims)
    )
    segmenter.set_prompts(_prompts(photos[:3]))
    assert calls == [3]
    preprocess_calls = []
    original_pre = segmenter.processor.preprocess
    monkeypatch.setattr(
        segmenter.processor,
        "preprocess",
        lambda *a, **kw: preprocess_calls.append(kw) or original_pre(*a, **kw),
    )
    model_inputs = []
    original_predict = segmenter.predict_masks
    monkeypatch.setattr(
        segmenter,
        "predict_masks",
        lambda *a: model_inputs.append(a) or original_predict(*a),
    )
    segmenter.segment(photos[3])
    segmenter.segment(photos[4])
    assert calls == [3, 1, 1]  # prompts once; one whole-image feature per query
    assert len(preprocess_calls) == 2 and all("prompt_images" not in kw for kw in preprocess_calls)
    pixel_values, prompt_pixel_values, prompt_masks = model_inputs[0]
    assert pixel_values.shape[0] == 2 and prompt_pixel_values.shape[0] == 2  # K=2: ensemble
    assert prompt_masks.shape == prompt_pixel_values.shape
    assert torch.equal(pixel_values[0], pixel_values[1])  # the query, repeated


def test_masks_are_binary_at_the_photos_resolution(segmenter, photos):
    segmenter.set_prompts(_prompts(photos[:3]))
    odd = photos[3].resize((301, 199))
    result = segmenter.segment(odd)
    assert result.mask.dtype == bool and result.mask.shape == (199, 301)
    assert 0.0 <= result.lesion_area_fraction <= 1.0
    assert result.lesion_area_fraction == pytest.approx(result.mask.mean())
    assert len(result.prompt_keys) == 2 and set(result.prompt_keys) <= {"p0", "p1", "p2"}
    assert result.seconds > 0 and set(result.timings) == {"retrieval", "seggpt", "postprocess"}


def test_single_prompt_and_k_larger_than_pool(tiny_dino_dir, tiny_seggpt_dir, photos):
    segmenter = SegGptSegmenter(str(tiny_seggpt_dir), encoder=DinoEncoder(str(tiny_dino_dir)), k=5)
    segmenter.set_prompts(_prompts(photos[:1]))
    result = segmenter.segment(photos[2])
    assert result.prompt_keys == ["p0"] and result.mask.shape == (
        photos[2].height,
        photos[2].width,
    )


def test_area_fraction_of_a_known_mask():
    mask = box_mask(100, 200, 10, 20, 60, 120)  # 50 x 100 = 5000 of 20000 pixels
    assert lesion_area_fraction(mask) == pytest.approx(0.25)
    assert lesion_area_fraction(np.zeros((4, 4), bool)) == 0.0


def test_bad_prompts_are_refused(segmenter, photos):
    with pytest.raises(ValueError, match="at least one prompt"):
        segmenter.set_prompts([])
    with pytest.raises(ValueError, match="does not match its image size"):
        segmenter.set_prompts([Prompt(photos[0], np.ones((5, 5), bool))])


def test_fast_prediction_equals_the_reference_query_half(tiny_seggpt_dir, tiny_dino_dir, photos):
    """The fast path decodes only the query half; it must match transformers' fp32 output."""
    from eczema_tracker.ml import acceleration

    encoder = DinoEncoder(str(tiny_dino_dir), fast=False)
    reference = SegGptSegmenter(str(tiny_seggpt_dir), encoder=encoder, k=2, fast=False)
    fast = SegGptSegmenter(str(tiny_seggpt_dir), encoder=encoder, k=2, fast=False)
    # The fast path's levers, in fp32 so the comparison can be tight (bf16 is gated elsewhere).
    fast.path = acceleration.AccelerationPath(
        seggpt_attention="matmul", seggpt_shared_query=True, reason="test"
    )
    fast.model = acceleration.prepare_seggpt(fast.model, fast.path)
    assert reference.path.is_reference and not fast.path.is_reference
    reference.set_prompts(_prompts(photos[:2]))
    inputs = (
        reference._prompt_pixels[:1].expand(2, -1, -1, -1),  # any query image, repeated
        reference._prompt_pixels,
        reference._prompt_masks,
    )
    want = reference.predict_masks(*inputs)
    got = fast.predict_masks(*inputs)
    half = want.shape[2] // 2
    assert got.shape == want.shape
    torch.testing.assert_close(got[:, :, half:], want[:, :, half:], atol=1e-4, rtol=1e-4)
