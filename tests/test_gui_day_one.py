"""Issue 12, main window: a person's masks shown as theirs, one severity rule, one date format,
fixing mistakes (bin, edit, move, undo, multi-select), backup from the app, the layout, Help.

No ML models are needed: analyses are recorded through the store as an analysis run would.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from eczema_tracker.app.settings import Settings
from eczema_tracker.core import imaging
from eczema_tracker.core.severity_scale import NO_ECZEMA_FOUND
from eczema_tracker.gui.formatting import format_day_time
from eczema_tracker.gui.main_window import IMPORT_FILE_FILTER, MainWindow
from eczema_tracker.gui.photo_edit import PhotoEdit
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.store import Store
from eczema_tracker.store.check.checker import quick_check_store
from eczema_tracker.store.thumbnails import thumbnail_name

SITE = "left arm"


class Answers:
    """Scripted answers to the window's questions, and what it said."""

    def __init__(self) -> None:
        self.yes = True
        self.site: str | None = SITE
        self.questions: list[tuple[str, str]] = []
        self.messages: list[tuple[str, str, str]] = []
        self.edit: PhotoEdit | None = None
        self.file: str | None = None

    def install(self, win: MainWindow) -> None:
        win.show_message = lambda kind, title, text, details="", action=None: self.messages.append(
            (kind, title, text)
        )
        win.ask_site = lambda count: self.site
        win.ask_question = lambda title, text: (self.questions.append((title, text)), self.yes)[1]
        win.ask_move_site = lambda count, current=None: self.site
        win.ask_photo_edit = lambda details: self.edit
        win.ask_backup_file = lambda: self.file
        win.ask_restore_file = lambda: self.file
        win.ask_replace_library = lambda text: (
            self.questions.append(("Replace the library?", text)),
            "replace" if self.yes else None,
        )[1]


@pytest.fixture
def answers() -> Answers:
    return Answers()


def _make_window(qtbot, answers, store) -> MainWindow:
    win = MainWindow(store, Settings())
    answers.install(win)

    def finish_tasks(_win) -> None:
        for task in list(BackgroundTask._running):
            task.cancel()
        qtbot.waitUntil(lambda: not BackgroundTask._running, timeout=20000)
        win.thumbnails.wait_idle()

    qtbot.addWidget(win, before_close_func=finish_tasks)
    return win


@pytest.fixture
def window(qtbot, answers):
    store = Store.open()
    win = _make_window(qtbot, answers, store)
    win.show()
    yield win
    win.store.close()


@pytest.fixture
def photos(window, eczema_photo_paths):
    window.store.import_paths(eczema_photo_paths[:4], SITE)
    window.refresh()
    return window.library_model.photo_ids()  # newest first


def _rows_mask(photo, fraction: float) -> np.ndarray:
    mask = np.zeros((photo.height, photo.width), dtype=bool)
    mask[: int(round(photo.height * fraction))] = True
    return mask


def _analyse(store, pid: int, fraction: float = 0.0, probabilities=None) -> int:
    mask = _rows_mask(store.photo(pid), fraction)
    probs = None if probabilities is None else np.asarray(probabilities, dtype=float)
    return store.record_analysis(
        pid,
        mask=mask,
        lesion_area_fraction=float(mask.mean()),
        features=None,
        feature_source=None,
        probabilities=probs,
        score=None if probs is None else float(probs @ np.arange(4)),
        model_sources={},
        k=2,
    )


def settle(qtbot, win: MainWindow) -> None:
    """Wait until every queued write is stored and shown (writes run in the background)."""
    qtbot.waitUntil(win.settled, timeout=30000)


def _show(qtbot, win: MainWindow, pid: int) -> None:
    with qtbot.waitSignal(win.photoShown, timeout=10000):
        win.open_photo(pid)


def _correct(qtbot, win: MainWindow, pid: int, *, promote: bool) -> None:
    win.open_photo(pid)
    with qtbot.waitSignal(win.prompts.editorOpened, timeout=30000) as opened:
        win.prompts.correct_result_of_current()
    dialog = opened.args[0]
    dialog.option_box.setChecked(promote)
    w, h = dialog.painter.image_size()
    dialog.painter.paint_stroke([(w * 0.2, h * 0.3), (w * 0.8, h * 0.6)])
    with qtbot.waitSignal(win.prompts.maskStored, timeout=30000):  # written off the GUI thread
        assert dialog.save()
    dialog.done(0)


# -- bugs --------------------------------------------------------------------------------------
@pytest.mark.parametrize("promote", [False, True])
def test_bug2_a_correction_stays_after_reanalysis(qtbot, window, photos, promote):
    pid = photos[0]
    _analyse(window.store, pid, 0.1)
    _correct(qtbot, window, pid, promote=promote)
    corrected = window.photo_view.area.text().split("; ")[-1]
    assert corrected.startswith("you painted") and corrected != "you painted 0.0 %"
    _analyse(window.store, pid, 0.0)  # "analyse the out-of-date results again" finds nothing
    window.refresh()
    window.reshow_current()
    # the painted area stays, beside the model's own (never in its place)
    assert window.photo_view.area.text() == f"0.0 % of the photo (the app's result); {corrected}"
    assert "your" in window.photo_view.mask_state.text()
    if not promote:
        assert "your corrected mask" in window.photo_view.mask_state.text()
    point = next(p for p in window.store.timeline(None) if p.photo_id == pid)
    assert point.painted_area_fraction > 0.1 and point.lesion_area_fraction == 0.0


def test_bug3_a_prompt_photo_shows_the_mask_painted(qtbot, window, photos):
    pid = photos[0]
    window.store.set_prompt_mask(pid, _rows_mask(window.store.photo(pid), 0.34))
    _analyse(window.store, pid, 0.0)
    window.refresh()
    _show(qtbot, window, pid)
    area = window.photo_view.area.text()
    assert area == "0.0 % of the photo (the app's result); you painted 34.0 % of the photo"
    assert "your prompt mask" in window.photo_view.mask_state.text()
    assert window.photo_view.details.result_mask is None  # the app's empty result is not drawn
    assert window.photo_view.details.prompt_overlay is not None  # tinted off the GUI thread
    assert window.photo_view.image_view.has_overlay()


def test_bug4_an_empty_mask_is_not_graded(qtbot, window, photos):
    pid = photos[0]
    _analyse(window.store, pid, 0.0, probabilities=[0.1, 0.6, 0.2, 0.1])
    window.refresh()
    _show(qtbot, window, pid)
    text = window.photo_view.severity.text()
    assert NO_ECZEMA_FOUND in text and "mild" not in text and "score" not in text
    assert window.photo_view.probability_box.isHidden()


def test_bug5_the_class_shown_is_the_band_of_the_score(qtbot, window, photos):
    pid = photos[0]
    _analyse(window.store, pid, 0.2, probabilities=[0.3, 0.0, 0.0, 0.7])  # argmax severe
    window.refresh()
    _show(qtbot, window, pid)
    text = window.photo_view.severity.text()
    assert "moderate" in text and "2.10 of 3" in text and "severe" not in text


def test_bug8_dates_are_written_one_way(qtbot, window, photos):
    pid = photos[0]
    _show(qtbot, window, pid)
    when = window.store.photo(pid).taken_datetime
    assert format_day_time(when) in window.photo_view.title.text()


def test_bug8_the_import_filter_lists_every_photo_type_the_app_reads():
    for suffix in imaging.IMAGE_SUFFIXES:
        assert f"*{suffix}" in IMPORT_FILE_FILTER.split(";;")[0]
    assert "*.mpo" in IMPORT_FILE_FILTER and "*.gif" in IMPORT_FILE_FILTER


def test_bug8_site_filter_leaves_no_photo_of_another_site(qtbot, window, photos):
    window.store.update_photo(photos[0], site="face")
    window.refresh()
    _show(qtbot, window, photos[0])
    window.site_filter.setCurrentText(SITE)
    details = window.photo_view.details
    assert details is None or details.site == SITE
    assert window.shown_photo in (None, *window.library_model.photo_ids())


def test_bug8_focus_returns_to_the_main_window_after_the_painter(qtbot, window, photos):
    window.activateWindow()
    window.open_photo(photos[0])
    with qtbot.waitSignal(window.prompts.editorOpened, timeout=30000) as opened:
        window.prompts.paint_prompt_of_current()
    dialog = opened.args[0]
    dialog.activateWindow()
    dialog.painter.setFocus()
    dialog.done(0)
    qtbot.waitUntil(
        lambda: (
            QApplication.focusWidget() is not None and QApplication.focusWidget().window() is window
        ),
        timeout=5000,
    )


# -- fixing mistakes -------------------------------------------------------------------------
def test_delete_key_moves_photos_to_the_bin_and_the_bin_restores_them(qtbot, window, photos):
    window.library.setFocus()
    window.library.select_photo(photos[0])
    window.library.selectionModel().select(
        window.library_model.index_of(photos[1]),
        window.library.selectionModel().SelectionFlag.Select,
    )
    assert set(window.library.selected_photo_ids()) == set(photos[:2])
    assert window.actions_by_name["delete"] in window.library.actions()  # the context menu
    qtbot.keyClick(window.library, Qt.Key.Key_Delete)
    settle(qtbot, window)
    assert window.library_model.photo_ids() == photos[2:]
    assert {p.id for p in window.store.binned_photos()} == set(photos[:2])
    assert window.store.photo_file(photos[0]).is_file()
    dialog = window.show_bin()
    assert dialog.count() == 2
    dialog.select_all()
    dialog.restore_selected()
    settle(qtbot, window)
    assert sorted(window.library_model.photo_ids()) == sorted(photos)
    assert dialog.count() == 0


def test_deleting_a_prompt_photo_asks_first(qtbot, window, answers, photos):
    for pid in photos[:2]:
        window.store.set_prompt_mask(pid, _rows_mask(window.store.photo(pid), 0.2))
    window.refresh()
    window.library.select_photo(photos[0])
    answers.yes = False
    window.actions_by_name["delete"].trigger()
    assert photos[0] in window.library_model.photo_ids()  # declined: nothing happened
    title, text = answers.questions[-1]
    assert "prompt" in text and "1 prompt mask" in text and SITE in text
    answers.yes = True
    window.actions_by_name["delete"].trigger()
    settle(qtbot, window)
    assert photos[0] not in window.library_model.photo_ids()


def test_importing_a_deleted_photo_again_brings_it_back(qtbot, window, answers, photos):
    window.library.select_photo(photos[0])
    window.actions_by_name["delete"].trigger()
    settle(qtbot, window)
    source = window.store.photo_file(photos[0])
    with qtbot.waitSignal(window.importFinished, timeout=30000):
        window.import_paths([str(source)])
    assert photos[0] in window.library_model.photo_ids()
    assert "back in the library" in answers.messages[-1][2]


def test_emptying_the_bin_deletes_the_files(qtbot, window, answers, photos):
    file = window.store.photo_file(photos[0])
    window.library.select_photo(photos[0])
    window.actions_by_name["delete"].trigger()
    settle(qtbot, window)
    dialog = window.show_bin()
    task = dialog.empty_bin()
    with qtbot.waitSignal(task.finished, timeout=20000):
        pass
    assert answers.questions and "cannot be undone" in answers.questions[-1][1]
    assert not file.exists() and dialog.count() == 0


def test_edit_date_site_and_note_from_the_photo_view(qtbot, window, answers, photos):
    pid = photos[-1]
    _show(qtbot, window, pid)
    when = datetime(2025, 3, 4, 9, 30)
    answers.edit = PhotoEdit(taken_at=when, site="Right Wrist", note="after the cream")
    window.photo_view.edit_button.click()
    settle(qtbot, window)
    photo = window.store.photo(pid)
    assert photo.taken_datetime == when and photo.site == "right wrist"
    assert photo.note == "after the cream" and photo.taken_at_source == "user"
    assert format_day_time(when) in window.photo_view.title.text()
    assert "after the cream" in window.photo_view.note.text()
    assert "right wrist" in window.store.sites()
    window.undo()
    settle(qtbot, window)
    assert window.store.photo(pid).site == SITE


def test_multi_select_rate_move_and_undo(qtbot, window, answers, photos):
    window.library.select_photo(photos[0])
    model = window.library.selectionModel()
    for pid in photos[1:3]:
        model.select(window.library_model.index_of(pid), model.SelectionFlag.Select)
    window.library.setFocus()
    qtbot.keyClick(window, "2")
    settle(qtbot, window)
    assert [window.store.rating(p) for p in photos[:3]] == [2, 2, 2]
    assert window.store.rating(photos[3]) is None
    assert window.actions_by_name["undo"].text() == "&Undo rating of 3 photos"
    window.undo()
    settle(qtbot, window)
    assert [window.store.rating(p) for p in photos[:3]] == [None, None, None]
    assert not window.actions_by_name["undo"].isEnabled()
    answers.site = "face"
    window.actions_by_name["move"].trigger()
    settle(qtbot, window)
    assert all(window.store.photo(p).site == "face" for p in photos[:3])
    assert window.store.photo(photos[3]).site == SITE
    qtbot.keyClick(window, "z", Qt.KeyboardModifier.ControlModifier)  # Ctrl+Z
    settle(qtbot, window)
    assert all(window.store.photo(p).site == SITE for p in photos)


def test_multi_select_analyse_takes_every_selected_photo(window, photos, monkeypatch):
    asked = []
    monkeypatch.setattr(window.analysis, "analyse", lambda ids: asked.append(list(ids)))
    window.library.select_photo(photos[0])
    model = window.library.selectionModel()
    model.select(window.library_model.index_of(photos[2]), model.SelectionFlag.Select)
    window.actions_by_name["analyse_selected"].trigger()
    assert sorted(asked[-1]) == sorted([photos[0], photos[2]])


def test_clear_a_rating_and_undo_a_deletion(qtbot, window, photos):
    pid = photos[0]
    _show(qtbot, window, pid)
    window.photo_view.rating_buttons[3].click()
    settle(qtbot, window)
    assert window.store.rating(pid) == 3
    window.photo_view.clear_rating_button.click()
    settle(qtbot, window)
    assert window.store.rating(pid) is None
    window.undo()
    settle(qtbot, window)
    assert window.store.rating(pid) == 3
    window.library.select_photo(pid)
    window.actions_by_name["delete"].trigger()
    settle(qtbot, window)
    assert pid not in window.library_model.photo_ids()
    assert window.shown_photo is None  # a deleted photo leaves the photo view
    window.undo()
    settle(qtbot, window)
    assert pid in window.library_model.photo_ids()
    assert window.shown_photo == pid  # and comes back on screen with Ctrl+Z


def test_undo_a_mask_save(qtbot, window, photos):
    pid = photos[0]
    window.open_photo(pid)
    with qtbot.waitSignal(window.prompts.editorOpened, timeout=30000) as opened:
        window.prompts.paint_prompt_of_current()
    dialog = opened.args[0]
    w, h = dialog.painter.image_size()
    dialog.painter.paint_stroke([(w * 0.3, h * 0.4), (w * 0.6, h * 0.5)])
    with qtbot.waitSignal(window.prompts.maskStored, timeout=30000):  # written off the GUI thread
        assert dialog.save()
    dialog.done(0)
    assert window.store.photo(pid).is_prompt
    window.undo()
    settle(qtbot, window)
    assert not window.store.photo(pid).is_prompt


def test_rename_a_site(qtbot, window, photos):
    window.photo_actions.rename_site(SITE, "Left forearm")
    settle(qtbot, window)
    assert window.store.sites() == ["left forearm"]
    assert window.site_filter.findText("left forearm") >= 0
    window.undo()
    settle(qtbot, window)
    assert window.store.sites() == [SITE]


def test_backup_and_restore_from_the_app(qtbot, window, answers, photos, tmp_path):
    answers.file = str(tmp_path / "backup.zip")
    task = window.backup.export_dialog()
    with qtbot.waitSignal(task.finished, timeout=60000):
        pass
    assert (tmp_path / "backup.zip").is_file()
    assert "Backup saved" in [t for _, t, _ in answers.messages]
    window.library.select_photo(photos[0])
    window.actions_by_name["delete"].trigger()
    settle(qtbot, window)
    window.store.empty_bin()
    window.refresh()
    assert len(window.library_model.photo_ids()) == 3
    task = window.backup.restore_dialog()
    with qtbot.waitSignal(task.finished, timeout=60000):
        pass
    assert answers.messages[-1][1] == "Library restored", answers.messages[-1]
    assert any("replace" in text for _, text in answers.questions)
    assert sorted(window.library_model.photo_ids()) == sorted(photos)
    assert not window.store.readonly and window.state.store is window.store
    folder = window.store.data_dir
    kept = next(folder.parent.glob(f"{folder.name}-replaced-*.zip"))
    assert str(kept) in answers.messages[-1][2]  # the message says where the old library is
    thumbs = [folder / thumbnail_name(window.store.photo(p).sha256) for p in photos]
    qtbot.waitUntil(lambda: all(t.is_file() for t in thumbs), timeout=20000)
    qtbot.waitUntil(lambda: quick_check_store(folder).healthy, timeout=20000)


def test_restore_from_the_app_says_which_files_the_backup_lacked(
    qtbot, window, answers, photos, tmp_path
):
    lost = window.store.photo_file(photos[0])
    lost.unlink()  # a photo file gone behind the app's back before the backup
    answers.file = str(tmp_path / "backup.zip")
    with qtbot.waitSignal(window.backup.export_dialog().finished, timeout=60000):
        pass
    with qtbot.waitSignal(window.backup.restore_dialog().finished, timeout=60000):
        pass
    kind, title, text = answers.messages[-1]
    assert (kind, title) == ("warning", "Library restored"), answers.messages[-1]
    assert "1 file(s) were missing from the backup" in text
    assert sorted(window.library_model.photo_ids()) == sorted(photos)  # every record kept


# -- layout, help, store check ---------------------------------------------------------------
def test_at_1024_by_640_the_photo_gets_the_widest_pane(qtbot, window, photos):
    window.resize(1024, 640)
    _show(qtbot, window, photos[0])
    qtbot.waitUntil(lambda: window.width() <= 1100)
    QApplication.processEvents()
    photo = window.photo_view.image_view.width()
    assert photo > window.library_stack.width(), (photo, window.library_stack.width())
    assert photo > window.photo_view.side_panel.width()
    assert window.library_stack.width() >= 150 and window.photo_view.side_panel.width() >= 200


def test_the_layout_is_remembered(qtbot, answers, photos, window):
    window.resize(1200, 800)
    window.splitter.setSizes([200, 1000])
    QApplication.processEvents()
    sizes = window.splitter.sizes()
    window.save_layout()
    again = _make_window(qtbot, answers, window.store)
    again.resize(1200, 800)
    again.show()
    QApplication.processEvents()
    assert abs(again.splitter.sizes()[0] - sizes[0]) <= 20


def test_help_menu_opens_the_three_pages(window, monkeypatch):
    help_dialog = pytest.importorskip("eczema_tracker.gui.dialogs.help_dialog")
    pages = []
    monkeypatch.setattr(help_dialog, "show_help", lambda parent, page: pages.append(page))
    for name in ("help_how", "help_shortcuts", "help_legend"):
        window.actions_by_name[name].trigger()
    assert pages == ["how-it-works", "shortcuts", "legend"]


def test_store_problems_found_on_open_are_said(qtbot, answers, tmp_path, eczema_photo_paths):
    with Store.open(tmp_path / "s") as s:
        pid = s.import_paths(eczema_photo_paths[:1])[0].photo_id
        s.photo_file(pid).unlink()
    store = Store.open(tmp_path / "s")
    assert not store.check.ok
    win = _make_window(qtbot, answers, store)
    try:
        text = win.statusBar().currentMessage()
        assert "1 photo" in text and "missing" in text
    finally:
        store.close()


def test_the_quick_check_on_open_finds_a_file_cut_short(
    qtbot, answers, tmp_path, eczema_photo_paths
):
    with Store.open(tmp_path / "s") as s:
        pid = s.import_paths(eczema_photo_paths[:1])[0].photo_id
        path = s.photo_file(pid)
        path.write_bytes(path.read_bytes()[:1000])  # still there, but cut short
    store = Store.open(tmp_path / "s")
    assert store.check.ok  # the open-time check looks only for missing files
    win = _make_window(qtbot, answers, store)
    try:
        with qtbot.waitSignal(win.quick_check_task.finished, timeout=20000):
            pass
        text = win.statusBar().currentMessage()
        assert text.startswith("Library check:") and f"Photo {pid}" in text, text
        assert "--repair" not in text  # the command line stays in the tooltip
    finally:
        store.close()


def test_photo_edit_dialog_reports_only_what_changed(qtbot):
    from datetime import timedelta, timezone

    from eczema_tracker.gui.photo_edit import PhotoEditDialog

    taken = datetime(2025, 5, 6, 7, 8, tzinfo=timezone(timedelta(hours=2)))
    dialog = PhotoEditDialog(taken_at=taken, site=SITE, note="", sites=[SITE, "face"])
    qtbot.addWidget(dialog)
    assert dialog.edit() == PhotoEdit()  # nothing changed: nothing to write
    dialog.site.setCurrentText("face")
    dialog.note.setPlainText("itchy")
    dialog.when.setDateTime(dialog.when.dateTime().addDays(1))
    edit = dialog.edit()
    assert edit.site == "face" and edit.note == "itchy"
    assert edit.taken_at == taken + timedelta(days=1) and edit.taken_at.utcoffset() == timedelta(
        hours=2
    )


def test_a_rating_key_moves_on_to_the_next_unrated_photo(qtbot, window, photos):
    window.store.rate(photos[1], 1)  # rated before: skipped over
    window.refresh()
    window.library.select_photo(photos[0])
    window.library.setFocus()
    qtbot.keyClick(window.library, "2")
    assert window.library.selected_photo_ids() == [photos[2]]  # at once, before it is stored
    settle(qtbot, window)
    assert window.shown_photo == photos[2]
    first = window.store.photo(photos[0])
    assert window.statusBar().currentMessage() == (
        f"Rating 2 (moderate) for the '{SITE}' photo of "
        f"{format_day_time(first.taken_datetime)}. Ctrl+Z undoes it."
    )
    qtbot.keyClick(window.library, "3")  # keyed quickly: the next one waits to be stored
    qtbot.keyClick(window.library, "0")
    assert window.library.selected_photo_ids() == [photos[3]]  # none unrated left: stays
    settle(qtbot, window)
    assert [window.store.rating(p) for p in photos] == [2, 1, 3, 0]
    assert window.library.selected_photo_ids() == [photos[3]]


def test_a_long_status_message_is_cut_short_beside_the_running_task(qtbot, window):
    import threading

    window.resize(1280, 720)
    release = threading.Event()
    task = BackgroundTask(window, lambda _p, _c: release.wait(20)).with_progress(
        "Training your severity model"
    )
    task.run()
    long = "Personal severity model trained and in use. " + (
        "It agreed with you on 7 of 8 photos, checked on photos the model did not learn from. " * 3
    )
    try:
        window.status(long)
        bar, progress = window.statusBar(), window.task_progress
        qtbot.waitUntil(lambda: progress.isVisible() and bar.message.isVisible())
        qtbot.waitUntil(lambda: bar.message.geometry().right() < progress.geometry().left())
        assert bar.message.text().endswith("…") and bar.message.toolTip() == long.strip()
        assert bar.currentMessage() == long.strip()
        window.status("Rating 2 (moderate) for 1 photo.")  # replaces it, whole
        assert bar.message.text() == "Rating 2 (moderate) for 1 photo."
    finally:
        release.set()
        qtbot.waitUntil(lambda: task.done, timeout=20000)


def test_not_enough_ratings_names_the_photos_to_rate(qtbot, window, photos):
    for day, pid in enumerate(photos):  # newest first, one day apart
        window.store.update_photo(pid, taken_at=datetime(2026, 11, 20 - day, 9, 30))
    window.refresh()
    for pid in photos[:3]:  # analysed with features; photos[3] is not analysed
        photo = window.store.photo(pid)
        window.store.record_analysis(
            pid,
            mask=_rows_mask(photo, 0.1),
            lesion_area_fraction=0.1,
            features=np.ones(8, dtype=np.float32),
            feature_source="tiny-test-backbone",
            probabilities=None,
            score=None,
            model_sources={},
            k=2,
        )
    window.store.rate(photos[0], 1)
    said = []
    window.show_message = lambda kind, title, text, details="", action=None: said.append(
        (title, text, action)
    )
    window.actions_by_name["train"].trigger()
    title, text, action = said[-1]
    assert title == "Not enough ratings yet" and "rate 7 more analysed photos" in text
    for pid in photos[1:3]:
        when = format_day_time(window.store.photo(pid).taken_datetime)
        assert f"the '{SITE}' photo of {when}" in text
    unanalysed = format_day_time(window.store.photo(photos[3]).taken_datetime)
    assert unanalysed not in text
    with qtbot.waitSignal(window.photoShown, timeout=10000):
        action[1]()  # "Show it": the first of them
    assert window.shown_photo == photos[1]
