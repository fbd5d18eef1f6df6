"""The desktop app driven as a user would, with tiny local models (pytest-qt, offscreen).

Questions the app asks go through ``MainWindow.ask_*`` / ``show_message``; the ``answers``
fixture replaces those with scripted answers and records every message, so no modal dialog
ever blocks a test.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QLabel

from eczema_tracker.app.settings import Settings
from eczema_tracker.gui.main_window import MainWindow
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.store import Store
from tests.tiny_models import make_tiny_dino, make_tiny_seggpt

SITE = "left arm"


class Answers:
    """Scripted answers to the app's questions, and a record of what it said."""

    def __init__(self) -> None:
        self.site: str | None = SITE
        self.yes = True
        self.model_action: str | None = None
        self.questions: list[str] = []
        self.messages: list[tuple[str, str, str]] = []

    def install(self, window: MainWindow) -> None:
        window.show_message = lambda kind, title, text, details="", action=None: (
            self.messages.append((kind, title, text))
        )
        window.ask_site = lambda count: self.site
        window.ask_question = lambda title, text: (self.questions.append(title), self.yes)[1]
        window.ask_model_action = lambda missing: self.model_action
        window.ask_settings = lambda: False

    def titles(self) -> list[str]:
        return [title for _, title, _ in self.messages]


@pytest.fixture(scope="module")
def tiny_sources(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("tiny-models")
    return make_tiny_dino(base / "dino"), make_tiny_seggpt(base / "seggpt")


@pytest.fixture
def answers() -> Answers:
    return Answers()


@pytest.fixture
def window(qtbot, tiny_sources, answers):
    dino, seggpt = tiny_sources
    settings = Settings(dino_source=str(dino), seggpt_source=str(seggpt), device="cpu", k=2)
    store = Store.open()
    win = MainWindow(store, settings)
    answers.install(win)

    def finish_tasks(_win) -> None:  # before pytest-qt closes the window
        for task in list(BackgroundTask._running):
            task.cancel()
        qtbot.waitUntil(lambda: not BackgroundTask._running, timeout=20000)
        win.thumbnails.wait_idle()

    qtbot.addWidget(win, before_close_func=finish_tasks)
    win.show()
    yield win
    store.close()


def import_photos(qtbot, win: MainWindow, paths) -> list:
    """The same call File ▸ Import and drag-and-drop make."""
    with qtbot.waitSignal(win.importFinished, timeout=30000) as blocker:
        win.import_paths([str(p) for p in paths])
    return blocker.args[0]


def paint_prompt(qtbot, win: MainWindow, photo_id: int) -> None:
    """Open the editor for a photo, paint a stroke, save (the dialog's own save callback)."""
    win.open_photo(photo_id)
    with qtbot.waitSignal(win.prompts.editorOpened, timeout=30000) as opened:
        win.prompts.paint_prompt_of_current()  # the photo is decoded off the GUI thread
    dialog = opened.args[0]
    w, h = dialog.painter.image_size()
    dialog.painter.paint_stroke([(w * 0.3, h * 0.4), (w * 0.6, h * 0.5)])
    with qtbot.waitSignal(win.prompts.maskStored, timeout=30000):  # written off the GUI thread
        assert dialog.save()
    dialog.done(0)


def settle(qtbot, win: MainWindow) -> None:
    """Wait until every queued write is stored and shown (writes run in the background)."""
    qtbot.waitUntil(win.settled, timeout=30000)


def test_empty_library_shows_first_steps(window):
    assert window.library_stack.currentWidget() is window.empty_view
    assert not window.isHidden()
    text = window.empty_view.findChild(QLabel).text()
    for step in ("Import photos", "prompt masks", "Analyse"):
        assert step in text


def test_import_summary_library_and_thumbnails(
    qtbot, window, answers, eczema_photo_paths, odd_images_dir
):
    corrupt = next(
        p for p in sorted(odd_images_dir.iterdir()) if "corrupt" in p.name or "truncat" in p.name
    )
    results = import_photos(qtbot, window, [*eczema_photo_paths[:3], corrupt])
    assert [r.status for r in results].count("imported") == 3
    kind, title, text = answers.messages[-1]
    assert title == "Import finished" and text.startswith("3 imported")
    assert "1 refused" in text
    assert window.library_stack.currentWidget() is window.library
    model = window.library_model
    ids = model.photo_ids()
    assert len(ids) == 3 and window.store.photos()[0].id == ids[0]  # newest first
    assert model.rowCount() > len(ids)  # date headers between the photos
    assert window.settings.last_site == SITE  # remembered for the next import
    qtbot.waitUntil(lambda: all(model.has_thumbnail(i) for i in ids), timeout=10000)
    again = import_photos(qtbot, window, eczema_photo_paths[:1])
    assert again[0].status == "duplicate" and "already in the library" in answers.messages[-1][2]


def test_site_filter_and_drop_import(qtbot, window, answers, eczema_photo_paths):
    import_photos(qtbot, window, eczema_photo_paths[:2])
    answers.site = "face"
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(eczema_photo_paths[2]))])
    event = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.importFinished, timeout=30000):
        window.dropEvent(event)
    window.site_filter.setCurrentText("face")
    assert len(window.library_model.photo_ids()) == 1
    window.site_filter.setCurrentIndex(0)
    assert len(window.library_model.photo_ids()) == 3


def test_analysis_needs_two_prompts(qtbot, window, answers, eczema_photo_paths):
    import_photos(qtbot, window, eczema_photo_paths[:3])
    window.analysis.analyse_pending()
    assert answers.messages[-1][1] == "Paint prompt masks first"
    assert "has 0 prompt mask(s): paint 2 more." in answers.messages[-1][2]


def test_analyse_all_counts_what_it_analyses_and_names_the_site_left_out(
    qtbot, window, answers, eczema_photo_paths
):
    import_photos(qtbot, window, eczema_photo_paths[:3])
    ids = window.library_model.photo_ids()
    for pid in ids[:2]:
        window.store.set_prompt_mask(pid, _blob_mask(window.store.photo(pid)))
    answers.site = "back of knees"
    import_photos(qtbot, window, eczema_photo_paths[3:5])  # no prompt masks there
    settle(qtbot, window)
    labels: list[str] = []
    with qtbot.waitSignal(window.analysis.analysisFinished, timeout=120000):
        window.analysis.analyse_pending()
        task = window.analysis.task
        task.progressed.connect(lambda *_: labels.append(window.task_progress.label.text()))
    counted = [text for text in labels if "photo " in text]
    assert counted and all(text.startswith("Analysing photos: photo ") for text in counted)
    assert counted[-1] == "Analysing photos: photo 3 of 3", labels  # 3: what really runs
    kind, title, text = answers.messages[-1]
    assert title == "Analysis finished" and text.startswith("3 photos analysed.")
    assert "2 photos of 'back of knees' were not analysed: paint 2 examples first" in text


def test_new_user_goes_from_empty_store_to_timeline(qtbot, window, answers, eczema_photo_paths):
    import_photos(qtbot, window, eczema_photo_paths[:4])
    ids = window.library_model.photo_ids()
    paint_prompt(qtbot, window, ids[0])
    paint_prompt(qtbot, window, ids[1])
    qtbot.waitUntil(  # the prompt panel's one line for the site
        lambda: window.trust_summary.site_line(SITE).startswith(f"{SITE}: 2 examples"),
        timeout=10000,
    )
    with qtbot.waitSignal(window.analysis.analysisFinished, timeout=60000) as blocker:
        window.analysis.analyse_pending()
    summary = blocker.args[0]
    assert sorted(summary.analysed) == sorted(ids)  # prompts too, each from the other prompts
    # the result is in the photo view ...
    with qtbot.waitSignal(window.photoShown, timeout=10000):
        window.open_photo(ids[3])
    details = window.photo_view.details
    assert details.result_mask is not None and window.photo_view.image_view.has_overlay()
    assert "% of the photo" in window.photo_view.area.text()
    assert "no severity model yet" in window.photo_view.severity.text()
    # ... and on the timeline, whose points open their photo
    window.tabs.setCurrentWidget(window.timeline_panel)
    points = [p for p in window.timeline_panel.points() if p.lesion_area_fraction is not None]
    assert len(points) == 4
    window.timeline_panel.view.photoActivated.emit(ids[2])
    assert window.shown_photo == ids[2] and window.tabs.currentWidget() is window.photo_view
    # the second run reuses the loaded pipeline
    pipeline = window.pipelines.get(window.pipelines.loaded_choice)
    paint_prompt(qtbot, window, ids[2])  # prompts changed: results are stale, re-analysis offered
    assert "Analyse again?" in answers.questions
    qtbot.waitUntil(lambda: window.analysis.task.done, timeout=60000)
    assert window.pipelines.get(window.pipelines.loaded_choice) is pipeline
    assert not any(window.store.current_analysis(i).stale for i in ids)


def test_correct_a_result_and_promote_it_to_a_prompt(qtbot, window, eczema_photo_paths):
    import_photos(qtbot, window, eczema_photo_paths[:2])
    pid = window.library_model.photo_ids()[0]
    photo = window.store.photo(pid)
    window.store.record_analysis(
        pid,
        mask=np.zeros((photo.height, photo.width), dtype=bool),
        lesion_area_fraction=0.0,
        features=None,
        feature_source=None,
        probabilities=None,
        score=None,
        model_sources={},
        k=2,
    )
    window.open_photo(pid)
    assert window.photo_view.correct_button.isVisibleTo(window.photo_view)
    with qtbot.waitSignal(window.prompts.editorOpened, timeout=30000) as opened:
        window.prompts.correct_result_of_current()
    dialog = opened.args[0]
    assert not dialog.option_checked()  # "also use it as a prompt" is offered, off
    dialog.option_box.setChecked(True)
    w, h = dialog.painter.image_size()
    dialog.painter.paint_stroke([(w * 0.2, h * 0.2), (w * 0.7, h * 0.6)])
    with qtbot.waitSignal(window.prompts.maskStored, timeout=30000):  # written off the GUI thread
        assert dialog.save()
    analysis = window.store.current_analysis(pid)
    assert analysis.corrected_mask is not None and analysis.corrected_mask.area_fraction > 0
    assert window.store.photo(pid).is_prompt
    assert "your" in window.photo_view.mask_state.text()  # the mask is the person's now
    assert window.photo_view.area.text() != "0.0 % of the photo"
    dialog.done(0)


def test_gui_thread_is_never_blocked_during_analysis(qtbot, window, eczema_photo_paths):
    import_photos(qtbot, window, eczema_photo_paths[:8])
    ids = window.library_model.photo_ids()
    for pid in ids[:2]:
        window.store.set_prompt_mask(pid, _blob_mask(window.store.photo(pid)))
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    probe = QTimer()
    probe.setInterval(20)
    probe.timeout.connect(tick)
    probe.start()
    with qtbot.waitSignal(window.analysis.analysisFinished, timeout=120000):
        window.analysis.analyse(ids)
        last[0] = time.perf_counter()
    probe.stop()
    assert len(gaps) >= 10, "the analysis was too short to measure"
    print(
        f"\nanalysis of {len(ids)} photos: {len(gaps)} probe ticks, max GUI gap {max(gaps) * 1000:.0f} ms"
    )
    assert max(gaps) < 0.100


def test_cancelled_analysis_keeps_the_app_usable(qtbot, window, answers, eczema_photo_paths):
    import_photos(qtbot, window, eczema_photo_paths[:4])
    ids = window.library_model.photo_ids()
    for pid in ids[:2]:
        window.store.set_prompt_mask(pid, _blob_mask(window.store.photo(pid)))
    task = window.analysis.analyse(ids)
    assert window.task_progress.isVisibleTo(window) and window.task_progress.current is task
    with qtbot.waitSignal(task.cancelled, timeout=60000):
        window.task_progress.cancel_current()  # the status bar's Cancel button
    assert all(window.store.current_analysis(pid) is None for pid in ids)
    assert "cancelled" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not window.task_progress.isVisibleTo(window))
    with qtbot.waitSignal(window.analysis.analysisFinished, timeout=60000):
        window.analysis.analyse(ids[2:3])  # and a new run works
    assert window.store.current_analysis(ids[2]) is not None


def test_ml_warm_up_only_when_an_analysis_is_possible(qtbot, window, eczema_photo_paths):
    import_photos(qtbot, window, eczema_photo_paths[:2])
    assert window.analysis.warm_up() is None  # no site has 2 prompts yet
    for pid in window.library_model.photo_ids():
        window.store.set_prompt_mask(pid, _blob_mask(window.store.photo(pid)))
    task = window.analysis.warm_up()
    with qtbot.waitSignal(task.succeeded, timeout=60000):
        pass


def test_first_analysis_offers_local_model_folders_instead_of_a_download(
    qtbot, window, answers, eczema_photo_paths, tiny_sources
):
    import_photos(qtbot, window, eczema_photo_paths[:3])
    ids = window.library_model.photo_ids()
    for pid in ids[:2]:
        window.store.set_prompt_mask(pid, _blob_mask(window.store.photo(pid)))
    window.settings.dino_source, window.settings.seggpt_source = (
        Settings().dino_source,
        Settings().seggpt_source,
    )
    offered = []
    answers.model_action = "local"

    def choose_folders() -> bool:  # what the user does in the Settings dialog
        window.settings.dino_source, window.settings.seggpt_source = map(str, tiny_sources)
        return True

    window.ask_model_action = lambda missing: (offered.append(missing), "local")[1]
    window.ask_settings = choose_folders
    with qtbot.waitSignal(window.analysis.analysisFinished, timeout=60000):
        window.analysis.analyse(ids)
    assert {status.source for _, status in offered[0]} == {
        "BAAI/seggpt-vit-large",
        "facebook/dino-vitb16",
    }
    assert all(window.store.current_analysis(pid) is not None for pid in ids)


def test_missing_model_folder_is_explained_and_app_stays_usable(
    qtbot, window, answers, eczema_photo_paths, tmp_path
):
    import_photos(qtbot, window, eczema_photo_paths[:3])
    ids = window.library_model.photo_ids()
    for pid in ids[:2]:
        window.store.set_prompt_mask(pid, _blob_mask(window.store.photo(pid)))
    window.settings.seggpt_source = str(tmp_path / "no-such-folder")
    assert window.analysis.analyse(ids) is None
    kind, title, text = answers.messages[-1]
    assert kind == "error" and title == "Model folder not usable" and "no-such-folder" in text
    import_photos(qtbot, window, eczema_photo_paths[3:4])  # still usable
    assert len(window.library_model.photo_ids()) == 4


@pytest.mark.parametrize("how", ["offline", "download raises"])
def test_model_download_failure_is_explained(
    qtbot, window, answers, eczema_photo_paths, monkeypatch, how
):
    import eczema_tracker.ml.sources as sources

    if how == "download raises":
        monkeypatch.setenv("HF_HUB_OFFLINE", "0")

        def broken(*_a, **_k):
            raise ConnectionError("network unreachable")

        monkeypatch.setattr(sources, "_list_remote_files", broken)
    import_photos(qtbot, window, eczema_photo_paths[:3])
    ids = window.library_model.photo_ids()
    for pid in ids[:2]:
        window.store.set_prompt_mask(pid, _blob_mask(window.store.photo(pid)))
    window.settings.seggpt_source = "BAAI/seggpt-vit-large"
    answers.model_action = "download"
    with qtbot.waitSignal(window.analysis.downloadFailed, timeout=30000) as failed:
        assert window.analysis.analyse(ids) is not None
    failure = failed.args[0]  # told in words, in a dialog that offers the next step
    assert failure.text and "Errno" not in failure.text and "Traceback" not in failure.text
    assert window.analysis.failure_dialog.isVisible()
    window.analysis.failure_dialog.close()
    answers.model_action = None  # the user declines: nothing starts, nothing breaks
    assert window.analysis.analyse(ids) is None
    window.open_photo(ids[0])


def test_rating_keys_train_personal_model_and_rescore(qtbot, window, answers, eczema_photo_paths):
    import_photos(qtbot, window, eczema_photo_paths[:8])
    ids = window.library_model.photo_ids()
    rng = np.random.default_rng(0)
    feature_source = "tiny-test-backbone"
    for i, pid in enumerate(ids):  # analyses with features that carry the level to be rated
        window.store.record_analysis(
            pid,
            mask=_blob_mask(window.store.photo(pid)),
            lesion_area_fraction=0.1,
            features=rng.normal(loc=3 * (i % 2), size=32).astype(np.float32),
            feature_source=feature_source,
            probabilities=None,
            score=None,
            model_sources={},
            k=2,
        )
    window.refresh()
    for i, pid in enumerate(ids):
        window.open_photo(pid)
        qtbot.keyClick(window, str(i % 2 * 2))  # levels 0 and 2, by keyboard
        settle(qtbot, window)
        assert window.store.rating(pid) == i % 2 * 2
        if i < 7:
            assert "Train your own severity model?" not in answers.questions
    assert "Train your own severity model?" in answers.questions
    with qtbot.waitSignal(window.personal.trainingFinished, timeout=60000) as blocker:
        pass  # training was started by answering yes
    result = blocker.args[0]
    assert "stratified 4-fold" in result.validation.scheme
    assert result.validation.confusion.sum() == 8
    assert result.active and result.validation.majority_agreed == 4  # earned its place
    assert window.store.active_severity_model().id == result.model_id
    assert "Correct on" in window.personal.result_dialog.findChild(QLabel).text()
    qtbot.waitUntil(
        lambda: window.store.current_analysis(ids[0]).probabilities is not None, timeout=30000
    )
    window.open_photo(ids[0])
    assert "score" in window.photo_view.severity.text()


def test_import_severity_model_refuses_other_backbone(qtbot, window, answers, tmp_path):
    from eczema_tracker.ml.severity import SeverityModel

    model = SeverityModel(8, backbone_source="facebook/dino-vits16")
    model.fit(
        np.random.default_rng(0).normal(size=(8, 8)).astype(np.float32),
        np.array([0, 1] * 4),
        epochs=2,
    )
    model.save(tmp_path / "other.safetensors")
    task = window.personal.import_model(str(tmp_path / "other.safetensors"))
    with qtbot.waitSignal(task.finished, timeout=30000):
        pass
    kind, title, text = answers.messages[-1]
    assert title == "Severity model refused" and "facebook/dino-vits16" in text
    assert window.store.active_severity_model() is None


def test_the_window_shows_before_any_model_library_is_imported(tmp_path):
    script = (
        "import time; t0 = time.perf_counter()\n"
        "from PySide6.QtCore import QTimer\n"
        "from eczema_tracker.gui.app import application, create_main_window\n"
        "app = application(); w = create_main_window(None); w.show()\n"
        "shown = []\n"
        "QTimer.singleShot(0, lambda: (shown.append((time.perf_counter() - t0, w.isVisible())), app.quit()))\n"
        "app.exec()\n"
        "import sys; heavy = [m for m in ('torch', 'transformers', 'matplotlib') if m in sys.modules]\n"
        "print(f'{shown[0][0]:.2f}', shown[0][1], heavy)\n"
        "w.store.close()\n"
    )
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    total = time.perf_counter() - started
    assert out.returncode == 0, out.stderr
    seconds, visible, heavy = out.stdout.split(maxsplit=2)
    print(
        f"\nlaunch to visible window: {float(seconds):.2f} s in-process, {total:.2f} s with interpreter start"
    )
    # What keeps the launch quick on any machine: the window shows before torch, transformers or
    # matplotlib are imported. The time itself is a benchmark's (benchmarks/bench_analyze.py).
    assert visible == "True" and heavy.strip() == "[]"


def _blob_mask(photo) -> np.ndarray:
    mask = np.zeros((photo.height, photo.width), dtype=bool)
    mask[photo.height // 3 : photo.height // 2, photo.width // 3 : photo.width // 2] = True
    return mask


def test_guessed_dates_are_marked_and_set_in_one_step_from_the_import_summary(
    qtbot, window, answers, tmp_path
):
    """Issue 21: copied photos carry the copy day; the app says so and lets one day be set."""
    import os
    from datetime import date

    from PIL import Image
    from PySide6.QtWidgets import QApplication, QMessageBox

    from eczema_tracker.gui.dialogs.set_date_dialog import SetDateDialog
    from eczema_tracker.gui.widgets.library_view import photo_tooltip

    paths = []
    for i in range(2):  # two files without a camera date, "copied" on the same day
        path = tmp_path / f"copied_{i}.png"
        Image.new("RGB", (32, 32), (200, 120 + i, 110)).save(path)
        os.utime(path, (1_700_000_000 + i * 60, 1_700_000_000 + i * 60))
        paths.append(path)
    window.show_message = MainWindow.show_message.__get__(window)  # the real box, with buttons
    import_photos(qtbot, window, paths)
    box = next(b for b in window.findChildren(QMessageBox) if b.isVisible())
    assert "2 dates were guessed from the files" in box.text()
    ids = window.library_model.photo_ids()
    assert len(ids) == 2
    item = window.state.item(ids[0])
    assert item.date_guessed and "date from the file, not the camera" in photo_tooltip(item)
    with qtbot.waitSignal(window.photoShown, timeout=10000):
        window.open_photo(ids[0])
    assert "date from the file, not the camera" in window.photo_view.title.text()

    # the person picks "Set one date for them…" by its key, then types the day
    box.activateWindow()
    qtbot.waitUntil(box.isActiveWindow, timeout=10000)
    qtbot.keyClick(box, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), SetDateDialog))
    dialog = QApplication.activeModalWidget()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.day_edit, timeout=10000)
    today = date.today()
    qtbot.keyClick(dialog.day_edit, Qt.Key.Key_Up)  # tomorrow: refused, still today
    assert dialog.day() == today
    qtbot.keyClick(dialog.day_edit, Qt.Key.Key_Tab)  # to the month
    qtbot.keyClick(dialog.day_edit, Qt.Key.Key_Tab)  # to the year
    qtbot.keyClick(dialog.day_edit, Qt.Key.Key_Down)  # a year ago
    try:
        chosen = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        chosen = today.replace(year=today.year - 1, day=28)
    assert dialog.day() == chosen
    qtbot.keyClick(dialog.day_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: all(not window.store.photo(i).date_guessed for i in ids), timeout=10000)
    dated = [window.store.photo(i).taken_datetime for i in ids]
    assert {d.date() for d in dated} == {chosen}
    assert dated[0] != dated[1]  # each keeps its time of day, so their order stays
    settle(qtbot, window)
    assert not window.state.item(ids[0]).date_guessed
    assert "date from the file" not in window.photo_view.title.text()
    window.undo()  # Ctrl+Z: the guessed dates are back, marked as guessed
    qtbot.waitUntil(lambda: all(window.store.photo(i).date_guessed for i in ids), timeout=10000)


def test_a_future_day_cannot_be_set_for_guessed_dates(qtbot):
    from datetime import date

    from PySide6.QtCore import QDate

    from eczema_tracker.gui.dialogs.set_date_dialog import SetDateDialog

    dialog = SetDateDialog(3, today=date(2026, 3, 12))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: dialog.day_edit.hasFocus(), timeout=10000)
    qtbot.keyClick(dialog.day_edit, Qt.Key.Key_Up)  # the day after today: refused
    assert dialog.day() == date(2026, 3, 12)
    dialog.day_edit.setDate(QDate(2027, 1, 1))
    assert dialog.day() == date(2026, 3, 12)


def test_deleting_a_prompt_says_how_many_examples_the_site_then_lacks(
    qtbot, window, eczema_photo_paths
):
    import_photos(qtbot, window, eczema_photo_paths[:3])
    ids = window.library_model.photo_ids()
    for pid in ids[:2]:
        photo = window.store.photo(pid)
        mask = np.zeros((photo.height, photo.width), bool)
        mask[: photo.height // 2] = True
        window.store.set_prompt_mask(pid, mask)
    text = window.photo_actions.prompt_warning(ids[:1])
    assert "it will have 1 prompt mask left" in text
    assert "The app needs 2 to analyse" in text and "paint 1 more first." in text
    assert "The app needs" not in window.photo_actions.prompt_warning(ids[2:])
