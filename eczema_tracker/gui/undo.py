"""Undo in the main window (Ctrl+Z): the last ratings, deletions, site changes and mask saves.

Each change the window makes pushes one :class:`UndoStep` holding a plain callable that puts the
store back as it was. No Qt here, so the history is easy to test and reason about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MAX_STEPS = 50


@dataclass(frozen=True)
class UndoStep:
    """One change: ``description`` ("rating of 3 photos") and how to take it back."""

    description: str
    undo: Callable[[], object]  # what it returns (e.g. the write it queued) is not used


class UndoHistory:
    """A bounded stack of :class:`UndoStep` (newest last)."""

    def __init__(
        self, max_steps: int = MAX_STEPS, on_change: Callable[[], None] | None = None
    ) -> None:
        self._steps: list[UndoStep] = []
        self._max = max_steps
        self.on_change = on_change  # e.g. relabel the Undo action ("Undo rating of 3 photos")

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def push(self, description: str, undo: Callable[[], object]) -> None:
        """Remember a change that was just made."""
        self._steps.append(UndoStep(description, undo))
        del self._steps[: -self._max]
        self._changed()

    def can_undo(self) -> bool:
        return bool(self._steps)

    def next_description(self) -> str | None:
        """What Ctrl+Z would undo, or None."""
        return self._steps[-1].description if self._steps else None

    def undo(self) -> str | None:
        """Undo the newest change; returns its description (None: nothing to undo). A step
        whose undo fails is dropped and the error raised (the store refused it)."""
        if not self._steps:
            return None
        step = self._steps.pop()
        try:
            step.undo()
        finally:
            self._changed()
        return step.description

    def clear(self) -> None:
        """Forget every step (e.g. after a restore replaced the store)."""
        self._steps.clear()
        self._changed()
