"""``eczema-tracker check [--repair] [--quick] [--json]`` as a user runs it: output and exit codes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from eczema_tracker.cli import main
from eczema_tracker.store import db
from tests.store_check_support import build_store, copy_of, flip_byte, snapshot


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, dict[str, object]]:
    folder = tmp_path_factory.mktemp("template") / "store"
    return folder, build_store(folder)


@pytest.fixture
def store(template, tmp_path) -> tuple[Path, dict[str, object]]:
    """A fresh copy of the template store, with its photos' names and ids."""
    return copy_of(template[0], tmp_path), template[1]


def test_healthy_store_exits_0(store, capsys):
    folder, _ = store
    assert main(["check", "--data-dir", str(folder)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"Checked the photo store at {folder}: 3 photo(s), 3 mask(s)")
    assert "full SHA-256" in out[0] and out[-1] == "The store is healthy." and len(out) == 2
    assert main(["--data-dir", str(folder), "check", "--quick", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["healthy"] and payload["full"] is False and payload["missing"] == []


def test_planted_faults_one_line_each_then_repair(store, capsys):
    folder, info = store
    deleted, flipped, _ = info["ids"]
    (folder / info["photo_files"][deleted]).unlink()
    flip_byte(folder / info["photo_files"][flipped])
    mask = folder / info["correction"]
    mask.write_bytes(mask.read_bytes()[:-20])
    (folder / "photos" / "zz-orphan.jpg").write_bytes(b"nobody's")

    assert main(["check", "--data-dir", str(folder)]) == 1
    lines = capsys.readouterr().out.splitlines()
    body = lines[1:-1]
    assert [line.split()[0] for line in body] == ["missing", "damaged", "damaged", "orphan"]
    assert body[0].startswith(f"missing   Photo {deleted} (p0.jpg): its file ")
    assert "SHA-256" in body[1] and "cut short" in body[2] and "zz-orphan.jpg" in body[3]
    assert lines[-1] == "4 problem(s) found (1 can be fixed with --repair)."

    assert main(["check", "--data-dir", str(folder), "--repair", "--json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert [p["kind"] for p in payload["remaining"]] == ["missing", "damaged", "damaged"]
    assert len(payload["repairs"]) == 1 and "orphans/photos/zz-orphan.jpg" in payload["repairs"][0]
    assert {(m["table"], m["id"], m["state"]) for m in payload["missing"]} == {
        ("photo", deleted, "missing"),
        ("photo", flipped, "damaged"),
        ("mask_file", 3, "damaged"),
    }
    # after the repair only what --repair cannot fix is reported
    assert main(["check", "--data-dir", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "orphan" not in out and out.count("\n") == 5


def test_could_not_run_is_one_error_line_and_exit_2(store, tmp_path, capsys):
    folder, _ = store
    assert main(["check", "--data-dir", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("eczema-tracker: error: There is no photo store") and err.count("\n") == 1
    assert not (tmp_path / "none").exists()

    conn = sqlite3.connect(folder / db.DB_NAME)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = snapshot(folder)
    assert main(["check", "--data-dir", str(folder), "--repair"]) == 2
    err = capsys.readouterr().err
    assert "newer version" in err and err.count("\n") == 1
    assert main(["check", "--data-dir", str(folder), "--json"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["exit_code"] == 2 and captured.err.count("\n") == 1
    assert snapshot(folder) == before

    (folder / db.DB_NAME).write_bytes(b"\0garbage" * 64)
    assert main(["check", "--data-dir", str(folder)]) == 2
    assert "not an SQLite database" in capsys.readouterr().err


def test_check_after_a_fresh_restore_exits_0(store, tmp_path, capsys):
    folder, _ = store
    backup = tmp_path / "backup.zip"
    assert main(["export", "--data-dir", str(folder), "--out", str(backup)]) == 0
    restored = tmp_path / "restored"
    assert main(["restore", "--data-dir", str(restored), str(backup)]) == 0
    capsys.readouterr()
    assert main(["check", "--data-dir", str(restored)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "The store is healthy." and "thumbnail" in out[1], out


def test_check_of_a_store_killed_while_being_created(tmp_path, capsys):
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / db.DB_NAME).write_bytes(b"")
    (folder / f"{db.DB_NAME}-journal").write_bytes(b"\0" * 512)
    assert main(["check", "--data-dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "never set up" in out and "damaged" not in out, out
    assert main(["photos", "--data-dir", str(folder)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "0 photo(s)" in captured.err, captured
