"""Windows that fit the screen they open on: a dialog is never larger than the room
the screen's available area leaves it once the window manager's frame is counted, it opens
centred on its parent, and its frame, title bar first, stays inside the available area (a
window whose title bar is off the top of the screen cannot be moved by it).

:func:`keep_on_screen` does this each time a window is shown (one small event filter on that
window); :func:`fitted_size` is the size a window may have before it is shown (the main
window's first size). Content taller than the room a dialog gets scrolls inside the dialog
(a :class:`~PySide6.QtWidgets.QScrollArea` of its own, e.g. the check-in's questions); this
module only keeps the window's size and position within the screen.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMargins, QObject, QPoint, QRect, QSize, QTimer
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QWidget

__all__ = ["MIN_FRAME", "available_area", "fitted_size", "frame_margins", "keep_on_screen"]

#: The least a window manager's frame is taken to add (a title bar above, thin borders), used
#: while the real frame is not known yet: under X11 the window manager adds it only after the
#: window is mapped, that is after it was sized and placed.
MIN_FRAME = QMargins(4, 32, 4, 4)


def _screen_of(window: QWidget) -> QScreen:
    parent = window.parentWidget()
    screen = (parent.window() if parent is not None else window).screen()
    return screen if screen is not None else QGuiApplication.primaryScreen()


def available_area(window: QWidget) -> QRect:
    """The available geometry (without task bars and docks) of the screen ``window`` opens on:
    its parent's screen, else its own."""
    return _screen_of(window).availableGeometry()


def _margins_of(window: QWidget) -> QMargins:
    frame, inner = window.frameGeometry(), window.geometry()
    return QMargins(
        inner.left() - frame.left(),
        inner.top() - frame.top(),
        frame.right() - inner.right(),
        frame.bottom() - inner.bottom(),
    )


def frame_margins(window: QWidget) -> QMargins:
    """What the window manager's frame adds around ``window``: the largest of its own frame
    (once known), its parent window's and :data:`MIN_FRAME`."""
    found = [MIN_FRAME]
    if window.isVisible():
        found.append(_margins_of(window))
    parent = window.parentWidget()
    if parent is not None and parent.window().isVisible():
        found.append(_margins_of(parent.window()))
    return QMargins(
        max(m.left() for m in found),
        max(m.top() for m in found),
        max(m.right() for m in found),
        max(m.bottom() for m in found),
    )


def fitted_size(window: QWidget, wanted: QSize) -> QSize:
    """``wanted``, made no larger than the room the screen leaves ``window`` inside its frame
    (and no smaller than the window's minimum size: content that needs more scrolls inside)."""
    area, margins = available_area(window), frame_margins(window)
    room = QSize(
        area.width() - margins.left() - margins.right(),
        area.height() - margins.top() - margins.bottom(),
    )
    return wanted.boundedTo(room).expandedTo(window.minimumSize())


def _place(window: QWidget, *, centre: bool, area: QRect | None = None) -> None:
    """Resize ``window`` to fit and move its frame inside the available ``area`` (default: that
    of the screen it opens on), centred on its parent when ``centre``; else where it is, pulled
    in where it sticks out."""
    if area is None:
        area = available_area(window)
    margins = frame_margins(window)
    frame = QRect(QPoint(0, 0), fitted_size(window, window.size()).grownBy(margins))
    parent = window.parentWidget()
    if centre:
        middle = parent.window().frameGeometry().center() if parent is not None else area.center()
        frame.moveCenter(middle)
    else:  # where its inside is now, with the frame the placing counts
        frame.moveTopLeft(window.geometry().topLeft() - QPoint(margins.left(), margins.top()))
    # Right and bottom first, so that a frame larger than the area keeps its title bar on it.
    frame.moveRight(min(frame.right(), area.right()))
    frame.moveBottom(min(frame.bottom(), area.bottom()))
    frame.moveLeft(max(frame.left(), area.left()))
    frame.moveTop(max(frame.top(), area.top()))
    # Placed by its inside: before the window is mapped Qt does not know the frame, and would
    # put the inside where the frame was meant to go (the title bar then above the screen).
    window.setGeometry(frame.marginsRemoved(margins))


def _area_holding(window: QWidget) -> QRect:
    """The available area of the screen under the middle of ``window``'s frame (the person may
    have moved it to another monitor), else of the screen it opens on."""
    screen = QGuiApplication.screenAt(window.frameGeometry().center())
    return screen.availableGeometry() if screen is not None else available_area(window)


_FILTER_NAME = "keep-on-screen"


class _KeepOnScreen(QObject):
    """Fits its window each time it is shown: the first time centred on the parent, later
    left where it is while its frame is inside its screen's available area."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._placed = False
        self._first_size = QSize()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self._window and event.type() == QEvent.Type.Show:
            if not event.spontaneous():  # not a window coming back from the task bar
                first = not self._placed
                if first:  # sized and centred before it is mapped (no jump on screen)
                    _place(self._window, centre=True)
                    self._placed = True
                    self._first_size = self._window.size()
                # Again once Qt's own show handling is done: a message box sets its final
                # (fixed) size in its showEvent, after this filter, and Qt never moves a
                # window placed by hand again.
                QTimer.singleShot(0, self, lambda: self._fit_after_show(centre=first))
        return False

    def _fit_after_show(self, *, centre: bool) -> None:
        window = self._window
        if not window.isVisible():
            return
        area = _area_holding(window)
        resized = centre and window.size() != self._first_size  # a message box, say
        if area.contains(window.frameGeometry()) and not resized:
            return  # where the person (or the first placing) put it: left there
        _place(window, centre=centre, area=None if centre else area)


def keep_on_screen(window: QWidget) -> None:
    """Whenever ``window`` (a dialog, a message box) is shown: make it no larger than its screen
    leaves room for, its frame included; the first time, centre it on its parent; and keep its
    frame, title bar first, inside the screen's available area."""
    if window.findChild(QObject, _FILTER_NAME) is None:
        keeper = _KeepOnScreen(window)
        keeper.setObjectName(_FILTER_NAME)
        window.installEventFilter(keeper)
