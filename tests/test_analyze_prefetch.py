"""The CLI's one-slot prefetch: next photo prepared while the current one is analysed."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from PIL import Image

from eczema_tracker.cli import main
from eczema_tracker.commands.analyze_command import prefetched
from eczema_tracker.core.imaging import ImageLoadError, decode_photo, load_mask
from eczema_tracker.ml.pipeline import ANALYSIS_MAX_SIDE, AnalysisPipeline, resize_mask
from eczema_tracker.ml.seggpt import Prompt
from tests.ml_support import box_mask, write_mask_png


def test_items_come_in_order_and_the_next_is_prepared_meanwhile():
    started = {i: threading.Event() for i in range(4)}

    def prepare(item: int) -> int:
        started[item].set()
        return item * 10

    seen = []
    for item, result in prefetched([0, 1, 2, 3], prepare):
        if item < 3:  # while we hold item, the next one is being prepared
            assert started[item + 1].wait(10)
        seen.append((item, result))
    assert seen == [(0, 0), (1, 10), (2, 20), (3, 30)]


def test_unreadable_items_are_handed_over_and_other_errors_raised_in_place():
    def prepare(item: str) -> str:
        if item == "bad":
            raise ImageLoadError("bad", "not an image")
        if item == "boom":
            raise RuntimeError("boom")
        return item.upper()

    got = []
    with pytest.raises(RuntimeError, match="boom"):
        for item, result in prefetched(["a", "bad", "b", "boom", "c"], prepare):
            got.append((item, result if isinstance(result, str) else type(result).__name__))
    assert got == [("a", "A"), ("bad", "ImageLoadError"), ("b", "B")]


def test_leaving_early_stops_the_thread():
    def prepare(item: int) -> int:
        return item

    before = {t.name for t in threading.enumerate()}
    stream = prefetched(list(range(100)), prepare)
    assert next(stream) == (0, 0)
    stream.close()
    alive = [t for t in threading.enumerate() if t.name == "analyze-prefetch"]
    assert "analyze-prefetch" in before or not alive


def test_cli_results_equal_sequential_analysis(
    eczema_photo_paths, tiny_dino_dir, tiny_seggpt_dir, tmp_path, capsys
):
    prompt_args, prompts = [], []
    for i, photo in enumerate(eczema_photo_paths[:2]):
        mask_file = write_mask_png(box_mask(480, 640, 60, 80, 300, 420), tmp_path / f"m{i}.png")
        prompt_args += ["--prompt", str(photo), str(mask_file)]
        decoded = decode_photo(photo, max_side=ANALYSIS_MAX_SIDE)
        mask = resize_mask(load_mask(mask_file), decoded.image.size)
        prompts.append(Prompt(decoded.image, mask, key=str(photo)))
    photos = [str(p) for p in eczema_photo_paths[2:6]]
    photos.append(photos[0])  # a repeat keeps its place and gets its own mask file
    args = ["--dino", str(tiny_dino_dir), "--seggpt", str(tiny_seggpt_dir)]
    out = tmp_path / "masks"
    assert main(["analyze", *photos, *prompt_args, *args, "--json", "--out", str(out)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [r["file"] for r in records] == photos
    assert len({r["mask"] for r in records}) == len(photos)

    pipeline = AnalysisPipeline.from_sources(dino=str(tiny_dino_dir), seggpt=str(tiny_seggpt_dir))
    pipeline.set_prompts(prompts)
    for photo, record in zip(photos, records, strict=True):
        decoded = decode_photo(photo, max_side=ANALYSIS_MAX_SIDE)
        expected = pipeline.analyze(decoded.image, mask_size=(decoded.width, decoded.height))
        written = np.asarray(Image.open(record["mask"])) > 0
        assert np.array_equal(written, expected.mask), photo
        assert record["prompt_keys"] == expected.prompt_keys
        assert record["lesion_area_fraction"] == pytest.approx(
            expected.lesion_area_fraction, abs=1e-6
        )
