"""The bin from the command line: importing a binned photo again restores it; ``photos --bin``."""

from __future__ import annotations

import json

from eczema_tracker.cli import main
from eczema_tracker.store import Store


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _import(store, paths, capsys, *extra) -> tuple[int, list[dict]]:
    code = main(["import", "--data-dir", str(store), "--json", *extra, *map(str, paths)])
    return code, _json_lines(capsys.readouterr().out)


def test_importing_a_binned_photo_again_restores_it(tmp_path, capsys, eczema_photo_paths):
    store = tmp_path / "store"
    photos = eczema_photo_paths[:3]
    code, rows = _import(store, photos, capsys, "--site", "left arm")
    assert code == 0 and [r["status"] for r in rows] == ["imported"] * 3
    ids = [r["photo_id"] for r in rows]
    with Store.open(store) as s:
        assert s.move_to_bin(ids[:2]) == ids[:2]

    # the same file twice, a binned one, a photo in the library and a new one
    code, rows = _import(store, [photos[0], photos[0], photos[2], eczema_photo_paths[3]], capsys)
    assert code == 0
    assert [(r["status"], r["photo_id"]) for r in rows[:3]] == [
        ("restored", ids[0]),
        ("duplicate", ids[0]),
        ("duplicate", ids[2]),
    ]
    assert rows[3]["status"] == "imported" and rows[0]["reason"] is None
    with Store.open(store, readonly=True) as s:
        assert [p.id for p in s.binned_photos()] == [ids[1]]
        assert s.photo(ids[0]).site == "left arm"  # back as it was, not at the default site

    assert main(["import", "--data-dir", str(store), str(photos[1])]) == 0  # plain text
    captured = capsys.readouterr()
    assert f"restored   {photos[1]} (photo {ids[1]}): restored from the bin" in captured.out
    assert "1 restored from the bin, 0 already in the store" in captured.err
    with Store.open(store, readonly=True) as s:
        assert s.binned_photos() == []

    code, rows = _import(store, [photos[1]], capsys)  # back in the library: a duplicate again
    assert code == 0 and rows[0]["status"] == "duplicate"


def test_photos_bin_lists_the_binned_photos(tmp_path, capsys, eczema_photo_paths):
    store = tmp_path / "store"
    _, face = _import(store, eczema_photo_paths[:2], capsys, "--site", "face")
    _, arm = _import(store, eczema_photo_paths[2:3], capsys, "--site", "left arm")
    with Store.open(store) as s:
        s.rate(face[0]["photo_id"], 2)
        s.move_to_bin([face[0]["photo_id"], arm[0]["photo_id"]])

    assert main(["photos", "--data-dir", str(store), "--bin", "--json"]) == 0
    rows = _json_lines(capsys.readouterr().out)
    assert {r["photo_id"] for r in rows} == {face[0]["photo_id"], arm[0]["photo_id"]}
    assert all(r["deleted_at"] for r in rows)
    rated = next(r for r in rows if r["photo_id"] == face[0]["photo_id"])
    assert rated["rating"] == 2 and rated["site"] == "face"

    assert main(["photos", "--data-dir", str(store), "--bin", "--site", "Face"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("\n") == 1 and "deleted " in captured.out
    assert "1 photo(s) in the bin" in captured.err

    assert main(["photos", "--data-dir", str(store), "--json"]) == 0  # the library: not binned
    rows = _json_lines(capsys.readouterr().out)
    assert [r["photo_id"] for r in rows] == [face[1]["photo_id"]] and "deleted_at" not in rows[0]
