"""Before the window: can Qt's X11 (xcb) platform plugin load on this Linux desktop?

Qt 6.5 and later need ``libxcb-cursor.so.0`` for the xcb plugin, and many desktop installs lack
it. Without it Qt prints "could not load the Qt platform plugin 'xcb'" and aborts (exit 134)
before the app can say anything. :func:`xcb_problem` loads the plugin's libraries the way Qt
would (no QApplication is made) and, if one is missing, returns one sentence naming the package
that provides it. The desktop bundle carries its own ``libxcb-cursor.so.0``; the check finds it
there, as Qt does.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from PySide6.QtCore import QLibraryInfo

#: the packages that provide a library, per distribution family (Debian/Ubuntu, Fedora, Arch)
PACKAGES: dict[str, tuple[str, str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-render-util.so.0": (
        "libxcb-render-util0",
        "xcb-util-renderutil",
        "xcb-util-renderutil",
    ),
}

_MISSING = re.compile(r"(lib[\w.+-]+\.so[\w.]*)")


def uses_xcb(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> bool:
    """Whether Qt will try its xcb plugin: Linux, unless another platform is chosen or the
    session is Wayland (where Qt takes its Wayland plugin first)."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    return not environ.get("WAYLAND_DISPLAY")


def xcb_plugin() -> Path:
    """Where this Qt's xcb platform plugin lies (inside PySide6, or inside the bundle)."""
    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    return plugins / "platforms" / "libqxcb.so"


def missing_library(plugin: Path) -> str | None:
    """The file name of the first library ``plugin`` needs that cannot be loaded, or None."""
    if not plugin.is_file():
        return None  # no xcb plugin in this Qt: nothing to check (Qt says what it lacks)
    try:
        ctypes.CDLL(str(plugin), mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError as exc:
        found = _MISSING.search(str(exc))
        return Path(found.group(1)).name if found else plugin.name
    return None


def xcb_problem(environ: Mapping[str, str] = os.environ) -> str | None:
    """One sentence saying which package to install when the xcb plugin cannot load, else None."""
    if not uses_xcb(environ):
        return None
    library = missing_library(xcb_plugin())
    if library is None:
        return None
    debian, fedora, arch = PACKAGES.get(library, (None, None, None))
    if debian is None:
        how = "install the package that provides it with your system's package manager"
    else:
        how = (
            f"install it with your system's package manager: {debian} on Debian/Ubuntu, "
            f"{fedora} on Fedora, {arch} on Arch"
        )
    return (
        f"Eczema Tracker cannot open its window: the system library {library}, which Qt needs "
        f"on an X11 desktop, is missing; {how}."
    )
