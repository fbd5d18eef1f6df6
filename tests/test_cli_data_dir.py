"""``--data-dir`` works before or after the command's name, for every command (issue 12, bug 1).

Before the fix the sub-parser's default (``None``) overwrote a ``--data-dir`` given before the
command: ``eczema-tracker --data-dir D import photo.jpg`` wrote into the default store.
"""

from __future__ import annotations

import argparse
import json

import pytest

from eczema_tracker.cli import build_parser, main

#: Minimal arguments of every command (path to the leaf command -> its other arguments).
COMMAND_ARGS: dict[tuple[str, ...], list[str]] = {
    ("import",): ["photo.jpg"],
    ("photos",): [],
    ("export",): ["--out", "b.zip"],
    ("restore",): ["b.zip"],
    ("models", "status"): [],
    ("models", "download"): [],
    ("analyze",): ["photo.jpg"],
    ("train",): ["dataset", "--out", "m.safetensors"],
    ("evaluate",): ["dataset", "--out", "results"],
    ("prompts", "set"): ["1", "mask.png"],
    ("prompts", "clear"): ["1"],
    ("prompts", "list"): [],
    ("prompts", "check"): [],
    ("analyse-store",): [],
    ("check",): [],
    ("checkin",): ["--itch", "3"],
    ("checkin", "list"): [],
    ("checkin", "delete"): ["--date", "2026-01-01", "--poem"],
    ("treatments", "add"): ["cream", "--kind", "emollient"],
    ("treatments", "list"): [],
    ("treatments", "course"): ["cream", "--start", "2026-01-01"],
    ("treatments", "end"): ["cream"],
    ("treatments", "edit"): ["cream", "--kind", "emollient"],
    ("treatments", "delete"): ["cream"],
    ("report",): ["--from", "2026-01-01", "--to", "2026-02-01", "--out", "r.pdf"],
    ("personal-model", "status"): [],
    ("personal-model", "train"): [],
    ("personal-model", "use"): ["1"],
    ("personal-model", "off"): [],
}


def _leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    own = [a for a in parser._actions if a.option_strings and a.dest not in ("help", "data_dir")]
    if not subs or (prefix and own):  # a command of its own (`checkin --itch 3`) with actions
        yield prefix
    if not subs:
        return
    for name, child in subs[0].choices.items():
        yield from _leaf_commands(child, (*prefix, name))


def _position_variants(command: tuple[str, ...], rest: list[str], folder: str):
    """``--data-dir`` first, right after each command word, and last."""
    yield ["--data-dir", folder, *command, *rest]
    for i in range(1, len(command) + 1):
        yield [*command[:i], "--data-dir", folder, *command[i:], *rest]
    yield [*command, *rest, "--data-dir", folder]


def test_every_command_is_covered():
    assert set(_leaf_commands(build_parser())) <= set(COMMAND_ARGS), (
        "a new command needs its minimal arguments in COMMAND_ARGS"
    )


@pytest.mark.parametrize("command", sorted(COMMAND_ARGS), ids=" ".join)
def test_data_dir_parsed_in_every_position(command):
    parser = build_parser()
    if command not in set(_leaf_commands(parser)):
        pytest.skip(f"{' '.join(command)} is not part of this build")
    for argv in _position_variants(command, COMMAND_ARGS[command], "/some/store"):
        assert parser.parse_args(argv).data_dir == "/some/store", argv
    assert parser.parse_args([*command, *COMMAND_ARGS[command]]).data_dir is None


@pytest.fixture
def default_store(tmp_path, monkeypatch):
    """Where a command would write if it ignored ``--data-dir`` (must stay absent)."""
    default = tmp_path / "default-store"
    monkeypatch.setenv("ECZEMA_TRACKER_DATA_DIR", str(default))
    return default


@pytest.mark.parametrize("before", [True, False], ids=["before", "after"])
def test_store_commands_use_the_named_store(
    before, tmp_path, capsys, default_store, eczema_photo_paths
):
    store = tmp_path / "other-store"

    def run(*argv: str) -> int:
        head, rest = argv[0], list(argv[1:])
        args = ["--data-dir", str(store), head, *rest] if before else [head, *rest]
        if not before:
            args += ["--data-dir", str(store)]
        return main(args)

    assert run("import", "--site", "neck", str(eczema_photo_paths[0])) == 0
    assert (store / "store.sqlite3").exists()
    capsys.readouterr()
    assert run("photos", "--json") == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert [p["site"] for p in listed] == ["neck"]

    backup = tmp_path / "b.zip"
    assert run("export", "--out", str(backup)) == 0
    assert backup.exists()
    assert run("restore", str(backup), "--force") == 0
    capsys.readouterr()
    assert run("photos", "--json") == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    assert not default_store.exists(), "a command wrote into the default store"
