"""The weekly check-in: the seven POEM questions in the instrument's own words, and the day's
itch and sleep numbers, flare mark and note.

Made to be filled from the keyboard in a few seconds: the first question has the focus; a digit
0-4 answers the question with the focus and moves to the next (after the last: the itch
number); Tab / Shift+Tab and Up / Down move between questions, Left / Right between answers,
Backspace clears an answer, Enter saves. The total and band are shown as answers come in,
with POEM's rule for missing answers (one unanswered counts 0; two or more: not scored).
A date has one check-in: a date that has one opens with its answers, ready to change (saving
replaces them; clearing every answer removes it). The dialog only collects
:class:`CheckinValues`; the caller stores them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import QDate, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.core.poem import (
    POEM_ANSWERS,
    POEM_ATTRIBUTION,
    POEM_MAX_TOTAL,
    POEM_NIGHT_ANSWERS,
    POEM_QUESTIONS,
    score_poem,
)
from eczema_tracker.gui.screen_fit import keep_on_screen
from eczema_tracker.gui.widgets.past_dates import limit_to_today

#: Colours of the five POEM bands (as text), mildest first.
BAND_TEXT_COLORS = {
    "clear or almost clear": "#2e7d32",
    "mild": "#827717",
    "moderate": "#9a7400",
    "severe": "#d84315",
    "very severe": "#b71c1c",
}
KEYS_HINT = (
    "Keys: 0–4 answer a question and go to the next · Tab or ↑↓ move between questions · "
    "Backspace clears an answer · Enter saves"
)
NOT_GIVEN = "—"  # a spin box at its special value: the number is not given


@dataclass(frozen=True)
class CheckinValues:
    """What the person entered: the check-in and the day's numbers, flare and note."""

    day: date
    answers: tuple[int | None, ...]
    itch: int | None
    sleep_loss: int | None
    flare: bool
    note: str
    #: the date had a check-in, and every answer was cleared: remove it
    remove_checkin: bool = False


@dataclass(frozen=True)
class DayValues:
    """What is stored for a date already (to start from): POEM answers, numbers, flare, note."""

    itch: int | None = None
    sleep_loss: int | None = None
    flare: bool = False
    note: str = ""
    answers: tuple[int | None, ...] | None = None  # None: the date has no check-in


def to_qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def from_qdate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def nrs_spin_box(tip: str) -> QSpinBox:
    """A 0-10 spin box whose lowest step, shown as "—", means "not given"."""
    box = QSpinBox()
    box.setRange(-1, 10)
    box.setSpecialValueText(NOT_GIVEN)
    box.setValue(-1)
    box.setToolTip(tip)
    box.setAccelerated(False)
    return box


def spin_value(box: QSpinBox) -> int | None:
    """The number of an :func:`nrs_spin_box`, None when not given."""
    return None if box.value() < 0 else box.value()


class QuestionRow(QFrame):
    """One POEM question and its five answers (radio buttons)."""

    changed = Signal()
    #: a key asked to go on: +1 next question, -1 previous
    stepRequested = Signal(int)  # noqa: N815

    def __init__(self, number: int, question: str, answers: tuple[str, ...]) -> None:
        super().__init__()
        self.number = number
        self.setFrameShape(QFrame.Shape.NoFrame)
        label = QLabel(f"<b>{number}.</b> {question}")
        label.setWordWrap(True)
        self.group = QButtonGroup(self)
        self.buttons: list[QRadioButton] = []
        row = QHBoxLayout()
        row.setContentsMargins(18, 0, 0, 0)
        for value, text in enumerate(answers):
            button = QRadioButton(text)
            button.setToolTip(f"Key {value}")
            button.installEventFilter(self)
            self.group.addButton(button, value)
            self.buttons.append(button)
            row.addWidget(button)
        row.addStretch(1)
        self.group.idToggled.connect(self._toggled)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(label)
        layout.addLayout(row)
        label.setBuddy(self.buttons[0])

    def _toggled(self, _id: int, checked: bool) -> None:
        if checked:
            self.changed.emit()

    def answer(self) -> int | None:
        """The answer 0-4, None when unanswered."""
        value = self.group.checkedId()
        return None if value < 0 else value

    def set_answer(self, value: int | None) -> None:
        """Check answer ``value`` (None: clear)."""
        if value is None:
            self.group.setExclusive(False)
            for button in self.buttons:
                button.setChecked(False)
            self.group.setExclusive(True)
            self.changed.emit()
        else:
            self.buttons[value].setChecked(True)

    def take_focus(self) -> None:
        """Focus the checked answer (or the first)."""
        value = self.answer()
        self.buttons[0 if value is None else value].setFocus(Qt.FocusReason.TabFocusReason)

    def has_focus(self) -> bool:
        return any(b.hasFocus() for b in self.buttons)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        key = event.key()
        if Qt.Key.Key_0 <= key <= Qt.Key.Key_4 and not event.modifiers() & ~(
            Qt.KeyboardModifier.KeypadModifier
        ):
            self.set_answer(key - Qt.Key.Key_0)
            self.stepRequested.emit(1)
            return True
        if key in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete):
            self.set_answer(None)
            return True
        if key in (Qt.Key.Key_Down, Qt.Key.Key_Tab):
            self.stepRequested.emit(1)
            return True
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Backtab):
            self.stepRequested.emit(-1)
            return True
        return False


class CheckinDialog(QDialog):
    """POEM check-in for a date (default today, never in the future), plus the day's numbers."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        today: date | None = None,
        day: date | None = None,
        day_values: Callable[[date], DayValues] | None = None,
    ) -> None:
        super().__init__(parent)
        keep_on_screen(self)
        self.setWindowTitle("Weekly check-in (POEM)")
        self._today = today or date.today()
        self._day_values = day_values
        self._loaded = DayValues()
        self.date_edit = QDateEdit(to_qdate(day or self._today))
        self.date_edit.setDisplayFormat("d MMM yyyy")
        self.date_edit.setToolTip("The day of the check-in")
        limit_to_today(self.date_edit, self._today)
        self.date_edit.dateChanged.connect(lambda _d: self._load_day())
        top = QHBoxLayout()
        top.addWidget(QLabel("Check-in for"))
        top.addWidget(self.date_edit)
        top.addStretch(1)
        intro = QLabel(
            "Please choose one response for each of the seven questions below about your "
            "eczema. Please leave blank any questions you feel unable to answer."
        )
        intro.setWordWrap(True)
        hint = QLabel(KEYS_HINT)
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #555; font-size: small;")

        self.rows: list[QuestionRow] = []
        questions = QWidget()
        questions_layout = QVBoxLayout(questions)
        questions_layout.setContentsMargins(0, 0, 0, 0)
        questions_layout.setSpacing(2)
        for number, question in enumerate(POEM_QUESTIONS, start=1):
            answers = POEM_NIGHT_ANSWERS if "nights" in question else POEM_ANSWERS
            row = QuestionRow(number, question, answers)
            row.changed.connect(self._update_score)
            row.stepRequested.connect(lambda step, i=number - 1: self._move(i, step))
            self.rows.append(row)
            questions_layout.addWidget(row)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(questions)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        self.score_label = QLabel()
        self.score_label.setWordWrap(True)
        self.score_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        attribution = QLabel(POEM_ATTRIBUTION)
        attribution.setWordWrap(True)
        attribution.setStyleSheet("color: #555; font-size: small;")

        self.itch = nrs_spin_box("Worst itch over the last 24 hours: 0 none, 10 worst imaginable")
        self.sleep = nrs_spin_box("Sleep lost last night to eczema: 0 none, 10 no sleep at all")
        self.flare = QCheckBox("A flare on this day")
        self.note = QLineEdit()
        self.note.setPlaceholderText("A note for this day (optional)")
        day_form = QFormLayout()
        day_form.addRow("Peak itch, last 24 h (0–10):", self.itch)
        day_form.addRow("Sleep loss, last night (0–10):", self.sleep)
        day_form.addRow("", self.flare)
        day_form.addRow("Note:", self.note)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(intro)
        layout.addWidget(hint)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.score_label)
        layout.addWidget(attribution)
        layout.addLayout(day_form)
        layout.addWidget(self.buttons)
        self.setTabOrder(self.date_edit, self.rows[0].buttons[0])
        self.resize(760, 760)
        self._load_day()
        for widget in (self.itch, self.sleep):
            widget.valueChanged.connect(lambda _v: self._update_score())
        self.flare.toggled.connect(lambda _on: self._update_score())
        self.note.textChanged.connect(lambda _t: self._update_score())
        self._update_score()
        self.rows[0].take_focus()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self.activateWindow()  # typing goes here at once (the first question has the focus)
        self.rows[0].take_focus()

    # -- values ----------------------------------------------------------------------------
    def answers(self) -> tuple[int | None, ...]:
        """The seven answers (None: unanswered)."""
        return tuple(row.answer() for row in self.rows)

    def set_answers(self, answers: tuple[int | None, ...] | list[int | None]) -> None:
        for row, value in zip(self.rows, answers, strict=True):
            row.set_answer(value)

    def day(self) -> date:
        return from_qdate(self.date_edit.date())

    def values(self) -> CheckinValues:
        """What was entered (the caller stores it)."""
        return CheckinValues(
            self.day(),
            self.answers(),
            spin_value(self.itch),
            spin_value(self.sleep),
            self.flare.isChecked(),
            self.note.text().strip(),
            self._loaded.answers is not None and all(a is None for a in self.answers()),
        )

    def score_text(self) -> str:
        """The live score line shown under the questions."""
        return self.score_label.text()

    # -- behaviour -------------------------------------------------------------------------
    def _move(self, index: int, step: int) -> None:
        target = index + step
        if target < 0:
            self.date_edit.setFocus(Qt.FocusReason.BacktabFocusReason)
        elif target >= len(self.rows):
            self.itch.setFocus(Qt.FocusReason.TabFocusReason)
            self.itch.selectAll()
        else:
            self.rows[target].take_focus()

    def _update_score(self) -> None:
        answers = self.answers()
        unanswered = sum(a is None for a in answers)
        score = score_poem(answers)
        if unanswered == len(answers):
            text, color = "Answer the questions to see your POEM score (0–28).", "#555"
        elif score.total is None:
            text = (
                f"{score.explanation} It will be saved without a score; answer at least "
                f"{unanswered - 1} more to score it."
            )
            color = "#b71c1c"
        else:
            text = f"<b>POEM {score.total}/{POEM_MAX_TOTAL}: {score.band}</b>"
            if unanswered == 1:
                text += " (one unanswered question is counted as 0, by POEM's rule)"
            color = BAND_TEXT_COLORS.get(score.band or "", "#000")
        if self._loaded.answers is not None:
            if unanswered == len(answers):
                text = "Every answer is cleared: saving removes this day's check-in."
                color = "#b71c1c"
            else:
                text += " · saving changes this day's check-in"
        self.score_label.setText(text)
        self.score_label.setStyleSheet(f"color: {color};")
        self.save_button.setEnabled(
            (unanswered < len(answers) and answers != self._loaded.answers) or self._day_changed()
        )

    def _day_changed(self) -> bool:
        """Whether the numbers, flare or note differ from what is stored, or the stored
        check-in's answers were all cleared (then saving without a POEM is fine)."""
        v = self.values()
        return v.remove_checkin or (v.itch, v.sleep_loss, v.flare, v.note) != (
            self._loaded.itch,
            self._loaded.sleep_loss,
            self._loaded.flare,
            self._loaded.note,
        )

    def _load_day(self) -> None:
        loaded = self._day_values(self.day()) if self._day_values else DayValues()
        typed = self.answers() != (self._loaded.answers or (None,) * len(self.rows))
        self._loaded = loaded
        if loaded.answers is not None:  # the date's check-in, ready to change
            self.set_answers(loaded.answers)
        elif not typed:  # what another date showed goes; what the person typed stays
            self.set_answers((None,) * len(self.rows))
        self._update_score()
        self.itch.setValue(-1 if loaded.itch is None else loaded.itch)
        self.sleep.setValue(-1 if loaded.sleep_loss is None else loaded.sleep_loss)
        self.flare.setChecked(loaded.flare)
        self.note.setText(loaded.note)

    def accept(self) -> None:
        if self.day() > self._today:  # the date edit refuses it too; never store a future day
            self.score_label.setText("The date lies in the future: choose today or earlier.")
            return
        if not self.save_button.isEnabled():
            return
        super().accept()
