"""How a personal severity model does on the person's own ratings, and whether it is used.

Plain words on screen (how often it agreed with you, checked on photos it did not learn from,
and how often always answering your most common rating would have), whether it is used (only
when it beat that majority guess, or when you chose it), the choice to use it anyway or to keep
it off, the photos it got wrong as thumbnails (a click opens the photo), and what to do when it
often disagrees. The name of the validation scheme stays in a tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.core.severity_scale import CLASS_NAMES
from eczema_tracker.gui.formatting import format_short_day
from eczema_tracker.gui.screen_fit import keep_on_screen

if TYPE_CHECKING:
    from eczema_tracker.app.personal_severity import CrossValidation, ModelStanding

SEVERITY_NAMES = CLASS_NAMES
#: Below this agreement the dialog says what to do to get a better model.
POOR_AGREEMENT = 0.7
#: A level rated fewer times than this is "rarely used" in the advice.
FEW_PER_LEVEL = 3
MISTAKE_THUMB_PX = 96


@dataclass(frozen=True)
class Mistake:
    """One rated photo the held-out model graded differently from the person."""

    photo_id: int
    rating: int
    predicted: int
    thumbnail: Path | None = None
    taken_at: datetime | None = None

    def caption(self) -> str:
        """``you: moderate · model: mild``."""
        return f"you: {SEVERITY_NAMES[self.rating]} · model: {SEVERITY_NAMES[self.predicted]}"


def validation_text(validation: CrossValidation) -> str:
    """One paragraph: how often the model agreed, how it was checked, on how many photos, and
    how often always answering the most common rating would have."""
    agreed = int(round(validation.accuracy * validation.n_samples))
    n = validation.n_samples
    majority = getattr(validation, "majority_agreed", None)
    guess = (
        f" Always answering '{SEVERITY_NAMES[int(validation.majority_rating)]}' (your most "
        f"common rating) would be right on {majority} of {n} ({100 * majority / n:.0f} %)."
        if majority and n
        else ""
    )
    return (
        f"Correct on {100 * validation.accuracy:.0f} % of your {n} rated "
        f"photos ({agreed} of {n}), checked on photos the model did not "
        f"learn from.{guess} With few photos this is a rough estimate."
    )


def advice_text(validation: CrossValidation, *, used: bool = True) -> str:
    """What to do next: '' when the model agrees well, else rate more photos at more levels
    (``used``: whether its grades are shown meanwhile)."""
    if validation.accuracy >= POOR_AGREEMENT:
        return ""
    counts = np.asarray(validation.confusion).sum(axis=1).astype(int)  # ratings per level
    rare = [f"{SEVERITY_NAMES[i]}: {n}" for i, n in enumerate(counts) if n < FEW_PER_LEVEL]
    parts = [
        "The model often disagrees with you. To make it better, rate more photos "
        "(at least a dozen more) and use every level that fits, not only one or two"
    ]
    if rare:
        parts.append(f" — levels you rarely used so far ({', '.join(rare)} photos)")
    parts.append(
        ". Then train again (Models ▸ Train personal severity model). "
        + (
            "Until then, treat its grades as a rough guide."
            if used
            else "Until then it gives no grades."
        )
    )
    return "".join(parts)


def find_mistakes(
    photo_ids: Sequence[int], ratings: Sequence[int], predictions: Sequence[int]
) -> list[Mistake]:
    """The photos whose held-out prediction differs from the rating (in the given order)."""
    return [
        Mistake(int(pid), int(r), int(p))
        for pid, r, p in zip(photo_ids, ratings, predictions, strict=True)
        if int(r) != int(p)
    ]


#: The verdict's colour when the model's grades are not used (or used against the check).
NOT_USED_COLOR = "#b00020"


class PersonalModelDialog(QDialog):
    """Agreement in words, against the majority guess, whether it is used (with the choice),
    the photos it got wrong, advice, and the table of agreements."""

    #: The person clicked a wrongly graded photo: open it.
    photoActivated = Signal(int)  # noqa: N815 - Qt naming
    #: The person chose to use this model (its id) although, or after, it was off.
    useChosen = Signal(int)  # noqa: N815 - Qt naming
    #: The person chose to stop using this model: no personal grades.
    offChosen = Signal(int)  # noqa: N815 - Qt naming

    def __init__(
        self,
        validation: CrossValidation,
        parent: QWidget | None = None,
        *,
        mistakes: Sequence[Mistake] = (),
        standing: ModelStanding | None = None,
        model_id: int | None = None,
    ) -> None:
        super().__init__(parent)
        keep_on_screen(self)
        self.setWindowTitle("Your personal severity model")
        self.model_id = model_id
        self.text = QLabel(validation_text(validation), self)  # first label: the headline
        self.text.setWordWrap(True)
        self.text.setToolTip(f"Measured by {validation.scheme}.")
        self.verdict = QLabel(self)
        self.verdict.setWordWrap(True)
        self.verdict.setVisible(standing is not None)
        self.use_button: QPushButton | None = None
        self.off_button: QPushButton | None = None
        used = standing is None or standing.activated_by is not None
        self.advice = QLabel(advice_text(validation, used=used), self)
        self.advice.setWordWrap(True)
        self.advice.setStyleSheet("color: #9a4a00;")
        self.advice.setVisible(bool(self.advice.text()))

        self.mistakes_label = QLabel(self)
        self.mistakes_label.setWordWrap(True)
        self.mistakes = QListWidget(self)
        self.mistakes.setViewMode(QListView.ViewMode.IconMode)
        self.mistakes.setIconSize(QSize(MISTAKE_THUMB_PX, MISTAKE_THUMB_PX))
        self.mistakes.setResizeMode(QListView.ResizeMode.Adjust)
        self.mistakes.setMovement(QListView.Movement.Static)
        self.mistakes.setWordWrap(True)
        self.mistakes.setGridSize(QSize(MISTAKE_THUMB_PX + 70, MISTAKE_THUMB_PX + 44))
        self.mistakes.setMinimumHeight(MISTAKE_THUMB_PX + 56)
        self.mistakes.itemActivated.connect(self._activated)
        self.mistakes.itemClicked.connect(self._activated)
        self._fill_mistakes(mistakes, validation)

        self.table_label = QLabel("Rows: your rating; columns: what the model said.", self)
        confusion = np.asarray(validation.confusion)
        self.table = QTableWidget(4, 4, self)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setHorizontalHeaderLabels([f"said {n}" for n in SEVERITY_NAMES])
        self.table.setVerticalHeaderLabels([f"you: {n}" for n in SEVERITY_NAMES])
        for i in range(4):
            for j in range(4):
                cell = QTableWidgetItem(str(int(confusion[i, j])))
                cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(i, j, cell)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.resizeRowsToContents()
        self.table.setFixedHeight(
            self.table.horizontalHeader().sizeHint().height()
            + sum(self.table.rowHeight(i) for i in range(4))
            + 2 * self.table.frameWidth()
            + 2
        )

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok, self)
        buttons.accepted.connect(self.accept)
        if standing is not None:
            self._offer_choice(standing, buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.verdict)
        layout.addWidget(self.advice)
        layout.addWidget(self.mistakes_label)
        layout.addWidget(self.mistakes, 1)
        layout.addWidget(self.table_label)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        # Without thumbnails the list is hidden: no tall window of empty space.
        self.resize(680, 560 if self.mistakes.isVisibleTo(self) else self.sizeHint().height())

    def _offer_choice(self, standing: ModelStanding, buttons: QDialogButtonBox) -> None:
        """The verdict in one sentence, and the choice: use it anyway, or keep it off."""
        self.verdict.setText(standing.verdict_text())
        used = standing.activated_by is not None
        if not standing.trusted:
            self.verdict.setStyleSheet(f"color: {NOT_USED_COLOR}; font-weight: bold;")
        if self.model_id is None:
            return
        if not used:
            self.use_button = buttons.addButton(
                "&Use it anyway" if not standing.earned else "&Use it",
                QDialogButtonBox.ButtonRole.AcceptRole,
            )
            self.use_button.setToolTip(
                "Your decision: its grades are shown and go into the report, with its agreement "
                "beside them. You can switch it off again (Models ▸ Personal severity model)."
            )
            self.use_button.clicked.connect(lambda: self.useChosen.emit(self.model_id))
            ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
            ok.setText("&Keep it off")
            ok.setToolTip("No personal grades: the model in use before (if any) stays in use.")
            ok.setDefault(True)
        else:
            self.off_button = buttons.addButton(
                "&Stop using it", QDialogButtonBox.ButtonRole.AcceptRole
            )
            self.off_button.setToolTip("No personal grades until you choose it again.")
            self.off_button.clicked.connect(lambda: self.offChosen.emit(self.model_id))

    def mistake_ids(self) -> list[int]:
        """Photo ids shown as wrongly graded, in order."""
        return [
            int(self.mistakes.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.mistakes.count())
        ]

    def _fill_mistakes(self, mistakes: Sequence[Mistake], validation: CrossValidation) -> None:
        wrong = validation.n_samples - int(round(validation.accuracy * validation.n_samples))
        if not mistakes:
            self.mistakes.setVisible(False)
            self.mistakes_label.setText(
                "It graded every rated photo as you did."
                if wrong == 0
                else f"It graded {wrong} rated photo(s) differently from you."
            )
            return
        self.mistakes_label.setText(
            f"The {len(mistakes)} photo(s) it graded differently from you (click one to open it):"
        )
        for mistake in mistakes:
            pixmap = QPixmap(str(mistake.thumbnail)) if mistake.thumbnail else QPixmap()
            if not pixmap.isNull():
                pixmap = pixmap.scaled(
                    MISTAKE_THUMB_PX,
                    MISTAKE_THUMB_PX,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            caption = mistake.caption()
            if mistake.taken_at is not None:
                caption = f"{format_short_day(mistake.taken_at)}\n{caption}"
            item = QListWidgetItem(QIcon(pixmap), caption)
            item.setData(Qt.ItemDataRole.UserRole, mistake.photo_id)
            item.setToolTip(f"Photo {mistake.photo_id}: {mistake.caption()}")
            self.mistakes.addItem(item)

    def _activated(self, item: QListWidgetItem) -> None:
        self.photoActivated.emit(int(item.data(Qt.ItemDataRole.UserRole)))
