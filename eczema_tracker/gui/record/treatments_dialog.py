"""Treatments: the person's short list of treatments and the courses of each.

Left: the list, and a form to add a treatment or change the one selected (name; kind;
a potency, shown only for a topical corticosteroid) or delete it (asked first; its courses go
with it). After Add the form is empty again, so the next treatment inherits nothing.
Right: the selected treatment's courses (start, end or "ongoing", times a day), a form to add
one, set or clear the end of the selected course, or delete it. A course cannot end before it
starts, nor overlap another course of the same treatment (the store's rule, with a message
naming that course): the dialog says so and stores nothing. No date is in the future: the
calendars grey those days out. Every write goes through the store session
(in the background, in order); the lists are read again when it is done.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.app import edits
from eczema_tracker.app.changes import OpResult
from eczema_tracker.gui.record.checkin_dialog import from_qdate, to_qdate
from eczema_tracker.gui.screen_fit import keep_on_screen
from eczema_tracker.gui.widgets.past_dates import limit_to_today
from eczema_tracker.store.record.values import (
    POTENCIES,
    TREATMENT_KIND_LABELS,
    TREATMENT_KINDS,
    CourseRecord,
    TreatmentRecord,
    potency_label,
)

TCS = "topical_corticosteroid"


def ask_question_with_box(parent: QWidget, title: str, text: str) -> bool:
    """A yes/no question in a message box."""
    answer = QMessageBox.question(parent, title, text)
    return answer == QMessageBox.StandardButton.Yes


def treatment_text(treatment: TreatmentRecord) -> str:
    """``Hydrocortisone 1% (topical corticosteroid, mild)``."""
    kind = TREATMENT_KIND_LABELS.get(treatment.kind, treatment.kind)
    if treatment.potency:
        kind += f", {potency_label(treatment.potency)}"
    return f"{treatment.name} ({kind})"


def _day(day: date) -> str:
    """``2 Dec 2026``, as the rest of the app writes a short date."""
    return f"{day.day} {day:%b %Y}"


class TreatmentsDialog(QDialog):
    """List, add, change and delete treatments and their courses (non-modal is fine)."""

    def __init__(
        self,
        session: Any,
        parent: QWidget | None = None,
        *,
        today: date | None = None,
        ask_question: Callable[[QWidget, str, str], bool] = ask_question_with_box,
    ) -> None:
        super().__init__(parent)
        keep_on_screen(self)
        self.setWindowTitle("Treatments")
        self.session = session
        self._today = today or date.today()
        self._ask = ask_question
        self._treatments: list[TreatmentRecord] = []
        self._courses: list[CourseRecord] = []
        self.pending = 0  # writes sent and not finished

        # -- left: treatments
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.currentRowChanged.connect(lambda _r: self._selected())
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Hydrocortisone 1% cream")
        self.kind = QComboBox()
        for kind in TREATMENT_KINDS:
            self.kind.addItem(TREATMENT_KIND_LABELS[kind], kind)
        self.potency = QComboBox()
        for potency in POTENCIES:
            self.potency.addItem(potency_label(potency), potency)
        self.kind.currentIndexChanged.connect(lambda _i: self._kind_changed())
        self.add_button = QPushButton("&Add treatment")
        self.save_button = QPushButton("&Save changes")
        self.delete_button = QPushButton("&Delete…")
        self.add_button.clicked.connect(self.add_treatment)
        self.save_button.clicked.connect(self.save_treatment)
        self.delete_button.clicked.connect(self.delete_treatment)
        form = self.treatment_form = QFormLayout()
        form.addRow("&Name:", self.name)
        form.addRow("&Kind:", self.kind)
        form.addRow("&Potency:", self.potency)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.save_button, self.delete_button):
            buttons.addWidget(button)
        left_box = QGroupBox("Your treatments")
        left = QVBoxLayout(left_box)
        left.addWidget(self.list, 1)
        left.addLayout(form)
        left.addLayout(buttons)

        # -- right: courses of the selected treatment
        self.courses_box = QGroupBox("Courses")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Start", "End", "Times a day"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.currentCellChanged.connect(lambda *_a: self._course_selected())
        self.start = self._date_edit("The first day of the course")
        self.ended = QCheckBox("Ended on")
        self.ended.setToolTip("Leave unticked for a course that is still going")
        self.end = self._date_edit("The last day of the course")
        self.end.setEnabled(False)
        self.ended.toggled.connect(self.end.setEnabled)
        self.times = QSpinBox()
        self.times.setRange(0, 24)
        self.times.setSpecialValueText("—")
        self.times.setToolTip("How many times a day it is used (optional)")
        self.add_course_button = QPushButton("Add &course")
        self.end_course_button = QPushButton("Set &end of selected")
        self.end_course_button.setToolTip(
            "Give the selected course the end date above (or, unticked, make it ongoing)"
        )
        self.delete_course_button = QPushButton("Delete co&urse")
        self.add_course_button.clicked.connect(self.add_course)
        self.end_course_button.clicked.connect(self.end_course)
        self.delete_course_button.clicked.connect(self.delete_course)
        end_row = QHBoxLayout()
        end_row.addWidget(self.ended)
        end_row.addWidget(self.end, 1)
        course_form = QFormLayout()
        course_form.addRow("S&tart:", self.start)
        course_form.addRow("", end_row)
        course_form.addRow("T&imes a day:", self.times)
        course_buttons = QHBoxLayout()
        for button in (self.add_course_button, self.end_course_button, self.delete_course_button):
            course_buttons.addWidget(button)
        right = QVBoxLayout(self.courses_box)
        right.addWidget(self.table, 1)
        right.addLayout(course_form)
        right.addLayout(course_buttons)

        self.message = QLabel()
        self.message.setWordWrap(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        panes = QHBoxLayout()
        panes.addWidget(left_box, 1)
        panes.addWidget(self.courses_box, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(panes, 1)
        layout.addWidget(self.message)
        layout.addWidget(close)
        self.resize(860, 520)
        self._kind_changed()
        self.reload()
        self.name.setFocus()  # a first treatment is typed at once

    def _date_edit(self, tip: str) -> QDateEdit:
        edit = QDateEdit(to_qdate(self._today))
        edit.setDisplayFormat("d MMM yyyy")
        edit.setToolTip(tip)
        limit_to_today(edit, self._today)
        return edit

    # -- reading -----------------------------------------------------------------------------
    def treatments(self) -> list[TreatmentRecord]:
        """The treatments listed."""
        return list(self._treatments)

    def current_treatment(self) -> TreatmentRecord | None:
        row = self.list.currentRow()
        return self._treatments[row] if 0 <= row < len(self._treatments) else None

    def current_course(self) -> CourseRecord | None:
        row = self.table.currentRow()
        return self._courses[row] if 0 <= row < len(self._courses) else None

    def select_treatment(self, name: str) -> None:
        """Select the treatment called ``name`` (any case)."""
        for row, treatment in enumerate(self._treatments):
            if treatment.name.casefold() == name.casefold():
                self.list.setCurrentRow(row)
                return

    def reload(self, select: str | None = None) -> None:
        """Read the treatments (and the selected one's courses) again."""
        current = self.current_treatment()
        keep = select or (current.name if current else None)
        self._treatments = self.session.store.treatments()
        self.list.blockSignals(True)
        self.list.clear()
        for treatment in self._treatments:
            self.list.addItem(QListWidgetItem(treatment_text(treatment)))
        if not self._treatments:
            self.list.addItem(QListWidgetItem("No treatments yet: type a name below, then Add."))
            self.list.item(0).setFlags(Qt.ItemFlag.NoItemFlags)
        self.list.blockSignals(False)
        if keep:
            # Quietly: reading again after a write must not put the selected treatment back
            # into the form (a course added would refill it, and the next treatment typed
            # over the name would take this one's kind and potency).
            self.list.blockSignals(True)
            self.select_treatment(keep)
            self.list.blockSignals(False)
        self._selected(fill=select is not None or current is None)

    def _selected(self, fill: bool = True) -> None:
        treatment = self.current_treatment()
        for button in (self.save_button, self.delete_button):
            button.setEnabled(treatment is not None)
        self.courses_box.setEnabled(treatment is not None)
        if treatment is None:
            self.courses_box.setTitle("Courses (add or select a treatment first)")
            self._courses = []
        else:
            self.courses_box.setTitle(f"Courses of {treatment.name}")
            self._courses = self.session.store.courses(treatment.id)
            if fill:
                self.name.setText(treatment.name)
                self.kind.setCurrentIndex(max(0, self.kind.findData(treatment.kind)))
                self.potency.setCurrentIndex(max(0, self.potency.findData(treatment.potency)))
        self.table.setRowCount(len(self._courses))
        for row, course in enumerate(self._courses):
            end = "ongoing" if course.end is None else _day(course.end)
            times = "" if course.times_a_day is None else str(course.times_a_day)
            for column, text in enumerate((_day(course.start), end, times)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self._course_selected()

    def _course_selected(self) -> None:
        course = self.current_course()
        self.end_course_button.setEnabled(course is not None)
        self.delete_course_button.setEnabled(course is not None)

    def _kind_changed(self) -> None:
        # Only a topical corticosteroid has a potency: the row is not there for other kinds.
        is_tcs = self.kind.currentData() == TCS
        self.potency.setEnabled(is_tcs)
        self.treatment_form.setRowVisible(self.potency, is_tcs)

    def clear_treatment_form(self) -> None:
        """An empty form for the next treatment: no name, the first kind, no potency."""
        self.name.clear()
        self.kind.setCurrentIndex(0)
        self.potency.setCurrentIndex(0)
        self.name.setFocus()

    def clear_course_form(self) -> None:
        """A fresh course form: starting today, ongoing, times a day not given."""
        self.start.setDate(to_qdate(self._today))
        self.end.setDate(to_qdate(self._today))
        self.ended.setChecked(False)
        self.times.setValue(0)

    # -- writing -----------------------------------------------------------------------------
    def say(self, text: str, *, error: bool = False) -> None:
        """Show a line under the panes (red for a refusal)."""
        self.message.setText(text)
        self.message.setStyleSheet("color: #b71c1c;" if error else "color: #2e7d32;")

    def _write(self, op: Callable[[Any], OpResult[Any]], done: Callable[[Any], None]) -> None:
        self.pending += 1

        def finished(result: Any) -> None:
            self.pending -= 1
            done(result)

        def failed(message: str) -> None:
            self.pending -= 1
            self.say(message, error=True)
            self.reload()

        self.session.write(op, on_done=finished, on_failure=failed)

    def _form(self) -> tuple[str, str, str | None] | None:
        name = " ".join(self.name.text().split())
        if not name:
            self.say("A treatment needs a name.", error=True)
            self.name.setFocus()
            return None
        kind = str(self.kind.currentData())
        potency = str(self.potency.currentData()) if kind == TCS else None
        return name, kind, potency

    def add_treatment(self) -> None:
        """Add the treatment in the form."""
        form = self._form()
        if form is None:
            return
        name, kind, potency = form
        if any(t.name.casefold() == name.casefold() for t in self._treatments):
            self.say(f"There is already a treatment called '{name}'.", error=True)
            return

        def done(treatment: TreatmentRecord) -> None:
            self.reload(select=treatment.name)
            # The next treatment starts from an empty form, never from this one's kind and
            # potency (an emollient was once saved as a potent corticosteroid that way).
            self.clear_treatment_form()
            self.say(f"Added {treatment_text(treatment)}. Now add a course on the right.")

        self._write(lambda store: edits.add_treatment(store, name, kind, potency), done)

    def save_treatment(self) -> None:
        """Give the selected treatment the name, kind and potency in the form."""
        treatment, form = self.current_treatment(), self._form()
        if treatment is None or form is None:
            return
        name, kind, potency = form

        def done(changed: TreatmentRecord) -> None:
            self.reload(select=changed.name)
            self.say(f"Saved {treatment_text(changed)}.")

        self._write(
            lambda store: edits.update_treatment(
                store, treatment.id, name=name, kind=kind, potency=potency
            ),
            done,
        )

    def delete_treatment(self) -> None:
        """Delete the selected treatment after asking (its courses go with it)."""
        treatment = self.current_treatment()
        if treatment is None:
            return
        n = len(self._courses)
        text = f"Delete “{treatment.name}” from your treatments?"
        if n:
            text += f" Its {n} course{'s' if n != 1 else ''} will be deleted from your record too."
        if not self._ask(self, "Delete treatment", text):
            return

        def done(deleted: int) -> None:
            self.list.setCurrentRow(-1)
            self.reload()
            self.say(
                f"Deleted {treatment.name}" + (f" and {deleted} course(s)." if deleted else ".")
            )

        self._write(lambda store: edits.delete_treatment(store, treatment.id), done)

    def _course_form(self) -> tuple[date, date | None, int | None]:
        start = from_qdate(self.start.date())
        end = from_qdate(self.end.date()) if self.ended.isChecked() else None
        times = self.times.value() or None
        return start, end, times

    def add_course(self) -> None:
        """Add a course of the selected treatment (refused when it ends before it starts)."""
        treatment = self.current_treatment()
        if treatment is None:
            self.say("Select or add a treatment first.", error=True)
            return
        start, end, times = self._course_form()
        if end is not None and end < start:
            self.say(
                f"A course can't end before it starts: the end ({_day(end)}) is before the "
                f"start ({_day(start)}). Nothing was saved.",
                error=True,
            )
            return

        def done(course: CourseRecord) -> None:
            self.reload()
            self.clear_course_form()  # the next course does not inherit this one's end
            until = "ongoing" if course.end is None else f"to {_day(course.end)}"
            self.say(f"Added a course of {treatment.name} from {_day(course.start)}, {until}.")

        self._write(lambda store: edits.add_course(store, treatment.id, start, end, times), done)

    def end_course(self) -> None:
        """Give the selected course the end in the form (unticked: make it ongoing)."""
        course = self.current_course()
        if course is None:
            return
        end = from_qdate(self.end.date()) if self.ended.isChecked() else None
        if end is not None and end < course.start:
            self.say(
                f"A course can't end before it starts: {_day(end)} is before its start "
                f"({_day(course.start)}). Nothing was saved.",
                error=True,
            )
            return

        def done(changed: CourseRecord) -> None:
            self.reload()
            when = "is ongoing again" if changed.end is None else f"ended {_day(changed.end)}"
            self.say(f"The course from {_day(changed.start)} {when}.")

        self._write(lambda store: edits.end_course(store, course.id, end), done)

    def delete_course(self) -> None:
        """Delete the selected course (after asking)."""
        course = self.current_course()
        if course is None:
            return
        if not self._ask(
            self, "Delete course", f"Delete the course of {course.treatment_name} "
            f"from {_day(course.start)}?"
        ):  # fmt: skip
            return

        def done(_none: None) -> None:
            self.reload()
            self.say("Deleted the course.")

        self._write(lambda store: edits.delete_course(store, course.id), done)

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802
        # Enter in the name field adds (or saves) rather than closing the dialog.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.name.hasFocus():
            current = self.current_treatment()
            same = (
                current is not None
                and current.name.casefold() == self.name.text().strip().casefold()
            )
            (self.save_treatment if same else self.add_treatment)()
            return
        super().keyPressEvent(event)
