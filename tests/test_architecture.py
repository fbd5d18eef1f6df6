"""The package's shape, checked by import-linter against the contracts in pyproject.toml.

``[tool.importlinter]`` holds the rules (Qt only in gui, the layers, gui reaching ml and store
only through app, commands without gui); these tests run ``lint-imports`` once per contract so
a broken one names itself, prove on a copy of the package that relative imports are caught,
and cover the one thing import-linter cannot see: modules imported by name at run time.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "eczema_tracker"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]["contracts"]


def _lint(cwd: Path, contract: str, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    """``lint-imports --contract ID`` in ``cwd`` (no cache: nothing is written in the tree)."""
    if not LINT_IMPORTS.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--contract", contract],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_contract_has_an_id():
    assert CONTRACTS, "no [[tool.importlinter.contracts]] in pyproject.toml"
    assert all("id" in c for c in CONTRACTS), "give each contract an id so it is tested alone"


@pytest.mark.parametrize("contract", [c["id"] for c in CONTRACTS])
def test_contract_is_kept(contract):
    result = _lint(ROOT, contract)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


# (module written into a copy of the package, its source, the contract it must break)
PROBES = [
    ("core/_probe_up.py", "from ..app import settings\n", "layers"),
    ("store/_probe_ml.py", "from ..ml import sources\n", "layers"),
    ("ml/_probe_store.py", "from .. import store\n", "layers"),
    ("gui/_probe_ml.py", "from ..ml import dino\n", "gui-without-models"),
    (
        "gui/widgets/_probe_ml.py",
        "from ...ml.pipeline import AnalysisPipeline\n",
        "gui-without-models",
    ),
    ("gui/_probe_research.py", "from ..research import train\n", "gui-without-models"),
    ("app/_probe_qt.py", "from PySide6 import QtCore\n", "qt-only-in-gui"),
    ("commands/_probe_gui.py", "from ..gui import formatting\n", "commands-without-gui"),
]


@pytest.fixture(scope="module")
def probed_copy(tmp_path_factory) -> Path:
    """A copy of the package and its pyproject.toml, with every probe module added."""
    root = tmp_path_factory.mktemp("probed")
    shutil.copytree(
        PACKAGE,
        root / "eczema_tracker",
        ignore=shutil.ignore_patterns("__pycache__", "*.png", "*.svg", "*.sql"),
    )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    for rel, source, _contract in PROBES:
        (root / "eczema_tracker" / rel).write_text(source, encoding="utf-8")
    return root


@pytest.mark.parametrize(("rel", "source", "contract"), PROBES, ids=[p[0] for p in PROBES])
def test_a_relative_or_qt_import_across_a_rule_is_caught(probed_copy, rel, source, contract):
    result = _lint(probed_copy, contract, pythonpath=probed_copy)
    module = "eczema_tracker." + rel.removesuffix(".py").replace("/", ".")
    assert result.returncode == 1, result.stdout[-4000:] + result.stderr[-2000:]
    assert module in result.stdout, f"{module} not reported:\n{result.stdout[-4000:]}"


def _dynamic_imports(path: Path) -> list[str]:
    """Calls that import a module by name (``importlib.import_module``, ``__import__``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__"):
                found.append(ast.unparse(node))
    return found


def test_only_cli_imports_modules_by_name_and_only_commands():
    """import-linter sees no import made from a string: keep those to the command modules."""
    by_name = {
        str(path.relative_to(PACKAGE)): calls
        for path in sorted(PACKAGE.rglob("*.py"))
        if (calls := _dynamic_imports(path))
    }
    assert set(by_name) <= {"cli.py"}, f"modules imported by name outside cli.py: {by_name}"
    from eczema_tracker.cli import COMMAND_MODULES

    outside = [m for m in COMMAND_MODULES if not m.startswith("eczema_tracker.commands.")]
    assert outside == [], f"cli loads modules outside commands/: {outside}"


def test_the_package_has_no_import_cycles():
    """Two modules that import each other (at any depth, function-level and TYPE_CHECKING
    imports included) are one owner split in two: merge them or move the shared name down."""
    import grimp

    graph = grimp.build_graph("eczema_tracker")
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported > module and graph.chain_exists(importer=imported, imported=module):
                cycles.append(f"{module} <-> {imported}")
    assert cycles == [], "import cycles:\n" + "\n".join(cycles)


def test_the_benchmarks_import_each_other_one_way():
    """The scripts in benchmarks/ import shared code (bench_setup) one way, never back."""
    folder = ROOT / "benchmarks"
    scripts = {p.stem for p in folder.glob("*.py")}
    imports: dict[str, set[str]] = {}
    for path in folder.glob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in scripts:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names |= {a.name for a in node.names if a.name in scripts}
        imports[path.stem] = names

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in imports.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(f"{a} <-> {b}" for a in imports for b in imports[a] if reaches(b, a, {b}))
    assert cycles == [], "benchmark import cycles:\n" + "\n".join(cycles)


def test_docstrings_say_what_a_module_is_not_which_issue_made_it():
    """No module names the project's issue numbers or review rounds (upstream projects' issues,
    "GitHub issue #N", are references and fine)."""
    import re

    pattern = re.compile(r"\((?:issue|review round) ?#?\d+\)|\bissue \d+\b", re.IGNORECASE)
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted(list(PACKAGE.rglob("*.py")) + list((ROOT / "benchmarks").glob("*.py")))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line) and "GitHub issue" not in line
    ]
    assert found == [], "\n".join(found)
