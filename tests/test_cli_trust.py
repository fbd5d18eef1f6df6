"""Issue 14 in the CLI: familiarity in ``analyze`` and ``analyse-store``; ``prompts check``.

Tiny random models (saved with ``save_pretrained``) on the shared photos. The tiny random SegGPT
predicts an empty mask for every query (measured: IoU 0 for every example of a synthetic site),
so prompt agreement cannot tell a wrong example from a right one with it; the ``prompts check``
tests replace only SegGPT's forward pass (:meth:`SegGptSegmenter.predict_masks`) with one that
paints the union of the masks of the prompts it is given. Retrieval, the exclusion of the photo
itself, pre- and post-processing and the store all stay real.
"""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest
import torch
from PIL import Image

from eczema_tracker.cli import main
from eczema_tracker.commands.common import UNFAMILIAR_TEXT
from eczema_tracker.core.imaging import decode_photo
from eczema_tracker.ml import familiarity
from eczema_tracker.ml.dino import DinoEncoder
from eczema_tracker.ml.familiarity import ExampleSpace, PromptSpace
from eczema_tracker.ml.pipeline import ANALYSIS_MAX_SIDE
from eczema_tracker.ml.seggpt import SegGptSegmenter
from eczema_tracker.store import Store
from tests.ml_support import box_mask, write_mask_png

FAMILIARITY_KEYS = {"nearest_prompt_distance", "prompt_distance_scale", "familiar"}
#: The lesion box every good example of the synthetic site shows (photos are 640 x 480).
GOOD = box_mask(480, 640, 120, 160, 360, 480)


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture()
def tiny_args(tiny_dino_dir, tiny_seggpt_dir):
    return ["--dino", str(tiny_dino_dir), "--seggpt", str(tiny_seggpt_dir)]


@pytest.fixture()
def noise_photo(tmp_path):
    """A photo of pure noise the size of the shared photos."""
    rng = np.random.default_rng(0)
    path = tmp_path / "noise.png"
    Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture()
def measured_bound(tiny_dino_dir, monkeypatch):
    """Gives the tiny DINO a measured bound (as ``BACKBONE_BOUNDS`` has for DINOv2-S)."""

    def register(bound: float) -> float:
        backbone = DinoEncoder(str(tiny_dino_dir)).backbone_id
        monkeypatch.setitem(familiarity.BACKBONE_BOUNDS, backbone, bound)
        return bound

    return register


@pytest.fixture()
def three_prompts(eczema_photo_paths, tmp_path):
    """``--prompt`` arguments for the first three shared photos (a box mask each)."""
    args = []
    for i, photo in enumerate(eczema_photo_paths[:3]):
        args += ["--prompt", str(photo), str(write_mask_png(GOOD, tmp_path / f"m{i}.png"))]
    return args


# -- analyze ---------------------------------------------------------------------------------------
def test_analyze_json_judges_each_photo_and_a_prompt_photo_is_familiar_at_distance_0(
    eczema_photo_paths, three_prompts, tiny_args, tiny_dino_dir, measured_bound, tmp_path, capsys
):
    bound = measured_bound(0.05)
    photos = [str(eczema_photo_paths[0]), str(eczema_photo_paths[5])]
    argv = ["analyze", *photos, *three_prompts, *tiny_args, "--json", "--out", str(tmp_path)]
    assert main(argv) == 0
    prompt_photo, other = _json_lines(capsys.readouterr().out)
    for record in (prompt_photo, other):
        assert FAMILIARITY_KEYS <= set(record) and record["prompt_distance_scale"] == bound
        assert record["familiarity_measure"] == "layers-cls" and record["familiarity_reason"]
    assert prompt_photo["nearest_prompt_distance"] == 0.0 and prompt_photo["familiar"] is True
    assert other["nearest_prompt_distance"] > 0
    # the verdict is the measure's on the encoder's own features (computed here independently)
    encoder = DinoEncoder(str(tiny_dino_dir))
    features = [
        encoder.familiarity_features([decode_photo(path, max_side=ANALYSIS_MAX_SIDE).image])[0]
        for path in [*eczema_photo_paths[:3], photos[1]]
    ]
    judged = ExampleSpace(np.stack(features[:3]), bound=bound).judge(features[3])
    assert other["nearest_prompt_distance"] == pytest.approx(
        judged.nearest_prompt_distance, rel=1e-4
    )
    assert other["familiar"] is judged.familiar


def test_without_a_measured_bound_or_enough_photos_the_verdict_is_null_and_says_why(
    eczema_photo_paths, three_prompts, noise_photo, tiny_args, tmp_path, capsys
):
    """The tiny random DINO has no measured bound; noise and 3 prompts are too few photos to
    calibrate one: undecided, never a guessed flag, and no mark in the plain output."""
    argv = ["analyze", str(noise_photo), *three_prompts, *tiny_args]
    assert main([*argv, "--json", "--out", str(tmp_path)]) == 0
    (noise,) = _json_lines(capsys.readouterr().out)
    assert noise["familiar"] is None and noise["prompt_distance_scale"] is None
    assert "too few to calibrate" in noise["familiarity_reason"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    assert UNFAMILIAR_TEXT not in capsys.readouterr().out


def _brightness_and_pixel_change(self, images):
    """Hand-made familiarity features in place of DINO's: mean grey level and mean change
    between neighbouring pixels, down and across. Pure noise changes ~0.22 from pixel to pixel,
    the shared photos ~0.01-0.03."""
    rows = []
    for image in images:
        grey = np.asarray(image.convert("L"), dtype=np.float64) / 255
        down, across = np.abs(np.diff(grey, axis=0)).mean(), np.abs(np.diff(grey, axis=1)).mean()
        rows.append([grey.mean(), down, across])
    return np.asarray(rows, dtype=np.float32)


@pytest.fixture()
def handmade_features(monkeypatch):
    monkeypatch.setattr(DinoEncoder, "familiarity_features", _brightness_and_pixel_change)


def test_noise_unlike_the_prompts_is_unfamiliar_and_said_so(
    eczema_photo_paths,
    three_prompts,
    noise_photo,
    tiny_args,
    handmade_features,
    measured_bound,
    tmp_path,
    capsys,
):
    measured_bound(0.01)
    familiar = str(eczema_photo_paths[1])  # a prompt photo: familiar, no mark
    argv = ["analyze", str(noise_photo), familiar, *three_prompts, *tiny_args]
    assert main([*argv, "--json", "--out", str(tmp_path)]) == 0
    noise, prompt = _json_lines(capsys.readouterr().out)
    ratio = noise["nearest_prompt_distance"] / noise["prompt_distance_scale"]
    assert noise["familiar"] is False and ratio > 10
    assert prompt["familiar"] is True and prompt["nearest_prompt_distance"] == 0.0

    assert main([*argv, "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{noise_photo}: lesion ")
    assert lines[1] == f"  {noise_photo}: {UNFAMILIAR_TEXT}"
    assert len(lines) == 3 and lines[2].startswith(f"{familiar}: lesion ")  # no mark


def test_analyze_calibrates_a_backbone_without_a_bound_from_the_photos_given(
    eczema_photo_paths, three_prompts, noise_photo, tiny_args, handmade_features, tmp_path, capsys
):
    photos = [str(noise_photo), *map(str, eczema_photo_paths[3:12])]
    argv = ["analyze", *photos, *three_prompts, *tiny_args, "--json", "--out", str(tmp_path)]
    assert main(argv) == 0
    noise, *skin = _json_lines(capsys.readouterr().out)
    assert noise["familiar"] is False and noise["prompt_distance_scale"] is not None
    assert "calibrated from 12 of your own" in noise["familiarity_reason"]  # 9 + 3 spreads
    assert all(record["familiar"] is not None for record in skin)
    assert sum(record["familiar"] is False for record in skin) <= 1


def test_one_prompt_is_no_calibration_the_verdict_is_null_unless_it_is_the_prompt(
    eczema_photo_paths, tiny_args, tmp_path, capsys
):
    mask = write_mask_png(GOOD, tmp_path / "m.png")
    photos = [str(eczema_photo_paths[0]), str(eczema_photo_paths[4])]
    prompt = ["--prompt", photos[0], str(mask), "--k", "1"]
    assert main(["analyze", *photos, *prompt, *tiny_args, "--json", "--out", str(tmp_path)]) == 0
    itself, other = _json_lines(capsys.readouterr().out)
    assert (itself["nearest_prompt_distance"], itself["familiar"]) == (0.0, True)
    assert other["prompt_distance_scale"] is None and other["familiar"] is None
    assert main(["analyze", photos[1], *prompt, *tiny_args, "--out", str(tmp_path)]) == 0
    assert UNFAMILIAR_TEXT not in capsys.readouterr().out  # not judged: no mark


# -- analyse-store ---------------------------------------------------------------------------------
@pytest.fixture()
def store_dir(tmp_path, eczema_photo_paths, noise_photo):
    """'knee': photos 1-3 good examples, 4 a deliberately wrong one (the box's complement),
    5-6 unannotated shared photos, 7 unannotated noise; 'face': photos 8-9, one example."""
    folder = tmp_path / "store"
    with Store.open(folder) as store:
        store.import_paths(eczema_photo_paths[:6], "knee")
        store.import_paths([noise_photo], "knee")
        store.import_paths(eczema_photo_paths[6:8], "face")
        for pid in (1, 2, 3):
            store.set_prompt_mask(pid, GOOD)
        store.set_prompt_mask(4, ~GOOD)
        store.set_prompt_mask(8, GOOD)
    return folder


def test_analyse_store_rows_carry_the_recorded_familiarity(store_dir, tiny_args, capsys):
    d = ["--data-dir", str(store_dir)]
    assert main(["analyse-store", *d, *tiny_args, "--site", "knee", "--json"]) == 0
    rows = {row["photo_id"]: row for row in _json_lines(capsys.readouterr().out)}
    assert sorted(rows) == [1, 2, 3, 4, 5, 6, 7]
    with Store.open(store_dir, readonly=True) as store:
        for pid, row in rows.items():
            analysis = store.current_analysis(pid)
            assert FAMILIARITY_KEYS <= set(row)
            assert row["nearest_prompt_distance"] == analysis.nearest_prompt_distance
            assert row["prompt_distance_scale"] == analysis.prompt_distance_scale
            assert row["familiar"] is analysis.familiar
    for pid in (1, 2, 3, 4):  # a prompt photo is segmented from the others, judged as itself
        assert rows[pid]["nearest_prompt_distance"] == 0.0 and rows[pid]["familiar"] is True
    assert all(rows[pid]["nearest_prompt_distance"] > 0 for pid in (5, 6, 7))


def test_analyse_store_marks_the_unfamiliar_photos(
    store_dir, tiny_args, handmade_features, measured_bound, capsys
):
    measured_bound(0.01)
    d = ["--data-dir", str(store_dir), *tiny_args, "--site", "knee"]
    assert main(["analyse-store", *d, "--json"]) == 0
    familiar = {row["photo_id"]: row["familiar"] for row in _json_lines(capsys.readouterr().out)}
    assert familiar[7] is False  # the noise photo
    assert main(["analyse-store", *d, "--all"]) == 0
    out = capsys.readouterr().out
    assert "photo 7 (knee): lesion" in out
    for pid, verdict in familiar.items():
        assert (f"  photo {pid}: {UNFAMILIAR_TEXT}" in out) is (verdict is False)


# -- prompts check ---------------------------------------------------------------------------------
def _painting_the_prompts_union(self, pixel_values, prompt_pixel_values, prompt_masks):
    """SegGPT's forward replaced: the query's mask is the union of its prompts' masks
    (1 x 3 x 2h x w, query half at the bottom, like the real fast path)."""
    union = prompt_masks.float().amax(dim=0, keepdim=True)  # 1 x 3 x h x w
    return torch.cat([torch.zeros_like(union), union], dim=2)


@pytest.fixture()
def union_seggpt(monkeypatch):
    monkeypatch.setattr(SegGptSegmenter, "predict_masks", _painting_the_prompts_union)


def test_prompts_check_json_names_the_wrong_example_and_what_to_paint_next(
    store_dir, tiny_args, union_seggpt, tiny_dino_dir, capsys
):
    d = ["--data-dir", str(store_dir)]
    assert main(["prompts", "check", *d, *tiny_args, "--json"]) == 0
    rows = {row["site"]: row for row in _json_lines(capsys.readouterr().out)}
    assert sorted(rows) == ["face", "knee"]
    knee = rows["knee"]
    assert knee["prompt_photo_ids"] == [1, 2, 3, 4] and knee["k_used"] == 2
    iou = {p["photo_id"]: p["iou"] for p in knee["per_prompt"]}
    # the wrong example, checked with good ones only (never with itself), overlaps nothing
    assert knee["weakest_photo_id"] == 4 and iou[4] < 0.05
    assert all(iou[pid] > 0.2 for pid in (1, 2, 3)) and 0 < knee["mean_iou"] < 1
    assert all(p["photo_id"] not in p["checked_with"] for p in knee["per_prompt"])
    assert knee["paint_next"]["photo_id"] in (5, 6, 7)  # the site's unannotated photos
    assert knee["paint_next"]["candidates"] == 3
    # ... the one farthest from its nearest prompt: the noise photo with the tiny DINO
    encoder = DinoEncoder(str(tiny_dino_dir))
    with Store.open(store_dir, readonly=True) as store:
        images = [store.load_image(pid, max_side=ANALYSIS_MAX_SIDE) for pid in range(1, 8)]
    features = encoder.retrieval_features(images)
    ratios = PromptSpace(features[:4]).ratios(features[4:])
    assert knee["paint_next"]["photo_id"] == 5 + int(np.argmax(ratios)) == 7

    face = rows["face"]
    assert face["mean_iou"] is None and "paint at least 2" in face["note"]
    assert face["paint_next"]["photo_id"] == 9  # its one unannotated photo


def test_prompts_check_human_lines(store_dir, tiny_args, union_seggpt, capsys):
    d = ["--data-dir", str(store_dir), *tiny_args]
    assert main(["prompts", "check", *d, "--site", "Knee"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    with Store.open(store_dir, readonly=True) as store:
        taken = {pid: store.photo(pid).taken_at[:10] for pid in (4, 7)}
    from datetime import date

    def day(iso: str) -> str:
        when = date.fromisoformat(iso)
        return f"{when.day} {when:%B %Y}"

    assert line.startswith("knee: your examples agree: ") and "% overlap on average;" in line
    assert f"weakest: photo of {day(taken[4])} (id 4, 0 %)." in line
    assert line.endswith(f"Paint next: photo 7 ({day(taken[7])})")

    with Store.open(store_dir) as store:  # two examples: K=1, and said so
        store.unset_prompt(3)
        store.unset_prompt(4)
    assert main(["prompts", "check", *d, "--site", "knee"]) == 0
    line = capsys.readouterr().out.strip()
    assert "(Only 2 examples: each was checked with the other example (K=1), not K=2.)" in line
    assert "your examples agree: 100 % overlap" in line

    assert main(["prompts", "check", *d, "--site", "face"]) == 0
    assert capsys.readouterr().out.startswith("face: 1 example so far: paint at least 2 to check")


def test_prompts_check_exit_codes_and_one_line_errors(store_dir, tiny_args, tmp_path, capsys):
    d = ["--data-dir", str(store_dir)]
    assert main(["prompts", "check", *d, *tiny_args, "--site", "elbow"]) == 2
    err = capsys.readouterr().err
    assert "no photo has the body site 'elbow'" in err and "'knee'" in err
    assert main(["prompts", "check", *d, *tiny_args, "--k", "0"]) == 2
    assert "--k must be at least 1" in capsys.readouterr().err
    missing = ["--dino", str(tmp_path / "no-such-model"), "--seggpt", tiny_args[3]]
    assert main(["prompts", "check", *d, *missing]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no-such-model" in err and "Traceback" not in err
    assert main(["prompts", "check", "--data-dir", str(tmp_path / "empty"), *tiny_args]) == 0
    assert "no photos in the store yet" in capsys.readouterr().err


def test_prompts_check_stops_on_ctrl_c_at_the_next_photo(store_dir, tiny_args, capsys, monkeypatch):
    calls = []

    def ctrl_c_then_union(self, *args):
        calls.append(1)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        return _painting_the_prompts_union(self, *args)

    monkeypatch.setattr(SegGptSegmenter, "predict_masks", ctrl_c_then_union)
    argv = ["prompts", "check", "--data-dir", str(store_dir), *tiny_args, "--site", "knee"]
    assert main(argv) == 130
    assert "interrupted" in capsys.readouterr().err
    assert len(calls) == 1 and signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_prompts_check_reuses_a_kept_result_and_recheck_runs_it_again(
    store_dir, tiny_args, capsys, monkeypatch
):
    calls = []

    def counting_union(self, *args):
        calls.append(1)
        return _painting_the_prompts_union(self, *args)

    monkeypatch.setattr(SegGptSegmenter, "predict_masks", counting_union)
    argv = ["prompts", "check", "--data-dir", str(store_dir), *tiny_args, "--site", "knee"]
    assert main([*argv, "--json"]) == 0
    first = _json_lines(capsys.readouterr().out)[0]
    checked = len(calls)
    assert checked == 4 and first["computed_at"] is None  # one SegGPT run per example
    assert main([*argv, "--json"]) == 0
    again = _json_lines(capsys.readouterr().out)[0]
    assert len(calls) == checked  # kept: nothing segmented
    assert again["computed_at"] and again["per_prompt"] == first["per_prompt"]
    assert main([*argv, "--json", "--recheck"]) == 0
    assert len(calls) == 2 * checked
    assert _json_lines(capsys.readouterr().out)[0]["computed_at"] is None
