"""Helpers for the dialog, library and help tests: a window whose questions are scripted,
and a store of generated photos (no shared data needed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

from eczema_tracker.app.settings import Settings
from eczema_tracker.gui.main_window import MainWindow
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.store import Store

SITE = "left arm"


def make_photos(folder: Path, count: int, *, seed: int = 0) -> list[Path]:
    """``count`` distinct small JPEGs (skin-ish colours with a darker patch)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        pixels = np.full((96, 128, 3), (220, 170, 150), dtype=np.uint8)
        pixels += rng.integers(0, 20, size=pixels.shape, dtype=np.uint8)
        y, x = rng.integers(10, 50), rng.integers(10, 80)
        pixels[y : y + 30, x : x + 40] = (170 - i % 50, 70, 70)
        path = folder / f"photo_{i:03d}.jpg"
        Image.fromarray(pixels).save(path, quality=90)
        paths.append(path)
    return paths


def blob_mask(photo) -> np.ndarray:
    mask = np.zeros((photo.height, photo.width), dtype=bool)
    mask[photo.height // 3 : photo.height // 2, photo.width // 3 : photo.width // 2] = True
    return mask


def fill_store(
    store: Store,
    folder: Path,
    count: int,
    *,
    days_apart: float = 1.0,
    start: datetime | None = None,
    site: str = SITE,
    seed: int = 0,
) -> list[int]:
    """Import ``count`` generated photos dated ``days_apart`` apart; ids oldest first."""
    results = store.import_paths(make_photos(folder, count, seed=seed), site)
    ids = [r.photo_id for r in results if r.status == "imported"]
    start = start or datetime(2025, 1, 6, 9, 30)
    for i, pid in enumerate(ids):
        store.update_photo(pid, taken_at=start + timedelta(days=i * days_apart))
    return ids


def record_analysis(
    store: Store, photo_id: int, *, features=None, score=None, probs=None, severity_model_id=None
) -> int:
    photo = store.photo(photo_id)
    mask = blob_mask(photo)
    return store.record_analysis(
        photo_id,
        mask=mask,
        lesion_area_fraction=float(mask.mean()),
        features=features,
        feature_source="tiny-test-backbone" if features is not None else None,
        probabilities=probs,
        score=score,
        model_sources={},
        k=2,
        severity_model_id=severity_model_id,
    )


class ScriptedWindow:
    """Replaces the window's ask_* methods; records questions and messages."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.yes = True
        self.model_action: str | None = None
        self.questions: list[tuple[str, str]] = []
        self.messages: list[tuple[str, str, str]] = []
        window.show_message = lambda kind, title, text, details="", action=None: (
            self.messages.append((kind, title, text))
        )
        window.ask_site = lambda count: SITE
        window.ask_question = self._ask
        window.ask_model_action = lambda missing: self.model_action
        window.ask_model_status = lambda report: self.model_action
        window.ask_settings = lambda: False
        self.replace_answer: str | None = "replace"  # before a restore: "backup", "replace", None
        window.ask_replace_library = self._ask_replace
        self.on_question = None

    def _ask_replace(self, text: str) -> str | None:
        self.questions.append(("Replace the library?", text))
        return self.replace_answer

    def _ask(self, title: str, text: str) -> bool:
        self.questions.append((title, text))
        if self.on_question is not None:
            self.on_question(title, text)
        return self.yes


def open_window(qtbot, settings: Settings | None = None) -> tuple[MainWindow, ScriptedWindow]:
    store = Store.open()
    win = MainWindow(store, settings or Settings(device="cpu", k=2))
    scripted = ScriptedWindow(win)

    def finish_tasks(_win) -> None:
        for task in list(BackgroundTask._running):
            task.cancel()
        qtbot.waitUntil(lambda: not BackgroundTask._running, timeout=20000)
        win.thumbnails.wait_idle()

    qtbot.addWidget(win, before_close_func=finish_tasks)
    win.show()
    return win, scripted
