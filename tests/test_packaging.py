"""The built wheel carries what an installed app needs (migrations, entry points)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO_ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (whl,) = out.glob("eczema_tracker-*.whl")
    return whl


def test_wheel_has_migrations_and_entry_points(wheel: Path):
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        migrations = [n for n in names if n.startswith("eczema_tracker/store/migrations/")]
        assert any(n.endswith("0001_initial.sql") for n in migrations), migrations
        assert "eczema_tracker/gui/app.py" in names
        (entry,) = [n for n in names if n.endswith("entry_points.txt")]
        text = zf.read(entry).decode()
    assert "eczema-tracker = eczema_tracker.cli:main" in text
    # Tests and benchmarks are not shipped.
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)
