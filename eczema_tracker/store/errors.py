"""Errors the store raises; each message is one plain sentence a person can act on."""

from __future__ import annotations

from eczema_tracker.core.errors import UserError


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
