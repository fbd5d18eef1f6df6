"""Atomic writes keep the old file whole when a write fails."""

from __future__ import annotations

import pytest

from eczema_tracker.core.atomic import atomic_path, atomic_write_bytes, atomic_write_text


def test_write_replaces_and_leaves_no_temp(tmp_path):
    target = tmp_path / "sub" / "file.bin"
    atomic_write_bytes(target, b"one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]


def test_failed_write_keeps_old_content(tmp_path):
    target = tmp_path / "settings.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half of the new")
            raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


def test_temp_folder_is_used_when_given(tmp_path):
    tmp_dir = tmp_path / "tmp"
    target = tmp_path / "out.txt"
    with atomic_path(target, tmp_dir=tmp_dir) as tmp:
        assert tmp.parent == tmp_dir
        tmp.write_text("x")
    assert target.read_text() == "x" and list(tmp_dir.iterdir()) == []
