"""``evaluate --methods seg`` and the familiarity set-aside, with tiny models on synthetic data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from research_synthetic import make_dataset
from tiny_models import make_tiny_dino, make_tiny_seggpt

from eczema_tracker.cli import main
from eczema_tracker.research.familiarity_eval import set_aside_least_familiar
from eczema_tracker.research.seg_eval import random_prompts

MASKED = {f"photo_{i:02d}.png" for i in range(10)}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("research-seg")
    return {
        "dataset": make_dataset(base / "dataset", n_images=20, n_masked=10),
        "dino": make_tiny_dino(base / "dino"),
        "seggpt": make_tiny_seggpt(base / "seggpt"),
    }


def _args(setup: dict[str, Path], out: Path, methods: str, *extra: str) -> list[str]:
    return [
        "evaluate", str(setup["dataset"]), "--out", str(out), "--quiet", "--epochs", "2",
        "--dino", str(setup["dino"]), "--seggpt", str(setup["seggpt"]), "--methods", methods,
        "--splits", "2", *extra,
    ]  # fmt: skip


def _spy_on_segmentations(monkeypatch) -> list[tuple[tuple[str, ...], list[str]]]:
    from eczema_tracker.ml.seggpt import SegGptSegmenter

    seen: list[tuple[tuple[str, ...], list[str]]] = []
    real = SegGptSegmenter.segment

    def spy(self, image, *, exclude_keys=()):
        result = real(self, image, exclude_keys=exclude_keys)
        seen.append((tuple(exclude_keys), list(result.prompt_keys)))
        return result

    monkeypatch.setattr(SegGptSegmenter, "segment", spy)
    return seen


def test_evaluate_seg_writes_iou_dice_per_image_and_per_split(setup, tmp_path, capsys, monkeypatch):
    seen = _spy_on_segmentations(monkeypatch)
    out = tmp_path / "results"
    assert main(_args(setup, out, "seg")) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["methods"] == {} and "familiarity_set_aside" not in results
    section = results["segmentation"]
    assert section["main"] == "k=2/nearest"
    assert set(section["settings"]) == {
        f"k={k}/{c}" for k in (1, 2, 3) for c in ("nearest", "random")
    }
    for by_subset in section["settings"].values():
        for subset in ("validation", "training"):
            summary = by_subset[subset]
            assert 0 <= summary["iou_mean"] <= 1 and 0 <= summary["dice_mean"] <= 1
            assert summary["iou_std"] >= 0 and len(summary["per_split"]) == 2
            means = [s["iou_mean"] for s in summary["per_split"]]
            assert summary["iou_mean"] == pytest.approx(np.mean(means))

    # every masked image in every split under all six settings, prompts from the training
    # fold's masked images only, never the image itself
    rows = section["per_image"]
    assert len(rows) == 2 * 10 * 6 and section["skipped"] == 0
    splits = results["splits"]
    files = results["dataset"]["files"]
    for row in rows:
        train = {files[i] for i in splits[row["split"]]["train"]} & MASKED
        assert row["file"] not in row["prompts"] and set(row["prompts"]) <= train
        assert len(row["prompts"]) == row["k"]
        assert row["subset"] == ("training" if row["file"] in train else "validation")
        assert 0 <= row["iou"] <= 1 and 0 <= row["dice"] <= 1
        assert row["dice"] >= row["iou"] - 1e-9  # Dice >= IoU always
    assert seen and all(set(excl) & MASKED and not set(excl) & set(used) for excl, used in seen)
    # random prompts are nested in K: the K=1 set is inside the K=2 set, inside K=3
    by_image = {}
    for row in rows:
        if row["choice"] == "random":
            by_image.setdefault((row["split"], row["file"]), {})[row["k"]] = set(row["prompts"])
    for sets in by_image.values():
        assert sets[1] <= sets[2] <= sets[3]

    with open(out / "segmentation_per_image.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == len(rows) and set(table[0]) == {
        "split", "subset", "file", "k", "choice", "prompts", "iou", "dice"
    }  # fmt: skip
    assert (out / "segmentation_iou.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (out / "results.md").read_text()
    assert (
        "## Segmentation quality (seg)" in markdown and "**k=2/nearest** (as dino-seg)" in markdown
    )
    assert "segmentation_iou.png" in markdown
    assert "segmentation (k=2/nearest, validation): IoU" in capsys.readouterr().out

    # reproducible from the seed: a second run (from the cache) gives the same rows
    again = tmp_path / "again"
    assert main(_args(setup, again, "seg")) == 0
    second = json.loads((again / "results.json").read_text())
    assert second["segmentation"] == section
    assert second["work"]["segmentations"] == 0


def test_dino_seg_reports_the_familiarity_set_aside_and_shares_masks_with_seg(setup, tmp_path):
    out = tmp_path / "both"
    assert main(_args(setup, out, "dino-seg,seg", "--seed", "3")) == 0
    results = json.loads((out / "results.json").read_text())
    aside = results["familiarity_set_aside"]
    assert aside["fraction_set_aside"] == 0.1 and len(aside["per_split"]) == 2
    for split in aside["per_split"]:
        assert split["n_validation"] == 4 and split["n_set_aside"] == 1
        assert 0 <= split["f1_kept"] <= 1 and 0 <= split["f1_all"] <= 1
        assert split["f1_change"] == pytest.approx(split["f1_kept"] - split["f1_all"])
    assert results["methods"]["dino-seg"]["per_split"] == [s["f1_all"] for s in aside["per_split"]]
    assert "Setting aside photos unlike the examples" in (out / "results.md").read_text()
    # the main seg setting reuses dino-seg's masks: seg adds only the ablations' passes
    assert results["work"]["cache_hits"].get("masks", 0) > 0


def test_random_prompts_are_seeded_and_nested():
    candidates = list(range(10, 20))
    one = random_prompts(candidates, 3, seed=0, split=1, image=4)
    assert one == random_prompts(candidates, 3, seed=0, split=1, image=4)
    assert random_prompts(candidates, 2, seed=0, split=1, image=4) == one[:2]
    assert {tuple(random_prompts(candidates, 3, seed=s, split=1, image=4)) for s in range(5)} != {
        tuple(one)
    }


def test_setting_aside_the_least_familiar_removes_the_errors_it_points_at():
    y_true = np.array([0, 1, 2, 3] * 5)
    y_pred = y_true.copy()
    y_pred[[3, 7]] = 0  # two errors ...
    ratios = np.linspace(0, 1, 20)
    ratios[[3, 7]] = [5.0, 4.0]  # ... on the least familiar photos
    result = set_aside_least_familiar(y_true, y_pred, ratios, fraction=0.1, seed=0)
    assert result["n_set_aside"] == 2 and result["error_rate_set_aside"] == 1.0
    assert result["f1_kept"] == 1.0 > result["f1_kept_random_mean"]
    assert result["f1_kept"] > result["f1_all"]
    assert result["error_rate_kept"] == 0.0


def test_each_mask_is_scored_against_its_own_painted_mask(setup, tmp_path, monkeypatch):
    """A segmenter that returns the truth gives IoU 1 everywhere (nothing misaligned)."""
    from eczema_tracker.ml.seggpt import SegGptSegmenter
    from eczema_tracker.research.dataset import load_dataset

    dataset = load_dataset(setup["dataset"])
    truth = {dataset.load_image(i).tobytes(): dataset.load_mask(i) for i in dataset.masked_indices}
    real = SegGptSegmenter.segment

    def perfect(self, image, *, exclude_keys=()):
        result = real(self, image, exclude_keys=exclude_keys)
        result.mask = truth[image.tobytes()]
        return result

    monkeypatch.setattr(SegGptSegmenter, "segment", perfect)
    out = tmp_path / "perfect"
    assert main(_args(setup, out, "seg", "--splits", "1")) == 0
    rows = json.loads((out / "results.json").read_text())["segmentation"]["per_image"]
    assert len(rows) == 10 * 6 and all(r["iou"] == 1.0 and r["dice"] == 1.0 for r in rows)
