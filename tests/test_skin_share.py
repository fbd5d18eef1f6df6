"""The lesion as a share of the visible skin: the 3-label mask format, its store round trip
(versions, backup, restore, migration), SegGPT's two-label pass and what reports it."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from eczema_tracker.app import analysis_models, services
from eczema_tracker.cli import main
from eczema_tracker.core import imaging, mask_labels
from eczema_tracker.ml.dino import DinoEncoder
from eczema_tracker.ml.pipeline import AnalysisPipeline, resize_labelled_mask
from eczema_tracker.ml.seggpt import Prompt, SegGptSegmenter, Segmentation, prompt_class_map
from eczema_tracker.store import Store, db
from eczema_tracker.store.backup.export import export_store
from eczema_tracker.store.backup.restore import restore_store
from eczema_tracker.store.csv_export import export_csv
from tests.ml_support import box_mask
from tests.tiny_models import make_tiny_seggpt


def labelled(height: int, width: int, skin: tuple, lesion: tuple) -> np.ndarray:
    """A uint8 0/128/255 mask: the ``skin`` box healthy skin, the ``lesion`` box lesion."""
    return mask_labels.labelled_mask(
        box_mask(height, width, *lesion), box_mask(height, width, *skin)
    )


# -- the format ------------------------------------------------------------------------------
def test_binary_masks_keep_their_meaning_and_128_is_healthy_skin():
    zero_one = np.array([[0, 1], [1, 0]], np.uint8)
    zero_255 = zero_one * np.uint8(255)
    for binary in (zero_one, zero_255, zero_one.astype(bool)):
        assert np.array_equal(mask_labels.lesion_of(binary), zero_one.astype(bool))
        assert not mask_labels.skin_of(binary).any() and not mask_labels.has_skin(binary)
        assert np.array_equal(mask_labels.canonical_mask(binary), zero_255)
    three = np.array([[0, 128, 255, 7]], np.uint8)
    assert mask_labels.lesion_of(three).tolist() == [[False, False, True, True]]
    assert mask_labels.skin_of(three).tolist() == [[False, True, False, False]]
    assert mask_labels.canonical_mask(three).tolist() == [[0, 128, 255, 255]]
    lesion, skin = mask_labels.lesion_of(three), mask_labels.skin_of(three)
    assert mask_labels.lesion_share_of_skin(lesion, skin) == pytest.approx(2 / 3)
    assert mask_labels.lesion_share_of_skin(lesion, None) is None
    # a pixel marked both is lesion (a lesion lies on skin)
    both = mask_labels.labelled_mask(np.array([[True]]), np.array([[True]]))
    assert both.tolist() == [[255]]


def test_a_mask_file_reads_back_with_its_labels_and_a_binary_one_as_before(tmp_path):
    mask = labelled(30, 40, (2, 2, 28, 38), (10, 10, 20, 20))
    path = tmp_path / "m.png"
    path.write_bytes(imaging.mask_png_bytes(mask))
    assert np.array_equal(imaging.load_labelled_mask(path), mask)
    assert np.array_equal(imaging.load_mask(path), mask == 255)
    # a 0/1 file: "1" is lesion, as it always was
    Image.fromarray((mask == 255).astype(np.uint8)).save(tmp_path / "01.png")
    assert np.array_equal(imaging.load_labelled_mask(tmp_path / "01.png"), (mask == 255) * 255)
    # a binary mask encodes to the very bytes the store wrote before skin existed
    binary = mask == 255
    old = io.BytesIO()
    Image.fromarray(binary.astype(np.uint8) * 255, mode="L").save(
        old, format="PNG", optimize=False, compress_level=6
    )
    assert imaging.mask_png_bytes(binary) == old.getvalue()


def test_resizing_keeps_each_label():
    mask = labelled(40, 40, (0, 0, 40, 40), (10, 10, 30, 30))
    small = resize_labelled_mask(mask, (20, 20))
    assert np.array_equal(small, labelled(20, 20, (0, 0, 20, 20), (5, 5, 15, 15)))
    assert resize_labelled_mask(mask == 255, (20, 20)).dtype == bool  # a binary mask stays so


# -- the store -------------------------------------------------------------------------------
@pytest.fixture()
def store_with_skin(tmp_path, eczema_photo_paths):
    folder = tmp_path / "store"
    with Store.open(folder) as store:
        store.import_paths(eczema_photo_paths[:2], "left arm")
        first, second = store.photos()
        h, w = first.height, first.width
        three = labelled(h, w, (20, 20, h - 20, w - 20), (100, 100, 200, 200))
        prompt = store.set_prompt_mask(first.id, three)
        store.set_prompt_mask(first.id, three == 255)  # a newer, binary version
        store.record_analysis(
            second.id,
            mask=labelled(h, w, (0, 0, h, w), (0, 0, 60, 60)),
            lesion_area_fraction=0.1,
            features=None,
            feature_source=None,
            probabilities=None,
            score=None,
            model_sources={},
            k=2,
            lesion_share_of_skin=0.25,
        )
    return folder, three, prompt


def test_labels_round_trip_through_store_versions_backup_and_restore(store_with_skin, tmp_path):
    folder, three, first_version = store_with_skin

    def check(where):
        with Store.open(where, readonly=True) as store:
            first, second = store.photos()
            h, w = second.height, second.width
            versions = store.prompt_mask_versions(first.id)
            assert [v.sha256 for v in versions][0] == first_version.sha256
            assert np.array_equal(store.load_labelled_mask(versions[0]), three)  # kept labels
            assert np.array_equal(store.load_labelled_mask(versions[-1]), (three == 255) * 255)
            assert versions[0].area_fraction == pytest.approx((three == 255).mean())
            assert versions[0].skin_fraction == pytest.approx((three == 128).mean())
            assert versions[0].lesion_share_of_skin == pytest.approx(
                (three == 255).sum() / (three > 0).sum()
            )
            assert versions[-1].skin_fraction == 0 and versions[-1].lesion_share_of_skin is None
            analysis = store.current_analysis(second.id)
            assert analysis.lesion_share_of_skin == 0.25
            kept = store.load_labelled_mask(analysis.mask)
            assert set(np.unique(kept)) == {128, 255}
            assert np.array_equal(store.load_mask(analysis.mask), kept == 255)
            shown = store.shown_mask(second.id)
            assert shown.lesion_share_of_skin == pytest.approx(60 * 60 / (h * w))

    check(folder)
    export_store(folder, tmp_path / "backup.zip")
    restore_store(tmp_path / "backup.zip", tmp_path / "restored")
    check(tmp_path / "restored")


def test_share_of_skin_is_checked_and_null_without_skin(store_with_skin):
    folder, three, _ = store_with_skin
    with Store.open(folder) as store:
        photo = store.photos()[0]
        common = dict(
            features=None, feature_source=None, probabilities=None, score=None,
            model_sources={}, k=2, lesion_area_fraction=0.1,
        )  # fmt: skip
        with pytest.raises(ValueError, match="lesion_share_of_skin"):
            store.record_analysis(photo.id, mask=three, lesion_share_of_skin=1.5, **common)
        aid = store.record_analysis(photo.id, mask=three == 255, **common)
        assert store.analysis(aid).lesion_share_of_skin is None


def test_a_schema_5_store_migrates_and_its_analyses_have_no_share(
    tmp_path, eczema_photo_paths, monkeypatch
):
    bundled = db.bundled_migrations()
    assert bundled[5].name == "0006_skin_share.sql"
    folder = tmp_path / "old"
    with monkeypatch.context() as patch:
        patch.setattr(db, "bundled_migrations", lambda: bundled[:5])
        with Store.open(folder) as store:
            store.import_paths(eczema_photo_paths[:1], "left arm")
            photo = store.photos()[0]
            mask = box_mask(photo.height, photo.width, 10, 10, 50, 50)
            aid = store.record_analysis(
                photo.id, mask=mask, lesion_area_fraction=float(mask.mean()), features=None,
                feature_source=None, probabilities=None, score=None, model_sources={}, k=2,
            )  # fmt: skip
            assert store.analysis(aid).lesion_share_of_skin is None  # read at schema 5
            assert store.analysis(aid).mask.skin_fraction == 0
            store.set_prompt_mask(photo.id, mask)
            assert db.schema_version(store._db) == 5
    with Store.open(folder) as store:
        assert db.schema_version(store._db) == db.latest_version() == 6
        assert store.analysis(aid).lesion_share_of_skin is None
        assert store.analysis(aid).mask.skin_fraction == 0
        assert store.prompt(photo.id).mask.lesion_share_of_skin is None
        three = mask_labels.labelled_mask(mask, ~mask)  # the same photo, now with skin
        assert store.set_prompt_mask(photo.id, three).lesion_share_of_skin == pytest.approx(
            mask.mean()
        )
        assert db.check_own_schema(store._db, folder) == 6


def test_the_csv_has_the_share_of_skin(store_with_skin, tmp_path):
    folder, _, _ = store_with_skin
    with Store.open(folder, readonly=True) as store:
        written = export_csv(store, tmp_path / "csv").folder
    rows = list(csv.DictReader((written / "analyses.csv").open(encoding="utf-8")))
    assert [row["lesion_share_of_skin"] for row in rows] == ["0.25"]


# -- SegGPT's two labels ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def lively_seggpt_dir(tmp_path_factory):
    """The tiny SegGPT with masks neither empty nor full (see ``make_tiny_seggpt``)."""
    return make_tiny_seggpt(tmp_path_factory.mktemp("lively") / "seggpt", lively=True)


@pytest.fixture(scope="module")
def segmenter(tiny_dino_dir, lively_seggpt_dir):
    return SegGptSegmenter(str(lively_seggpt_dir), encoder=DinoEncoder(str(tiny_dino_dir)), k=2)


@pytest.fixture(scope="module")
def photos(eczema_photo_paths):
    return [imaging.open_image(p) for p in eczema_photo_paths[::30][:3]]


def _skin_prompts(photos):
    return [
        Prompt(
            im,
            labelled(im.height, im.width, (20, 30, 400, 600), (60 + 20 * i, 80, 300, 420)),
            key=f"p{i}",
        )
        for i, im in enumerate(photos)
    ]


def _unnormalise(processor, tensor: torch.Tensor) -> np.ndarray:
    """A preprocessed (3, h, w) mask tensor back to 0..255 colours, (h, w, 3)."""
    mean = torch.tensor(processor.image_mean).view(3, 1, 1)
    std = torch.tensor(processor.image_std).view(3, 1, 1)
    return torch.round((tensor.float().cpu() * std + mean) * 255).permute(1, 2, 0).numpy()


def test_the_palette_encoding_is_transformers_own(segmenter, photos):
    prompts = _skin_prompts(photos[:2])
    segmenter.set_prompts(prompts)
    assert segmenter.finds_skin and segmenter.num_labels == 2
    processor = segmenter.processor
    classes = [prompt_class_map(p.mask, with_skin=True) for p in prompts]
    expected = processor.preprocess(
        prompt_images=[p.image for p in prompts],
        prompt_masks=classes,
        num_labels=2,
        return_tensors="pt",
    )["prompt_masks"]
    assert torch.equal(segmenter._prompt_masks.cpu(), expected.to(segmenter._prompt_masks.dtype))
    # lesion is palette colour 1 (white, as with one label), skin colour 2, the rest black
    palette = processor.get_palette(2)
    assert palette[1] == processor.get_palette(1)[1]
    colours = _unnormalise(processor, segmenter._prompt_masks[0])
    size = colours.shape[:2]
    small = np.asarray(Image.fromarray(classes[0]).resize(size[::-1], Image.Resampling.NEAREST))
    for label in (0, 1, 2):
        inside = small == label
        if inside.any():
            assert np.allclose(colours[inside].mean(axis=0), palette[label], atol=1.5)
    # and SegGPT's output in those colours maps back to the same classes
    pred = torch.cat(
        [torch.zeros_like(segmenter._prompt_masks[:1]), segmenter._prompt_masks[:1]], 2
    )
    back = segmenter._postprocess(pred.float(), *size)
    assert np.array_equal(back, small)


def _reference_binary_mask(segmenter, prompts, query) -> np.ndarray:
    """The lesion mask as the app computed it before skin existed: transformers with one label
    on the 0/1 masks, feature ensemble over the K nearest, first row, class 1."""
    processor, model = segmenter.processor, segmenter.model
    chosen = segmenter.nearest_prompts(query)
    inputs = processor.preprocess(
        images=[query] * len(chosen),
        prompt_images=[prompts[i].image for i in chosen],
        prompt_masks=[np.asarray(prompts[i].mask, bool).astype(np.uint8) for i in chosen],
        num_labels=1,
        return_tensors="pt",
    )
    dtype = next(model.parameters()).dtype
    with torch.no_grad():
        pred = model(
            pixel_values=inputs["pixel_values"].to(dtype),
            prompt_pixel_values=inputs["prompt_pixel_values"].to(dtype),
            prompt_masks=inputs["prompt_masks"].to(dtype),
            feature_ensemble=len(chosen) > 1,
        ).pred_masks[:1]

    class Out:
        pred_masks = pred.float()

    seg = processor.post_process_semantic_segmentation(
        Out(), target_sizes=[(query.height, query.width)], num_labels=1
    )[0]
    return seg.numpy() == 1


@pytest.mark.parametrize("fast", [False, True])
def test_binary_prompts_segment_exactly_as_before(tiny_dino_dir, lively_seggpt_dir, photos, fast):
    segmenter = SegGptSegmenter(
        str(lively_seggpt_dir), encoder=DinoEncoder(str(tiny_dino_dir)), k=2, fast=fast
    )
    binary = [
        Prompt(im, box_mask(im.height, im.width, 60 + 20 * i, 80, 300, 420), key=f"p{i}")
        for i, im in enumerate(photos[:2])
    ]
    segmenter.set_prompts(binary)
    assert segmenter.num_labels == 1
    query = photos[2]
    result = segmenter.segment(query)
    assert 0.05 < result.lesion_area_fraction < 0.95  # a mask worth comparing
    assert np.array_equal(result.mask, _reference_binary_mask(segmenter, binary, query))
    assert result.skin_mask is None and result.lesion_share_of_skin is None
    # 0/255 and 0/1 uint8 masks are the same prompts as the bool ones
    for scale in (1, 255):
        segmenter.set_prompts(
            [Prompt(p.image, p.mask.astype(np.uint8) * np.uint8(scale), p.key) for p in binary]
        )
        assert np.array_equal(segmenter.segment(query).mask, result.mask)
    # a pool where only some prompts mark skin runs with one label: as the binary pool
    mixed = [_skin_prompts(photos[:1])[0], binary[1]]
    mixed[0].mask[mixed[0].mask == 255] = 0
    mixed[0].mask[binary[0].mask] = 255
    segmenter.set_prompts(mixed)
    assert segmenter.num_labels == 1
    assert np.array_equal(segmenter.segment(query).mask, result.mask)


def test_skin_prompts_give_both_masks_from_one_pass(segmenter, photos, monkeypatch):
    segmenter.set_prompts(_skin_prompts(photos[:2]))
    passes = []
    original = segmenter.predict_masks
    monkeypatch.setattr(segmenter, "predict_masks", lambda *a: passes.append(1) or original(*a))
    result = segmenter.segment(photos[2])
    assert passes == [1]
    assert result.skin_mask is not None and result.skin_mask.shape == result.mask.shape
    assert result.skin_mask.any() and result.mask.any()
    assert not (result.skin_mask & result.mask).any()
    expected = mask_labels.lesion_share_of_skin(result.mask, result.skin_mask)
    assert result.lesion_share_of_skin == expected


# -- framing: a deterministic stand-in segmenter ---------------------------------------------
class ColourSegmenter:
    """Stand-in for SegGPT: red pixels are lesion, skin-coloured ones healthy skin."""

    def segment(self, image, *, exclude_keys=(), query_features=None) -> Segmentation:
        rgb = np.asarray(image.convert("RGB")).astype(int)
        lesion = (rgb[..., 0] > 180) & (rgb[..., 1] < 80)
        skin = (rgb[..., 0] > 180) & (rgb[..., 1] > 120) & (rgb[..., 2] > 90) & ~lesion
        return Segmentation(
            mask=lesion,
            lesion_area_fraction=float(lesion.mean()),
            prompt_keys=[],
            seconds=0.0,
            skin_mask=skin,
            lesion_share_of_skin=mask_labels.lesion_share_of_skin(lesion, skin),
        )


def _framed_photo() -> Image.Image:
    """A blue background, an arm (skin) in the middle, a lesion on it."""
    pixels = np.zeros((200, 300, 3), np.uint8)
    pixels[...] = (40, 60, 160)
    pixels[50:150, 80:220] = (230, 180, 150)
    pixels[80:110, 120:160] = (220, 40, 50)
    return Image.fromarray(pixels)


def test_zoom_or_crop_changes_the_share_of_the_photo_not_of_the_skin(tiny_dino_dir):
    pipeline = AnalysisPipeline(DinoEncoder(str(tiny_dino_dir)), ColourSegmenter())
    photo = _framed_photo()
    cropped = photo.crop((60, 40, 240, 160))  # closer: all the arm and its lesion kept
    zoomed = cropped.resize((cropped.width * 3, cropped.height * 3), Image.Resampling.NEAREST)
    wide = Image.new("RGB", (600, 400), (40, 60, 160))  # stepped back
    wide.paste(photo, (150, 100))
    results = [pipeline.analyze(image) for image in (photo, cropped, zoomed, wide)]
    photo_shares = [r.lesion_area_fraction for r in results]
    assert len({round(s, 6) for s in photo_shares}) == 3  # zoomed = cropped: 3 distinct
    assert photo_shares[1] > photo_shares[0] > photo_shares[3]
    skin_shares = {r.lesion_share_of_skin for r in results}
    assert skin_shares == {1200 / 14000}
    # the mask kept carries both labels, at the size asked for
    half = pipeline.analyze(photo, mask_size=(150, 100))
    assert half.labelled_mask.shape == (100, 150)
    assert half.lesion_share_of_skin == pytest.approx(1200 / 14000)


# -- the app and the command line ------------------------------------------------------------
def _skin_mask_of(photo) -> np.ndarray:
    h, w = photo.height, photo.width
    return labelled(
        h, w, (h // 8, w // 8, 7 * h // 8, 7 * w // 8), (h // 4, w // 4, h // 2, w // 2)
    )


def test_a_site_with_skin_prompts_records_the_share_and_both_masks(tiny_choice, eczema_photo_paths):
    with Store.open() as store:
        store.import_paths(eczema_photo_paths[:3], "left arm")
        ids = [p.id for p in store.photos()]
        for pid in ids[:2]:
            store.set_prompt_mask(pid, _skin_mask_of(store.photo(pid)))
        summary = services.analyse_photos(store, analysis_models.PipelineCache(), tiny_choice, ids)
        assert sorted(summary.analysed) == sorted(ids)
        for pid in ids:
            analysis = store.current_analysis(pid)
            kept = store.load_labelled_mask(analysis.mask)
            lesion, skin = kept == 255, kept == 128
            assert analysis.lesion_share_of_skin == pytest.approx(
                mask_labels.lesion_share_of_skin(lesion, skin)
            )
        # the same site with binary prompts: no share
        for pid in ids[:2]:
            store.set_prompt_mask(pid, _skin_mask_of(store.photo(pid)) == 255)
        services.analyse_photos(store, analysis_models.PipelineCache(), tiny_choice, ids[2:])
        assert store.current_analysis(ids[2]).lesion_share_of_skin is None


def test_analyze_json_gives_the_share_of_skin_with_skin_prompts(
    eczema_photo_paths, tiny_dino_dir, tiny_seggpt_dir, tmp_path, capsys
):
    tiny = ["--dino", str(tiny_dino_dir), "--seggpt", str(tiny_seggpt_dir)]
    skin_args, binary_args = [], []
    for i, photo in enumerate(eczema_photo_paths[:2]):
        three = labelled(480, 640, (20, 20, 460, 620), (60, 80, 300, 420))
        (tmp_path / f"s{i}.png").write_bytes(imaging.mask_png_bytes(three))
        (tmp_path / f"b{i}.png").write_bytes(imaging.mask_png_bytes(three == 255))
        skin_args += ["--prompt", str(photo), str(tmp_path / f"s{i}.png")]
        binary_args += ["--prompt", str(photo), str(tmp_path / f"b{i}.png")]
    query = str(eczema_photo_paths[7])
    out = tmp_path / "out"
    assert main(["analyze", query, *skin_args, *tiny, "--json", "--out", str(out)]) == 0
    record = json.loads(capsys.readouterr().out.strip())
    written = imaging.load_labelled_mask(record["mask"])
    assert record["lesion_share_of_skin"] == pytest.approx(
        mask_labels.lesion_share_of_skin(written == 255, written == 128), abs=1e-6
    )
    assert main(["analyze", query, *binary_args, *tiny, "--json", "--out", str(out)]) == 0
    record = json.loads(capsys.readouterr().out.strip())
    assert record["lesion_share_of_skin"] is None
    assert set(np.unique(imaging.load_labelled_mask(record["mask"]))) <= {0, 255}


def test_prompts_set_and_analyse_store_json_carry_skin(
    tiny_choice, eczema_photo_paths, tmp_path, capsys
):
    data = tmp_path / "data"
    with Store.open(data) as store:
        store.import_paths(eczema_photo_paths[:3], "left arm")
        photos = store.photos()
    for photo in photos[:2]:
        path = tmp_path / f"{photo.id}.png"
        path.write_bytes(imaging.mask_png_bytes(_skin_mask_of(photo)))
        assert main(["prompts", "set", str(photo.id), str(path), "--data-dir", str(data)]) == 0
    said = capsys.readouterr().out
    assert "healthy skin" in said and "all mark healthy skin" in said
    with Store.open(data, readonly=True) as store:
        assert mask_labels.has_skin(store.load_labelled_mask(store.prompt(photos[0].id).mask))
    models = ["--dino", tiny_choice.dino, "--seggpt", tiny_choice.seggpt]
    rc = main(["analyse-store", "--all", "--json", "--data-dir", str(data), *models])
    assert rc == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert len(rows) == 3
    assert all(0.0 <= row["lesion_share_of_skin"] <= 1.0 for row in rows)
