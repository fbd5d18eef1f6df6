"""The prompt panel's trust summary (issue 14): do a site's examples agree, what to paint next.

pytest-qt, offscreen; the agreement is checked with a fake segmenter where the answer must be
known (the deliberately wrong example), and with tiny random SegGPT/DINO folders where the
real path is exercised.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from eczema_tracker.app import analysis_models
from eczema_tracker.app.changes import OpResult, StoreChanges
from eczema_tracker.app.settings import Settings
from eczema_tracker.app.trust import agreement as trust
from eczema_tracker.core.jobs import Cancelled
from eczema_tracker.gui.main_window import MainWindow
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.gui.trust.flow import TrustFlow
from eczema_tracker.gui.trust.summary import MODELS_MISSING, TrustSummary
from eczema_tracker.store import Store
from tests.tiny_models import make_tiny_dino, make_tiny_seggpt

SITE = "left arm"


@pytest.fixture(scope="module")
def tiny_settings(tmp_path_factory) -> Settings:
    base = tmp_path_factory.mktemp("tiny-models")
    dino, seggpt = make_tiny_dino(base / "dino"), make_tiny_seggpt(base / "seggpt")
    return Settings(dino_source=str(dino), seggpt_source=str(seggpt), device="cpu", k=2)


@pytest.fixture
def store(eczema_photo_paths):
    with Store.open() as s:
        s.import_paths(eczema_photo_paths[:5], SITE)
        for day, photo in enumerate(sorted(s.photos(SITE), key=lambda p: p.id), start=1):
            s.update_photo(photo.id, taken_at=f"2026-03-{day:02d}T10:00:00")
        yield s


def ids_of(store: Store) -> list[int]:
    return sorted(p.id for p in store.photos(SITE))


def box(store: Store, photo_id: int, rows=(4, 2), cols=(4, 2)) -> np.ndarray:
    photo = store.photo(photo_id)
    h, w = photo.height, photo.width
    mask = np.zeros((h, w), dtype=bool)
    mask[h // rows[0] : h // rows[1], w // cols[0] : w // cols[1]] = True
    return mask


class FakeSegmenter:
    """Predicts every prompt's mask as the box the good examples show."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def prepare(self, prompts):
        self.sizes = [p.image.size for p in prompts]
        return None

    def segment(self, index, others):
        w, h = self.sizes[index]
        mask = np.zeros((h, w), dtype=bool)
        mask[h // 4 : h // 2, w // 4 : w // 2] = True
        return mask


class FakeAgreement:
    """:func:`trust.seggpt_agreement`'s shape with :class:`FakeSegmenter`; records its calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, store, site, pipelines, choice, *, progress=None, cancel=None):
        self.calls.append(site)
        return trust.prompt_agreement(
            store, site, FakeSegmenter(), k=choice.k, progress=progress, cancel=cancel
        )


@pytest.fixture
def flow_for(qtbot):
    """Builds a TrustFlow with its summary on a plain widget; its tasks end with the test."""
    hosts = []

    def build(store: Store, settings: Settings, agreement=None, yield_to=None, pipelines=None):
        host = QWidget()
        qtbot.addWidget(host)
        hosts.append(host)
        session = StoreSession(store, host)
        summary = TrustSummary(host)
        kwargs = {} if agreement is None else {"agreement": agreement}
        if yield_to is not None:
            kwargs["yield_to"] = yield_to
        cache = analysis_models.PipelineCache() if pipelines is None else pipelines
        flow = TrustFlow(session, cache, settings, parent=host, **kwargs)
        flow.updated.connect(summary.show_sites)
        return flow, summary, session

    yield build
    for task in list(BackgroundTask._running):
        task.cancel()
    qtbot.waitUntil(lambda: not BackgroundTask._running, timeout=20000)


def test_the_deliberately_wrong_example_comes_out_weakest_in_the_summary(
    qtbot, store, tiny_settings, flow_for
):
    ids = ids_of(store)
    for pid in ids[:3]:
        store.set_prompt_mask(pid, box(store, pid))
    wrong = ids[3]  # taken on 4 March
    store.set_prompt_mask(wrong, box(store, wrong, rows=(2, 1), cols=(3, 1)))
    fake = FakeAgreement()
    flow, summary, _session = flow_for(store, tiny_settings, fake)
    qtbot.waitUntil(lambda: not flow.busy, timeout=20000)
    state = flow.state(SITE)
    assert fake.calls == [SITE]
    assert state.agreement.weakest_photo_id == wrong and not state.models_missing
    text = summary.site_text(SITE)
    assert "Your examples agree: " in text and "% overlap on average" in text
    assert "the weakest is the photo of 4 March 2026" in text
    assert summary.isVisibleTo(summary.parentWidget())
    label = next(w for w in summary.findChildren(QLabel) if "Show it</a>" in w.text())
    link = label.text().split('href="')[1].split('"')[0]
    with qtbot.waitSignal(summary.weakestRequested) as shown:
        label.linkActivated.emit(link)  # what clicking "Show it" does
    assert shown.args == [SITE]


def test_a_prompt_change_checks_the_site_again_with_the_real_tiny_seggpt(
    qtbot, store, tiny_settings, flow_for
):
    ids = ids_of(store)
    for pid in ids[:2]:
        store.set_prompt_mask(pid, box(store, pid))
    flow, summary, session = flow_for(store, tiny_settings)
    qtbot.waitUntil(lambda: not flow.busy, timeout=30000)
    first = flow.state(SITE).agreement
    assert first is not None and first.k_used == 1 and len(first.photo_ids) == 2
    assert "checked with 1 other" in summary.site_text(SITE)  # describe()'s K=1 note
    assert "Analyse this site's photos to see which one to paint next" in summary.site_text(SITE)

    seen: list[bool] = []
    flow.updated.connect(lambda states: seen.append(states[0].checking))
    session.write(
        lambda s: OpResult(
            s.set_prompt_mask(ids[2], box(s, ids[2])),
            StoreChanges(prompts=True, photos=True, sites=frozenset({SITE})),
        ),
    )
    qtbot.waitUntil(lambda: True in seen, timeout=10000)  # "checking your examples…"
    qtbot.waitUntil(lambda: not flow.busy, timeout=30000)
    again = flow.state(SITE).agreement
    assert set(again.photo_ids) == set(ids[:3])
    assert again.k_used == 2 and all(0.0 <= v <= 1.0 for v in again.agreement.ious)
    assert "checked with 1 other" not in summary.site_text(SITE)

    # the next start: the kept result is shown, no model is loaded, nothing is checked again
    spy = SpyCache()
    later, later_summary, _ = flow_for(store, tiny_settings, pipelines=spy)
    qtbot.waitUntil(lambda: not later.busy, timeout=10000)
    assert spy.asked == [] and spy.loaded_choice is None
    assert later.state(SITE).agreement.agreement == again.agreement
    assert later_summary.site_text(SITE) == summary.site_text(SITE)


class SpyCache(analysis_models.PipelineCache):
    """A PipelineCache that records every model asked for (and loads none)."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[object] = []

    def get(self, choice, *args, **kwargs):
        self.asked.append(choice)
        raise AssertionError("no model may be loaded")


def keep_for(store: Store, settings: Settings, ious=(0.9, 0.6, 0.3)) -> None:
    """Keep an agreement result of the site's current prompts (as an earlier run did)."""
    choice = analysis_models.model_choice(settings, store)
    ids = [r.photo_id for r in store.prompts(SITE)]
    n = len(ids)
    store.keep_prompt_agreement(
        SITE,
        trust.prompt_set_key(store, SITE),
        trust.model_key(choice),
        photo_ids=ids,
        ious=list(ious)[:n],
        used=[[j for j in range(n) if j != i][:2] for i in range(n)],
        k_used=min(2, n - 1),
        note="kept earlier",
    )


def test_a_kept_result_shows_at_start_up_without_models_or_checking(
    qtbot, store, tiny_settings, flow_for, monkeypatch
):
    import eczema_tracker.gui.trust.flow as trust_flow

    ids = ids_of(store)
    for pid in ids[:3]:
        store.set_prompt_mask(pid, box(store, pid))
    keep_for(store, tiny_settings)
    looked = []
    monkeypatch.setattr(trust_flow, "models_on_this_computer", lambda *a: looked.append(a) or True)
    fake, spy = FakeAgreement(), SpyCache()
    seen: list[list] = []
    flow, summary, session = flow_for(store, tiny_settings, fake, pipelines=spy)
    flow.updated.connect(lambda states: seen.append([s.checking for s in states]))
    qtbot.waitUntil(lambda: not flow.busy, timeout=10000)
    assert fake.calls == [] and spy.asked == [] and looked == []  # no check, no model look
    assert seen and not any(True in states for states in seen)  # never "checking…"
    state = flow.state(SITE)
    assert state.agreement.mean_iou == pytest.approx(0.6) and state.agreement.computed_at
    assert state.agreement.weakest_photo_id == ids[2] and not state.checking
    text = summary.site_text(SITE)
    assert "Your examples agree: 60 % overlap on average" in text
    assert "the weakest is the photo of 3 March 2026" in text and "Checking" not in text
    tip = next(w for w in summary.findChildren(QLabel) if "Show it</a>" in w.text()).toolTip()
    assert tip.startswith("Kept earlier.\nChecked on ") and "when your examples" in tip

    # another example: nothing kept for that set, so it is checked (once)
    session.write(
        lambda s: OpResult(
            s.set_prompt_mask(ids[3], box(s, ids[3])),
            StoreChanges(prompts=True, photos=True, sites=frozenset({SITE})),
        ),
    )
    qtbot.waitUntil(lambda: fake.calls == [SITE] and not flow.busy, timeout=20000)
    assert (
        flow.state(SITE).agreement.mean_iou == 1.0
        and len(flow.state(SITE).agreement.photo_ids) == 4
    )
    # ... and taking it away again brings back the set whose result is kept: no check
    session.write(
        lambda s: OpResult(
            s.unset_prompt(ids[3]), StoreChanges(prompts=True, photos=True, sites=frozenset({SITE}))
        ),
    )
    qtbot.waitUntil(lambda: flow.state(SITE).prompt_count == 3 and not flow.busy, timeout=20000)
    assert fake.calls == [SITE] and flow.state(SITE).agreement.mean_iou == pytest.approx(0.6)
    assert spy.asked == []


def test_a_corrupt_kept_result_is_checked_again(qtbot, store, tiny_settings, flow_for):
    ids = ids_of(store)
    for pid in ids[:3]:
        store.set_prompt_mask(pid, box(store, pid))
    keep_for(store, tiny_settings)
    with store._write() as conn:
        conn.execute("UPDATE prompt_agreement SET result = 'not json'")
    fake = FakeAgreement()
    flow, summary, _session = flow_for(store, tiny_settings, fake)
    qtbot.waitUntil(lambda: not flow.busy, timeout=20000)
    assert fake.calls == [SITE] and flow.state(SITE).agreement.mean_iou == 1.0
    assert "Your examples agree: 100 % overlap" in summary.site_text(SITE)


def test_a_newer_change_cancels_and_supersedes_the_running_check(
    qtbot, store, tiny_settings, flow_for
):
    ids = ids_of(store)
    for pid in ids[:2]:
        store.set_prompt_mask(pid, box(store, pid))
    started = threading.Event()
    outcomes: list[str] = []
    fake = FakeAgreement()

    def slow_then_fake(store_, site, pipelines, choice, *, progress=None, cancel=None):
        if not outcomes:  # the first check waits until it is cancelled
            outcomes.append("first")
            started.set()
            for _ in range(400):
                if cancel():
                    outcomes.append("cancelled")
                    raise Cancelled("superseded")
                threading.Event().wait(0.025)
            outcomes.append("not cancelled")
        else:
            outcomes.append("second")  # only after the first has stopped: never two at once
        return fake(store_, site, pipelines, choice, progress=progress, cancel=cancel)

    flow, summary, session = flow_for(store, tiny_settings, slow_then_fake)
    qtbot.waitUntil(started.is_set, timeout=10000)
    assert flow.state(SITE).checking and "Checking your examples…" in summary.site_text(SITE)
    session.write(
        lambda s: OpResult(
            s.set_prompt_mask(ids[2], box(s, ids[2])),
            StoreChanges(prompts=True, photos=True, sites=frozenset({SITE})),
        ),
    )
    qtbot.waitUntil(lambda: not flow.busy, timeout=20000)
    assert outcomes == ["first", "cancelled", "second"]
    assert fake.calls == [SITE]
    assert set(flow.state(SITE).agreement.photo_ids) == set(ids[:3])  # the newest prompts


def test_a_check_gives_way_to_an_analysis_and_runs_after_it(qtbot, store, tiny_settings, flow_for):
    ids = ids_of(store)
    for pid in ids[:3]:
        store.set_prompt_mask(pid, box(store, pid))
    analysing = threading.Event()
    started = threading.Event()
    stopped = []
    fake = FakeAgreement()

    def waits_for_cancel(store_, site, pipelines, choice, *, progress=None, cancel=None):
        if not started.is_set():
            started.set()
            for _ in range(400):
                if cancel():
                    stopped.append(site)
                    raise Cancelled("an analysis goes first")
                threading.Event().wait(0.025)
        return fake(store_, site, pipelines, choice, progress=progress, cancel=cancel)

    flow, summary, session = flow_for(store, tiny_settings, waits_for_cancel, analysing.is_set)
    qtbot.waitUntil(started.is_set, timeout=10000)
    analysing.set()  # an analysis starts: the check stops and waits
    qtbot.waitUntil(lambda: stopped == [SITE] and flow._check is None, timeout=10000)
    assert flow.busy and flow.state(SITE).checking and fake.calls == []
    analysing.clear()
    session.notify(StoreChanges(analyses=True, photo_ids=frozenset(ids)))  # its results
    qtbot.waitUntil(lambda: not flow.busy, timeout=20000)
    assert fake.calls == [SITE] and flow.state(SITE).agreement.mean_iou == 1.0
    assert "Your examples agree: 100 % overlap" in summary.site_text(SITE)


def test_missing_models_are_never_downloaded_and_the_summary_says_why(
    qtbot, store, flow_for, monkeypatch
):
    import eczema_tracker.ml.sources as sources

    downloads = []  # the one download function (the window's flows call it through ml.sources)
    monkeypatch.setattr(sources, "download_source", lambda *a, **k: downloads.append(a))
    ids = ids_of(store)
    for pid in ids[:2]:
        store.set_prompt_mask(pid, box(store, pid))
    fake = FakeAgreement()
    flow, summary, _session = flow_for(store, Settings(), fake)  # hub models, not cached
    qtbot.waitUntil(lambda: not flow.busy, timeout=20000)
    state = flow.state(SITE)
    assert state.models_missing and fake.calls == [] and downloads == []
    assert flow.pipelines.loaded_choice is None
    assert summary.site_text(SITE).splitlines()[0] == f"{SITE}: {MODELS_MISSING}"


def test_a_site_with_one_example_says_how_many_are_needed(qtbot, store, tiny_settings, flow_for):
    ids = ids_of(store)
    store.set_prompt_mask(ids[0], box(store, ids[0]))
    fake = FakeAgreement()
    flow, summary, _session = flow_for(store, tiny_settings, fake)
    qtbot.waitUntil(lambda: not flow.busy, timeout=20000)
    assert fake.calls == []  # nothing to check with one example
    assert "paint at least 2 to check how well they agree" in summary.site_text(SITE)
    assert summary.paint_button(SITE).isHidden()  # no features kept: no suggestion yet


def test_paint_next_opens_the_painter_on_the_farthest_photo(qtbot, store):
    ids = ids_of(store)
    for pid in ids[:2]:
        store.set_prompt_mask(pid, box(store, pid))
    features = {
        ids[0]: [1.0, 0.0, 0.0],
        ids[1]: [0.9, 0.1, 0.0],
        ids[2]: [0.8, 0.3, 0.0],
        ids[3]: [0.0, 0.1, 1.0],  # least like the examples (4 March)
        ids[4]: [0.7, 0.0, 0.3],
    }
    store.keep_retrieval_features(
        {k: np.asarray(v, dtype=np.float32) for k, v in features.items()}, "tiny@1024"
    )
    win = MainWindow(store, Settings())  # models not here: only the suggestion is made
    win.show_message = lambda *a, **k: None
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: not win.trust.busy, timeout=20000)
    assert win.trust.state(SITE).next_photo.photo_id == ids[3]
    assert "Paint next: photo of 4 March 2026" in win.trust_summary.site_text(SITE)
    button = win.trust_summary.paint_button(SITE)
    assert button.isVisible()
    with qtbot.waitSignal(win.prompts.editorOpened, timeout=20000) as opened:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert win.shown_photo == ids[3]
    dialog = opened.args[0]
    assert SITE in dialog.windowTitle() and "Paint prompt mask" in dialog.windowTitle()
    dialog.done(0)
    for task in list(BackgroundTask._running):
        task.cancel()
    qtbot.waitUntil(lambda: not BackgroundTask._running, timeout=20000)
    win.thumbnails.wait_idle()
