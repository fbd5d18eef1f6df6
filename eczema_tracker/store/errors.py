"""Errors the store raises; each message is one plain sentence a person can act on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eczema_tracker.core.errors import UserError
from eczema_tracker.core.poem import POEM_MAX_TOTAL

if TYPE_CHECKING:
    from eczema_tracker.store.record_values import CheckinRecord


class StoreError(UserError):
    """Any problem opening or using the photo store."""


class StoreLockedError(StoreError):
    """Another Eczema Tracker process has the store open for writing."""

    def __init__(self, message: str, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid


class StoreTooNewError(StoreError):
    """The store was written by a newer version of the app."""


class StoreNotFoundError(StoreError):
    """No store exists where a read-only open looked."""


class StoreReadOnlyError(StoreError):
    """A write was attempted on a store opened read-only."""


class BackupError(StoreError):
    """An export or restore could not be completed; nothing was changed."""


class RecordInputError(StoreError):
    """A check-in, daily number, treatment, course or day mark was refused; nothing was stored."""


class CheckinExistsError(RecordInputError):
    """A second POEM check-in for a date that has one (``existing``); nothing was stored."""

    def __init__(self, existing: CheckinRecord) -> None:
        day = existing.day
        total = existing.score.total
        what = "not scored" if total is None else f"POEM {total}/{POEM_MAX_TOTAL}"
        super().__init__(
            f"{day.day} {day:%b %Y} has a POEM check-in already ({what}); change that one "
            "instead of adding a second."
        )
        self.existing = existing
