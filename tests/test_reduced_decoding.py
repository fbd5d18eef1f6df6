"""Analysis decodes photos reduced (ml.pipeline.ANALYSIS_MAX_SIDE) and keeps full-size masks.

A 24-MP photo decoded whole, pre-processed and post-processed at full size used to cost the
analysis ~1.8 GB; decoded reduced, only the full-size mask (one byte a pixel) remains.
"""

from __future__ import annotations

import json
import os
import resource

import numpy as np
import pytest
from PIL import Image

from eczema_tracker.app import analysis_models, services
from eczema_tracker.cli import main
from eczema_tracker.core import imaging
from eczema_tracker.ml.pipeline import ANALYSIS_MAX_SIDE, AnalysisPipeline, resize_mask
from eczema_tracker.store import Store

LARGE = (6000, 4000)


@pytest.fixture(scope="module")
def large_photos(eczema_photo_paths, tmp_path_factory) -> list:
    """Three 6000x4000 JPEGs made from shared photos (one rotated by EXIF: upright 4000x6000)."""
    folder = tmp_path_factory.mktemp("large")
    paths = []
    for n, source in enumerate(eczema_photo_paths[10:13]):
        path = folder / f"large{n}.jpg"
        image = Image.open(source).convert("RGB").resize(LARGE, Image.Resampling.BILINEAR)
        exif = Image.Exif()
        if n == 2:
            exif[0x0112] = 6  # rotate 90: the upright photo is 4000 wide, 6000 high
        image.save(path, quality=85, exif=exif)
        paths.append(path)
    return paths


class _PeakMemory:
    """Peak resident memory growth over a block (VmHWM reset through /proc/self/clear_refs)."""

    def __enter__(self) -> _PeakMemory:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM to the current RSS
        self.start_kb = _peak_kb()
        return self

    def __exit__(self, *exc: object) -> None:
        self.growth_mb = (_peak_kb() - self.start_kb) / 1024


def _peak_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _can_reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _centre_blob(width: int, height: int) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    mask[height // 4 : height // 2, width // 4 : width // 2] = True
    return mask


def test_resize_mask_enlarges_nearest_and_shrinks_by_area():
    small = np.zeros((3, 4), dtype=bool)
    small[1, 2] = True
    big = resize_mask(small, (8, 6))
    assert big.shape == (6, 8) and big.sum() == 4 and big[2:4, 4:6].all()
    assert np.array_equal(resize_mask(big, (4, 3)), small)
    thin = np.zeros((8, 8), dtype=bool)
    thin[::2, 0] = True  # a quarter of each 2x2 block: below half, dropped when shrinking
    half = np.zeros((8, 8), dtype=bool)
    half[:, :2] = True
    assert not resize_mask(thin, (4, 4)).any() and resize_mask(half, (4, 4))[:, 0].all()


def test_a_large_stored_photo_is_analysed_reduced_with_a_full_size_mask(large_photos, tiny_choice):
    if not _can_reset_peak():
        pytest.skip("needs /proc/self/clear_refs to measure peak memory")
    with Store.open() as store:
        store.import_paths(large_photos, "left arm")
        ids = {store.photo(pid).original_name: pid for pid in (p.id for p in store.photos())}
        first, second, rotated = (ids[f"large{n}.jpg"] for n in range(3))
        assert (store.photo(rotated).width, store.photo(rotated).height) == (4000, 6000)
        for pid in (first, second):
            photo = store.photo(pid)
            store.set_prompt_mask(pid, _centre_blob(photo.width, photo.height))
        cache = analysis_models.PipelineCache()
        cache.get(tiny_choice)  # the models' own memory is not what is measured
        with _PeakMemory() as peak:
            summary = services.analyse_photos(store, cache, tiny_choice, [rotated])
        assert summary.analysed == [rotated], summary.describe()
        analysis = store.current_analysis(rotated)
        mask = store.load_mask(analysis.mask)
        assert mask.shape == (6000, 4000)  # the photo's full upright size
        assert analysis.lesion_area_fraction == pytest.approx(mask.mean())
        assert analysis.prompt_photo_ids and set(analysis.prompt_photo_ids) <= {first, second}
        # a full decode alone is 72 MB of RGB (and the analysis of it peaked at ~1.8 GB); what
        # remains is the full-size mask being stored (a byte a pixel, PNG-encoded)
        assert peak.growth_mb < 400, f"analysis grew the process by {peak.growth_mb:.0f} MB"


def test_stored_prompts_are_decoded_reduced_with_their_masks_shrunk(large_photos):
    with Store.open() as store:
        store.import_paths(large_photos[:1], "left arm")
        photo = store.photos()[0]
        store.set_prompt_mask(photo.id, _centre_blob(photo.width, photo.height))
        (prompt,) = analysis_models.site_prompts(store, "left arm")
    assert max(prompt.image.size) == ANALYSIS_MAX_SIDE
    assert prompt.mask.shape == (prompt.image.height, prompt.image.width)
    assert prompt.mask.mean() == pytest.approx(0.0625, abs=0.002)
    assert prompt.key == str(photo.id)


def test_thumbnail_rebuild_decodes_reduced(large_photos, monkeypatch):
    asked = []
    real = imaging.open_image

    def spy(path, **kwargs):
        asked.append(kwargs.get("max_side"))
        return real(path, **kwargs)

    with Store.open() as store:
        store.import_paths(large_photos[:1], "left arm")
        photo = store.photos()[0]
        thumb = store.thumbnail(photo.id)
        thumb.unlink()
        monkeypatch.setattr(imaging, "open_image", spy)
        with Image.open(store.thumbnail(photo.id)) as im:
            assert max(im.size) == 256
    assert asked == [512]


def test_pipeline_analyses_a_path_reduced_and_answers_at_full_size(large_photos, tiny_choice):
    pipeline = AnalysisPipeline.from_sources(dino=tiny_choice.dino, seggpt=tiny_choice.seggpt)
    prompts = []
    for n, path in enumerate(large_photos[:2]):
        from eczema_tracker.ml.seggpt import Prompt

        image = imaging.open_image(path, max_side=ANALYSIS_MAX_SIDE)
        prompts.append(Prompt(image, _centre_blob(*image.size), key=str(n)))
    pipeline.set_prompts(prompts)
    analysis = pipeline.analyze(large_photos[2])
    assert analysis.mask.shape == (6000, 4000)
    assert analysis.lesion_area_fraction == pytest.approx(analysis.mask.mean())
    reduced = imaging.open_image(large_photos[2], max_side=ANALYSIS_MAX_SIDE)
    again = pipeline.analyze(reduced, mask_size=(4000, 6000))
    assert np.array_equal(again.mask, analysis.mask)
    assert np.allclose(again.features, analysis.features)
    assert pipeline.analyze(reduced).mask.shape == (reduced.height, reduced.width)


def test_cli_analyze_writes_full_size_masks_and_checks_prompt_masks_at_full_size(
    large_photos, tiny_choice, tmp_path, capsys
):
    masks = []
    for n in range(2):
        mask_path = tmp_path / f"prompt{n}.png"
        imaging.mask_to_image(_centre_blob(*LARGE)).save(mask_path)
        masks.append(mask_path)
    models = ["--dino", tiny_choice.dino, "--seggpt", tiny_choice.seggpt]
    prompts = [
        "--prompt",
        str(large_photos[0]),
        str(masks[0]),
        "--prompt",
        str(large_photos[0]),  # the same photo twice (two masks) is two prompts
        str(masks[1]),
    ]
    out = tmp_path / "out"
    rc = main(["analyze", str(large_photos[2]), *prompts, *models, "--json", "--out", str(out)])
    assert rc == 0
    record = json.loads(capsys.readouterr().out)
    with Image.open(record["mask"]) as im:
        assert im.size == (4000, 6000)
    assert len(record["prompt_keys"]) == 2
    small = tmp_path / "small.png"
    imaging.mask_to_image(_centre_blob(1024, 683)).save(small)  # the reduced size: refused
    rc = main(["analyze", str(large_photos[2]), "--prompt", str(large_photos[0]), str(small)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "mask is 1024x683 but its image" in err and "is 6000x4000" in err


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="Linux only")
def test_reduced_decode_of_a_large_jpeg_stays_small(large_photos):
    with _PeakMemory() as peak:
        image = imaging.open_image(large_photos[0], max_side=ANALYSIS_MAX_SIDE)
    assert image.size == (1024, 683)
    assert peak.growth_mb < 40, peak.growth_mb  # a full decode is 72 MB of RGB alone
