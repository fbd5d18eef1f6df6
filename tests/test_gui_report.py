"""File ▸ Report for my doctor…: the dialog's choices and checks, and a report built in the
background from the main window (pytest-qt, offscreen)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QWidget

from eczema_tracker.gui.report.dialog import ReportDialog
from eczema_tracker.gui.report.flow import ReportFlow, show_report_dialog, suggested_file_name
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.store import Store
from tests.report_support import NAME, SITES, populate


class Host(QWidget):
    """What the flow needs of the main window: the store and a way to tell the person."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.messages: list[tuple[str, str, str]] = []

    def show_message(self, kind: str, title: str, text: str) -> None:
        self.messages.append((kind, title, text))


@pytest.fixture
def window(qtbot, tmp_path):
    store = Store.open(tmp_path / "store")
    info = populate(store, tmp_path / "photos", photos_per_site=3)
    host = Host(store)
    qtbot.addWidget(host)
    host.show()
    yield host, info
    for task in list(BackgroundTask._running):
        task.cancel()
    qtbot.waitUntil(lambda: not BackgroundTask._running, timeout=30000)
    store.close()


def test_dialog_defaults_to_the_last_three_months_and_every_site(qtbot):
    today = date(2026, 12, 15)
    dialog = ReportDialog(["left arm", "face"], today=today, paper="letter")
    qtbot.addWidget(dialog)
    request = dialog.request()
    assert (request.from_day, request.to_day) == (date(2026, 9, 16), today)
    assert request.sites == () and request.paper == "letter" and request.name == ""
    dialog.set_last(0)
    assert dialog.request().from_day == today - timedelta(days=27)


def test_dialog_refuses_a_backwards_range_and_no_site(qtbot):
    dialog = ReportDialog(["left arm", "face"], today=date(2026, 11, 30))
    qtbot.addWidget(dialog)
    assert dialog.ok_button.isEnabled()
    dialog.from_edit.setDate(QDate(2026, 12, 1))
    dialog.to_edit.setDate(QDate(2026, 11, 1))
    assert not dialog.ok_button.isEnabled() and "after the last day" in dialog.problem_text()
    dialog.set_range(date(2026, 10, 1), date(2026, 11, 1))
    dialog.set_sites([])
    assert not dialog.ok_button.isEnabled() and "body site" in dialog.problem_text()
    dialog.site_list.item(1).setCheckState(Qt.CheckState.Checked)
    assert dialog.ok_button.isEnabled()
    assert dialog.request().sites == ("face",)


def test_report_is_built_in_the_background_from_the_menu_flow(qtbot, window, tmp_path, monkeypatch):
    win, info = window
    target = tmp_path / "for the doctor"  # no suffix: .pdf is added
    asked: list[str] = []
    opened: list[object] = []

    def save_path(_flow: ReportFlow, suggested: str) -> str:
        asked.append(suggested)
        return str(target)

    monkeypatch.setattr(ReportFlow, "ask_save_path", save_path)
    monkeypatch.setattr(ReportFlow, "ask_open", lambda self, written: True)
    monkeypatch.setattr(ReportFlow, "open_file", lambda self, path: opened.append(path))
    dialog = show_report_dialog(win)
    assert dialog is not None and dialog.isVisible()
    assert dialog.checked_sites() == sorted(SITES)
    dialog.set_range(info["from"], info["to"])
    dialog.set_sites(["left arm"])
    qtbot.keyClicks(dialog.name_edit, NAME)
    flow = win.findChild(ReportFlow, "report-flow")
    with qtbot.waitSignal(flow.reportWritten, timeout=30000) as written:
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    pdf = tmp_path / "for the doctor.pdf"
    assert written.args[0].path == pdf and opened == [pdf]
    assert asked == [suggested_file_name(dialog.request())]
    text = "\n".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert NAME in text and "left arm" in text and "right knee crease" not in text
    assert show_report_dialog(win) is not None
    assert len(win.findChildren(ReportFlow)) == 1  # one flow per window


def test_a_cancelled_report_writes_nothing(qtbot, window, tmp_path):
    win, info = window
    from eczema_tracker.app.report.request import check_request

    flow = ReportFlow(win)
    out = tmp_path / "out"
    out.mkdir()
    task = flow.build(check_request(info["from"], info["to"]), out / "r.pdf")
    task.cancel()
    qtbot.waitUntil(lambda: task.done, timeout=30000)
    assert list(out.iterdir()) == []
    assert not [m for m in win.messages if m[0] == "error"]


def test_the_main_window_makes_a_report(qtbot, tmp_path, monkeypatch):
    from tests.widgets_dialogs_support import open_window

    win, _scripted = open_window(qtbot)
    try:
        info = populate(win.store, tmp_path / "photos", photos_per_site=2)
        monkeypatch.setattr(ReportFlow, "ask_save_path", lambda _f, _s: str(tmp_path / "r.pdf"))
        monkeypatch.setattr(ReportFlow, "ask_open", lambda _f, _w: False)
        dialog = show_report_dialog(win)
        assert dialog is not None and dialog.parent() is win
        dialog.set_range(info["from"], info["to"])
        flow = win.findChild(ReportFlow, "report-flow")
        assert flow is not None
        with qtbot.waitSignal(flow.reportWritten, timeout=30000):
            dialog.accept()
        assert "POEM" in PdfReader(tmp_path / "r.pdf").pages[0].extract_text()
    finally:
        for task in list(BackgroundTask._running):
            task.cancel()
        qtbot.waitUntil(lambda: not BackgroundTask._running, timeout=30000)
        win.store.close()


def _accept_dialog(qtbot, win, info) -> None:
    dialog = show_report_dialog(win)
    assert dialog is not None
    dialog.set_range(info["from"], info["to"])
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def test_a_target_inside_the_store_is_refused_in_plain_words(qtbot, window, monkeypatch):
    win, info = window
    database = win.store.data_dir / "store.sqlite3"
    before = database.read_bytes()
    monkeypatch.setattr(ReportFlow, "ask_save_path", lambda _f, _s: str(database))
    _accept_dialog(qtbot, win, info)
    qtbot.waitUntil(lambda: bool(win.messages), timeout=10000)
    kind, title, text = win.messages[-1]
    assert kind == "warning" and "inside the photo store" in text and "\n" not in text
    assert not BackgroundTask._running
    assert database.read_bytes() == before


@pytest.mark.parametrize("replace", [False, True])
def test_a_name_the_dialog_did_not_ask_about_is_replaced_only_after_a_question(
    qtbot, window, tmp_path, monkeypatch, replace
):
    win, info = window
    existing = tmp_path / "for the doctor.pdf"
    existing.write_bytes(b"the old report")
    asked: list[Path] = []

    def ask_replace(_flow: ReportFlow, path: Path) -> bool:
        asked.append(path)
        return replace

    monkeypatch.setattr(
        ReportFlow, "ask_save_path", lambda _f, _s: str(tmp_path / "for the doctor")
    )
    monkeypatch.setattr(ReportFlow, "ask_replace", ask_replace)
    monkeypatch.setattr(ReportFlow, "ask_open", lambda _f, _w: False)
    flow = ReportFlow(win)
    flow.setObjectName("report-flow")
    if replace:
        with qtbot.waitSignal(flow.reportWritten, timeout=30000):
            _accept_dialog(qtbot, win, info)
        assert existing.read_bytes()[:5] == b"%PDF-"
    else:
        _accept_dialog(qtbot, win, info)
        qtbot.waitUntil(lambda: bool(asked), timeout=10000)
        assert existing.read_bytes() == b"the old report" and not BackgroundTask._running
    assert asked == [existing]


def test_the_dialog_opened_from_the_flow_spans_the_record_not_a_fixed_window(qtbot, window):
    """Issue 23: a fixed last-3-months left most of a longer record's charts empty; a recent
    record's range starts at its first day (the populated record starts in the past)."""
    win, info = window
    first = win.store.first_recorded_day()
    assert first is not None and first <= info["from"]
    dialog = ReportFlow(win).start()
    qtbot.addWidget(dialog)
    request = dialog.request()
    expected = max(first, date.today() - timedelta(days=364))
    assert (request.from_day, request.to_day) == (expected, date.today())
