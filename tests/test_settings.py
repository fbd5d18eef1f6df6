"""Settings: defaults, round trip, migration, newer and damaged files."""

from __future__ import annotations

import json
import os

import pytest

from eczema_tracker.app.settings import (
    MAX_SETTINGS_BYTES,
    SETTINGS_FILE,
    SETTINGS_VERSION,
    Settings,
)


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


def _set_aside(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(SETTINGS_FILE + ".broken-"))


def test_deeply_nested_file_is_set_aside_once_and_defaults_are_used(tmp_path):
    """Issue 22 item 9: ``json.loads`` of deep nesting raised RecursionError at every start."""
    (tmp_path / SETTINGS_FILE).write_text("[" * 200_000 + "]" * 200_000)
    settings = Settings.load(tmp_path)
    assert settings == Settings()
    assert "set aside" in settings.load_problem and "default settings" in settings.load_problem
    (aside,) = _set_aside(tmp_path)
    assert aside in settings.load_problem
    assert (tmp_path / aside).read_text().startswith("[[[")  # nothing lost
    assert not (tmp_path / SETTINGS_FILE).exists()
    again = Settings.load(tmp_path)  # told once: the next start finds no file
    assert again == Settings() and again.load_problem == ""
    settings.save(tmp_path)
    assert "load_problem" not in json.loads((tmp_path / SETTINGS_FILE).read_text())


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_link_to_dev_zero_and_a_fifo_are_refused_without_reading(tmp_path):
    link = tmp_path / "zero"
    link.mkdir()
    (link / SETTINGS_FILE).symlink_to("/dev/zero")
    settings = Settings.load(link)
    assert settings == Settings() and "not a regular file" in settings.load_problem
    assert _set_aside(link) and not os.path.lexists(link / SETTINGS_FILE)
    fifo = tmp_path / "fifo"
    fifo.mkdir()
    os.mkfifo(fifo / SETTINGS_FILE)  # opening it for reading would block forever
    settings = Settings.load(fifo)
    assert settings == Settings() and "FIFO" in settings.load_problem


def test_an_oversized_file_is_refused(tmp_path):
    (tmp_path / SETTINGS_FILE).write_text('{"k": 3}' + " " * (MAX_SETTINGS_BYTES + 1))
    settings = Settings.load(tmp_path)
    assert settings == Settings() and "too large" in settings.load_problem
    assert _set_aside(tmp_path)


def test_the_cli_warns_once_on_stderr(tmp_path, monkeypatch, capsys):
    import argparse

    from eczema_tracker.app import analysis_models
    from eczema_tracker.commands.prompt_commands import model_choice_from_args

    config = tmp_path / "config"
    config.mkdir()
    (config / SETTINGS_FILE).write_text("{" * 100_000)
    monkeypatch.setenv("ECZEMA_TRACKER_CONFIG_DIR", str(config))
    monkeypatch.setattr(analysis_models, "model_choice", lambda settings, _store: settings)
    args = argparse.Namespace(k=3, dino=None, seggpt=None, device=None)
    assert model_choice_from_args(args, None).k == 3
    err = capsys.readouterr().err
    assert err.startswith("eczema-tracker: warning: ") and err.count("\n") == 1
    assert "set aside" in err
    model_choice_from_args(args, None)
    assert capsys.readouterr().err == ""


def test_a_read_error_leaves_the_file_where_it_is(tmp_path, monkeypatch):
    """Found in review: a passing I/O or permission error is no broken file; it is not set aside."""
    import errno

    from eczema_tracker.app import settings as settings_module
    from eczema_tracker.core.imaging import ImageLoadError

    Settings(k=3).save(tmp_path)

    def failing_read(path, **_):
        try:
            raise OSError(errno.EIO, "Input/output error")
        except OSError as exc:
            raise ImageLoadError(str(path), "cannot be read (an I/O error)") from exc

    monkeypatch.setattr(settings_module, "read_regular_file", failing_read)
    loaded = Settings.load(tmp_path)
    assert loaded.k == Settings().k and "left as it is" in loaded.load_problem
    assert [p.name for p in tmp_path.iterdir()] == [SETTINGS_FILE]
    monkeypatch.undo()
    assert Settings.load(tmp_path).k == 3
