"""Record ▸ Days recorded…: every day with something recorded, newest first, one row a day:
its POEM, itch and sleep-loss numbers, flare mark and note.

Enter (or a double-click, or Edit…) opens the day's check-in with all of it, ready to change;
Delete deletes what is recorded on the day; Ctrl+Z undoes (the main window's undo). A day of an
old store with several check-ins shows the older ones on rows of their own below it, marked
"not counted", so the person can delete them one by one. The dialog only shows and asks: the
record flow does the writes (through the store session) and the list follows the session's
``changed``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.gui.screen_fit import keep_on_screen
from eczema_tracker.store.record.values import CheckinRecord, RecordedDay

COLUMNS = ("Date", "POEM (0–28)", "Itch (0–10)", "Sleep loss (0–10)", "Flare", "Note")
NOTE_SHOWN_CHARS = 80


@dataclass(frozen=True)
class DayRow:
    """What one row of the list stands for: a day, or one older check-in of it."""

    day: date
    older_checkin_id: int | None = None  # None: the day itself


def short_day(day: date) -> str:
    """``Mon 2 Mar 2026``."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def poem_text(checkin: CheckinRecord | None) -> str:
    """``18 (severe)``, ``not scored`` or ``—`` (no check-in)."""
    if checkin is None:
        return "—"
    score = checkin.score
    return f"{score.total} ({score.band})" if score.scored else "not scored"


def _number(value: int | None) -> str:
    return "—" if value is None else str(value)


def _note(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= NOTE_SHOWN_CHARS else line[: NOTE_SHOWN_CHARS - 1] + "…"


class RecordDaysDialog(QDialog):
    """The days recorded, with Edit, Delete and Undo (non-modal)."""

    editRequested = Signal(object)  # noqa: N815  a date
    deleteRequested = Signal(object)  # noqa: N815  a DayRow

    def __init__(
        self,
        load: Callable[[], Sequence[RecordedDay]],
        parent: QWidget | None = None,
        *,
        undo: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(parent)
        keep_on_screen(self)
        self.setWindowTitle("Days recorded")
        self._load = load
        self._rows: list[DayRow] = []
        intro = QLabel(
            "Everything you recorded, a day a row. Enter or Edit… changes a day; Delete "
            "deletes it; Ctrl+Z undoes."
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setTabKeyNavigation(False)
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _index: self.edit_selected())
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.empty_label = QLabel(
            "Nothing recorded yet: Record ▸ Weekly check-in… (Ctrl+K) or today's numbers."
        )
        self.empty_label.setStyleSheet("color: #555;")

        self.edit_button = QPushButton("&Edit…")
        self.delete_button = QPushButton("&Delete")
        self.undo_button = QPushButton("&Undo")
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        for button in (self.edit_button, self.delete_button, self.undo_button):
            button.setAutoDefault(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.edit_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.undo_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAutoDefault(False)

        # Keys act on the selected row wherever the focus is in this dialog.
        self.edit_action = self._key_action(self.edit_selected, "Return", "Enter")
        self.delete_action = self._key_action(self.delete_selected, QKeySequence.StandardKey.Delete)
        self.undo_action = self._key_action(undo or (lambda: None), QKeySequence.StandardKey.Undo)
        self.undo_button.clicked.connect(self.undo_action.trigger)
        self.undo_button.setEnabled(undo is not None)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label)
        layout.addWidget(buttons)
        self.resize(820, 480)
        self.reload()

    def _key_action(
        self, slot: Callable[[], object], *keys: str | QKeySequence.StandardKey
    ) -> QAction:
        action = QAction(self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    # -- the rows ----------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the days again; the same row (or the one now in its place) stays selected."""
        current = self.selected_row()
        index = self.table.currentRow()
        days = sorted(self._load(), key=lambda d: d.day, reverse=True)
        self._rows = []
        self.table.setRowCount(0)
        for day in days:
            self._add_row(DayRow(day.day), day, day.checkin)
            for older in reversed(day.older_checkins):
                self._add_row(DayRow(day.day, older.id), day, older)
        self.empty_label.setVisible(not self._rows)
        if not self._rows:
            self._selection_changed()
            return
        again = (
            self._rows.index(current) if current in self._rows else min(index, len(self._rows) - 1)
        )
        self.table.selectRow(max(again, 0))

    def _add_row(self, row: DayRow, day: RecordedDay, checkin: CheckinRecord | None) -> None:
        older = row.older_checkin_id is not None
        if older:
            cells = [
                f"   ↳ {short_day(row.day)}",
                poem_text(checkin) + ", older, not counted",
                "",
                "",
                "",
                "an older check-in of the same day: only the newest counts",
            ]
        else:
            cells = [
                short_day(day.day),
                poem_text(checkin),
                _number(day.itch),
                _number(day.sleep_loss),
                "flare" if day.flare else "",
                _note(day.note),
            ]
        n = self.table.rowCount()
        self.table.insertRow(n)
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if older:
                item.setForeground(Qt.GlobalColor.darkGray)
            if column == 5 and not older and day.note:
                item.setToolTip(day.note)
            self.table.setItem(n, column, item)
        self._rows.append(row)

    def rows(self) -> list[DayRow]:
        """What the rows stand for, top to bottom."""
        return list(self._rows)

    def row_texts(self, index: int) -> list[str]:
        """The cells of row ``index`` as shown."""
        items = [self.table.item(index, c) for c in range(len(COLUMNS))]
        return ["" if item is None else item.text() for item in items]

    def selected_row(self) -> DayRow | None:
        index = self.table.currentRow()
        selected = self.table.selectionModel().hasSelection() if self._rows else False
        return self._rows[index] if selected and 0 <= index < len(self._rows) else None

    def select_day(self, day: date) -> None:
        """Select the row of ``day`` (if listed) and give the list the focus."""
        for index, row in enumerate(self._rows):
            if row == DayRow(day):
                self.table.selectRow(index)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def _selection_changed(self) -> None:
        row = self.selected_row()
        self.edit_button.setEnabled(row is not None)
        self.delete_button.setEnabled(row is not None)
        self.delete_button.setToolTip(
            ""
            if row is None
            else "Delete this older check-in"
            if row.older_checkin_id is not None
            else "Delete everything recorded on this day (Ctrl+Z undoes)"
        )

    # -- actions -----------------------------------------------------------------------------
    def edit_selected(self) -> None:
        """Ask to change the selected day (an older check-in's row: its day)."""
        row = self.selected_row()
        if row is not None:
            self.editRequested.emit(row.day)

    def delete_selected(self) -> None:
        """Ask to delete the selected day (or older check-in)."""
        row = self.selected_row()
        if row is not None:
            self.deleteRequested.emit(row)


__all__ = ["COLUMNS", "DayRow", "RecordDaysDialog", "poem_text", "short_day"]
