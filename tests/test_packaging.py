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


def test_install_puts_the_build_in_the_users_menu_and_uninstall_takes_it_out(tmp_path: Path):
    build = tmp_path / "dist" / "eczema-tracker"
    build.mkdir(parents=True)
    program = build / "eczema-tracker"
    program.write_text("#!/bin/sh\necho fake\n")
    program.chmod(0o755)
    home = tmp_path / "home"
    data = home / ".local" / "share"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    script = REPO_ROOT / "packaging" / "install.sh"
    subprocess.run(["sh", str(script), str(build)], env=env, check=True, capture_output=True)
    entry = (data / "applications" / "eczema-tracker.desktop").read_text()
    installed = home / ".local" / "lib" / "eczema-tracker" / "eczema-tracker"
    assert f'\nExec="{installed}"\n' in entry and "\nIcon=eczema-tracker\n" in entry
    assert installed.is_file()
    for size in (16, 48, 512):
        assert (
            data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "eczema-tracker.png"
        ).is_file()
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / "eczema-tracker.svg").is_file()
    keep = data / "eczema-tracker" / "store.sqlite3"  # the person's store folder
    keep.parent.mkdir(parents=True)
    keep.write_text("records")
    subprocess.run(["sh", str(script), "--uninstall"], env=env, check=True, capture_output=True)
    assert not (data / "applications" / "eczema-tracker.desktop").exists()
    assert not installed.parent.exists()
    assert not list((data / "icons").rglob("eczema-tracker.*"))
    assert keep.read_text() == "records"


def test_install_without_a_build_says_so(tmp_path: Path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    script = REPO_ROOT / "packaging" / "install.sh"
    done = subprocess.run(
        ["sh", str(script), str(tmp_path / "nothing")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.startswith("install.sh: error: no built program found")


def test_smoke_hook_is_inert_unless_asked(monkeypatch: pytest.MonkeyPatch):
    import runpy

    from eczema_tracker.gui import app as gui_app

    monkeypatch.delenv("ECZEMA_TRACKER_SMOKE_QUIT_AFTER", raising=False)
    original = gui_app.application
    runpy.run_path(str(REPO_ROOT / "packaging" / "rthook_smoke_quit.py"))
    assert gui_app.application is original


def test_smoke_hook_closes_the_app_cleanly(tmp_path: Path):
    """The bundle's smoke hook closes the window through the app's own close path: exit 0."""
    import os

    hook = REPO_ROOT / "packaging" / "rthook_smoke_quit.py"
    script = (
        f"exec(open({str(hook)!r}).read())\n"
        "from eczema_tracker.gui.app import main\n"
        "raise SystemExit(main())\n"
    )
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "ECZEMA_TRACKER_SMOKE_QUIT_AFTER": "0.5",
        "ECZEMA_TRACKER_DATA_DIR": str(tmp_path / "data"),
        "ECZEMA_TRACKER_CONFIG_DIR": str(tmp_path / "config"),
        "ECZEMA_TRACKER_CACHE_DIR": str(tmp_path / "cache"),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "window shown" in done.stderr and "Traceback" not in done.stderr


# -- tools/install_torch.py: the torch build make run/test install --------------------------------
def _install_torch_tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "install_torch", Path(__file__).resolve().parents[1] / "tools" / "install_torch.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_linux_without_an_nvidia_gpu_takes_the_cpu_index_when_it_answers(monkeypatch):
    tool = _install_torch_tool()
    monkeypatch.setattr(tool.sys, "platform", "linux")
    monkeypatch.setattr(tool, "has_nvidia_gpu", lambda: False)
    monkeypatch.setattr(tool, "index_answers", lambda url: True)
    args, how = tool.pip_arguments("torch==2.13.0", [])
    assert args == ["torch==2.13.0", "--index-url", tool.CPU_INDEX] and "CPU build" in how


def test_the_default_index_when_the_cpu_index_is_unreachable_and_says_so(monkeypatch):
    tool = _install_torch_tool()
    monkeypatch.setattr(tool.sys, "platform", "linux")
    monkeypatch.setattr(tool, "has_nvidia_gpu", lambda: False)
    monkeypatch.setattr(tool, "index_answers", lambda url: False)
    args, how = tool.pip_arguments("torch==2.13.0", [])
    assert args == ["torch==2.13.0"] and "could not be reached" in how


def test_a_gpu_machine_or_given_pip_arguments_keep_their_choice(monkeypatch):
    tool = _install_torch_tool()
    monkeypatch.setattr(tool.sys, "platform", "linux")
    monkeypatch.setattr(tool, "has_nvidia_gpu", lambda: True)
    monkeypatch.setattr(tool, "index_answers", lambda url: pytest.fail("no probe needed"))
    assert tool.pip_arguments("torch==2.13.0", [])[0] == ["torch==2.13.0"]
    given = ["--index-url", "https://example.invalid/whl/cu126"]
    assert tool.pip_arguments("torch==2.13.0", given)[0] == ["torch==2.13.0", *given]


def test_an_unreachable_index_is_answered_quickly():
    tool = _install_torch_tool()
    assert tool.index_answers("http://127.0.0.1:9", timeout=2.0) is False  # nothing listens there
