"""How far to trust each body site's results, kept up to date in the prompt panel.

Per site, :class:`TrustFlow` keeps a :class:`SiteTrust`: how well the painted examples agree
(each prompt photo segmented with the others by the app's SegGPT, compared with its painted
mask: :func:`eczema_tracker.app.trust.seggpt_agreement`) and which unannotated photo to paint
next (the one least like the examples, from the features the store keeps:
:func:`eczema_tracker.app.trust.next_to_paint`; no model is loaded for it).

It listens to the :class:`~eczema_tracker.gui.store_session.StoreSession`: a change of prompts,
photos or analyses (``changes.sites`` narrows which sites; none named means all) and the
opening or replacing of the store start one background read of the sites concerned (counts,
prompt sets, the next photo to paint, and the agreement the store keeps for each site's current
prompts and models: :func:`eczema_tracker.app.trust.agreement.kept_agreement`). A kept agreement is shown
as it is: no model is loaded and nothing is checked again at start-up. Only a site whose prompt
set (or model choice) has no kept result and differs from the one last checked is queued for an
agreement check (which keeps its result); checks run one site at a time on one background
task (they share the window's :class:`~eczema_tracker.app.analysis_models.PipelineCache` and its
prompt pool with analyses), and a newer change of the site being checked cancels that check
and queues it again. An analysis goes first: while ``yield_to()`` says one runs, no check
starts and a running one stops at its next safe point (it is checked again when the analysis
announces its results). The check uses the models only when they are on this computer
already: it never downloads and never asks anything (the summary says it waits for them).
Every change is announced as ``updated(list[SiteTrust])``, for
:class:`~eczema_tracker.gui.trust.summary.TrustSummary`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Protocol

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from eczema_tracker.app import analysis_models, model_sources
from eczema_tracker.app.changes import StoreChanges
from eczema_tracker.app.settings import Settings
from eczema_tracker.app.trust import agreement as trust
from eczema_tracker.app.trust import examples as trust_examples
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.ml import sources as ml_sources
from eczema_tracker.store import Store

log = logging.getLogger(__name__)

#: Changes that come quickly one after another (a few strokes saved, an undo) are read once.
SETTLE_MS = 300

#: What a site's check is of: its prompt set and the models (``trust.prompt_set_key``,
#: ``trust.model_key``).
CheckKey = tuple[str, str]


class AgreementCheck(Protocol):
    """:func:`eczema_tracker.app.trust.seggpt_agreement`'s shape (tests give a fake one)."""

    def __call__(
        self,
        store: Store,
        site: str,
        pipelines: analysis_models.PipelineCache,
        choice: analysis_models.ModelChoice,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> trust.SiteAgreement: ...


@dataclass(frozen=True)
class SiteTrust:
    """What the prompt panel says of one body site.

    ``agreement`` is the check of the site's current prompts (with fewer than 2 prompts, the
    unchecked one whose ``describe()`` says how many are needed); None while not known.
    """

    site: str
    prompt_count: int = 0
    unannotated: int = 0  #: photos of the site that are not prompts
    agreement: trust.SiteAgreement | None = None
    checking: bool = False  #: an agreement check of its prompts is queued or running
    progress: str = ""  #: the running check's progress, e.g. "checking example 2 of 3"
    models_missing: bool = False  #: the check waits for the models to be set up
    problem: str = ""  #: why the last check failed, in plain words
    next_photo: trust_examples.PhotoToPaint | None = None


@dataclass(frozen=True)
class _SiteFacts:
    """One site as read from the store (worker thread)."""

    site: str
    key: CheckKey
    prompt_count: int
    unannotated: int
    unchecked: trust.SiteAgreement | None  # with fewer than 2 prompts: what is needed
    kept: trust.SiteAgreement | None  # the agreement kept for ``key``, if any
    next_photo: trust_examples.PhotoToPaint | None


@dataclass(frozen=True)
class _Checked:
    """What an agreement check found (None: the models are not on this computer)."""

    key: CheckKey
    agreement: trust.SiteAgreement | None
    next_photo: trust_examples.PhotoToPaint | None


def check_key(store: Store, site: str, choice: analysis_models.ModelChoice) -> CheckKey:
    """What a check of ``site`` with ``choice`` is of (a changed mask, another prompt or other
    models change it)."""
    return trust.prompt_set_key(store, site), trust.model_key(choice)


def models_on_this_computer(
    pipelines: analysis_models.PipelineCache, choice: analysis_models.ModelChoice
) -> bool:
    """True when ``choice``'s models are loaded or can be loaded without a download (reads
    checkpoint headers: call it off the GUI thread)."""
    loaded = pipelines.loaded_choice
    if loaded is not None and (loaded.dino, loaded.seggpt) == (choice.dino, choice.seggpt):
        return True
    try:
        return all(ml_sources.source_status(s).present for s in (choice.seggpt, choice.dino))
    except Exception:  # noqa: BLE001 - a source that cannot even be read is not ready
        log.info("model sources not usable for the agreement check", exc_info=True)
        return False


def _read_sites(
    store: Store, sites: frozenset[str] | None, settings: Settings
) -> tuple[list[str], list[_SiteFacts]]:
    """Every site of the store, and the facts of ``sites`` among them (None: all); reads the
    store only (no model is loaded)."""
    every = store.sites()
    facts = []
    choice = analysis_models.model_choice(settings, store)
    for site in every if sites is None else [s for s in every if s in sites]:
        records = store.prompts(site)
        photos = store.photos(site)
        key = check_key(store, site, choice)
        unchecked = kept = None
        if len(records) < trust.MIN_PROMPTS_TO_CHECK:
            ids = tuple(r.photo_id for r in records)
            taken = tuple(store.photo(pid).taken_at for pid in ids)
            unchecked = trust.SiteAgreement(site, ids, taken, None)
        else:
            kept = trust.kept_agreement(store, site, choice, prompts_key=key[0])
        facts.append(
            _SiteFacts(
                site,
                key,
                len(records),
                sum(1 for p in photos if not p.is_prompt),
                unchecked,
                kept,
                trust_examples.next_to_paint(store, site),
            )
        )
    return every, facts


class TrustFlow(QObject):
    """Keeps each site's :class:`SiteTrust`; ``updated(list[SiteTrust])`` on every change."""

    updated = Signal(object)  # list[SiteTrust], in the store's site order

    def __init__(
        self,
        session: StoreSession,
        pipelines: analysis_models.PipelineCache,
        settings: Settings,
        *,
        parent: QWidget | None = None,
        open_photo: Callable[[int], object] = lambda _pid: None,
        paint: Callable[[], object] = lambda: None,
        agreement: AgreementCheck = trust.seggpt_agreement,
        yield_to: Callable[[], bool] = lambda: False,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.pipelines = pipelines
        self.settings = settings
        self._parent = parent
        self._open_photo = open_photo
        self._paint = paint
        self._agreement = agreement
        self._yield_to = yield_to  # True while an analysis runs: it goes first
        self._sites: list[str] = []  # the store's sites, in its order
        self._states: dict[str, SiteTrust] = {}
        self._wanted: dict[str, CheckKey] = {}  # each site's prompt set and models as last read
        self._checked: dict[str, CheckKey] = {}  # what each state's check is of
        self._queue: list[str] = []  # sites waiting for an agreement check, oldest first
        self._check: tuple[str, BackgroundTask] | None = None  # the site being checked
        # Cancelled checks still running: the next check starts once they have stopped, so
        # two SegGPT checks never run at once.
        self._stopping: set[BackgroundTask] = set()
        self._dirty: frozenset[str] | None = frozenset()  # sites to read again (None: all)
        self._reading: BackgroundTask | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)  # start-up: read at once (kept agreements show at once)
        self._timer.timeout.connect(self._read)
        session.changed.connect(self._store_changed)
        self.refresh()  # start-up: every site

    # -- what others see -------------------------------------------------------------------
    @property
    def states(self) -> list[SiteTrust]:
        """Every site's trust, in the store's site order."""
        return [self._states[s] for s in self._sites if s in self._states]

    def state(self, site: str) -> SiteTrust | None:
        """``site``'s trust, if read yet."""
        return self._states.get(site)

    @property
    def busy(self) -> bool:
        """True while a read or a check is waiting or running (tests wait for False)."""
        return bool(
            self._timer.isActive()
            or self._dirty != frozenset()
            or self._reading is not None
            or self._check is not None
            or self._stopping
            or self._queue
        )

    def refresh(self, sites: Iterable[str] | None = None) -> None:
        """Read ``sites`` (None: all) again shortly; changed prompt sets are checked again."""
        if sites is None or self._dirty is None:
            self._dirty = None
        else:
            self._dirty = self._dirty | frozenset(sites)
        self._timer.start()

    def paint_next(self, photo_id: int) -> None:
        """Show ``photo_id`` and open the painter on it (the "Paint next" button)."""
        self._open_photo(photo_id)
        self._paint()

    # -- reading the sites -------------------------------------------------------------------
    def _store_changed(self, changes: StoreChanges) -> None:
        if changes == StoreChanges.everything():  # the store was replaced: start afresh
            self._cancel_check()
            self._queue.clear()
            self._checked.clear()
        if changes.prompts or changes.photos or changes.analyses:
            self.refresh(changes.sites or None)

    def _read(self) -> None:
        self._timer.setInterval(SETTLE_MS)  # after start-up, changes settle first
        if self._reading is not None:
            self._timer.start()  # one read at a time: this one after it
            return
        sites, self._dirty = self._dirty, frozenset()
        settings = self.settings
        self._reading = task = self.session.read(
            lambda store: _read_sites(store, sites, settings),
            self._sites_read,
            on_failure=lambda message: log.warning("trust summary not read: %s", message),
        )
        task.finished.connect(self._read_finished)

    def _read_finished(self) -> None:
        self._reading = None

    def _sites_read(self, result: tuple[list[str], list[_SiteFacts]]) -> None:
        every, facts = result
        self._sites = every
        for gone in set(self._states) - set(every):
            self._forget(gone)
        for fact in facts:
            self._take(fact)
        self._emit()
        self._start_next()

    def _forget(self, site: str) -> None:
        self._states.pop(site, None)
        self._wanted.pop(site, None)
        self._checked.pop(site, None)
        self._queue = [s for s in self._queue if s != site]
        if self._check is not None and self._check[0] == site:
            self._cancel_check()

    def _take(self, fact: _SiteFacts) -> None:
        site = fact.site
        old = self._states.get(site, SiteTrust(site))
        state = replace(
            old,
            prompt_count=fact.prompt_count,
            unannotated=fact.unannotated,
            next_photo=fact.next_photo,
        )
        self._wanted[site] = fact.key
        known = fact.unchecked or fact.kept  # too few prompts, or checked before: shown as is
        if known is not None:
            self._queue = [s for s in self._queue if s != site]
            if self._check is not None and self._check[0] == site:
                self._cancel_check()
            self._checked[site] = fact.key
            state = replace(
                state,
                agreement=known,
                checking=False,
                progress="",
                problem="",
                models_missing=False,
            )
        elif self._checked.get(site) != fact.key:
            if self._check is not None and self._check[0] == site:
                self._cancel_check()  # superseded: checked again with the new prompts
            if site not in self._queue:
                self._queue.append(site)
            state = replace(state, checking=True, progress="", problem="")
        self._states[site] = state

    def _emit(self) -> None:
        self.updated.emit(self.states)

    # -- checking the agreement ----------------------------------------------------------------
    def _cancel_check(self) -> None:
        if self._check is not None:
            task = self._check[1]
            self._stopping.add(task)
            task.cancel()
            self._check = None  # its result, if any, is dropped

    def _start_next(self) -> None:
        if self._check is not None or self._stopping or not self._queue or self._yield_to():
            return  # after a running analysis: its results' announcement reads the sites again
        site = self._queue.pop(0)
        store, pipelines, settings, check = (
            self.session.store,
            self.pipelines,
            self.settings,
            self._agreement,
        )
        yield_to = self._yield_to

        def op(progress: ProgressCallback, cancel: CancelCheck) -> _Checked:
            def stop() -> bool:  # cancelled, or an analysis wants the models' prompt pool
                return cancel() or yield_to()

            choice = analysis_models.model_choice(settings, store)
            key = check_key(store, site, choice)
            kept = trust.kept_agreement(store, site, choice, prompts_key=key[0])
            if kept is not None:  # kept since the sites were read (e.g. by `prompts check`)
                return _Checked(key, kept, None)
            if not models_on_this_computer(pipelines, choice):
                return _Checked(key, None, None)
            raise_if_cancelled(stop)
            model_sources.leave_a_core_for_the_window()
            agreement = check(store, site, pipelines, choice, progress=progress, cancel=stop)
            # The check keeps the prompts' features: the photo to paint next may be known now.
            return _Checked(key, agreement, trust_examples.next_to_paint(store, site))

        task = BackgroundTask(self._parent, op)
        task.succeeded.connect(lambda result: self._checked_site(task, site, result))
        task.progressed.connect(lambda _d, _t, text: self._progressed(task, site, text))
        task.failure(lambda message: self._check_failed(task, site, message))
        task.on_cancelled(lambda: self._check_yielded(task, site))
        task.finished.connect(lambda: self._check_finished(task))
        self._check = (site, task)
        task.run()

    def _current(self, task: BackgroundTask, site: str) -> bool:
        return self._check is not None and self._check[1] is task and site in self._states

    def _progressed(self, task: BackgroundTask, site: str, text: str) -> None:
        if self._current(task, site) and text:
            self._states[site] = replace(self._states[site], progress=text)
            self._emit()

    def _checked_site(self, task: BackgroundTask, site: str, result: _Checked) -> None:
        if not self._current(task, site):
            return  # superseded by a newer change
        state = replace(self._states[site], checking=False, progress="", problem="")
        if result.agreement is None:
            # Not marked checked: any later change (the models set up by a first analysis,
            # which announces its results) tries again.
            self._states[site] = replace(state, models_missing=True, agreement=None)
        elif result.key == self._wanted.get(site):
            self._checked[site] = result.key
            next_photo = result.next_photo or state.next_photo
            self._states[site] = replace(
                state, agreement=result.agreement, models_missing=False, next_photo=next_photo
            )
            # the site's results may now be trusted more or less: the photo view and the
            # timeline read it again (trust.site_reliability)
            self.session.notify(trust.agreement_changes(site))
        else:  # the prompts changed while it ran: check the newest
            self._states[site] = replace(state, checking=True)
            if site not in self._queue:
                self._queue.append(site)
        self._emit()

    def _check_failed(self, task: BackgroundTask, site: str, message: str) -> None:
        log.warning("agreement check of %s failed: %s", site, message)
        if not self._current(task, site):
            return
        wanted = self._wanted.get(site)
        if wanted is not None:
            self._checked[site] = wanted  # tried again when the prompts (or models) change
        self._states[site] = replace(
            self._states[site], checking=False, progress="", problem=message, agreement=None
        )
        self._emit()

    def _check_yielded(self, task: BackgroundTask, site: str) -> None:
        """A check stopped for an analysis (a superseded one is no longer current): it is
        checked again after the analysis."""
        if self._current(task, site) and site not in self._queue:
            self._queue.insert(0, site)
            self._states[site] = replace(self._states[site], checking=True, progress="")
            self._emit()

    def _check_finished(self, task: BackgroundTask) -> None:
        self._stopping.discard(task)
        if self._check is not None and self._check[1] is task:
            self._check = None
        if self._check is None:
            self._start_next()
