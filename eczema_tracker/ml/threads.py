"""Torch's thread count: one choice for analysis, and no change of it under a running model.

``torch.set_num_threads`` is process-wide. Personal-model training wants one thread (its
network is tiny: hand-offs cost more than they save), analysis wants one per physical core.
A change made by one task while another one's model runs would slow that one down (or, with
OpenMP, leave it with a thread count it never asked for). So:

* :func:`analysis_thread_count` is the one place that says how many threads analysis uses;
* every model forward holds :func:`steady_threads` (shared: several may run at once);
* a thread count is only changed inside :func:`torch_threads` (exclusive: it waits for the
  running forwards to finish, and new ones wait for it).

How far a change reaches (torch 2.13, OpenMP build; checked on the 2-core AMD EPYC): a thread
keeps the count it had at its first torch op, or set itself since; ``set_num_threads`` also
sets the default every thread takes at its first op, and MKL's count, which are process-wide.
So set the count on the thread that runs the model (as :func:`use_analysis_threads` does when
called there).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from eczema_tracker.core.jobs import CancelCheck, raise_if_cancelled


@lru_cache(maxsize=1)
def physical_cores() -> int:
    """Physical cores this process may run on (hyper-threads counted once); at least 1."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux: no topology to read, count logical CPUs
        return max(1, os.cpu_count() or 1)
    cores = set()
    for cpu in allowed:
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            package = (topology / "physical_package_id").read_text().strip()
            core = (topology / "core_id").read_text().strip()
        except OSError:
            return max(1, len(allowed))
        cores.add((package, core))
    return max(1, len(cores))


def analysis_thread_count() -> int:
    """Threads for analysis: one per physical core (more only add hand-offs)."""
    return physical_cores()


class _SharedExclusiveLock:
    """Many shared holders or one exclusive holder; re-entrant for shared holders."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._shared = 0
        self._exclusive: int | None = None  # thread id
        self._local = threading.local()

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        me = threading.get_ident()
        depth = getattr(self._local, "depth", 0)
        if depth or self._exclusive == me:  # nested, or inside our own exclusive section
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth
            return
        with self._cond:
            while self._exclusive is not None:
                self._cond.wait()
            self._shared += 1
        self._local.depth = 1
        try:
            yield
        finally:
            self._local.depth = 0
            with self._cond:
                self._shared -= 1
                self._cond.notify_all()

    def held_here(self) -> bool:
        """True when this thread holds the lock shared (it runs a model)."""
        return bool(getattr(self._local, "depth", 0))

    @contextlib.contextmanager
    def exclusive(self, cancel: CancelCheck | None = None) -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            while self._exclusive is not None or self._shared:
                if cancel is None:
                    self._cond.wait()
                else:  # waiting for a model run (seconds): stop when asked to
                    self._cond.wait(0.1)
                    raise_if_cancelled(cancel)
            self._exclusive = me
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = None
                self._cond.notify_all()


_LOCK = _SharedExclusiveLock()


def steady_threads() -> contextlib.AbstractContextManager[None]:
    """Hold while a model runs: nobody changes torch's thread count meanwhile (shared)."""
    return _LOCK.shared()


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` torch threads, then restore the previous count.

    Waits until no model runs (see module docstring); models started meanwhile wait for it.
    """
    import torch

    if _LOCK.held_here():  # called from inside a model run: waiting would deadlock; no change
        yield
        return
    with _LOCK.exclusive():
        previous = torch.get_num_threads()
        if count != previous:
            torch.set_num_threads(count)
        try:
            yield
        finally:
            if torch.get_num_threads() != previous:
                torch.set_num_threads(previous)


def use_analysis_threads(count: int | None = None, *, cancel: CancelCheck | None = None) -> int:
    """Set torch's thread count for analysis (default :func:`analysis_thread_count`) when no
    model runs; returns the count now in use.

    Already at ``count``: returns at once, without waiting for running models. Otherwise it
    waits for them, checking ``cancel`` (raises ``Cancelled``) while it waits.
    """
    import torch

    wanted = max(1, count or analysis_thread_count())
    if _LOCK.held_here() or torch.get_num_threads() == wanted:
        return torch.get_num_threads()
    with _LOCK.exclusive(cancel):
        if torch.get_num_threads() != wanted:
            torch.set_num_threads(wanted)
        return torch.get_num_threads()
