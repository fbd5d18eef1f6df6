"""Opens the app's windows on an offscreen screen of a given size and prints where they landed
(JSON), for ``tests/test_gui_screen_fit.py``.

The screen size of Qt's offscreen platform is fixed when the QApplication starts, so each size
is probed in its own process: ``QT_QPA_PLATFORM=offscreen:configfile=SCREEN.json python -m
tests.screen_fit_probe dialogs|main|message|reshow``; the data, config and cache folders come from the
environment (temporary ones, set by the test).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import numpy as np
from PIL import Image
from PySide6.QtCore import QElapsedTimer, QEventLoop, QRect, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from eczema_tracker.app.settings import Settings
from eczema_tracker.gui.main_window import MainWindow
from eczema_tracker.store import Store
from tests.widgets_dialogs_support import blob_mask, fill_store


def _rect(rect: QRect) -> list[int]:
    return [rect.x(), rect.y(), rect.width(), rect.height()]


def _dialogs(win: MainWindow) -> Iterator[tuple[str, QWidget]]:
    """Every dialog the app opens, as the app opens it (the main window its parent)."""
    from eczema_tracker.gui.bin_dialog import BinDialog
    from eczema_tracker.gui.dialogs.compare_dialog import CompareDialog
    from eczema_tracker.gui.dialogs.help_dialog import HelpDialog
    from eczema_tracker.gui.dialogs.set_date_dialog import SetDateDialog
    from eczema_tracker.gui.dialogs.settings_dialog import SettingsDialog
    from eczema_tracker.gui.dialogs.site_dialog import SiteDialog
    from eczema_tracker.gui.models.download_failed_dialog import (
        DownloadFailedDialog,
        describe_download_failure,
    )
    from eczema_tracker.gui.models.personal_dialog import Mistake, PersonalModelDialog
    from eczema_tracker.gui.models.status_dialog import (
        ModelsDialog,
        ModelStatusDialog,
        ModelStatusReport,
    )
    from eczema_tracker.gui.painter.editor import MaskEditorDialog
    from eczema_tracker.gui.photo_edit import PhotoEditDialog
    from eczema_tracker.gui.record.checkin_dialog import CheckinDialog
    from eczema_tracker.gui.record.day_dialog import DayDialog
    from eczema_tracker.gui.record.days_dialog import RecordDaysDialog
    from eczema_tracker.gui.record.treatments_dialog import TreatmentsDialog
    from eczema_tracker.gui.report.dialog import ReportDialog
    from eczema_tracker.ml.sources import source_status

    validation = SimpleNamespace(
        accuracy=0.5,
        n_samples=8,
        scheme="leave-one-out cross-validation",
        confusion=np.full((4, 4), 1),
    )
    missing = [
        ("seggpt", source_status("BAAI/seggpt-vit-large")),
        ("dino", source_status("facebook/dino-vitb16")),
    ]
    yield "check-in", CheckinDialog(win)
    yield "day", DayDialog(win)
    yield "days recorded", RecordDaysDialog(lambda: [], win)
    yield "treatments", TreatmentsDialog(win.session, win)
    yield "report", ReportDialog(["left arm", "face"], parent=win)
    yield "help", HelpDialog(win)
    yield "models", ModelsDialog(missing, win)
    status = ModelStatusReport(lines=("SegGPT: not on this computer yet",) * 6, downloadable=())
    yield "model status", ModelStatusDialog(status, win)
    yield "settings", SettingsDialog(Settings(), win, with_cuda=False)
    yield "download failed", DownloadFailedDialog(describe_download_failure(OSError("x")), win)
    yield "personal model", PersonalModelDialog(validation, win, mistakes=[Mistake(1, 0, 1)])
    yield (
        "painter",
        MaskEditorDialog(
            Image.new("RGB", (4032, 3024), (200, 160, 150)),
            save_mask=lambda _mask: None,
            option_text="Use as prompt for this body site",
            option_note="Ticking this makes the corrected mask an example for the site.",
            parent=win,
        ),
    )
    yield "site", SiteDialog(["left arm", "face"], count=3, parent=win)
    yield "set date", SetDateDialog(3, win)
    yield (
        "photo edit",
        PhotoEditDialog(taken_at=None, site="left arm", note="", sites=["left arm"], parent=win),
    )
    yield "bin", BinDialog(win.session, win.photo_actions, win, win)
    yield "compare", CompareDialog(win.session, "left arm", parent=win)
    win.show_message("info", "Import finished", "Imported 12 photos. " * 8, "details\n" * 80)
    yield "message", win.findChildren(QMessageBox)[-1]


def probe_dialogs(app: QApplication, win: MainWindow) -> dict[str, object]:
    """Each dialog shown over the main window: its frame and inner geometry."""
    found: dict[str, object] = {}
    for name, dialog in _dialogs(win):
        dialog.show()
        settle()
        found[name] = {"frame": _rect(dialog.frameGeometry()), "inner": _rect(dialog.geometry())}
        dialog.hide()
        dialog.deleteLater()
    return found


def wait_until(ready: Callable[[], bool], timeout_ms: int = 10_000) -> None:
    """Run the event loop until ``ready()`` (or the timeout)."""
    clock = QElapsedTimer()
    clock.start()
    while not ready() and clock.elapsed() < timeout_ms:
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()


def settle() -> None:
    """Let the events and zero timers that follow a show run (a window's placing)."""
    wait_until(lambda: False, timeout_ms=40)


def probe_message(app: QApplication, win: MainWindow) -> dict[str, object]:
    """A long message box, as :meth:`MainWindow.show_message` opens it."""
    text = "\n".join(f"Photo {i} could not be read: the file is not an image." for i in range(30))
    win.show_message("warning", "Import finished", text)
    box = win.findChildren(QMessageBox)[-1]
    settle()
    return {"message": {"frame": _rect(box.frameGeometry()), "inner": _rect(box.geometry())}}


def probe_reshow(app: QApplication, win: MainWindow) -> dict[str, object]:
    """Days recorded… shown and hidden 5 times (as the app reuses it), then moved to the last
    screen and shown again: its frame each time."""
    from eczema_tracker.gui.record.days_dialog import RecordDaysDialog

    dialog = RecordDaysDialog(lambda: [], win)
    frames = []
    for _ in range(5):
        dialog.show()
        settle()
        frames.append(_rect(dialog.frameGeometry()))
        dialog.hide()
        settle()
    last = app.screens()[-1].availableGeometry()
    dialog.show()
    settle()
    dialog.move(last.x() + 60, last.y() + 60)
    settle()
    moved = _rect(dialog.frameGeometry())
    dialog.hide()
    settle()
    dialog.show()
    settle()
    return {"reshown": frames, "moved": moved, "moved, shown again": _rect(dialog.frameGeometry())}


def probe_main(app: QApplication, win: MainWindow) -> dict[str, object]:
    """The main window with two body sites of photos and examples: where its parts are."""
    for site, seed in (("left arm", 0), ("right knee", 1)):
        ids = fill_store(
            win.store, win.store.data_dir.parent / "made" / site, 6, site=site, seed=seed
        )
        for pid in ids[:2]:
            win.store.set_prompt_mask(pid, blob_mask(win.store.photo(pid)))
    win.refresh()
    win.trust.refresh()
    # the prompt panel reads the sites in the background
    wait_until(lambda: len(win.trust.states) == 2 and not win.trust.busy)

    def on_screen(widget: QWidget) -> list[int]:
        top_left = widget.mapToGlobal(widget.rect().topLeft())
        visible = widget.isVisible() and widget.visibleRegion().boundingRect()
        return [top_left.x(), top_left.y(), visible.width(), visible.height()] if visible else []

    return {
        "frame": _rect(win.frameGeometry()),
        "library": on_screen(win.library.viewport()),
        "photo": on_screen(win.photo_view.image_view),
        "prompt panel": on_screen(win.trust_summary),
    }


def main(what: str) -> None:
    app = QApplication(sys.argv[:1])
    store = Store.open()
    win = MainWindow(store, Settings(device="cpu", k=2))
    win.show()
    app.processEvents()
    screen = win.screen().availableGeometry()
    probes = {
        "dialogs": probe_dialogs,
        "main": probe_main,
        "message": probe_message,
        "reshow": probe_reshow,
    }
    found = probes[what](app, win)
    print(json.dumps({"available": _rect(screen), "windows": found}))
    win.session.finish()
    win.thumbnails.wait_idle(3000)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1])
