"""The one base of every error written for a person: the GUI and the CLI show its text as it is.

Each layer keeps its own error classes (``StoreError``, ``ModelSourceError``,
``ImageLoadError``, ``ServiceError``, ...) for callers that need to tell them apart; all of
them derive from :class:`UserError`, so a shell (``gui/tasks.py``, ``cli.py``) needs one
``isinstance`` check, never a list of class names.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem a person can act on; ``message`` is one or two plain sentences."""

    @property
    def message(self) -> str:
        """The plain sentence(s) to show (the exception's text)."""
        return str(self).strip()
