"""Date pickers that take no day in the future: the one way every calendar in the app says so.

Qt's calendar refuses a click on a day past its maximum but draws that day like any other, so
it looks pickable. :class:`PastDaysCalendar` draws those days greyed out on a grey cell;
:func:`limit_to_today` gives a date (or date-and-time) edit that calendar and today as its
last day.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QRect, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QCalendarWidget, QDateTimeEdit, QWidget

FUTURE_TIP = "not in the future"


class PastDaysCalendar(QCalendarWidget):
    """A calendar whose days after :meth:`maximumDate` are drawn greyed out (not pickable)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)

    def paintCell(self, painter: QPainter, rect: QRect, day: QDate) -> None:  # noqa: N802
        if day <= self.maximumDate():
            super().paintCell(painter, rect, day)
            return
        palette = self.palette()
        painter.save()
        painter.fillRect(
            rect, palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Window)
        )
        painter.setPen(palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(day.day()))
        painter.restore()


def limit_to_today(edit: QDateTimeEdit, today: date) -> None:
    """Let ``edit`` (a ``QDateEdit`` or ``QDateTimeEdit``) pick no day after ``today``: typed or
    stepped dates stop there, and its calendar pop-up greys the later days out."""
    edit.setCalendarPopup(True)
    edit.setCalendarWidget(PastDaysCalendar(edit))
    edit.setMaximumDate(QDate(today.year, today.month, today.day))
    tip = edit.toolTip()
    if FUTURE_TIP not in tip:
        edit.setToolTip(f"{tip} ({FUTURE_TIP})" if tip else f"A day, {FUTURE_TIP}")
