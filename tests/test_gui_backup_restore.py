"""Issue 25, restore from the GUI: the file dialogs open where the last backup went, and before
a restore replaces the library the person may save a backup of it first (three-way question).

The store's export and restore run for real (in the background, as in the app); only the file
dialogs are answered by the test (their static functions are replaced), except where the
question box itself is under test: there real keys answer it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from widgets_dialogs_support import fill_store, open_window

from eczema_tracker.app.settings import Settings
from eczema_tracker.gui import window_questions
from eczema_tracker.store import Store

WAIT_MS = 60000


class FileDialogs:
    """Stands in for ``QFileDialog``'s static functions: records the folder each one opened
    in and answers with the next file name given."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened_in: list[tuple[str, Path]] = []
        self.answers: list[str] = []
        monkeypatch.setattr(window_questions.QFileDialog, "getSaveFileName", self._save)
        monkeypatch.setattr(window_questions.QFileDialog, "getOpenFileName", self._open)

    def _answer(self, kind: str, folder: Path) -> tuple[str, str]:
        self.opened_in.append((kind, folder))
        return (self.answers.pop(0) if self.answers else "", "")

    def _save(self, _parent, _caption, suggested, _filter):
        return self._answer("save", Path(suggested).parent)

    def _open(self, _parent, _caption, folder, _filter):
        return self._answer("open", Path(folder))


@pytest.fixture
def window(qtbot, tmp_path):
    win, scripted = open_window(qtbot)
    ids = fill_store(win.store, tmp_path / "photos", 3)
    win.refresh()
    yield win, scripted, ids
    qtbot.waitUntil(lambda: not win.session.busy, timeout=WAIT_MS)
    win.store.close()


def _save_backup(qtbot, win, dialogs: FileDialogs, target: Path) -> None:
    dialogs.answers.append(str(target))
    with qtbot.waitSignal(win.backup.export_dialog().finished, timeout=WAIT_MS):
        pass
    assert target.is_file()


def test_the_restore_dialog_opens_where_the_last_backup_was_saved(
    qtbot, window, tmp_path, monkeypatch
):
    win, scripted, _ids = window
    dialogs = FileDialogs(monkeypatch)
    folder = tmp_path / "usb stick"
    folder.mkdir()
    _save_backup(qtbot, win, dialogs, folder / "backup.zip")
    assert dialogs.opened_in[0] == ("save", Path.home())  # nothing remembered yet
    assert win.ask_restore_file() is None  # cancelled
    assert dialogs.opened_in[-1] == ("open", folder)
    assert Settings.load().last_backup_folder == str(folder)  # kept for the next start
    # the next backup is offered in the same folder, under today's date
    win.ask_backup_file()
    assert dialogs.opened_in[-1] == ("save", folder)


def test_the_folder_of_a_restored_backup_is_remembered(qtbot, window, tmp_path, monkeypatch):
    win, scripted, _ids = window
    dialogs = FileDialogs(monkeypatch)
    saved, other = tmp_path / "saved", tmp_path / "elsewhere"
    saved.mkdir()
    other.mkdir()
    _save_backup(qtbot, win, dialogs, saved / "backup.zip")
    (saved / "backup.zip").rename(other / "moved.zip")
    dialogs.answers.append(str(other / "moved.zip"))
    with qtbot.waitSignal(win.backup.restored, timeout=WAIT_MS):
        win.backup.restore_dialog()
    win.ask_restore_file()
    assert dialogs.opened_in[-1] == ("open", other)


def test_a_remembered_folder_that_is_gone_opens_the_home_folder(qtbot, window, tmp_path):
    win, _scripted, _ids = window
    win.settings.last_backup_folder = str(tmp_path / "unplugged")
    assert win._backup_folder() == Path.home()


def test_back_up_first_saves_the_library_then_restores(qtbot, window, tmp_path, monkeypatch):
    win, scripted, ids = window
    dialogs = FileDialogs(monkeypatch)
    old = tmp_path / "old.zip"
    _save_backup(qtbot, win, dialogs, old)  # 3 photos
    fill_store(win.store, tmp_path / "more", 2, seed=1)  # the library grows to 5
    win.refresh()
    scripted.replace_answer = "backup"
    safety = tmp_path / "safety.zip"
    dialogs.answers += [str(old), str(safety)]  # restore from, then back up to
    with qtbot.waitSignal(win.backup.restored, timeout=WAIT_MS):
        win.backup.restore_dialog()
    assert [kind for kind, _ in dialogs.opened_in[-2:]] == ["open", "save"]
    assert len(win.store.photos()) == 3  # the restored library
    # the safety backup holds the library as it was just before: 5 photos
    check = tmp_path / "check"
    from eczema_tracker.store.backup.restore import restore_store

    restore_store(safety, check)
    with Store.open(check, readonly=True) as kept:
        assert len(kept.photos()) == 5
    kind, title, text = scripted.messages[-1]
    assert title == "Library restored" and str(safety) in text
    title, question = scripted.questions[-1]
    assert "dated zip beside the library folder" in question


def test_back_up_first_then_no_file_chosen_restores_nothing(qtbot, window, tmp_path, monkeypatch):
    win, scripted, ids = window
    dialogs = FileDialogs(monkeypatch)
    _save_backup(qtbot, win, dialogs, tmp_path / "old.zip")
    win.store.move_to_bin([ids[0]])
    scripted.replace_answer = "backup"
    dialogs.answers += [str(tmp_path / "old.zip"), ""]  # the backup's file dialog cancelled
    assert win.backup.restore_dialog() is None
    assert len(win.store.photos()) == 2 and win.store.binned_photos()  # untouched


def test_cancel_at_the_question_restores_nothing(qtbot, window, tmp_path, monkeypatch):
    win, scripted, ids = window
    dialogs = FileDialogs(monkeypatch)
    _save_backup(qtbot, win, dialogs, tmp_path / "old.zip")
    win.store.move_to_bin([ids[0]])
    scripted.replace_answer = None
    dialogs.answers.append(str(tmp_path / "old.zip"))
    assert win.backup.restore_dialog() is None
    assert len(win.store.photos()) == 2 and len(dialogs.opened_in) == 2  # no backup asked


def test_a_library_holding_only_a_record_is_not_replaced_unasked(qtbot, tmp_path, monkeypatch):
    """Before: only photos were counted, so a library of check-ins and no photos was replaced
    without a question."""
    win, scripted = open_window(qtbot)
    dialogs = FileDialogs(monkeypatch)
    _save_backup(qtbot, win, dialogs, tmp_path / "empty.zip")
    win.store.set_daily(date.today(), itch=5, sleep_loss=3)
    scripted.replace_answer = None
    dialogs.answers.append(str(tmp_path / "empty.zip"))
    assert win.backup.restore_dialog() is None
    assert "1 day of check-ins" in scripted.questions[-1][1]
    assert win.store.day_entry(date.today()).daily is not None
    win.store.close()


def _answer_box_with(qtbot, key: Qt.Key, seen: list[str]) -> None:
    """Once the question box is up, read it and press ``key`` in it (a person's key)."""

    def press() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, press)
            return
        seen.append(box.text())
        seen.extend(b.text() for b in box.buttons())
        qtbot.keyClick(box, key)

    QTimer.singleShot(0, press)


@pytest.mark.parametrize(
    ("key", "expected"), [(Qt.Key.Key_Return, "backup"), (Qt.Key.Key_Escape, None)]
)
def test_the_question_offers_three_ways_and_backs_up_by_default(qtbot, key, expected):
    win, _scripted = open_window(qtbot)
    del win.ask_replace_library  # the window's own question box
    seen: list[str] = []
    _answer_box_with(qtbot, key, seen)
    assert win.ask_replace_library("Restoring replaces everything…") == expected
    assert seen[0] == "Restoring replaces everything…"
    assert {"Back up first…", "Replace now", "Cancel"} <= {s.replace("&", "") for s in seen[1:]}
    win.store.close()


def test_back_up_first_never_saves_over_the_backup_being_restored(
    qtbot, window, tmp_path, monkeypatch
):
    """A backup saved earlier today has the name the save dialog used to suggest: accepting
    the suggestion replaced the very backup being restored with the current library."""
    win, scripted, ids = window
    dialogs = FileDialogs(monkeypatch)
    folder = tmp_path / "backups"
    folder.mkdir()
    old = folder / f"eczema-tracker-backup-{date.today().isoformat()}.zip"
    _save_backup(qtbot, win, dialogs, old)  # 3 photos
    fill_store(win.store, tmp_path / "more", 2, seed=1)  # the library grows to 5
    win.refresh()
    suggested: list[str] = []
    save = window_questions.QFileDialog.getSaveFileName
    monkeypatch.setattr(
        window_questions.QFileDialog,
        "getSaveFileName",
        lambda *args: (suggested.append(args[2]), save(*args))[1],
    )
    scripted.replace_answer = "backup"
    safety = folder / "safety.zip"
    # restore from the old backup; "Back up first…" onto it (refused, asked again), then elsewhere
    dialogs.answers += [str(old), str(folder / "." / old.name), str(safety)]
    with qtbot.waitSignal(win.backup.restored, timeout=WAIT_MS):
        win.backup.restore_dialog()
    assert len(win.store.photos()) == 3  # the backup restored is the one made earlier
    assert [title for _, title, _ in scripted.messages[-2:]] == [
        "Choose another file",
        "Library restored",
    ]
    assert len(suggested) == 2
    assert all(Path(s).name.startswith("eczema-tracker-before-restore-") for s in suggested)
    assert Path(suggested[0]).name != old.name
