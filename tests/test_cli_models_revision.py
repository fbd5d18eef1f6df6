"""`models status` shows each hub source's revision and whether it is pinned."""

from __future__ import annotations

import json

import pytest

from eczema_tracker.cli import main
from eczema_tracker.ml.sources import DEFAULT_DINO, DEFAULT_REVISIONS


def test_status_prints_revisions(tiny_seggpt_dir, capsys: pytest.CaptureFixture[str]):
    code = main(["models", "status", "--device", "cpu", "--seggpt", str(tiny_seggpt_dir)])
    out = capsys.readouterr().out
    assert code == 1  # the DINO default is not downloaded here
    assert f"revision: {DEFAULT_REVISIONS[DEFAULT_DINO]} (pinned)" in out
    main(["models", "status", "--device", "cpu", "--seggpt", "BAAI/seggpt-vit-large", "--json"])
    rows = {row["role"]: row for row in json.loads(capsys.readouterr().out)["sources"]}
    assert rows["seggpt"]["revision"] == "main" and rows["seggpt"]["pinned"] is False
    assert rows["dino"]["pinned"] is True
