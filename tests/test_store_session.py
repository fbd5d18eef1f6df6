"""The GUI's store session: writes in the background, in order, each followed by what changed;
and flows tested on their own, with the session and a plain host instead of a main window."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtWidgets import QWidget

from eczema_tracker.app import edits
from eczema_tracker.app.changes import _FLAGS, OpResult, StoreChanges
from eczema_tracker.gui.library_state import LibraryState
from eczema_tracker.gui.photo_actions import PhotoActions
from eczema_tracker.gui.prompt_flow import PromptFlow
from eczema_tracker.gui.shown_photo import ShownPhoto
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.undo import EditHistory
from eczema_tracker.gui.widgets.photo_view import PhotoView
from eczema_tracker.store import Store

SITE = "left arm"


class Host:
    """The few methods a flow needs of its window (flow_host's protocols), recorded."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str, str]] = []
        self.statuses: list[str] = []
        self.selected: list[int] = []
        self.shown_photo: int | None = None
        self.yes = True

    def show_message(self, kind: str, title: str, text: str, details: str = "") -> None:
        self.messages.append((kind, title, text))

    def ask_question(self, title: str, text: str) -> bool:
        return self.yes

    def status(self, text: str) -> None:
        self.statuses.append(text)

    def target_photo_ids(self) -> list[int]:
        return self.selected or ([self.shown_photo] if self.shown_photo else [])

    def clear_photo(self) -> None:
        self.shown_photo = None


@pytest.fixture
def store():
    s = Store.open()
    yield s
    s.close()


@pytest.fixture
def parent(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def session(store, parent):
    return StoreSession(store, parent)


@pytest.fixture
def photo_ids(store, eczema_photo_paths) -> list[int]:
    results = store.import_paths(eczema_photo_paths[:2], SITE)
    return [r.photo_id for r in results]


def test_changes_combine_and_narrow():
    rated = StoreChanges(ratings=True, photo_ids=frozenset({1}))
    both = rated | StoreChanges(analyses=True, photo_ids=frozenset({2}))
    assert both.ratings and both.analyses and both.photo_ids == {1, 2}
    assert rated.touches_photo(1) and not rated.touches_photo(2)
    assert StoreChanges(photos=True).touches_photo(7)  # no ids: any photo
    assert not StoreChanges(record=True).touches_photo(1)
    assert not StoreChanges() and StoreChanges(record=True)
    everything = StoreChanges.everything()
    assert all(getattr(everything, name) for name in _FLAGS)  # every kind, none forgotten
    combined = StoreChanges()
    for name in _FLAGS:
        combined = combined | StoreChanges(**{name: True})
    assert combined == everything


def test_writes_run_off_the_gui_thread_in_order_and_say_what_changed(qtbot, session):
    gui_thread = threading.get_ident()
    ran: list[tuple[int, bool]] = []
    events: list[str] = []
    session.changed.connect(lambda c: events.append(f"changed {sorted(c.photo_ids)}"))

    def op(n: int):
        def write(_store: Store) -> OpResult[int]:
            ran.append((n, threading.get_ident() != gui_thread))
            return OpResult(n, StoreChanges(ratings=True, photo_ids=frozenset({n})))

        return write

    for n in range(5):
        session.write(op(n), on_done=lambda n: events.append(f"done {n}"))
    assert session.busy and session.queued == 4  # one runs, four wait
    with qtbot.waitSignal(session.idle, timeout=10000):
        pass
    assert ran == [(n, True) for n in range(5)]
    # Each write's change is told before its on_done, and before the next write's.
    assert events == [e for n in range(5) for e in (f"changed [{n}]", f"done {n}")]
    assert not session.busy


def test_writes_queued_when_the_window_closes_still_land(qtbot, session, photo_ids):
    pid = photo_ids[0]
    for level in (0, 1, 2, 3, 1):
        session.write(lambda s, lv=level: edits.rate_photos(s, [pid], lv))
    assert session.busy
    assert session.finish(timeout_ms=10000)  # what the window's close does
    assert [r.rating for r in session.store.rating_history(pid)] == [0, 1, 2, 3, 1]


def test_a_failed_write_is_told_and_the_next_still_runs(qtbot, session):
    failures: list[str] = []
    done: list[str] = []

    def refuse(_store: Store) -> OpResult[None]:
        raise ValueError("a self-rating must be 0, 1, 2 or 3, not 7")

    session.write(refuse, on_failure=failures.append)
    session.write(lambda _s: OpResult("second", StoreChanges()), on_done=done.append)
    with qtbot.waitSignal(session.idle, timeout=10000):
        pass
    assert failures == ["a self-rating must be 0, 1, 2 or 3, not 7"]
    assert done == ["second"]


def test_replacing_the_store_tells_every_view_everything_changed(qtbot, session, store):
    with qtbot.waitSignal(session.changed) as blocker:
        session.replace_store(store)
    assert blocker.args[0] == StoreChanges.everything()
    with qtbot.waitSignal(session.changed) as blocker:
        session.notify(StoreChanges(analyses=True))
    assert blocker.args[0].analyses


def test_reads_deliver_on_the_gui_thread(qtbot, session, photo_ids):
    got: list[tuple[int, bool]] = []
    gui_thread = threading.get_ident()
    task = session.read(
        lambda s: len(s.photos()), lambda n: got.append((n, threading.get_ident() == gui_thread))
    )
    with qtbot.waitSignal(task.finished, timeout=10000):
        pass
    assert got == [(2, True)]


def test_photo_actions_without_a_window_rate_in_order_and_undo(qtbot, session, parent, photo_ids):
    host = Host()
    history = EditHistory(session, host.status, lambda title, text: host.status(text), parent)
    actions = PhotoActions(session, history, host, parent)
    host.selected = photo_ids[:1]
    rated: list[object] = []
    actions.rated.connect(rated.append)
    for level in (1, 3, 0, 2):
        actions.rate_selected(level)
    qtbot.waitUntil(lambda: not session.busy, timeout=10000)
    pid = photo_ids[0]
    assert [r.rating for r in session.store.rating_history(pid)] == [1, 3, 0, 2]
    assert rated == [1, 3, 0, 2] and history.stack.undoText() == "rating of 1 photo"
    actions.undo()
    qtbot.waitUntil(lambda: not session.busy, timeout=10000)
    assert session.store.rating(pid) == 0  # back to the rating before the last


def test_prompt_flow_without_a_window_saves_in_the_background_and_undoes(
    qtbot, session, parent, store, photo_ids
):
    host = Host()
    history = EditHistory(session, host.status, lambda title, text: host.status(text), parent)
    pid = photo_ids[0]
    flow = PromptFlow(session, history, host, parent=parent, shown_photo=lambda: pid)
    photo = store.photo(pid)
    mask = np.zeros((photo.height, photo.width), dtype=bool)
    mask[: photo.height // 3] = True
    with pytest.raises(ValueError, match="empty"):
        flow.save_in_background(pid, np.zeros_like(mask), correcting=False, promote=True)
    changes: list[StoreChanges] = []
    session.changed.connect(changes.append)
    with qtbot.waitSignal(flow.promptsChanged, timeout=10000) as blocker:
        flow.save_in_background(pid, mask, correcting=False, promote=True)
    assert blocker.args == [SITE]
    assert store.photo(pid).is_prompt
    assert np.array_equal(store.load_mask(store.prompt(pid).mask), mask)
    assert changes[-1].prompts and changes[-1].photo_ids == {pid} and changes[-1].sites == {SITE}
    history.undo()
    qtbot.waitUntil(lambda: not session.busy, timeout=10000)
    assert not store.photo(pid).is_prompt


def test_the_photo_view_drops_what_arrives_for_a_photo_no_longer_shown(
    qtbot, session, parent, store, photo_ids
):
    first, second = photo_ids
    mask = np.zeros((store.photo(first).height, store.photo(first).width), dtype=bool)
    mask[:10] = True
    store.set_prompt_mask(first, mask)  # the first photo has a mask to decode too
    view = PhotoView()
    qtbot.addWidget(view)
    shown = ShownPhoto(session, LibraryState(lambda: session.store), view, parent)
    emitted: list[int] = []
    shown.shown.connect(emitted.append)
    shown.show(first)
    shown.show(second)  # before the first photo's pixels and mask arrived
    qtbot.waitUntil(lambda: not shown.reading, timeout=10000)
    assert emitted == [second]  # the first photo's late result was dropped
    assert view.details.photo_id == second and view.details.image is not None
    assert view.details.prompt_overlay is None  # not the first photo's mask
    shown.show(first)
    qtbot.waitUntil(lambda: not shown.reading, timeout=10000)
    assert emitted == [second, first] and view.details.prompt_overlay is not None


def test_a_photo_asked_for_while_a_write_holds_the_store_is_read_off_the_gui_thread(
    qtbot, session, parent, store, photo_ids
):
    second = photo_ids[1]
    view = PhotoView()
    qtbot.addWidget(view)
    shown = ShownPhoto(session, LibraryState(lambda: session.store), view, parent)
    holding, release = threading.Event(), threading.Event()

    def slow_write(s: Store) -> OpResult[None]:
        with s._lock:  # what encoding a 12-MP mask does to every reader (about 150 ms)
            holding.set()
            release.wait(10)
        return OpResult(None, StoreChanges())

    session.write(slow_write)
    assert holding.wait(5)
    shown.show(second)  # a synchronous read would wait here until the write let go
    assert view.details is None and session.busy  # so it did not read: the write still holds
    release.set()
    with qtbot.waitSignal(shown.shown, timeout=10000) as blocker:
        pass
    assert blocker.args == [second] and view.details.photo_id == second
    assert shown.photo_id == second
