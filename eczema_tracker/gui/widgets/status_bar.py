"""The main window's status bar: one owner for what it says, so two things never overlap.

``QStatusBar.showMessage`` paints its message over the whole bar up to the first permanent
widget and cuts it there mid-word, so a long note ran straight into the running task's label
("…checked on Training your severity model…"). Here a message is a label in the bar's layout
instead: it gets the room left of the running task (:class:`TaskProgressWidget`, a permanent
widget), is elided with "…" when longer (the whole text in its tooltip), and a new message
replaces the one before. ``showMessage``/``currentMessage``/``clearMessage`` called from Python
go to that label, so every caller keeps the usual API; Qt's own status tips (from C++) still use
the base class and hide the label while they show.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget


class StatusMessage(QLabel):
    """One line of text elided to its width; the whole text in the tooltip when cut."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAccessibleName("Status")

    def full_text(self) -> str:
        """The whole message (what :meth:`text` shows may be elided)."""
        return self._full

    def set_full_text(self, text: str) -> None:
        """Show ``text`` on one line (its lines joined), elided to the room there is."""
        self._full = " ".join(part.strip() for part in text.splitlines() if part.strip())
        self._elide()

    def is_elided(self) -> bool:
        """True when the message is longer than the room and ends in "…"."""
        return self.text() != self._full

    def _elide(self) -> None:
        room = max(0, self.contentsRect().width())
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, room)
        super().setText(shown)
        self.setToolTip(self._full if shown != self._full else "")

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - re-elide to the new room
        super().resizeEvent(event)
        self._elide()


class WindowStatusBar(QStatusBar):
    """A status bar whose messages sit beside the permanent widgets, never under them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = StatusMessage(self)
        self.addWidget(self.message, 1)
        self._expiry = QTimer(self)
        self._expiry.setSingleShot(True)
        self._expiry.timeout.connect(self.clearMessage)

    def showMessage(self, text: str, timeout: int | None = 0) -> None:  # noqa: N802 - Qt's API
        """Say ``text`` (replacing what was said before) for ``timeout`` ms (0 or None: until replaced)."""
        if super().currentMessage():  # a status tip of Qt's own: this replaces it
            super().clearMessage()
        self.message.set_full_text(text)
        self._expiry.stop()
        if timeout is not None and timeout > 0:
            self._expiry.start(timeout)

    def currentMessage(self) -> str:  # noqa: N802 - Qt's API
        """The whole message shown now ("" when none)."""
        return self.message.full_text()

    def clearMessage(self) -> None:  # noqa: N802 - Qt's API
        """Say nothing."""
        self._expiry.stop()
        self.message.set_full_text("")
