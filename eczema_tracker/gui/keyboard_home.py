"""Where the main window's keyboard goes when the person did not choose: the library.

Qt moves the focus on by itself. When the focused widget is hidden or disabled (the status bar's
Cancel once its job ended, the library while a restore runs) the next widget in the tab chain
gets it; when the window is activated again (a dialog or message closed) the widget that had it
last does, or the first one in the chain. The library's keys (0-3 rate, Delete) then reach
whatever that is: in today's itch box a "2" once changed the diary.

:class:`KeyboardHome` keeps two rules, whatever the platform does:

- when the focused widget of the window goes away (hidden, disabled), the focus goes back to
  the library (the window's ``home``), not to the next widget in the tab chain;
- an *entry* widget (today's numbers) holds the focus only when the person put it there: a
  click, a menu or mnemonic, or Tab from a widget they were on. Focus handed to it by Qt (the
  window activated again, Tab from a widget that vanished) goes home instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QApplication, QWidget

#: Focus reasons that are the person's own doing (or the app's deliberate choice).
DELIBERATE_REASONS = frozenset(
    {
        Qt.FocusReason.MouseFocusReason,
        Qt.FocusReason.ShortcutFocusReason,  # a mnemonic or a buddy label
        Qt.FocusReason.PopupFocusReason,  # a menu closed: back where the person was
        Qt.FocusReason.MenuBarFocusReason,
        Qt.FocusReason.OtherFocusReason,  # the code chose it (setFocus())
    }
)
TAB_REASONS = frozenset({Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason})


def _alive(widget: QWidget | None) -> bool:
    return widget is not None and shiboken6.isValid(widget)


def _takes_keys(widget: QWidget | None) -> bool:
    """True when ``widget`` exists, shows, is enabled and accepts the focus."""
    return (
        _alive(widget)
        and widget is not None
        and widget.isVisible()
        and widget.isEnabled()
        and widget.focusPolicy() != Qt.FocusPolicy.NoFocus
    )


class KeyboardHome(QObject):
    """Sends the focus of ``window`` home (``home()``: the library, or what stands for it) when
    its focused widget goes away or an entry widget got it without the person choosing it."""

    def __init__(self, window: QWidget, home: Callable[[], QWidget | None]) -> None:
        super().__init__(window)
        self._window = window
        self._home = home
        self._entries: list[QWidget] = []
        self._arrivals: dict[int, Qt.FocusReason] = {}  # id(entry) -> reason of its last FocusIn
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.focusChanged.connect(self._focus_changed)

    def guard_entries(self, widgets: Iterable[QWidget]) -> None:
        """Let ``widgets`` (boxes that edit the record) keep only focus the person gave them."""
        for widget in widgets:
            self._entries.append(widget)
            widget.installEventFilter(self)

    def go_home(self) -> bool:
        """Give the keyboard to the home widget; False when it cannot take it now (e.g. the
        library is disabled during a restore)."""
        home = self._home()
        if not _takes_keys(home):
            return False
        assert home is not None
        home.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    # -- Qt ------------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.FocusIn and isinstance(event, QFocusEvent):
            self._arrivals[id(watched)] = event.reason()
        return False

    def _is_entry(self, widget: QWidget | None) -> bool:
        return widget is not None and any(widget is entry for entry in self._entries)

    def _in_window(self, widget: QWidget | None) -> bool:
        return _alive(widget) and widget is not None and widget.window() is self._window

    def _focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if not _alive(self._window) or not self._in_window(new) or not self._window.isVisible():
            return
        if self._is_entry(new):
            reason = self._arrivals.pop(id(new), Qt.FocusReason.OtherFocusReason)
            if self._chosen(reason, old):
                return
            assert new is not None
            if not self.go_home():
                new.clearFocus()  # nowhere safe to go: better no focus than the diary's box
            return
        vanished = self._in_window(old) and old is not None and not _takes_keys(old)
        if vanished and new is not self._home():
            self.go_home()

    def _chosen(self, reason: Qt.FocusReason, old: QWidget | None) -> bool:
        """Did the person put the focus on an entry box (see the module docstring)?"""
        if reason in DELIBERATE_REASONS:
            return True
        if reason in TAB_REASONS:  # a Tab key from a widget the person is on, not a hand-over
            return self._in_window(old) and _takes_keys(old)
        return False  # ActiveWindowFocusReason: the window came back, nobody chose the box
