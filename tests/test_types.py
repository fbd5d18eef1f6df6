"""The package type-checks, the GUI and the models included: mypy with ``[tool.mypy]`` from
pyproject.toml.

mypy runs in a child process: the compiled mypy run in-process (``mypy.api``) aborted the
pytest process at exit ("none_dealloc: deallocating None", mypy 2.4.1). Its cache lives in
pytest's cache folder (``.pytest_cache/d/mypy``): a cold run takes about ten seconds here, a
warm one about a second (torch and transformers are not followed: their names are ``Any``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy")
tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "pyproject.toml"
CHECKED = (
    "eczema_tracker/core",
    "eczema_tracker/ml",
    "eczema_tracker/store",
    "eczema_tracker/app",
    "eczema_tracker/gui",
)


@pytest.fixture
def mypy_cache(request) -> str:
    return str(request.config.cache.mkdir("mypy"))


def _mypy(*args: str, cache: str, cwd: Path) -> tuple[str, int]:
    """mypy with the project's config in ``cwd``: (its output, its exit status)."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(CONFIG), "--cache-dir", cache]
        + ["--no-pretty", "--no-color-output", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.stdout + result.stderr, result.returncode


def test_config_covers_the_models_the_store_the_use_cases_and_the_gui():
    files = tomllib.loads(CONFIG.read_text(encoding="utf-8"))["tool"]["mypy"]["files"]
    assert set(CHECKED) <= set(files)


def test_checked_packages_type_check(mypy_cache):
    output, status = _mypy(cache=mypy_cache, cwd=ROOT)  # `files` are relative to the checkout
    assert status == 0, output[-8000:]


def test_core_refuses_an_untyped_function(mypy_cache, tmp_path):
    """The stricter settings for core/ are in force (a missing annotation is an error)."""
    package = tmp_path / "eczema_tracker"
    shutil.copytree(
        ROOT / "eczema_tracker" / "core",
        package / "core",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "eczema_tracker" / "__init__.py", package / "__init__.py")
    (package / "core" / "_probe.py").write_text("def double(x):\n    return 2 * x\n")
    output, status = _mypy("eczema_tracker/core", cache=mypy_cache, cwd=tmp_path)
    assert status == 1, output
    assert "_probe.py:1: error: Function is missing a type annotation" in output, output


def test_gui_is_checked_against_the_qt_stubs(mypy_cache, tmp_path):
    """PySide6's own stubs are read (Qt names are not ``Any``): an override of a Qt method with
    another return type, as a painter's ``mask()`` once was, is an error."""
    package = tmp_path / "eczema_tracker"
    (package / "gui").mkdir(parents=True)
    shutil.copy(ROOT / "eczema_tracker" / "__init__.py", package / "__init__.py")
    (package / "gui" / "__init__.py").write_text("")
    (package / "gui" / "_probe.py").write_text(
        "from PySide6.QtWidgets import QWidget\n\n\n"
        "class Canvas(QWidget):\n"
        "    def mask(self) -> int:\n"
        "        return 0\n"
    )
    output, status = _mypy("eczema_tracker/gui", cache=mypy_cache, cwd=tmp_path)
    assert status == 1, output
    assert '_probe.py:5: error: Return type "int" of "mask" incompatible' in output, output
