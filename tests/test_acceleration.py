"""The fast path: same answers as transformers' fp32 code, sensible choices, clean fallbacks.

Timings live in benchmarks/bench_analyze.py; these tests only check behaviour, on tiny models.
"""

from __future__ import annotations

import pytest
import torch
from transformers import SegGptConfig, SegGptForImageSegmentation, ViTModel
from transformers.models.seggpt.modeling_seggpt import SegGptAttention

from eczema_tracker.ml import acceleration
from eczema_tracker.ml.seggpt_sdpa_attention import (
    FastSegGptAttention,
    use_eager_attention,
    use_fast_attention,
)
from eczema_tracker.ml.seggpt_shared_query import (
    SharedQuerySegGptDecoder,
    SharedQuerySegGptEncoder,
    query_prediction,
    use_shared_query_encoder,
)
from tests.tiny_models import make_tiny_dino, make_tiny_seggpt

KERNELS = ("matmul", "sdpa", "eager")


def _strong_relative_positions(model: torch.nn.Module, seed: int = 0) -> None:
    """Random-init tables are ~0.02; make them matter so a wrong bias cannot pass unnoticed."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, SegGptAttention):
            with torch.no_grad():
                module.rel_pos_h.normal_(0.0, 1.0, generator=generator)
                module.rel_pos_w.normal_(0.0, 1.0, generator=generator)


@pytest.fixture(scope="module")
def tiny_seggpt_folder(tmp_path_factory):
    return make_tiny_seggpt(tmp_path_factory.mktemp("tiny") / "seggpt")


@pytest.fixture()
def tiny_seggpt(tiny_seggpt_folder) -> SegGptForImageSegmentation:
    """A fresh copy per test (tests switch its modules)."""
    model = SegGptForImageSegmentation.from_pretrained(tiny_seggpt_folder)
    _strong_relative_positions(model)
    return model.eval()


def _seggpt_inputs(batch: int, size: int = 64, seed: int = 1) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    query = torch.randn(1, 3, size, size, generator=generator)
    return {
        "pixel_values": query.expand(batch, -1, -1, -1),  # one query, K prompts (as the app)
        "prompt_pixel_values": torch.randn(batch, 3, size, size, generator=generator),
        "prompt_masks": torch.randn(batch, 3, size, size, generator=generator),
        "feature_ensemble": batch > 1,
    }


@pytest.mark.parametrize("kernel", KERNELS)
def test_attention_module_equals_eager_fp32(kernel):
    config = SegGptConfig(image_size=[96, 48], patch_size=16, hidden_size=32, num_attention_heads=4)
    attention = SegGptAttention(config).eval()
    _strong_relative_positions(attention)
    hidden = torch.randn(3, 6, 3, 32)
    with torch.inference_mode():
        expected, _ = attention(hidden)
        assert use_fast_attention(attention, kernel) == 1
        got, weights = attention(hidden)
    assert weights is None
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    # The relative positions really are in play: without them the output differs.
    with torch.inference_mode():
        attention.rel_pos_h.zero_()
        attention.rel_pos_w.zero_()
        without = attention(hidden)[0]
    assert (without - expected).abs().max() > 1e-2


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("batch", [1, 2])
def test_whole_model_equals_eager_fp32_with_and_without_feature_ensemble(
    tiny_seggpt, kernel, batch
):
    inputs = _seggpt_inputs(batch)
    with torch.inference_mode():
        expected = tiny_seggpt(**inputs).pred_masks
        use_fast_attention(tiny_seggpt, kernel)
        got = tiny_seggpt(**inputs).pred_masks
    assert all(type(m) is not SegGptAttention for m in tiny_seggpt.modules())
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_output_attentions_still_returns_eager_weights(tiny_seggpt):
    inputs = _seggpt_inputs(1)
    with torch.inference_mode():
        expected = tiny_seggpt(**inputs, output_attentions=True).attentions
        use_fast_attention(tiny_seggpt)
        got = tiny_seggpt(**inputs, output_attentions=True).attentions
    assert len(got) == len(expected)
    torch.testing.assert_close(got[0], expected[0])


def test_switch_keeps_state_dict_and_can_be_undone(tiny_seggpt):
    before = {k: v.clone() for k, v in tiny_seggpt.state_dict().items()}
    switched = use_fast_attention(tiny_seggpt, "sdpa")
    assert switched == tiny_seggpt.config.num_hidden_layers
    after = tiny_seggpt.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert use_eager_attention(tiny_seggpt) == switched
    assert not any(isinstance(m, FastSegGptAttention) for m in tiny_seggpt.modules())
    with pytest.raises(ValueError, match="unknown SegGPT attention kernel"):
        use_fast_attention(tiny_seggpt, "flash-magic")


def test_choose_path_reference_and_fast(monkeypatch):
    assert acceleration.choose_path("cpu", fast=False) == acceleration.REFERENCE_PATH
    assert acceleration.REFERENCE_PATH.is_reference
    monkeypatch.setattr(acceleration, "cpu_bf16_support", lambda: "avx512_bf16")
    path = acceleration.choose_path("cpu")
    assert path.dtype == "bfloat16" and path.cast_weights
    assert path.seggpt_attention == "matmul"
    assert "bfloat16" in path.describe() and "avx512_bf16" in path.describe()
    monkeypatch.setenv("ECZEMA_TRACKER_REFERENCE_PATH", "1")
    assert acceleration.choose_path("cpu").is_reference


def test_choose_path_falls_back_to_fp32_without_bf16(monkeypatch):
    monkeypatch.setattr(acceleration, "cpu_bf16_support", lambda: None)
    path = acceleration.choose_path("cpu")
    assert path.dtype == "float32" and not path.cast_weights and not path.autocast
    assert path.seggpt_attention == "eager" and path.seggpt_shared_query
    assert "no native bf16" in path.describe()


def test_bf16_probe_reads_cpu_flags(monkeypatch):
    monkeypatch.setattr(acceleration, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    assert acceleration.cpu_bf16_support() == "avx512_bf16"
    monkeypatch.setattr(acceleration, "cpu_flags", lambda: frozenset({"avx2", "amx_bf16"}))
    assert acceleration.cpu_bf16_support() == "amx_bf16"
    monkeypatch.setattr(acceleration, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert acceleration.cpu_bf16_support() is None


def test_no_malloc_tuning_off_glibc(monkeypatch):
    monkeypatch.setattr(acceleration, "glibc_malloc_available", lambda: False)
    monkeypatch.setattr(acceleration, "cpu_bf16_support", lambda: None)
    monkeypatch.setattr(acceleration, "_malloc_tuned", False)
    assert not acceleration.choose_path("cpu").malloc_tuned
    assert acceleration.tune_malloc() is False


def _bf16_path() -> acceleration.AccelerationPath:
    return acceleration.AccelerationPath(
        dtype="bfloat16", seggpt_attention="matmul", cast_weights=True, reason="test"
    )


def test_prepared_seggpt_takes_fp32_in_and_gives_fp32_out(tiny_seggpt):
    inputs = _seggpt_inputs(2)
    with torch.inference_mode():
        expected = tiny_seggpt(**inputs).pred_masks
    model = acceleration.prepare_seggpt(tiny_seggpt, _bf16_path())
    assert next(model.parameters()).dtype == torch.bfloat16
    assert not model.training
    with acceleration.inference_context(_bf16_path()):
        got = model(**inputs).pred_masks
    assert got.dtype == torch.float32 and got.shape == expected.shape
    # bf16 is close, not equal: the benchmark gates the real-size accuracy.
    assert torch.nn.functional.cosine_similarity(got.flatten(), expected.flatten(), dim=0) > 0.99


def test_prepared_dino_works_on_both_paths(tmp_path):
    folder = make_tiny_dino(tmp_path / "dino")
    pixels = torch.randn(2, 3, 32, 32)
    reference = ViTModel.from_pretrained(folder, add_pooling_layer=False)
    reference = acceleration.prepare_dino(reference, acceleration.REFERENCE_PATH)
    with acceleration.inference_context(acceleration.REFERENCE_PATH):
        expected = reference(pixel_values=pixels).last_hidden_state
    fast = ViTModel.from_pretrained(folder, add_pooling_layer=False)
    fast = acceleration.prepare_dino(fast, _bf16_path())
    with acceleration.inference_context(_bf16_path()):
        got = fast(pixel_values=pixels).last_hidden_state
    assert got.dtype == torch.float32 and got.shape == expected.shape
    cosine = torch.nn.functional.cosine_similarity(got[:, 0], expected[:, 0], dim=-1)
    assert cosine.min() > 0.99


def _tiny_config(merge_index: int) -> SegGptConfig:
    layers = merge_index + 2
    return SegGptConfig(
        image_size=[128, 64],
        patch_size=16,
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=2,
        mlp_dim=64,
        decoder_hidden_size=16,
        intermediate_hidden_state_indices=[merge_index, layers - 1],
        merge_index=merge_index,
        pretrain_image_size=64,
    )


@pytest.mark.parametrize("merge_index", [0, 2])
@pytest.mark.parametrize("prompts", [2, 3])
def test_shared_query_encoder_equals_eager_fp32(merge_index, prompts):
    torch.manual_seed(merge_index)
    model = SegGptForImageSegmentation(_tiny_config(merge_index)).eval()
    _strong_relative_positions(model)
    inputs = _seggpt_inputs(prompts)
    with torch.inference_mode():
        expected = model(**inputs).pred_masks
        use_fast_attention(model)
        assert use_shared_query_encoder(model) == 2  # encoder and decoder
        embeddings = model.model.embeddings(
            torch.cat((inputs["prompt_pixel_values"], inputs["pixel_values"]), 2),
            torch.cat((inputs["prompt_masks"], inputs["prompt_masks"]), 2),
            bool_masked_pos=torch.arange(32)[None] >= 16,
        )
        assert model.model.encoder._shortcut_applies(embeddings, True)
        got = model(**inputs).pred_masks
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_shared_query_encoder_falls_back_when_queries_differ(tiny_seggpt):
    inputs = _seggpt_inputs(2)
    inputs["pixel_values"] = torch.randn(2, 3, 64, 64)  # two different queries
    with torch.inference_mode():
        expected = tiny_seggpt(**inputs).pred_masks
        use_fast_attention(tiny_seggpt)
        use_shared_query_encoder(tiny_seggpt)
        got = tiny_seggpt(**inputs).pred_masks
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_fast_path_prepares_every_lever(tiny_seggpt, monkeypatch):
    monkeypatch.setattr(acceleration, "cpu_bf16_support", lambda: "avx512_bf16")
    path = acceleration.choose_path("cpu")
    model = acceleration.prepare_seggpt(tiny_seggpt, path)
    assert isinstance(model.model.encoder, SharedQuerySegGptEncoder)
    assert isinstance(model.decoder, SharedQuerySegGptDecoder)
    assert all(
        isinstance(layer.attention, FastSegGptAttention) for layer in model.model.encoder.layers
    )
    assert "shared_query" in path.describe()
    with acceleration.inference_context(path):
        out = model(**_seggpt_inputs(2)).pred_masks
    assert out.dtype == torch.float32 and torch.isfinite(out).all()


@pytest.mark.parametrize("prompts", [1, 2])
def test_query_prediction_equals_the_query_half_of_the_full_forward(tiny_seggpt, prompts):
    inputs = _seggpt_inputs(prompts)
    with torch.inference_mode():
        full = tiny_seggpt(**inputs).pred_masks
        use_fast_attention(tiny_seggpt)
        use_shared_query_encoder(tiny_seggpt)
        got = query_prediction(tiny_seggpt, **inputs)
    half = full.shape[2] // 2
    assert got.shape == (1, 3, half, full.shape[3])
    torch.testing.assert_close(got, full[:1, :, half:], rtol=1e-5, atol=1e-5)


def test_tune_malloc_applies_once_on_glibc(monkeypatch):
    if not acceleration.glibc_malloc_available():
        pytest.skip("needs Linux with glibc")
    monkeypatch.setattr(acceleration, "_malloc_tuned", False)
    assert acceleration.tune_malloc() is True
    assert acceleration.tune_malloc() is True  # idempotent
