"""Starting on a Linux desktop that lacks a library Qt's xcb plugin needs: one sentence, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from eczema_tracker.gui import platform_check

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xcb is Linux's")


def test_xcb_is_checked_only_where_qt_would_use_it():
    assert platform_check.uses_xcb({}, "linux")
    assert platform_check.uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not platform_check.uses_xcb({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not platform_check.uses_xcb({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not platform_check.uses_xcb({}, "darwin")


@linux_only
def test_the_installed_qt_finds_every_library_of_its_xcb_plugin():
    assert platform_check.xcb_plugin().is_file()
    assert platform_check.missing_library(platform_check.xcb_plugin()) is None


@linux_only
def test_without_libxcb_cursor_the_app_names_the_package_and_exits_2(tmp_path):
    # A broken libxcb-cursor.so.0 first on the search path stands in for a missing one: the
    # dynamic loader fails on it exactly where it would fail to find it.
    fake = tmp_path / "lib"
    fake.mkdir()
    (fake / "libxcb-cursor.so.0").write_bytes(b"")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "xcb",
        "DISPLAY": ":1234",
        "LD_LIBRARY_PATH": str(fake),
        "ECZEMA_TRACKER_DATA_DIR": str(tmp_path / "data"),
        "ECZEMA_TRACKER_CONFIG_DIR": str(tmp_path / "config"),
    }
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run(
        [sys.executable, "-m", "eczema_tracker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    (line,) = done.stderr.strip().splitlines()
    assert "libxcb-cursor.so.0" in line and "libxcb-cursor0 on Debian/Ubuntu" in line
    assert "xcb-util-cursor on Fedora" in line and "Traceback" not in done.stderr
