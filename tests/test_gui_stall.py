"""Stall probes: the GUI thread is never blocked more than 50 ms while the person works.

A 10 ms ``QTimer`` records the gaps between its ticks while (a) a prompt mask of a 12-MP photo
(4000 x 3000) is saved and shown, and (b) 20 ratings are keyed in quickly on the library view
(each one moving on to the next unrated photo, as rating does). No models are needed. The
action itself is started from inside the event loop, so its GUI-thread part is measured too.

The test machine is shared (often more runnable threads than cores): a gap there can be the
GUI thread waiting for a core, not doing work. So each scenario runs up to three times and the
least stalled run must stay under 50 ms; a stall of the app's own (work on the GUI thread) shows
in every run and still fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QTimer

from eczema_tracker.app.settings import Settings
from eczema_tracker.gui.main_window import MainWindow
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.store import Store

SITE = "left arm"
MAX_GAP_S = 0.050
PROBE_MS = 10
TRIES = 3


class GapProbe:
    """Ticks every 10 ms on the GUI thread and records the gaps between ticks."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setInterval(PROBE_MS)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def worst_ms(self) -> float:
        return max(self.gaps) * 1000


@pytest.fixture
def window(qtbot):
    store = Store.open()
    win = MainWindow(store, Settings(device="cpu", k=2))
    win.show_message = lambda kind, title, text, details="", action=None: None
    win.ask_site = lambda count: SITE
    win.ask_question = lambda title, text: False

    def finish_tasks(_win) -> None:
        qtbot.waitUntil(lambda: not BackgroundTask._running, timeout=20000)
        win.thumbnails.wait_idle()

    qtbot.addWidget(win, before_close_func=finish_tasks)
    win.show()
    yield win
    store.close()


def _import(qtbot, win: MainWindow, paths: list[Path]) -> list[int]:
    with qtbot.waitSignal(win.importFinished, timeout=60000):
        win.import_paths([str(p) for p in paths])
    qtbot.waitUntil(win.settled, timeout=30000)
    return win.library_model.photo_ids()


def _photo_12mp(path: Path) -> Path:
    """A 4000 x 3000 JPEG with detail everywhere (decoding it takes real time)."""
    rng = np.random.default_rng(0)
    small = rng.integers(0, 255, size=(300, 400, 3), dtype=np.uint8)
    Image.fromarray(small).resize((4000, 3000), Image.Resampling.BILINEAR).save(path, quality=90)
    return path


def _probe_while(qtbot, action: Callable[[], None], done: Callable[[], bool]) -> GapProbe:
    """Run ``action`` from the event loop with the probe ticking; wait until ``done()``."""
    probe = GapProbe()
    probe.start()
    QTimer.singleShot(0, action)
    qtbot.waitUntil(done, timeout=30000)
    probe.stop()
    return probe


def _least_stalled(name: str, attempt: Callable[[int], GapProbe]) -> GapProbe:
    """Run ``attempt(try_number)`` until one stays under the limit (at most :data:`TRIES`)."""
    probes = []
    for n in range(TRIES):
        probes.append(attempt(n))
        print(f"\n{name}: {len(probes[-1].gaps)} ticks, max GUI gap {probes[-1].worst_ms:.0f} ms")
        if probes[-1].worst_ms < MAX_GAP_S * 1000:
            break
    return min(probes, key=lambda p: p.worst_ms)


def test_saving_a_prompt_mask_of_a_12mp_photo_never_blocks_the_window(qtbot, window, tmp_path):
    (pid,) = _import(qtbot, window, [_photo_12mp(tmp_path / "big.jpg")])
    with qtbot.waitSignal(window.photoShown, timeout=30000):
        window.open_photo(pid)
    qtbot.waitUntil(window.settled, timeout=30000)
    saved: list[np.ndarray] = []

    def stored_and_drawn() -> bool:
        details, prompt = window.photo_view.details, window.store.prompt(pid)
        return (
            window.settled()
            and prompt is not None
            and details is not None
            and details.prompt_mask_id == prompt.mask.id
            and details.prompt_overlay is not None
        )

    def attempt(n: int) -> GapProbe:
        # The person's way: the editor opens on the 12-MP photo, a stroke is painted, Save.
        with qtbot.waitSignal(window.prompts.editorOpened, timeout=30000) as opened:
            window.prompts.paint_prompt_of_current()
        dialog = opened.args[0]
        w, h = dialog.painter.image_size()
        dialog.painter.paint_stroke([(w * 0.2, h * (0.3 + 0.1 * n)), (w * 0.8, h * 0.6)])
        stored: list[int] = []
        window.prompts.maskStored.connect(stored.append)

        def save() -> None:
            assert dialog.save()
            saved.append(dialog.painter.lesion_mask())

        probe = _probe_while(qtbot, save, lambda: bool(stored) and stored_and_drawn())
        window.prompts.maskStored.disconnect(stored.append)
        dialog.done(0)
        assert len(probe.gaps) >= 5, "the save was too short to measure"
        return probe

    probe = _least_stalled("12-MP prompt mask save", attempt)
    assert window.photo_view.image_view.has_overlay()
    assert np.array_equal(window.store.load_mask(window.store.prompt(pid).mask), saved[-1])
    assert saved[-1].shape == (3000, 4000) and saved[-1].any()
    assert probe.worst_ms < MAX_GAP_S * 1000


def test_twenty_ratings_keyed_quickly_never_block_and_land_in_order(
    qtbot, window, eczema_photo_paths
):
    ids = _import(qtbot, window, eczema_photo_paths[:TRIES])
    levels = [(i * 3 + i // 4) % 4 for i in range(20)]  # every level, in no simple order

    def attempt(n: int) -> GapProbe:
        with qtbot.waitSignal(window.photoShown, timeout=30000):
            window.open_photo(ids[n])
        window.library.setFocus()
        before = {pid: len(window.store.rating_history(pid)) for pid in ids}
        keyed: list[tuple[int, int]] = []  # (the photo selected when keyed, the level)

        def key_next() -> None:
            # a rating moves on to the next unrated photo (none left: it stays)
            keyed.append((window.library.selected_photo_ids()[0], levels[len(keyed)]))
            qtbot.keyClick(window.library, str(keyed[-1][1]))
            if len(keyed) < len(levels):
                QTimer.singleShot(15, key_next)  # a quick typist: one key every ~15 ms

        probe = _probe_while(
            qtbot, key_next, lambda: len(keyed) == len(levels) and window.settled()
        )
        for pid in ids:
            mine = [level for target, level in keyed if target == pid]
            history = [r.rating for r in window.store.rating_history(pid)]
            assert history[before[pid] :] == mine  # every rating landed, in the order keyed
            if mine:
                assert window.store.rating(pid) == mine[-1]  # the last one wins
                item = window.library_model.item(window.library_model.index_of(pid))
                assert item.rating == mine[-1]  # and is what the library shows
        shown = window.shown_photo
        assert window.photo_view.details.rating == window.store.rating(shown)
        return probe

    probe = _least_stalled("20 ratings keyed", attempt)
    assert probe.worst_ms < MAX_GAP_S * 1000
