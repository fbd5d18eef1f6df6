"""The package's shape: only gui/ imports Qt; ml/ and store/ never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "eczema_tracker"
QT_ROOTS = {"PySide6", "PyQt5", "PyQt6", "shiboken6", "pytestqt"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules(sub: str = "") -> list[Path]:
    return sorted((PACKAGE / sub).rglob("*.py"))


def test_only_gui_imports_qt():
    offenders = []
    for path in _modules():
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "gui":
            continue
        if {n.split(".")[0] for n in _imports(path)} & QT_ROOTS:
            offenders.append(str(rel))
    assert offenders == [], f"Qt imported outside gui/: {offenders}"


def test_ml_and_store_are_independent():
    for a, b in (("ml", "store"), ("store", "ml")):
        for path in _modules(a):
            bad = [n for n in _imports(path) if n.startswith(f"eczema_tracker.{b}")]
            assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_core_packages_never_import_gui():
    for sub in ("ml", "store", "research"):
        for path in _modules(sub):
            bad = [n for n in _imports(path) if n.startswith("eczema_tracker.gui")]
            assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"
