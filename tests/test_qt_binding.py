"""The Qt binding keeps Python's reference counts: a binding that drops a reference to None or
True on each call (PySide6 6.12.0 on Python 3.11) aborts the app after a few thousand paint
events or signals ("none_dealloc: deallocating None"), and unsaved strokes are lost."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QLabel

CALLS = 200  # few enough that a leaking binding cannot exhaust the counts here


class _Emitter(QObject):
    happened = Signal()


def _references_lost(obj: object, call) -> int:
    before = sys.getrefcount(obj)
    for _ in range(CALLS):
        call()
    return before - sys.getrefcount(obj)


def test_calls_that_return_nothing_keep_the_count_of_none(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    image = QImage(16, 16, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    try:
        assert _references_lost(None, lambda: label.setText("x")) < CALLS // 2
        assert _references_lost(None, lambda: painter.fillRect(0, 0, 3, 3, QColor(1, 1, 1))) < (
            CALLS // 2
        )
    finally:
        painter.end()


def test_signal_emits_keep_the_count_of_true(qtbot):
    emitter = _Emitter()
    assert _references_lost(True, emitter.happened.emit) < CALLS // 2
