"""The converted-weights cache: memory-mapped loads, a bf16 copy built once, bad files rebuilt."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import torch
from transformers import AutoModel, SegGptForImageSegmentation

from eczema_tracker.ml import acceleration, converted_cache
from eczema_tracker.ml.converted_cache import load_model, validate_header, write_safetensors


def _seggpt_inputs(model, seed: int = 0) -> dict:
    size = model.config.image_size[1]
    generator = torch.Generator().manual_seed(seed)
    shape = (2, 3, size, size)
    return {
        "pixel_values": torch.randn(shape, generator=generator).expand(2, -1, -1, -1),
        "prompt_pixel_values": torch.randn(shape, generator=generator),
        "prompt_masks": torch.randn(shape, generator=generator),
        "feature_ensemble": True,
    }


def _forward(model, inputs: dict) -> torch.Tensor:
    dtype = next(model.parameters()).dtype
    cast = {k: v.to(dtype) if isinstance(v, torch.Tensor) else v for k, v in inputs.items()}
    with torch.inference_mode():
        return model(**cast).pred_masks.float()


def _cached(tiny_seggpt_dir: Path):
    return load_model(
        SegGptForImageSegmentation, tiny_seggpt_dir, source="tiny", dtype=torch.bfloat16
    )


def test_bf16_copy_is_built_once_then_memory_mapped_with_equal_outputs(tiny_seggpt_dir):
    first, report = _cached(tiny_seggpt_dir)
    assert report.how == "built" and report.file.parent == converted_cache.converted_dir()
    second, again = _cached(tiny_seggpt_dir)
    assert again.how == "cache" and again.file == report.file
    assert {p.dtype for p in second.parameters()} == {torch.bfloat16}
    assert not second.training
    for (name, a), (_, b) in zip(
        first.state_dict().items(), second.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    inputs = _seggpt_inputs(first)
    assert torch.equal(_forward(first, inputs), _forward(second, inputs))
    # the copy is what transformers itself gives when asked for bf16
    plain = SegGptForImageSegmentation.from_pretrained(tiny_seggpt_dir, dtype=torch.bfloat16)
    assert torch.equal(_forward(plain.eval(), inputs), _forward(second, inputs))


def test_float32_checkpoint_is_mapped_as_is_and_equals_from_pretrained(tiny_seggpt_dir):
    model, report = load_model(SegGptForImageSegmentation, tiny_seggpt_dir, source="tiny")
    assert report.how == "checkpoint"
    assert not converted_cache.converted_dir().exists()  # nothing converted, nothing copied
    plain = SegGptForImageSegmentation.from_pretrained(tiny_seggpt_dir).eval()
    inputs = _seggpt_inputs(plain, seed=1)
    assert torch.equal(_forward(plain, inputs), _forward(model, inputs))


def test_a_truncated_copy_is_ignored_and_rebuilt(tiny_seggpt_dir):
    _, report = _cached(tiny_seggpt_dir)
    data = report.file.read_bytes()
    report.file.write_bytes(data[: len(data) - 100])
    model, again = _cached(tiny_seggpt_dir)
    assert again.how == "built" and again.file.stat().st_size == len(data)
    assert _cached(tiny_seggpt_dir)[1].how == "cache"


def _rewrite_header(file: Path, change) -> None:
    raw = file.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    change(header)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    file.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + length :])


def _grow_first_tensor(header: dict) -> None:
    name = next(k for k in header if k != "__metadata__")
    header[name]["shape"] = [header[name]["shape"][0] * 4, *header[name]["shape"][1:]]


def _other_key(header: dict) -> None:
    header["__metadata__"]["key"] = "0" * 32


@pytest.mark.parametrize("lie", [_grow_first_tensor, _other_key])
def test_a_copy_with_a_lying_header_is_refused_and_rebuilt(tiny_seggpt_dir, lie):
    _, report = _cached(tiny_seggpt_dir)
    good = _forward(_cached(tiny_seggpt_dir)[0], _seggpt_inputs(_cached(tiny_seggpt_dir)[0]))
    _rewrite_header(report.file, lie)
    model, again = _cached(tiny_seggpt_dir)
    assert again.how == "built"
    assert torch.equal(_forward(model, _seggpt_inputs(model)), good)


def test_header_checks(tmp_path):
    file = tmp_path / "t.safetensors"
    write_safetensors(file, {"a": torch.ones(3), "b": torch.zeros(2, 2)}, {"format": "x"})
    assert set(validate_header(file)) == {"__metadata__", "a", "b"}
    assert validate_header(file)["__metadata__"] == {"format": "x"}
    # safetensors' own reader agrees with the writer
    from safetensors.torch import load_file

    assert torch.equal(load_file(file)["b"], torch.zeros(2, 2))

    def refused(change, match):
        bad = tmp_path / "bad.safetensors"
        bad.write_bytes(file.read_bytes())
        _rewrite_header(bad, change)
        with pytest.raises(ValueError, match=match):
            validate_header(bad)

    refused(lambda h: h["a"].update(dtype="F128"), "unknown dtype")
    refused(lambda h: h["a"].update(data_offsets=[0, 8]), "do not hold")
    refused(lambda h: h["a"].update(data_offsets=[4, 16], shape=[3]), "gaps or overlaps")
    refused(lambda h: h["a"].update(shape=[True, 3]), "bad shape")
    padded = tmp_path / "padded.safetensors"
    padded.write_bytes(file.read_bytes() + b"\0" * 8)
    with pytest.raises(ValueError, match="data ends"):
        validate_header(padded)
    huge = tmp_path / "huge.safetensors"
    huge.write_bytes(struct.pack("<Q", 10**12) + b"{}")
    with pytest.raises(ValueError, match="header length"):
        validate_header(huge)


def test_renamed_dino_weights_convert_and_new_weights_get_a_new_copy(
    tiny_dino_dir, other_tiny_dino_dir
):
    kwargs = {"source": "tiny", "dtype": torch.bfloat16, "add_pooling_layer": False}
    model, report = load_model(AutoModel, tiny_dino_dir, **kwargs)
    again, cached = load_model(AutoModel, tiny_dino_dir, **kwargs)
    assert (report.how, cached.how) == ("built", "cache")
    pixels = torch.randn(1, 3, 32, 32).to(torch.bfloat16)
    with torch.inference_mode():
        assert torch.equal(
            model(pixel_values=pixels).last_hidden_state,
            again(pixel_values=pixels).last_hidden_state,
        )
    _, other = load_model(AutoModel, other_tiny_dino_dir, **kwargs)
    assert other.how == "built" and other.file != report.file
    # float32 with transformers' renames: no copy (nothing to convert)
    _, plain = load_model(AutoModel, tiny_dino_dir, source="tiny", add_pooling_layer=False)
    assert plain.how == "transformers"


def test_unwritable_cache_still_loads(tiny_seggpt_dir, monkeypatch):
    def fail(*_args, **_kwargs):
        raise OSError("read-only file system")

    monkeypatch.setattr(converted_cache, "write_safetensors", fail)
    model, report = _cached(tiny_seggpt_dir)
    assert report.how == "transformers" and "read-only" in report.reason
    assert next(model.parameters()).dtype == torch.bfloat16


def test_encoder_on_a_bf16_path_loads_its_copy_on_the_second_start(tiny_dino_dir, monkeypatch):
    from eczema_tracker.ml.dino import DinoEncoder

    monkeypatch.setattr(acceleration, "cpu_bf16_support", lambda: "avx512_bf16")
    first = DinoEncoder(str(tiny_dino_dir))
    second = DinoEncoder(str(tiny_dino_dir))
    assert (first.load_report.how, second.load_report.how) == ("built", "cache")
    reference = DinoEncoder(str(tiny_dino_dir), fast=False)
    assert reference.load_report.how == "transformers"
    assert next(second.model.parameters()).dtype == torch.bfloat16


def _unsampled_tensor(file: Path) -> tuple[str, int, int]:
    """(name, begin, end) in the file of a tensor the old fingerprint never read: outside its
    three 64 KiB windows (start of data, middle of the file, last 64 KiB)."""
    raw = file.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    start, size, window = 8 + length, len(raw), 65536
    windows = [(start, start + window), ((start + size) // 2, (start + size) // 2 + window)]
    windows.append((size - window, size))
    for name, entry in header.items():
        if name == "__metadata__" or entry["dtype"] != "F32":
            continue
        begin, end = (start + offset for offset in entry["data_offsets"])
        if end - begin >= 1024 and all(end <= a or begin >= b for a, b in windows):
            return name, begin, end
    raise AssertionError("no tensor outside the sampled windows")


def test_a_retrained_layer_in_the_same_folder_gets_a_new_copy(tmp_path, monkeypatch):
    """Issue 22 item 7: the key hashes every byte of the weights, not three samples."""
    from tests.tiny_models import make_tiny_seggpt

    folder = make_tiny_seggpt(tmp_path / "seggpt", hidden=128)  # ~1.5 MB of weights
    (weights,) = converted_cache.weight_files(folder)
    name, begin, end = _unsampled_tensor(weights)
    first, report = _cached(folder)
    assert report.how == "built"
    raw = bytearray(weights.read_bytes())
    raw[begin:end] = torch.full(((end - begin) // 4,), 0.5).numpy().tobytes()
    weights.write_bytes(bytes(raw))  # same size, same header: a retrained layer
    model, again = _cached(folder)
    assert again.how == "built" and again.file != report.file
    assert torch.all(model.state_dict()[name] == 0.5)
    assert not torch.equal(first.state_dict()[name], model.state_dict()[name])
    # a second start only stats the files: the hash is remembered
    monkeypatch.setattr(converted_cache, "file_sha256", lambda _file: pytest.fail("rehashed"))
    assert _cached(folder)[1].how == "cache"
