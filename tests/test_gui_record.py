"""The patient's record in the GUI: check-in by keys, treatments and courses, today's numbers,
flares and notes, and the timeline that shows them (pytest-qt, offscreen)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import matplotlib.dates as mdates
import pytest
from PySide6.QtCore import QDate, QPoint, Qt
from PySide6.QtWidgets import QApplication
from widgets_dialogs_support import fill_store, open_window, record_analysis

from eczema_tracker.app.changes import OpResult, StoreChanges
from eczema_tracker.app.timeline.figure import (
    CourseBar,
    DailyPoint,
    DayMarkPoint,
    PoemPoint,
    SiteSeries,
    TimelineData,
)
from eczema_tracker.core.poem import POEM_ATTRIBUTION, POEM_QUESTIONS
from eczema_tracker.gui.record.checkin_dialog import CheckinDialog
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.timeline.view import TimelineView

TODAY = date.today()
WAIT_MS = 15000  # background writes on a machine shared with other work


@pytest.fixture
def window(qtbot):
    win, scripted = open_window(qtbot)
    yield win, scripted
    qtbot.waitUntil(lambda: not win.session.busy, timeout=WAIT_MS)
    win.store.close()


def _type(qtbot, keys: str) -> None:
    """Type like a person: each key goes to the widget with the focus."""
    for key in keys:
        qtbot.keyClick(QApplication.focusWidget(), key)


def _focused(qtbot, dialog) -> None:
    """Wait until the dialog has the keyboard (as it has for a person once it opens)."""
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: dialog.isActiveWindow(), timeout=WAIT_MS)


def _key(qtbot, key: Qt.Key) -> None:
    qtbot.keyClick(QApplication.focusWidget(), key)


def _line(ax, gid: str):
    return next(line for line in ax.get_lines() if line.get_gid() == gid)


def _gids(ax) -> dict[str, int]:
    found: dict[str, int] = {}
    for artist in [*ax.get_lines(), *ax.patches]:
        if artist.get_gid():
            found[artist.get_gid()] = found.get(artist.get_gid(), 0) + 1
    return found


# -- check-in --------------------------------------------------------------------------------
def test_checkin_filled_with_keys_only_is_saved_and_scored(qtbot, window):
    win, _ = window
    dialog = win.record.open_checkin()
    _focused(qtbot, dialog)
    assert dialog.date_edit.date() == QDate(TODAY.year, TODAY.month, TODAY.day)
    assert dialog.date_edit.maximumDate() == dialog.date_edit.date()  # not in the future
    _type(qtbot, "1203412")  # one digit per question; focus moves on by itself
    assert dialog.answers() == (1, 2, 0, 3, 4, 1, 2)
    assert "POEM 13/28: moderate" in dialog.score_text()
    _type(qtbot, "5")  # after the last question: the itch number
    _key(qtbot, Qt.Key.Key_Tab)
    _type(qtbot, "2")
    _key(qtbot, Qt.Key.Key_Return)  # Enter saves
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: len(win.store.checkins()) == 1, timeout=WAIT_MS)
    checkin = win.store.checkins()[0]
    assert checkin.day == TODAY and checkin.answers == (1, 2, 0, 3, 4, 1, 2)
    assert (checkin.total, checkin.band) == (13, "moderate")
    qtbot.waitUntil(lambda: win.store.day_entry(TODAY).daily is not None, timeout=WAIT_MS)
    daily = win.store.day_entry(TODAY).daily
    assert (daily.itch, daily.sleep_loss) == (5, 2)
    qtbot.waitUntil(lambda: win.record.daily_row.values() == (5, 2), timeout=WAIT_MS)  # the row


def test_checkin_shows_the_instrument_and_its_attribution(qtbot):
    dialog = CheckinDialog(today=TODAY)
    qtbot.addWidget(dialog)
    texts = " ".join(label.text() for label in dialog.findChildren(type(dialog.score_label)))
    for question in POEM_QUESTIONS:
        assert question in texts
    assert POEM_ATTRIBUTION in texts and "University of Nottingham" in texts
    night_row = dialog.rows[1]
    assert [b.text() for b in night_row.buttons][0] == "No nights"
    assert [b.text() for b in dialog.rows[0].buttons] == [
        "No days", "1–2 days", "3–4 days", "5–6 days", "Every day"
    ]  # fmt: skip


def test_missing_answer_rule_is_shown_and_applied(qtbot, window):
    win, _ = window
    dialog = win.record.open_checkin()
    _focused(qtbot, dialog)
    _type(qtbot, "444")
    _key(qtbot, Qt.Key.Key_Down)  # question 4 left blank
    _type(qtbot, "444")
    assert dialog.answers() == (4, 4, 4, None, 4, 4, 4)
    text = dialog.score_text()
    assert "POEM 24/28: severe" in text and "one unanswered question is counted as 0" in text
    assert dialog.itch.hasFocus()  # after the last question: the itch number
    _key(qtbot, Qt.Key.Key_Backtab)  # back to question 7 ...
    _key(qtbot, Qt.Key.Key_Up)
    _key(qtbot, Qt.Key.Key_Backspace)  # ... 6, cleared
    assert dialog.answers() == (4, 4, 4, None, 4, None, 4)
    assert "Not scored: 2 of 7 questions are unanswered" in dialog.score_text()
    assert dialog.save_button.isEnabled()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(win.store.checkins()) == 1, timeout=WAIT_MS)
    stored = win.store.checkins()[0]
    assert stored.total is None and stored.answers == (4, 4, 4, None, 4, None, 4)


def test_checkin_on_an_earlier_date_with_flare_and_note(qtbot, window):
    win, _ = window
    earlier = TODAY - timedelta(days=3)
    dialog = win.record.open_checkin()
    _focused(qtbot, dialog)
    dialog.date_edit.setDate(QDate(TODAY.year + 1, 1, 1))  # the future: held at today
    assert dialog.values().day == TODAY
    dialog.date_edit.setDate(QDate(earlier.year, earlier.month, earlier.day))
    assert dialog.values().day == earlier
    dialog.flare.setChecked(True)
    qtbot.keyClicks(dialog.note, "after the beach")
    dialog.rows[0].take_focus()
    _type(qtbot, "0000000")
    _key(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.store.day_entry(earlier).mark is not None, timeout=WAIT_MS)
    mark = win.store.day_entry(earlier).mark
    assert mark.flare and mark.note == "after the beach"
    assert win.store.checkins()[0].total == 0 and win.store.checkins()[0].band == (
        "clear or almost clear"
    )


def test_nothing_entered_cannot_be_saved(qtbot):
    dialog = CheckinDialog(today=TODAY)
    qtbot.addWidget(dialog)
    assert not dialog.save_button.isEnabled()
    assert "Answer the questions" in dialog.score_text()


# -- treatments ------------------------------------------------------------------------------
def test_treatment_and_course_added_through_the_dialog(qtbot, window):
    win, scripted = window
    dialog = win.record.open_treatments()
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.name, "Hydrocortisone 1% cream")
    dialog.kind.setCurrentIndex(dialog.kind.findData("topical_corticosteroid"))
    assert dialog.potency.isEnabled()
    dialog.potency.setCurrentIndex(dialog.potency.findData("mild"))
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(dialog.treatments()) == 1, timeout=WAIT_MS)
    treatment = win.store.treatments()[0]
    assert (treatment.name, treatment.kind, treatment.potency) == (
        "Hydrocortisone 1% cream", "topical_corticosteroid", "mild"
    )  # fmt: skip
    assert dialog.current_treatment().id == treatment.id  # selected for its courses
    start = TODAY - timedelta(days=10)
    dialog.start.setDate(QDate(start.year, start.month, start.day))
    dialog.times.setValue(2)
    qtbot.mouseClick(dialog.add_course_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=WAIT_MS)
    course = win.store.courses(treatment.id)[0]
    assert (course.start, course.end, course.times_a_day) == (start, None, 2)
    assert dialog.table.item(0, 1).text() == "ongoing"

    # ending it before it starts is refused, with a clear message, and nothing changes
    dialog.table.setCurrentCell(0, 0)
    dialog.ended.setChecked(True)
    before = start - timedelta(days=2)
    dialog.end.setDate(QDate(before.year, before.month, before.day))
    qtbot.mouseClick(dialog.end_course_button, Qt.MouseButton.LeftButton)
    assert "can't end before it starts" in dialog.message.text()
    assert win.store.courses(treatment.id)[0].end is None
    dialog.start.setDate(QDate(start.year, start.month, start.day))
    qtbot.mouseClick(dialog.add_course_button, Qt.MouseButton.LeftButton)  # a new one, too
    assert "can't end before it starts" in dialog.message.text()
    assert len(win.store.courses(treatment.id)) == 1

    # ended properly
    end = start + timedelta(days=5)
    dialog.end.setDate(QDate(end.year, end.month, end.day))
    qtbot.mouseClick(dialog.end_course_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.store.courses(treatment.id)[0].end == end, timeout=WAIT_MS)

    # delete asks, and says the courses go with it
    scripted.yes = False
    dialog._ask = lambda _parent, title, text: scripted._ask(title, text)
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    assert "1 course" in scripted.questions[-1][1]
    assert len(win.store.treatments()) == 1
    scripted.yes = True
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    # the dialog's list follows once the session tells it the write landed
    qtbot.waitUntil(lambda: not win.store.treatments() and not dialog.treatments(), timeout=WAIT_MS)
    assert win.store.courses() == []


def test_treatment_form_refusals(qtbot, window):
    win, _ = window
    dialog = win.record.open_treatments()
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert "needs a name" in dialog.message.text()
    dialog.kind.setCurrentIndex(dialog.kind.findData("emollient"))
    assert not dialog.potency.isEnabled()
    qtbot.keyClicks(dialog.name, "Aqueous cream")
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)  # Enter in the name adds
    qtbot.waitUntil(lambda: len(dialog.treatments()) == 1, timeout=WAIT_MS)
    assert win.store.treatments()[0].potency is None
    dialog.list.setCurrentRow(-1)
    dialog.name.setText("aqueous CREAM")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert "already a treatment" in dialog.message.text()
    assert len(win.store.treatments()) == 1


# -- today's numbers, flares, notes, menus ---------------------------------------------------
def test_daily_row_saves_todays_numbers_without_rating_a_photo(qtbot, window, tmp_path):
    win, _ = window
    ids = fill_store(win.store, tmp_path / "photos", 1)
    win.refresh()
    win.library.select_photo(ids[0])
    row = win.record.daily_row
    assert row.isVisible() and row.values() == (None, None)
    row.itch.setFocus()
    row.itch.selectAll()
    qtbot.keyClicks(row.itch, "3")  # "3" is also the rate-3 shortcut: the field gets it
    row.sleep.setValue(6)
    qtbot.waitUntil(lambda: win.store.day_entry(TODAY).daily is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not row.pending() and not win.session.busy, timeout=WAIT_MS)
    daily = win.store.day_entry(TODAY).daily
    assert (daily.itch, daily.sleep_loss) == (3, 6)
    assert win.store.photo(ids[0]) is not None
    assert all(p.rating is None for p in win.store.timeline(None))


@pytest.mark.parametrize("stored_on_the_2nd", [(None, None), (None, 7)])
def test_after_midnight_the_untouched_number_is_not_yesterdays(qtbot, stored_on_the_2nd):
    """Only the box edited after midnight is written for the new day: the other one keeps
    the new day's stored number, never the one shown from yesterday."""
    from eczema_tracker.gui.record.daily_numbers_row import DailyNumbersRow

    clock = [date(2026, 3, 1)]
    saved: list[tuple[date, int | None, int | None]] = []
    stored = {date(2026, 3, 2): stored_on_the_2nd}
    row = DailyNumbersRow(
        lambda day, itch, sleep: saved.append((day, itch, sleep)),
        today=lambda: clock[0],
        read=lambda day: stored.get(day, (None, None)),
    )
    qtbot.addWidget(row)
    row.show()
    row.show_values(6, 5)  # 1 March
    clock[0] = date(2026, 3, 2)  # past midnight, the row not shown again
    row.activateWindow()
    row.itch.setFocus()
    qtbot.waitUntil(row.itch.hasFocus)
    for _ in range(3):
        qtbot.keyClick(row.itch, Qt.Key.Key_Down)  # 6 → 3
    assert row.sleep.value() == (-1 if stored_on_the_2nd[1] is None else stored_on_the_2nd[1])
    qtbot.keyClick(row.itch, Qt.Key.Key_Return)
    assert saved == [(date(2026, 3, 2), 3, stored_on_the_2nd[1])]


def test_flare_today_and_a_note_for_a_day(qtbot, window):
    win, _ = window
    win.actions_by_name["flare_today"].trigger()
    qtbot.waitUntil(lambda: win.store.day_entry(TODAY).mark is not None, timeout=WAIT_MS)
    assert win.store.day_entry(TODAY).mark.flare
    day = TODAY - timedelta(days=1)
    dialog = win.record.open_day_note(day)
    qtbot.keyClicks(dialog.note, "tried the new soap")
    dialog.accept()
    qtbot.waitUntil(lambda: win.store.day_entry(day).mark is not None, timeout=WAIT_MS)
    mark = win.store.day_entry(day).mark
    assert (mark.flare, mark.note) == (False, "tried the new soap")
    again = win.record.open_day_note(day)  # starts from what is stored
    assert again.note.toPlainText() == "tried the new soap"
    again.reject()


def test_record_menu(window):
    win, _ = window
    menus = {m.title(): m for m in win.menuBar().findChildren(type(win.menuBar().addMenu("x")))}
    record = menus["&Record"]
    texts = [a.text() for a in record.actions() if not a.isSeparator()]
    assert texts == [
        "Weekly &check-in…", "&Days recorded…", "&Treatments…", "Mark today as a &flare",
        "&Note for a day…",
    ]  # fmt: skip
    assert win.actions_by_name["checkin"].shortcut().toString() == "Ctrl+K"


# -- the timeline ----------------------------------------------------------------------------
def test_timeline_shows_checkins_numbers_course_and_flare(qtbot, window, tmp_path):
    win, _ = window
    store = win.store
    start = datetime.combine(TODAY - timedelta(days=20), datetime.min.time()).replace(hour=9)
    ids = fill_store(store, tmp_path / "photos", 3, days_apart=7, start=start)
    for pid in ids:
        record_analysis(store, pid, score=1.2)
    for week in range(3):
        store.add_checkin(TODAY - timedelta(days=20 - 7 * week), [2, 2, 1, 0, 1, 2, 1 + week])
    store.set_daily(TODAY - timedelta(days=2), itch=7, sleep_loss=4)
    cream = store.add_treatment("Cream", "emollient")
    store.add_course(cream.id, TODAY - timedelta(days=15))
    store.set_day_mark(TODAY - timedelta(days=9), flare=True, note="bad night")
    win.refresh()
    win.tabs.setCurrentWidget(win.timeline_panel)
    view = win.timeline_panel.view
    qtbot.waitUntil(lambda: view.drawn.poem is not None, timeout=WAIT_MS)
    drawn = view.drawn
    assert list(_line(drawn.poem, "poem").get_ydata()) == [9, 10, 11]
    assert list(_line(drawn.nrs, "itch").get_ydata()) == [7]
    assert _gids(drawn.events)["course"] == 1 and _gids(drawn.events)["flare"] == 1
    assert _gids(drawn.severity)["score"] == 1
    view.canvas.draw()
    note = next(t for t in drawn.targets if "bad night" in t.text)
    x, y = drawn.events.transData.transform((note.x, note.y))
    assert "bad night" in describe(view, x, y)
    # a write through the session redraws the timeline
    win.session.write(
        lambda s: OpResult(s.add_checkin(TODAY, [4] * 7), StoreChanges(record=True))
    )  # fmt: skip
    qtbot.waitUntil(lambda: len(view.drawn.poem.get_lines()[0].get_xdata()) == 4, timeout=WAIT_MS)


def describe(view: TimelineView, x: float, y: float) -> str:
    target = view.record_target_at(x, y)
    return "" if target is None else target.text


def test_range_selector_changes_the_dates_shown(qtbot):
    view = TimelineView()
    qtbot.addWidget(view)
    view.resize(900, 640)
    view.set_data(_record_data(400))
    spans = {}
    for key in ("4w", "3m", "12m", "all"):
        view.range_choice.setCurrentIndex(view.range_choice.findData(key))
        low, high = view.score_axes.get_xlim()
        spans[key] = high - low
        assert view.drawn.events.get_xlim() == (low, high)  # one date axis for all panels
    assert 28 <= spans["4w"] < 32 and 91 <= spans["3m"] < 100 and 365 <= spans["12m"] < 400
    assert spans["all"] > 400


def _record_data(n: int) -> TimelineData:
    first = date(2025, 1, 6)
    step = 420 / n

    class P:  # a photo point
        def __init__(self, i: int) -> None:
            self.photo_id, self.score, self.severity_class = i, (i % 7) / 2.3, None
            self.taken_at = datetime(2025, 1, 6, 9) + timedelta(days=i * step)
            self.lesion_area_fraction, self.rating, self.stale = 0.02 + (i % 5) / 100, None, False
            self.painted_area_fraction = self.mask_origin = None

    days = [first + timedelta(days=round(i * step)) for i in range(n)]
    return TimelineData(
        (SiteSeries("left arm", tuple(P(i) for i in range(n))),),
        tuple(PoemPoint(d, i % 29, "mild", "POEM") for i, d in enumerate(days)),
        tuple(DailyPoint(d, i % 11, (i * 3) % 11) for i, d in enumerate(days)),
        (CourseBar("Cream", "emollient", None, first, None),),
        (DayMarkPoint(first + timedelta(days=30), True, ""),),
        first + timedelta(days=420),
    )


@pytest.mark.parametrize("n", [3, 500])
def test_timeline_renders_3_and_500_points_with_sane_ticks(qtbot, n):
    view = TimelineView()
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    for key in ("4w", "all"):
        view.set_data(_record_data(n))
        view.set_range(key)
        view.canvas.draw()
        low, high = view.score_axes.get_xlim()
        bottom = view.drawn.panels[-1]
        ticks = [t for t in bottom.get_xticks() if low <= t <= high]
        assert 2 <= len(ticks) <= 9, (n, key, len(ticks))
        shown = [t for t in bottom.get_xticklabels() if low <= t.get_position()[0] <= high]
        assert all(t.get_text() for t in shown)
        boxes = sorted((t.get_window_extent() for t in shown), key=lambda b: b.x0)
        assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:], strict=False))  # no overlap
        assert high - low > 1
    assert mdates.num2date(high).year >= 2026


def test_panel_follows_store_changes_only_when_they_matter(qtbot, window):
    win, _ = window
    panel = win.timeline_panel
    win.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.view is not None, timeout=WAIT_MS)
    drawn = panel.view.drawn
    panel.on_store_changed(StoreChanges(severity_models=True))
    assert panel.view.drawn is drawn  # nothing shown changed: not redrawn
    session = StoreSession(win.store, win)
    session.changed.connect(panel.on_store_changed)
    with qtbot.waitSignal(session.changed):
        session.write(lambda s: OpResult(s.add_checkin(TODAY, [1] * 7), StoreChanges(record=True)))
    assert panel.view.drawn.poem is not None


def test_hovering_a_course_shows_it_and_the_panels_stay_put(qtbot):
    from PySide6.QtCore import QPoint

    view = TimelineView()
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    view.set_data(_record_data(3))
    view.set_range("all")
    view.canvas.draw()
    before = view.drawn.events.get_position().bounds
    bar = next(t for t in view.drawn.targets if t.x_end is not None)
    ratio = view.canvas.device_pixel_ratio
    for fraction in (0.3, 0.6):  # along the bar: the box shown must not move the panels
        x, y = bar.axes.transData.transform((bar.x + fraction * (bar.x_end - bar.x), bar.y))
        pos = QPoint(round(x / ratio), round((view.figure.bbox.height - y) / ratio))
        qtbot.mouseMove(view.canvas, pos)
        qtbot.waitUntil(lambda: "Cream (emollient)" in view.hover_text(), timeout=WAIT_MS)
        view.canvas.draw()
        assert view.drawn.events.get_position().bounds == pytest.approx(before, abs=1e-3)
    assert "ongoing" in view.status_label.text()
    box = view._annotation  # drawn over all panels (a figure artist), not under later axes
    assert box.get_visible() and box in view.figure.artists and box.axes is None


# -- issue 21: the form starts empty, one course at a time, no future days ------------------
def test_next_treatment_inherits_nothing_from_the_one_added(qtbot, window):
    win, _ = window
    dialog = win.record.open_treatments()
    _focused(qtbot, dialog)
    assert QApplication.focusWidget() is dialog.name
    _type(qtbot, "Betnovate")
    _key(qtbot, Qt.Key.Key_Tab)  # to the kind
    assert QApplication.focusWidget() is dialog.kind
    assert not dialog.potency.isVisibleTo(dialog)  # an emollient has no potency to show
    _key(qtbot, Qt.Key.Key_Down)  # topical corticosteroid
    assert dialog.potency.isVisibleTo(dialog)
    _key(qtbot, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is dialog.potency
    _key(qtbot, Qt.Key.Key_Down)
    _key(qtbot, Qt.Key.Key_Down)  # potent
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: len(dialog.treatments()) == 1, timeout=WAIT_MS)
    steroid = win.store.treatments()[0]
    assert (steroid.kind, steroid.potency) == ("topical_corticosteroid", "potent")
    # the form is empty again, the name has the keyboard, and no potency is offered
    assert dialog.name.text() == "" and QApplication.focusWidget() is dialog.name
    assert dialog.kind.currentData() == "emollient" and not dialog.potency.isVisibleTo(dialog)
    _type(qtbot, "Aqueous cream")
    _key(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(dialog.treatments()) == 2, timeout=WAIT_MS)
    cream = win.store.find_treatment("Aqueous cream")
    assert (cream.kind, cream.potency) == ("emollient", None)
    assert "(emollient)" in dialog.list.item(0).text()


def test_a_course_form_starts_fresh_and_an_overlap_is_refused_by_name(qtbot, window):
    win, _ = window
    cream = win.store.add_treatment("Betnovate", "topical_corticosteroid", "potent")
    dialog = win.record.open_treatments()
    _focused(qtbot, dialog)
    dialog.select_treatment("Betnovate")  # fills the form with it, to change it
    dialog.name.setFocus()
    qtbot.keyClick(dialog.name, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(dialog.name, Qt.Key.Key_Delete)  # the person empties the name
    start, end = TODAY - timedelta(days=20), TODAY - timedelta(days=10)
    dialog.start.setDate(QDate(start.year, start.month, start.day))
    dialog.ended.setFocus()
    _key(qtbot, Qt.Key.Key_Space)  # "Ended on" ticked
    dialog.end.setDate(QDate(end.year, end.month, end.day))
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=WAIT_MS)
    assert win.store.courses(cream.id)[0].end == end
    # the next course does not inherit that end: it starts today, ongoing
    assert not dialog.ended.isChecked() and not dialog.end.isEnabled()
    assert dialog.start.date() == QDate(TODAY.year, TODAY.month, TODAY.day)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2, timeout=WAIT_MS)  # today, ongoing
    # adding courses did not put Betnovate back into the treatment form
    assert dialog.name.text() == ""
    # a second ongoing course of the same treatment is refused, naming the one there
    inside = TODAY - timedelta(days=15)
    dialog.start.setDate(QDate(inside.year, inside.month, inside.day))
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "already has a course" in dialog.message.text(), timeout=WAIT_MS)
    assert f"from {start.isoformat()} to {end.isoformat()}" in dialog.message.text()
    assert len(win.store.courses(cream.id)) == 2


def _darkest_in_cell(view, day: int) -> int:
    """The darkest grey level drawn in the calendar cell of ``day`` (the first one shown)."""
    model = view.model()
    image = view.viewport().grab().toImage()
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            index = model.index(row, column)
            if str(index.data()) == str(day) and index.data(Qt.ItemDataRole.ForegroundRole):
                rect = view.visualRect(index)
                return min(
                    image.pixelColor(x, y).lightness()
                    for x in range(rect.left(), rect.right())
                    for y in range(rect.top(), rect.bottom())
                )
    raise AssertionError(f"no cell for day {day}")


@pytest.mark.parametrize("which", ["checkin", "treatment"])
def test_calendars_grey_out_future_days(qtbot, window, which):
    from PySide6.QtWidgets import QTableView

    win, _ = window
    today = date(2026, 3, 12)  # a Thursday: the 10th is before it, the 20th after
    if which == "checkin":
        dialog = CheckinDialog(win, today=today)
        edit = dialog.date_edit
    else:
        from eczema_tracker.gui.record.treatments_dialog import TreatmentsDialog

        dialog = TreatmentsDialog(win.session, win, today=today)
        win.store.add_treatment("Betnovate", "topical_corticosteroid", "potent")
        dialog.reload(select="Betnovate")
        edit = dialog.start
    qtbot.addWidget(dialog)
    dialog.show()
    _focused(qtbot, dialog)
    edit.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is edit, timeout=WAIT_MS)
    # Qt opens a date edit's calendar only from its arrow (no key does), so: a click there
    qtbot.mouseClick(
        edit, Qt.MouseButton.LeftButton, pos=QPoint(edit.width() - 6, edit.height() // 2)
    )
    calendar = edit.calendarWidget()
    qtbot.waitUntil(calendar.isVisible, timeout=WAIT_MS)
    view = calendar.findChild(QTableView)
    assert _darkest_in_cell(view, 10) < 80  # a day that may be picked: dark text
    assert _darkest_in_cell(view, 20) > 120  # a future day: greyed out
    _key(qtbot, Qt.Key.Key_Escape)
