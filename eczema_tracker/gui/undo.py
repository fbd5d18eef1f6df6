"""Undo and redo in the main window (Ctrl+Z, Ctrl+Shift+Z / Ctrl+Y) on Qt's ``QUndoStack``.

An edit a person makes (a rating, a deletion, a site change, a mask save, a check-in …) runs as
a store session write first; once it landed, its flow pushes a :class:`StoreEditCommand` on the
window's :class:`EditHistory`. The command's ``undo()`` and ``redo()`` queue store operations
through the same session (in the background, in order), so the views refresh from what each
operation reports. Qt's stack gives the Edit menu's texts ("Undo rating of 3 photos") and
enables the actions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack

from eczema_tracker.app.changes import OpResult
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.store import Store

#: How many edits Ctrl+Z can take back.
MAX_STEPS = 50

#: A store operation, e.g. one of :mod:`eczema_tracker.app.edits`.
StoreOp = Callable[[Store], OpResult[Any]]


class StoreEditCommand(QUndoCommand):
    """One edit that already landed in the store, undone and redone through the session.

    ``value`` is what the edit's operation returned; ``undo_op(store, value)`` takes the edit
    back, ``redo_op(store)`` makes it again (its value then replaces ``value``, so a later undo
    uses what the redo found). ``undone``/``redone`` run on the GUI thread once that landed.
    """

    def __init__(
        self,
        history: EditHistory,
        text: str,
        value: Any,
        *,
        undo_op: Callable[[Store, Any], OpResult[Any]],
        redo_op: StoreOp | None = None,
        undone: Callable[[], None] | None = None,
        redone: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(text)
        self._history = history
        self._value = value
        self._undo_op = undo_op
        self._redo_op = redo_op
        self._undone = undone
        self._redone = redone
        self._made = True  # pushed after the edit landed: the stack's first redo() is a no-op

    def undo(self) -> None:
        # The value is read when the write runs: after a redo queued before it has landed.
        self._history.run(
            lambda store: self._undo_op(store, self._value), self._undone, "undone", self.text()
        )

    def redo(self) -> None:
        if self._made:
            self._made = False
            return
        redo_op = self._redo_op
        if redo_op is None:
            self.setObsolete(True)  # nothing to make again: the stack drops it
            return

        def op(store: Store) -> OpResult[Any]:
            result = redo_op(store)
            self._value = result.value
            return result

        self._history.run(op, self._redone, "redone", self.text())


class EditHistory(QObject):
    """The window's ``QUndoStack`` of store edits, with the session that runs them."""

    def __init__(
        self,
        session: StoreSession,
        tell: Callable[[str], None],
        refused: Callable[[str, str], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.stack = QUndoStack(self)
        self.stack.setUndoLimit(MAX_STEPS)
        self._tell = tell  # a line in the status bar
        self._refused = refused  # an undo or redo the store refused: (title, plain words)

    def push(
        self,
        text: str,
        value: Any,
        *,
        undo_op: Callable[[Store, Any], OpResult[Any]],
        redo_op: StoreOp | None = None,
        undone: Callable[[], None] | None = None,
        redone: Callable[[], None] | None = None,
    ) -> StoreEditCommand:
        """Remember an edit that just landed (see :class:`StoreEditCommand`)."""
        command = StoreEditCommand(
            self, text, value, undo_op=undo_op, redo_op=redo_op, undone=undone, redone=redone
        )
        self.stack.push(command)
        return command

    def run(self, op: StoreOp, then: Callable[[], None] | None, done: str, text: str) -> None:
        """Queue an undo's or a redo's write of the edit ``text``; ``done`` is "undone" or
        "redone" (the status says it; a refusal by the store is said in words)."""

        def refused(message: str) -> None:
            self._refused(f"Nothing {done}", f"This could not be {done}: {message}")

        self.session.write(
            op, on_done=(lambda _value: then()) if then else None, on_failure=refused
        )
        self._tell(f"{done.capitalize()}: {text}.")

    def undo(self) -> None:
        """Edit ▸ Undo (Ctrl+Z): take the newest edit back."""
        if self.stack.canUndo():
            self.stack.undo()
        else:
            self._tell("Nothing to undo.")

    def redo(self) -> None:
        """Edit ▸ Redo (Ctrl+Shift+Z, Ctrl+Y): make the edit undone last again."""
        if self.stack.canRedo():
            self.stack.redo()
        else:
            self._tell("Nothing to redo.")

    def clear(self) -> None:
        """Forget every edit (after a restore replaced the store, or the bin was emptied)."""
        self.stack.clear()

    def undo_action(self, parent: QObject) -> QAction:
        """Edit ▸ Undo, named after the edit it takes back ("&Undo rating of 3 photos")."""
        action = self.stack.createUndoAction(parent, "&Undo")
        action.setShortcut(QKeySequence.StandardKey.Undo)
        return action

    def redo_action(self, parent: QObject) -> QAction:
        """Edit ▸ Redo (Ctrl+Shift+Z and Ctrl+Y), named after the edit it makes again."""
        action = self.stack.createRedoAction(parent, "&Redo")
        action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        return action
