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
    assert set(rows[0]) == {"path", "status", "reason", "photo_id", "date_guessed"}
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


def test_restore_warns_of_each_file_missing_from_the_backup(tmp_path, capsys, eczema_photo_paths):
    from eczema_tracker.store import Store

    store = tmp_path / "store"
    assert main(["import", "--data-dir", str(store), *map(str, eczema_photo_paths[:3])]) == 0
    with Store.open(store) as s:
        photos = s.photos()
        gone = sorted(p.stored_name for p in photos[:2])
        s.move_to_bin([photos[2].id])
    for name in gone:
        (store / name).unlink()
    backup = tmp_path / "gap.zip"
    assert main(["export", "--data-dir", str(store), "--out", str(backup)]) == 1
    capsys.readouterr()

    restored = tmp_path / "restored"
    assert main(["restore", "--data-dir", str(restored), str(backup)]) == 1
    captured = capsys.readouterr()
    out_lines = captured.out.splitlines()
    assert out_lines == [f"restored 2 photo(s) and 1 in the bin (1 file(s)) into {restored}"]
    warnings = [line for line in captured.err.splitlines() if "warning" in line]
    assert warnings == [
        f"eczema-tracker: warning: {name} was missing from the backup; its records are kept "
        "without the file"
        for name in gone
    ]
    with Store.open(restored, readonly=True) as s:  # the records are there, the files not
        assert len(s.photos()) == 2 and len(s.binned_photos()) == 1

    plain = tmp_path / "plain"  # nothing missing, nothing binned: exit 0, no warning
    assert main(["import", "--data-dir", str(plain), str(eczema_photo_paths[4])]) == 0
    whole = tmp_path / "whole.zip"
    assert main(["export", "--data-dir", str(plain), "--out", str(whole)]) == 0
    capsys.readouterr()
    assert main(["restore", "--data-dir", str(tmp_path / "again"), str(whole)]) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err and "in the bin" not in captured.out
    assert captured.out.startswith("restored 1 photo(s) (1 file(s)) into ")


def test_photos_and_import_show_control_characters_escaped(tmp_path, capsys, eczema_photo_paths):
    """Issue 22 item 13: a site or file name with a terminal escape is printed escaped."""
    import shutil

    store = tmp_path / "store"
    photo = tmp_path / "in" / "IMG\x1b[2J.jpg"
    photo.parent.mkdir()
    shutil.copy(eczema_photo_paths[0], photo)
    assert (
        main(["import", "--data-dir", str(store), "--site", "elbow\x1b]0;x\x07", str(photo)]) == 0
    )
    out = capsys.readouterr().out
    assert "\x1b" not in out and "IMG\\x1b[2J.jpg" in out
    assert main(["photos", "--data-dir", str(store)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "elbow\\x1b]0;x\\x07" in out and "IMG\\x1b[2J.jpg" in out


def test_import_and_photos_mark_a_date_guessed_from_the_file(tmp_path, capsys):
    from PIL import Image

    path = tmp_path / "copied.png"  # no camera date: the file's time is all there is
    Image.new("RGB", (16, 16), (200, 120, 110)).save(path)
    store = str(tmp_path / "store")
    assert main(["import", "--data-dir", store, str(path)]) == 0
    assert "date from the file, not the camera" in capsys.readouterr().out
    assert main(["photos", "--data-dir", store, "--json"]) == 0
    (row,) = _json_lines(capsys.readouterr().out)
    assert row["date_guessed"] is True
    assert main(["photos", "--data-dir", store]) == 0
    out, err = capsys.readouterr()
    assert "~ copied.png" in out and "~: date from the file, not the camera" in err


def test_export_replaces_an_existing_file_only_with_force(tmp_path, capsys, eczema_photo_paths):
    store = tmp_path / "store"
    assert main(["import", "--data-dir", str(store), str(eczema_photo_paths[0])]) == 0
    backup = tmp_path / "b.zip"
    backup.write_bytes(b"someone's file")
    capsys.readouterr()
    assert main(["export", "--data-dir", str(store), "--out", str(backup)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("eczema-tracker: error:") and "--force" in err and "\n" not in err
    assert backup.read_bytes() == b"someone's file"
    assert main(["export", "--data-dir", str(store), "--out", str(backup), "--force"]) == 0
    assert backup.read_bytes()[:2] == b"PK"
