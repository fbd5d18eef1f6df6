"""``eczema-tracker models status|download``."""

from __future__ import annotations

import json
import subprocess
import sys

from eczema_tracker.cli import main
from eczema_tracker.ml import sources


def test_status_of_local_sources(tiny_dino_dir, tiny_seggpt_dir, capsys):
    rc = main(
        [
            "models",
            "status",
            "--dino",
            str(tiny_dino_dir),
            "--seggpt",
            str(tiny_seggpt_dir),
            "--json",
        ]
    )
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    dino, seggpt = report["sources"]
    assert dino["present"] and dino["path"] == str(tiny_dino_dir.resolve())
    assert seggpt["present"] and seggpt["size_bytes"] > 0
    assert "dtype=" in report["acceleration"] and "device=cpu" in report["acceleration"]


def test_status_of_missing_defaults(capsys):
    rc = main(["models", "status", "--device", "cpu"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "facebook/dino-vitb16: MISSING" in out and "BAAI/seggpt-vit-large: MISSING" in out
    assert "acceleration: device=cpu" in out


def test_download_offline_is_a_one_line_error(monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    rc = main(["models", "download", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert rc == 3 and "HF_HUB_OFFLINE=1" in err and len(err.splitlines()) == 1


def test_download_local_sources_just_resolves(tiny_dino_dir, tiny_seggpt_dir, capsys):
    rc = main(
        ["models", "download", "--dino", str(tiny_dino_dir), "--seggpt", str(tiny_seggpt_dir)]
    )
    assert rc == 0 and capsys.readouterr().out.count("ready at") == 2


def test_download_shows_a_byte_progress_bar(monkeypatch, tiny_dino_dir, tiny_seggpt_dir, capsys):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)

    def fake_download(spec, *, progress=None, cancel=None):
        if spec == "org/model":
            for done in (0, 512, 1024):
                progress(done, 1024, "model.safetensors")
            return tiny_dino_dir
        return sources.resolve_source(spec)

    monkeypatch.setattr(sources, "download_source", fake_download)
    rc = main(["models", "download", "--dino", "org/model", "--seggpt", str(tiny_seggpt_dir)])
    captured = capsys.readouterr()
    assert rc == 0 and "dino org/model: ready at" in captured.out
    assert "100%" in captured.err and "1.00k" in captured.err  # 1024 bytes, in KiB


def test_registering_the_commands_does_not_import_torch():
    code = (
        "import argparse, sys\n"
        "from eczema_tracker.cli import common_options\n"
        "from eczema_tracker.commands import analyze_command, model_commands\n"
        "sub = argparse.ArgumentParser().add_subparsers()\n"
        "model_commands.register(sub, common_options())\n"
        "analyze_command.register(sub, common_options())\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
