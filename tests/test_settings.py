"""Settings: defaults, round trip, migration, newer and damaged files."""

from __future__ import annotations

import json

from eczema_tracker.app.settings import SETTINGS_FILE, SETTINGS_VERSION, Settings


def test_missing_file_gives_defaults(tmp_path):
    assert Settings.load(tmp_path) == Settings()


def test_round_trip(tmp_path):
    s = Settings(dino_source="/models/dino", k=3, device="cpu", last_site="left elbow")
    s.save(tmp_path)
    assert Settings.load(tmp_path) == s
    raw = json.loads((tmp_path / SETTINGS_FILE).read_text())
    assert raw["version"] == SETTINGS_VERSION and "file_version" not in raw
    assert tmp_path.stat().st_mode & 0o077 == 0  # the folder is private


def test_newer_file_keeps_its_version_and_keys(tmp_path):
    newer = {"version": SETTINGS_VERSION + 3, "k": 3, "theme": "dark", "future": {"a": 1}}
    (tmp_path / SETTINGS_FILE).write_text(json.dumps(newer))
    s = Settings.load(tmp_path)
    assert s.k == 3 and s.extra == {"theme": "dark", "future": {"a": 1}}
    s.last_site = "neck"
    s.save(tmp_path)
    raw = json.loads((tmp_path / SETTINGS_FILE).read_text())
    assert raw["version"] == SETTINGS_VERSION + 3  # never stamped back to an older version
    assert raw["theme"] == "dark" and raw["future"] == {"a": 1} and raw["last_site"] == "neck"


def test_damaged_values_fall_back_to_defaults(tmp_path):
    bad = {"version": "x", "k": "two", "device": "tpu", "allow_downloads": 1, "dino_source": 5}
    (tmp_path / SETTINGS_FILE).write_text(json.dumps(bad))
    assert Settings.load(tmp_path) == Settings()
    (tmp_path / SETTINGS_FILE).write_text(json.dumps({"k": 10**9}))
    assert Settings.load(tmp_path).k == Settings().k
    (tmp_path / SETTINGS_FILE).write_text("[1, 2]")
    assert Settings.load(tmp_path) == Settings()
    (tmp_path / SETTINGS_FILE).write_bytes(b"\xff\xfe garbage")
    assert Settings.load(tmp_path) == Settings()
