"""``eczema-tracker import / photos / export / restore`` as a user runs them."""

from __future__ import annotations

import json
import sqlite3

from eczema_tracker.cli import main
from eczema_tracker.store import db


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_import_json_and_exit_codes(tmp_path, capsys, eczema_photo_paths, odd_images_dir):
    store = tmp_path / "store"
    good = [str(p) for p in eczema_photo_paths[:2]]
    assert main(["import", "--data-dir", str(store), "--site", "Face", "--json", *good]) == 0
    rows = _json_lines(capsys.readouterr().out)
    assert [r["status"] for r in rows] == ["imported", "imported"]
    assert set(rows[0]) == {"path", "status", "reason", "photo_id"}
    assert rows[0]["path"] == good[0] and rows[0]["reason"] is None

    broken = str(odd_images_dir / "pillow__broken.png")
    code = main(["import", "--data-dir", str(store), "--json", good[0], broken])
    assert code == 1
    dup, refused = _json_lines(capsys.readouterr().out)
    assert (dup["status"], dup["photo_id"]) == ("duplicate", rows[0]["photo_id"])
    assert refused["status"] == "refused" and refused["photo_id"] is None
    assert "corrupt" in refused["reason"]

    assert main(["import", "--data-dir", str(store), good[1]]) == 0  # plain text output
    captured = capsys.readouterr()
    assert "duplicate" in captured.out and "1 already in the store" in captured.err


def test_store_errors_exit_2_with_one_line(tmp_path, capsys, eczema_photo_paths):
    store = tmp_path / "store"
    assert main(["import", "--data-dir", str(store), str(eczema_photo_paths[0])]) == 0
    conn = sqlite3.connect(store / db.DB_NAME)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    capsys.readouterr()
    assert main(["import", "--data-dir", str(store), str(eczema_photo_paths[1])]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("eczema-tracker: error:") and "newer version" in err
    assert len(err.splitlines()) == 1


def test_photos_export_restore(tmp_path, capsys, eczema_photo_paths, monkeypatch):
    store = tmp_path / "store"
    monkeypatch.setenv("ECZEMA_TRACKER_DATA_DIR", str(store))  # the default --data-dir
    assert main(["import", "--site", "neck", *map(str, eczema_photo_paths[:3])]) == 0
    capsys.readouterr()
    assert main(["photos", "--json"]) == 0
    listed = _json_lines(capsys.readouterr().out)
    assert len(listed) == 3 and {p["site"] for p in listed} == {"neck"}
    assert main(["photos", "--site", "face"]) == 0
    assert capsys.readouterr().out == ""

    backup = tmp_path / "b.zip"
    assert main(["export", "--out", str(backup)]) == 0
    assert "3 file(s)" in capsys.readouterr().out
    restored = tmp_path / "restored"
    assert main(["restore", "--data-dir", str(restored), str(backup)]) == 0
    assert main(["restore", "--data-dir", str(restored), str(backup)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["restore", "--data-dir", str(restored), "--force", str(backup)]) == 0
    capsys.readouterr()
    assert main(["photos", "--data-dir", str(restored), "--json"]) == 0
    assert _json_lines(capsys.readouterr().out) == listed
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK not really")
    assert main(["restore", "--data-dir", str(tmp_path / "x"), str(bad)]) == 2
