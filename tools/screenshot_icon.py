"""Screenshot of the app window with its icon in a real window manager's title bar and task bar.

    xvfb-run -a -s "-screen 0 1024x700x24" sh -c 'icewm & sleep 1; python3 tools/screenshot_icon.py'

(needs Xvfb and a window manager that draws window icons, e.g. IceWM: `apt-get install xvfb
icewm`). Opens the main window on a fresh temporary store, waits for the window manager to frame
it, grabs the whole X screen and writes docs/screenshots/window_icon.png.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
OUT = REPO_ROOT / "docs" / "screenshots" / "window_icon.png"


def main() -> int:
    if not os.environ.get("DISPLAY"):
        print("screenshot_icon: error: no X display; run it under xvfb-run with a window manager")
        return 2
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    tmp = tempfile.mkdtemp(prefix="eczema-icon-shot-")
    for name in ("DATA", "CACHE", "CONFIG"):
        os.environ[f"ECZEMA_TRACKER_{name}_DIR"] = str(Path(tmp) / name.lower())
    sys.path.insert(0, str(REPO_ROOT))
    from PySide6.QtCore import QTimer

    from eczema_tracker.gui.app import application, create_main_window

    app = application()
    window = create_main_window(tmp + "/data")
    window.resize(900, 560)
    window.move(40, 20)
    window.show()

    def grab() -> None:
        shot = app.primaryScreen().grabWindow(0)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        shot.save(str(OUT))
        print(OUT.relative_to(REPO_ROOT))
        window.close()

    QTimer.singleShot(2500, grab)
    app.exec()
    window.store.close()
    os._exit(0)  # skip PySide6's teardown (see tools/screenshots_widgets.py)


if __name__ == "__main__":
    raise SystemExit(main())
