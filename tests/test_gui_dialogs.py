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
