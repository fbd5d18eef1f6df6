"""``eczema-tracker train`` and ``evaluate`` end to end with tiny models on synthetic data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from research_synthetic import make_dataset, make_tiny_resnet, make_tiny_vit_classifier
from tiny_models import make_tiny_dino, make_tiny_seggpt

from eczema_tracker.cli import main

EPOCHS = "2"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("research")
    return {
        "dataset": make_dataset(base / "dataset", n_images=20, n_masked=10),
        "dino": make_tiny_dino(base / "dino"),
        "seggpt": make_tiny_seggpt(base / "seggpt"),
        "resnet": make_tiny_resnet(base / "resnet"),
        "vit": make_tiny_vit_classifier(base / "vit"),
    }


def _evaluate_args(setup: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return [
        "evaluate", str(setup["dataset"]), "--out", str(out), "--quiet", "--epochs", EPOCHS,
        "--dino", str(setup["dino"]), "--seggpt", str(setup["seggpt"]),
        "--resnet", str(setup["resnet"]), "--vit", str(setup["vit"]), *extra,
    ]  # fmt: skip


def _in_unit_interval(value: float) -> bool:
    return 0.0 <= value <= 1.0


def _spy_on_prompts(monkeypatch) -> tuple[list, list]:
    """Record every prompt pool set and every segmentation's (exclude_keys, prompts used)."""
    from eczema_tracker.ml.seggpt import SegGptSegmenter

    pools: list[set[str]] = []
    segmented: list[tuple[tuple[str, ...], list[str]]] = []
    real_set, real_segment = SegGptSegmenter.set_prompts, SegGptSegmenter.segment

    def spy_set(self, prompts):
        pools.append({p.key for p in prompts})
        return real_set(self, prompts)

    def spy_segment(self, image, *, exclude_keys=()):
        result = real_segment(self, image, exclude_keys=exclude_keys)
        segmented.append((tuple(exclude_keys), list(result.prompt_keys)))
        return result

    monkeypatch.setattr(SegGptSegmenter, "set_prompts", spy_set)
    monkeypatch.setattr(SegGptSegmenter, "segment", spy_segment)
    return pools, segmented


def test_evaluate_writes_the_papers_tables_and_a_second_run_hits_the_cache(
    setup, tmp_path: Path, capsys, monkeypatch
):
    pools, segmented = _spy_on_prompts(monkeypatch)
    out = tmp_path / "results"
    assert main(_evaluate_args(setup, out, "--splits", "2", "--note", "PROXY check")) == 0
    results = json.loads((out / "results.json").read_text())

    # prompts come only from the training fold's masked images, never the image itself
    files = results["dataset"]["files"]
    masked = {f"photo_{i:02d}.png" for i in range(10)}
    train_masked = [{files[i] for i in s["train"]} & masked for s in results["splits"]]
    assert pools and all(pool in train_masked for pool in pools)
    assert segmented
    for excluded, used in segmented:
        assert len(used) == 2 and len(excluded) == 1
        assert excluded[0] not in used

    assert set(results["methods"]) == {"dino-seg", "dino-full", "resnet18", "vit-b"}
    for result in results["methods"].values():
        assert len(result["per_split"]) == 2
        assert all(_in_unit_interval(v) for v in result["per_split"])
        assert _in_unit_interval(result["weighted_f1_mean"])
        assert result["weighted_f1_std"] >= 0
        assert result["weighted_f1_mean"] == pytest.approx(np.mean(result["per_split"]))
        assert result["weighted_f1_std"] == pytest.approx(np.std(result["per_split"], ddof=1))
        assert all(_in_unit_interval(v) for v in result["per_class_f1"].values())
        matrix = np.array(result["confusion_matrix"])
        assert matrix.shape == (4, 4) and matrix.sum() == 2 * 4  # 2 folds of 4 images
    assert list(results["fractions"]) == ["0.2", "0.4", "0.6", "0.8", "1.0"]
    for value in results["fractions"].values():
        assert _in_unit_interval(value["mean"]) and value["std"] >= 0
    # 100 % of the training fold is exactly the dino-seg run (same features, seed and data)
    assert results["fractions"]["1.0"]["per_split"] == results["methods"]["dino-seg"]["per_split"]

    assert len(results["splits"]) == 2
    for split in results["splits"]:
        assert not set(split["train"]) & set(split["validation"])
        assert len(split["train"]) + len(split["validation"]) == 20
    assert results["config"]["n_splits"] == 2 and results["config"]["note"] == "PROXY check"
    assert "stratified" in results["config"]["choices"]["splits"]

    markdown = (out / "results.md").read_text()
    for heading in ("Table I. Comparison", "Table II. Effect of segmentation", "Fig. 2.",
                    "Confusion matrix", "Per-class F1", "PROXY check"):  # fmt: skip
        assert heading in markdown
    assert (
        "| DINO with segmentation |" in markdown and "| Resnet-18 (head fine-tuned) |" in markdown
    )
    assert (out / "fraction_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first_work = results["work"]
    assert first_work["segmentations"] > 0 and first_work["region_features"] > 0
    assert first_work["image_features"] > 0 and first_work["baseline_features"] == 40

    # a second run reuses every mask and feature: no model work at all, same numbers
    capsys.readouterr()
    again = tmp_path / "again"
    assert main(_evaluate_args(setup, again, "--splits", "2", "--note", "PROXY check")) == 0
    second = json.loads((again / "results.json").read_text())
    work = {k: v for k, v in second["work"].items() if k != "cache_hits"}
    assert work == {"retrievals": 0, "segmentations": 0, "image_features": 0,
                    "region_features": 0, "baseline_features": 0}  # fmt: skip
    assert second["work"]["cache_hits"]["masks"] > 0
    assert second["methods"] == results["methods"]
    assert second["splits"] == results["splits"]
    assert '"segmentations": 0' in capsys.readouterr().out


def test_train_writes_a_model_the_app_loads(setup, tmp_path: Path, capsys):
    from eczema_tracker.ml.dino import DinoEncoder
    from eczema_tracker.ml.severity import SeverityModel

    dataset = make_dataset(tmp_path / "small", n_images=8, n_masked=4, seed=1)
    model_file = tmp_path / "models" / "severity.safetensors"
    args = ["train", str(dataset), "--out", str(model_file), "--quiet",
            "--dino", str(setup["dino"]), "--seggpt", str(setup["seggpt"]), "--epochs", EPOCHS]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "trained on 8 images" in printed and "training-set weighted F1" in printed
    model = SeverityModel.load(model_file)
    assert model.metadata["n_train"] == 8
    assert model.metadata["class_counts"] == [2, 2, 2, 2]
    assert model.metadata["training"]["segmentation"]["k"] == 2
    model.check_compatible(DinoEncoder(str(setup["dino"])))
    assert model.predict_proba(np.zeros((1, model.feature_dim), np.float32)).shape == (1, 4)


def test_clear_one_line_errors(setup, tmp_path: Path, capsys):
    no_masks = make_dataset(tmp_path / "nomask", n_images=10, n_masked=2)
    assert (
        main(
            _evaluate_args({**setup, "dataset": no_masks}, tmp_path / "o", "--methods", "dino-seg")
        )
        == 2
    )
    assert "needs at least 3" in capsys.readouterr().err
    assert main(_evaluate_args(setup, tmp_path / "o", "--methods", "dino-seg,bogus")) == 2
    assert "unknown method(s) bogus" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "missing"), "--out", str(tmp_path / "m.safetensors")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and err.count("\n") == 1
    assert main(["train", str(setup["dataset"]), "--out", str(tmp_path / "m.bin")]) == 2
    assert "must end in .safetensors" in capsys.readouterr().err
    assert main(_evaluate_args(setup, tmp_path / "o", "--resnet", str(tmp_path / "nope"),
                               "--methods", "resnet18")) == 2  # fmt: skip
    assert "Model source" in capsys.readouterr().err


def _no_dataset_loading(monkeypatch) -> None:
    """Fail the test if a command gets as far as reading the dataset (models come after)."""

    def load_dataset(*_args, **_kwargs):
        raise AssertionError("the dataset was loaded before --out was checked")

    monkeypatch.setattr("eczema_tracker.research.dataset.load_dataset", load_dataset)


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("eczema-tracker: error: --out: ")
    return err


def test_out_paths_are_checked_before_any_model_runs(setup, tmp_path: Path, capsys, monkeypatch):
    import os

    _no_dataset_loading(monkeypatch)
    folder = tmp_path / "existing_folder.safetensors"
    folder.mkdir()
    regular = tmp_path / "notes.txt"
    regular.write_text("x")
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)

    def train(out: Path) -> int:
        return main(["train", str(setup["dataset"]), "--out", str(out), "--quiet"])

    assert train(folder) == 2
    assert "is a folder; give the model file's name" in _one_error_line(capsys)
    assert train(regular / "m.safetensors") == 2
    assert f"{regular} is a file, not a folder" in _one_error_line(capsys)
    assert train(fifo) == 2
    assert "is not a regular file" in _one_error_line(capsys)
    assert train(tmp_path / "m.bin") == 2
    assert "must end in .safetensors" in _one_error_line(capsys)

    assert main(_evaluate_args(setup, regular)) == 2
    assert f"{regular} is a file, not a folder for the results" in _one_error_line(capsys)
    assert main(_evaluate_args(setup, regular / "results")) == 2
    assert "is a file, not a folder" in _one_error_line(capsys)
    blocked = tmp_path / "blocked"
    (blocked / "results.json").mkdir(parents=True)
    assert main(_evaluate_args(setup, blocked)) == 2
    assert "results.json exists and is not a regular file" in _one_error_line(capsys)
    assert regular.read_text() == "x" and not list(tmp_path.glob("**/.*.tmp"))


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_an_unwritable_out_folder_is_refused_first(setup, capsys, monkeypatch):
    _no_dataset_loading(monkeypatch)  # /proc refuses new files even to root
    assert main(["train", str(setup["dataset"]), "--out", "/proc/m.safetensors"]) == 2
    assert "Cannot write into /proc" in _one_error_line(capsys)
    assert main(_evaluate_args(setup, Path("/proc/results"))) == 2
    assert "Cannot write into /proc" in _one_error_line(capsys)


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("train", "--seed", "99999999999999999999"),
        ("evaluate", "--seed", "99999999999999999999"),
        ("train", "--seed", "-1"),
        ("evaluate", "--splits", "-3"),
        ("evaluate", "--splits", "0"),
        ("evaluate", "--splits", "1000000000000"),
        ("train", "--k", "-1"),
        ("evaluate", "--k", "0"),
        ("train", "--k", "1000000"),
        ("train", "--epochs", "-5"),
        ("evaluate", "--epochs", "1000000000"),
        ("train", "--epochs", "many"),
    ],
)
def test_numbers_out_of_range_are_usage_errors(tmp_path: Path, capsys, command, option, value):
    out = tmp_path / ("m.safetensors" if command == "train" else "results")
    with pytest.raises(SystemExit) as info:
        main([command, str(tmp_path / "no-dataset"), "--out", str(out), option, value])
    assert info.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"eczema-tracker {command}: error: argument {option}: must be a whole")
    assert value in last and "Traceback" not in last


def test_numbers_at_the_limits_are_accepted():
    from eczema_tracker.cli import build_parser
    from eczema_tracker.commands.research_commands import MAX_SEED, MAX_SPLITS

    args = build_parser().parse_args(
        ["evaluate", "d", "--out", "o", "--seed", str(MAX_SEED), "--splits", str(MAX_SPLITS)]
    )
    assert (args.seed, args.splits, args.k, args.epochs) == (MAX_SEED, MAX_SPLITS, 2, 50)
