"""core.jobs.held: a lock waited for cancellably."""

from __future__ import annotations

import threading

import pytest

from eczema_tracker.core.jobs import Cancelled, held


def test_held_takes_and_releases_the_lock():
    lock = threading.Lock()
    with held(lock):
        assert lock.locked()
    assert not lock.locked()


def test_a_cancel_stops_the_wait_for_a_lock_another_holds():
    lock = threading.Lock()
    lock.acquire()  # "another" holds it
    asked = []

    def cancel() -> bool:
        asked.append(1)
        return len(asked) >= 3  # cancelled on the third look

    with pytest.raises(Cancelled), held(lock, cancel):
        pytest.fail("the block must not run without the lock")
    assert len(asked) == 3 and lock.locked()  # still the other holder's
    lock.release()
