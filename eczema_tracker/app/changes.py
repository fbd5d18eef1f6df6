"""What a write to the store changed, so views refresh only what they show (Anki's ``OpChanges``).

Qt-free. A store operation reports what it changed by returning an :class:`OpResult` (the
operations the GUI runs are in :mod:`eczema_tracker.app.edits`); the GUI's
:class:`~eczema_tracker.gui.store_session.StoreSession` emits those changes after the write ran
in the background; a view looks at the flags it cares about and ignores the rest. Combine two
with ``|``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Generic, TypeVar

from eczema_tracker.core.jobs import Cancelled


@dataclass(frozen=True)
class StoreChanges:
    """Kinds of stored things a write touched (``photo_ids``/``sites`` narrow it when known).

    ``photo_ids`` empty with ``photos`` set means "any photo may have changed".
    """

    photos: bool = False  # photos added, removed, moved to/from the bin, date/site/note edited
    prompts: bool = False  # prompt masks (the painted examples) of ``sites``
    corrections: bool = False  # masks a person painted over a model's result
    analyses: bool = False  # masks, areas and scores computed by the models
    ratings: bool = False  # a person's own severity ratings
    severity_models: bool = False  # personal/imported severity models and which one is active
    record: bool = False  # check-ins, daily numbers, treatments, courses, flares and notes
    agreements: bool = False  # a check of ``sites``' examples kept (how far to trust them)
    photo_ids: frozenset[int] = frozenset()
    sites: frozenset[str] = frozenset()

    def __or__(self, other: StoreChanges) -> StoreChanges:
        return StoreChanges(
            photos=self.photos or other.photos,
            prompts=self.prompts or other.prompts,
            corrections=self.corrections or other.corrections,
            analyses=self.analyses or other.analyses,
            ratings=self.ratings or other.ratings,
            severity_models=self.severity_models or other.severity_models,
            record=self.record or other.record,
            agreements=self.agreements or other.agreements,
            photo_ids=self.photo_ids | other.photo_ids,
            sites=self.sites | other.sites,
        )

    def __bool__(self) -> bool:
        return any(getattr(self, name) for name in _FLAGS)

    def touches_photo(self, photo_id: int) -> bool:
        """True if the photo ``photo_id``'s data (masks, analysis, rating, details) may have changed."""
        if not (self.photos or self.corrections or self.analyses or self.ratings or self.prompts):
            return False
        return not self.photo_ids or photo_id in self.photo_ids

    @classmethod
    def everything(cls) -> StoreChanges:
        """All kinds (the store was replaced, e.g. by a restore)."""
        return cls(
            photos=True,
            prompts=True,
            corrections=True,
            analyses=True,
            ratings=True,
            severity_models=True,
            record=True,
            agreements=True,
        )


#: The kinds of change (the boolean fields); ``photo_ids`` and ``sites`` only narrow them.
_FLAGS: tuple[str, ...] = tuple(f.name for f in fields(StoreChanges) if f.type in ("bool", bool))


T = TypeVar("T")


@dataclass(frozen=True)
class OpResult(Generic[T]):
    """What a store operation returned (``value``) and what it changed (``changes``).

    Every operation the GUI runs through its store session returns one, so the session tells
    the views what the operation itself reported (no caller keeps a list of what to refresh).
    """

    value: T
    changes: StoreChanges


class CancelledAfterWriting(Cancelled):
    """A long write stopped by the person after writing part of its work; ``changes`` is what
    it may have written (kept: e.g. the photos imported before the Cancel)."""

    def __init__(self, changes: StoreChanges) -> None:
        super().__init__("cancelled")
        self.changes = changes


@contextmanager
def reporting_when_cancelled(changes: StoreChanges) -> Iterator[None]:
    """Inside a long operation: turn a :class:`Cancelled` into :class:`CancelledAfterWriting`
    carrying ``changes`` (what the part done before the Cancel may have written)."""
    try:
        yield
    except CancelledAfterWriting:
        raise
    except Cancelled as stop:
        raise CancelledAfterWriting(changes) from stop
