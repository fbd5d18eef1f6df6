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


def test_wheel_carries_the_icon(wheel: Path):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "eczema_tracker/resources/eczema-tracker.svg" in names
    for size in (16, 32, 48, 128, 256, 512):
        assert f"eczema_tracker/resources/icons/eczema-tracker-{size}.png" in names


def test_icon_pngs_have_their_sizes():
    from PIL import Image

    from eczema_tracker import resources

    for size in resources.ICON_SIZES:
        with Image.open(resources.icon_png(size)) as image:
            assert image.size == (size, size)
            assert image.mode == "RGBA"
    assert resources.ICON_SVG.read_text().lstrip().startswith("<?xml")
    with pytest.raises(ValueError):
        resources.icon_png(17)


def test_version_is_the_projects(capsys: pytest.CaptureFixture[str]):
    tomllib = pytest.importorskip("tomllib")
    from eczema_tracker import __version__
    from eczema_tracker.cli import main

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert project["version"] == __version__
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"eczema-tracker {__version__}"
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text()
    assert f"## [{__version__}]" in changelog


def test_desktop_entry_names_the_icon():
    text = (REPO_ROOT / "packaging" / "eczema-tracker.desktop").read_text()
    assert "\nIcon=eczema-tracker\n" in text
    assert "\nExec=eczema-tracker\n" in text


def test_app_icon_has_every_size(qapp):
    from eczema_tracker.gui.app import app_icon

    icon = app_icon()
    assert not icon.isNull()
    sizes = {(s.width(), s.height()) for s in icon.availableSizes()}
    assert {(16, 16), (48, 48), (512, 512)} <= sizes
