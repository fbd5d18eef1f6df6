"""Issue 25, fitting the screen: every dialog fits a 1280 × 720 screen with its title bar on it,
the main window stays usable at 1024 × 600 and keeps its library at 640 × 480, and the prompt
panel says one line per body site.

Qt's offscreen screen size is fixed when the QApplication starts, so the windows are opened in
a child process per screen size (``tests/screen_fit_probe.py``) and their geometry read back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QLabel

from eczema_tracker.gui.screen_fit import MIN_FRAME
from eczema_tracker.gui.trust.flow import SiteTrust
from eczema_tracker.gui.trust.summary import MODELS_MISSING, TrustSummary

REPO_ROOT = Path(__file__).resolve().parents[1]
DIALOGS = [
    "check-in",
    "day",
    "days recorded",
    "treatments",
    "report",
    "help",
    "models",
    "settings",
    "download failed",
    "personal model",
    "painter",
    "site",
    "set date",
    "photo edit",
    "bin",
    "compare",
    "model status",
    "message",
]


def probe(
    tmp_path_factory: pytest.TempPathFactory, width: int, height: int, what: str, screens: int = 1
) -> dict:
    """Run ``tests/screen_fit_probe.py`` on an offscreen screen of ``width`` × ``height`` (and
    ``screens - 1`` more of that size to its right)."""
    folder = tmp_path_factory.mktemp(f"screen-{width}x{height}-{what}")
    config = folder / "screen.json"
    dpi = {"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
    found_screens = [
        {"name": f"fit{i}", "x": i * width, "y": 0, "width": width, "height": height} | dpi
        for i in range(screens)
    ]
    config.write_text(json.dumps({"windowFrameMargins": True, "screens": found_screens}))
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM=f"offscreen:configfile={config}",
        ECZEMA_TRACKER_DATA_DIR=str(folder / "data"),
        ECZEMA_TRACKER_CONFIG_DIR=str(folder / "config"),
        ECZEMA_TRACKER_CACHE_DIR=str(folder / "cache"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "tests.screen_fit_probe", what],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["available"] == [0, 0, width, height]
    return found


def rect(values: list[int]) -> QRect:
    return QRect(*values)


@pytest.fixture(scope="module")
def dialogs_at_1280x720(tmp_path_factory) -> dict:
    return probe(tmp_path_factory, 1280, 720, "dialogs")


@pytest.mark.parametrize("name", DIALOGS)
def test_every_dialog_fits_1280x720_with_its_title_bar_on_screen(dialogs_at_1280x720, name):
    area = rect(dialogs_at_1280x720["available"])
    window = dialogs_at_1280x720["windows"][name]
    frame, inner = rect(window["frame"]), rect(window["inner"])
    assert area.contains(frame), (name, frame, area)
    # room for a real window manager's title bar (taller than the offscreen one) above it too
    assert inner.top() - MIN_FRAME.top() >= area.top(), (name, inner)
    assert inner.bottom() + MIN_FRAME.bottom() <= area.bottom(), (name, inner)


@pytest.mark.parametrize(("width", "height"), [(1024, 600), (640, 480)])
def test_the_main_window_fits_small_screens_and_keeps_its_library(tmp_path_factory, width, height):
    found = probe(tmp_path_factory, width, height, "main")
    area, parts = rect(found["available"]), found["windows"]
    assert area.contains(rect(parts["frame"])), parts["frame"]
    library = rect(parts["library"]).intersected(area)
    assert library.height() >= 100 and library.width() >= 150, parts  # a row of thumbnails
    photo = rect(parts["photo"]).intersected(area)
    assert photo.width() >= (350 if width >= 1024 else 100) and photo.height() >= 150, parts
    # two sites of examples: two lines, not two paragraphs each
    assert rect(parts["prompt panel"]).height() <= (70 if width >= 1024 else 110), parts


def test_a_long_message_box_fits_a_small_screen_once_qt_has_sized_it(tmp_path_factory):
    """A message box sets its own size when shown, after it was placed: it is placed again."""
    found = probe(tmp_path_factory, 800, 800, "message")
    area, frame = rect(found["available"]), rect(found["windows"]["message"]["frame"])
    assert area.contains(frame), (frame, area)


def test_a_dialog_shown_again_stays_where_it_was_even_on_another_screen(tmp_path_factory):
    found = probe(tmp_path_factory, 1280, 720, "reshow", screens=2)
    windows = found["windows"]
    assert all(frame == windows["reshown"][0] for frame in windows["reshown"]), windows
    assert rect(windows["moved"]).left() >= 1280  # on the second screen
    assert windows["moved, shown again"] == windows["moved"]


def _long_state() -> SiteTrust:
    return SiteTrust("left arm", prompt_count=2, unannotated=5, models_missing=True)


def test_each_site_is_one_line_and_its_details_open_on_click(qtbot):
    summary = TrustSummary()
    qtbot.addWidget(summary)
    summary.resize(420, 300)
    summary.show_sites([_long_state(), SiteTrust("face", prompt_count=1)])
    summary.show()
    qtbot.waitExposed(summary)
    assert summary.site_line("left arm") == "left arm: 2 examples · not checked yet"
    assert summary.site_line("face") == "face: 1 example · paint 1 more"
    assert not summary.details_shown("left arm")
    lines = [w for w in summary.findChildren(QLabel) if w.text().startswith("<b>")]
    needed = [w.heightForWidth(w.width()) for w in lines]  # the text's height at its width
    assert len(lines) == 2 and all(h < 2 * summary.fontMetrics().lineSpacing() for h in needed)
    # the details: on hover (the line's tooltip) and under the line once its arrow is clicked
    line = next(w for w in summary.findChildren(QLabel) if w.text().startswith("<b>left arm"))
    assert MODELS_MISSING in line.toolTip() and MODELS_MISSING in summary.site_text("left arm")
    arrow = summary.details_button("left arm")
    qtbot.mouseClick(arrow, Qt.MouseButton.LeftButton, pos=QPoint(4, 4))
    qtbot.waitUntil(lambda: summary.details_shown("left arm"))
    assert arrow.arrowType() == Qt.ArrowType.DownArrow
    qtbot.mouseClick(arrow, Qt.MouseButton.LeftButton, pos=QPoint(4, 4))
    qtbot.waitUntil(lambda: not summary.details_shown("left arm"))
