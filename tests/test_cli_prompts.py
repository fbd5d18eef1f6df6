"""``eczema-tracker prompts set|clear|list`` and ``analyse-store`` with tiny local models."""

from __future__ import annotations

import io
import json
import os
import signal

import numpy as np
import pytest
from PIL import Image

from eczema_tracker.app import analysis_models, services
from eczema_tracker.app.settings import Settings
from eczema_tracker.cli import main
from eczema_tracker.ml.dino import DinoEncoder
from eczema_tracker.ml.severity import SeverityModel
from eczema_tracker.store import Store
from tests.ml_support import box_mask


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture()
def store_dir(tmp_path, eczema_photo_paths):
    """A store with 4 photos of 'left arm' and 1 of 'face' (ids 1-4 and 5)."""
    folder = tmp_path / "store"
    with Store.open(folder) as store:
        store.import_paths(eczema_photo_paths[:4], "left arm")
        store.import_paths(eczema_photo_paths[4:5], "face")
    return folder


def _mask_file(store_dir, photo_id: int, path, *, value: int = 255, top: int = 4) -> str:
    with Store.open(store_dir, readonly=True) as store:
        photo = store.photo(photo_id)
    mask = np.zeros((photo.height, photo.width), dtype=np.uint8)
    mask[photo.height // top : photo.height // 2, photo.width // 4 : photo.width // 2] = value
    Image.fromarray(mask, mode="L").save(path)
    return str(path)


@pytest.fixture()
def tiny_args(tiny_dino_dir, tiny_seggpt_dir):
    return ["--dino", str(tiny_dino_dir), "--seggpt", str(tiny_seggpt_dir)]


def _two_prompts(store_dir, tmp_path) -> None:
    with Store.open(store_dir) as store:
        for pid in (1, 2):
            store.set_prompt_mask(pid, box_mask(480, 640, 120, 160, 240, 320))


# -- prompts ---------------------------------------------------------------------------------------
def test_prompts_set_list_clear(store_dir, tmp_path, capsys):
    d = ["--data-dir", str(store_dir)]
    first = _mask_file(store_dir, 1, tmp_path / "a.png", value=1)  # any non-zero pixel is lesion
    assert main(["prompts", "set", *d, "1", first]) == 0
    out = capsys.readouterr().out
    assert "photo 1 is a prompt of 'left arm' (mask version 1" in out and "paint 1 more" in out
    second = _mask_file(store_dir, 1, tmp_path / "b.png", top=8)
    assert main(["prompts", "set", *d, "1", second]) == 0
    assert "mask version 2" in capsys.readouterr().out

    assert main(["prompts", "list", *d, "--json"]) == 0
    (row,) = _json_lines(capsys.readouterr().out)
    assert (row["photo_id"], row["site"], row["version"]) == (1, "left arm", 2)
    with Store.open(store_dir, readonly=True) as store:
        stored = store.load_mask(row["mask"])
        assert np.array_equal(stored, np.asarray(Image.open(second)) > 0)
        assert len(store.prompt_mask_versions(1)) == 2  # the first version is kept
        assert row["lesion_area_fraction"] == pytest.approx(stored.mean())

    assert main(["prompts", "list", *d, "--site", "Face"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "face: 0 prompt mask(s) (paint 2 more)" in captured.err

    assert main(["prompts", "clear", *d, "1"]) == 0
    assert "no longer a prompt of 'left arm'" in capsys.readouterr().out
    assert main(["prompts", "clear", *d, "1"]) == 0  # clearing twice is fine
    assert "not a prompt; nothing changed" in capsys.readouterr().out
    assert main(["prompts", "list", *d, "--json"]) == 0
    assert capsys.readouterr().out == ""
    with Store.open(store_dir, readonly=True) as store:
        assert len(store.prompt_mask_versions(1)) == 2


def test_prompts_set_refuses_bad_input_with_one_line(store_dir, tmp_path, capsys):
    d = ["--data-dir", str(store_dir)]
    good = _mask_file(store_dir, 1, tmp_path / "good.png")
    wrong_size = tmp_path / "small.png"
    Image.new("L", (64, 48), 255).save(wrong_size)
    not_image = tmp_path / "notes.png"
    not_image.write_text("not a png")
    cases = [
        (["9", good], "there is no photo 9"),
        (["1", str(tmp_path / "missing.png")], "mask file not found"),
        (["1", str(not_image)], "not a readable mask image"),
        (["1", str(wrong_size)], "the mask is 64x48 but photo 1 is 640x480"),
        (["1", str(tmp_path)], "mask file not found"),  # a folder
    ]
    for argv, message in cases:
        assert main(["prompts", "set", *d, *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("eczema-tracker: error: ") and message in err
        assert err.count("\n") == 1 and "Traceback" not in err
    with Store.open(store_dir, readonly=True) as store:
        assert store.prompts("left arm") == []  # nothing was written
    with pytest.raises(SystemExit) as exc:  # argparse: one usage line and the error
        main(["prompts", "set", *d, "one", good])
    assert exc.value.code == 2


def test_prompts_on_a_missing_store(tmp_path, capsys):
    assert main(["prompts", "list", "--data-dir", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith("eczema-tracker: error: ")


# -- analyse-store ----------------------------------------------------------------------------------
def test_analyse_store_records_what_the_app_records(store_dir, tmp_path, tiny_args, capsys):
    _two_prompts(store_dir, tmp_path)
    capsys.readouterr()
    d = ["--data-dir", str(store_dir)]
    assert main(["analyse-store", *d, *tiny_args, "--site", "Left Arm", "--json"]) == 0
    rows = _json_lines(capsys.readouterr().out)
    assert sorted(r["photo_id"] for r in rows) == [1, 2, 3, 4]
    assert {r["status"] for r in rows} == {"analysed"}
    with Store.open(store_dir, readonly=True) as store:
        for row in rows:
            analysis = store.current_analysis(row["photo_id"])
            assert analysis.id == row["analysis_id"]
            assert row["lesion_area_fraction"] == analysis.lesion_area_fraction
            assert analysis.features is not None and analysis.probabilities is None
            assert row["severity_class"] is None and row["score"] is None
        cli_record = store.current_analysis(3)
    assert store_dir.joinpath(cli_record.mask.path).is_file()

    # The app's own service on a copy of the photo gives the same record.
    with Store.open(store_dir) as store:
        choice = analysis_models.ModelChoice(
            dino=tiny_args[1], seggpt=tiny_args[3], k=2, device="cpu"
        )
        services.analyse_photos(store, analysis_models.PipelineCache(), choice, [3])
        app_record = store.current_analysis(3)
    assert app_record.id != cli_record.id
    assert app_record.model_sources == cli_record.model_sources
    assert (app_record.k, app_record.feature_source) == (cli_record.k, cli_record.feature_source)
    assert app_record.prompt_photo_ids == cli_record.prompt_photo_ids
    assert app_record.mask.sha256 == cli_record.mask.sha256
    np.testing.assert_allclose(app_record.features, cli_record.features, rtol=1e-5, atol=1e-6)
    assert cli_record.prompt_photo_ids in ((1, 2), (2, 1))
    assert rows[[r["photo_id"] for r in rows].index(1)]["prompt_photo_ids"] == [2]  # not itself


def test_analyse_store_chooses_new_stale_or_all(store_dir, tmp_path, tiny_args, capsys):
    _two_prompts(store_dir, tmp_path)
    d = ["--data-dir", str(store_dir), *tiny_args]

    def analysed(*argv: str) -> list[int]:
        capsys.readouterr()
        assert main(["analyse-store", *d, "--json", *argv]) == 0
        return sorted(r["photo_id"] for r in _json_lines(capsys.readouterr().out))

    assert analysed("--site", "left arm") == [1, 2, 3, 4]
    assert main(["analyse-store", *d, "--site", "left arm"]) == 0  # nothing new
    assert "nothing to analyse" in capsys.readouterr().err
    mask = _mask_file(store_dir, 3, tmp_path / "m3.png")
    assert main(["prompts", "set", "--data-dir", str(store_dir), "3", mask]) == 0  # all stale
    assert analysed("--site", "left arm") == []  # default: only never-analysed photos
    assert analysed("--site", "left arm", "--stale") == [1, 2, 3, 4]
    assert analysed("--site", "left arm", "--stale") == []
    assert analysed("--site", "left arm", "--all") == [1, 2, 3, 4]
    with Store.open(store_dir, readonly=True) as store:
        assert len(store.analyses(4)) == 3


def test_analyse_store_exit_codes_and_one_line_errors(store_dir, tmp_path, tiny_args, capsys):
    _two_prompts(store_dir, tmp_path)
    capsys.readouterr()
    d = ["--data-dir", str(store_dir)]
    # 'face' has no prompts: its photo is skipped with the reason, the rest analysed; exit 1
    assert main(["analyse-store", *d, *tiny_args]) == 1
    captured = capsys.readouterr()
    assert "photo 5 (face): skipped: Body site 'face' has 0 prompt mask(s)" in captured.out
    assert "4 analysed, 1 skipped, 0 failed" in captured.err
    assert main(["analyse-store", *d, *tiny_args, "--site", "knee"]) == 2
    assert "no photo has the body site 'knee'" in capsys.readouterr().err
    assert main(["analyse-store", *d, *tiny_args, "--k", "0", "--all"]) == 2
    assert "--k must be at least 1" in capsys.readouterr().err
    missing = ["--dino", str(tmp_path / "no-such-model"), "--seggpt", tiny_args[3]]
    assert main(["analyse-store", *d, *missing, "--all", "--site", "left arm"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no-such-model" in err and "Traceback" not in err


def test_analyse_store_uses_the_settings_and_the_active_severity_model(
    store_dir, tmp_path, tiny_dino_dir, tiny_seggpt_dir, capsys
):
    _two_prompts(store_dir, tmp_path)
    Settings(
        dino_source=str(tiny_dino_dir), seggpt_source=str(tiny_seggpt_dir), device="cpu"
    ).save()
    model = SeverityModel.for_encoder(DinoEncoder(str(tiny_dino_dir)))
    model.fit(np.random.default_rng(0).normal(size=(8, 32)), np.array([0, 3] * 4), epochs=1)
    model.save(tmp_path / "severity.safetensors")
    with Store.open(store_dir) as store:
        model_id = store.add_severity_model(tmp_path / "severity.safetensors", model.metadata)
    capsys.readouterr()
    assert main(["analyse-store", "--data-dir", str(store_dir), "--site", "left arm"]) == 0
    out = capsys.readouterr().out
    assert out.count("photo ") == 4 and "severity not graded" not in out
    with Store.open(store_dir, readonly=True) as store:
        analysis = store.current_analysis(4)
        assert analysis.severity_model_id == model_id and len(analysis.probabilities) == 4
        assert analysis.model_sources == {
            "dino": str(tiny_dino_dir),
            "seggpt": str(tiny_seggpt_dir),
        }


class _FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_analyse_store_shows_a_progress_bar_on_a_terminal(
    store_dir, tmp_path, tiny_args, capsys, monkeypatch
):
    _two_prompts(store_dir, tmp_path)
    capsys.readouterr()
    terminal = _FakeTerminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert (
        main(["analyse-store", "--data-dir", str(store_dir), *tiny_args, "--site", "left arm"]) == 0
    )
    assert "4/4" in terminal.getvalue() and "photo" in terminal.getvalue()
    assert capsys.readouterr().out.count("lesion") == 4  # result lines stay on stdout


def test_ctrl_c_stops_at_once_and_keeps_what_finished(
    store_dir, tmp_path, tiny_args, capsys, monkeypatch
):
    _two_prompts(store_dir, tmp_path)
    original = services._analyze
    calls = []

    def analyse_then_ctrl_c(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # Ctrl+C while the third photo is computed
            os.kill(os.getpid(), signal.SIGINT)
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "_analyze", analyse_then_ctrl_c)
    argv = ["analyse-store", "--data-dir", str(store_dir), *tiny_args, "--json"]
    assert main([*argv, "--site", "left arm"]) == 130
    captured = capsys.readouterr()
    assert "interrupted; 2 photo(s) analysed and recorded" in captured.err
    done = [r["photo_id"] for r in _json_lines(captured.out)]
    assert len(done) == 2 and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with Store.open(store_dir) as store:
        assert sorted(services.photos_to_analyse(store, "left arm")) == sorted(
            {1, 2, 3, 4} - set(done)
        )
        assert store.check.removed_orphans == () and store.check.unknown_files == ()


def test_ctrl_c_during_a_write_finishes_that_write_first(
    store_dir, tmp_path, tiny_args, capsys, monkeypatch
):
    _two_prompts(store_dir, tmp_path)
    original = services._record

    def ctrl_c_then_record(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # arrives while the result is being written
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "_record", ctrl_c_then_record)
    argv = ["analyse-store", "--data-dir", str(store_dir), *tiny_args, "--json"]
    assert main([*argv, "--site", "left arm"]) == 130
    (row,) = _json_lines(capsys.readouterr().out)
    with Store.open(store_dir, readonly=True) as store:
        assert store.current_analysis(row["photo_id"]).id == row["analysis_id"]
        assert sum(store.current_analysis(pid) is not None for pid in (1, 2, 3, 4)) == 1
