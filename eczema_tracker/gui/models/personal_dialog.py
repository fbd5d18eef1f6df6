"""How a newly trained personal severity model does on the person's own ratings.

Plain words on screen (how often it agreed with you, checked on photos it did not learn from),
the photos it got wrong as thumbnails (a click opens the photo), and what to do when it often
disagrees. The name of the validation scheme stays in a tooltip.
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
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.core.severity_scale import CLASS_NAMES
from eczema_tracker.gui.formatting import format_short_day
from eczema_tracker.gui.screen_fit import keep_on_screen

if TYPE_CHECKING:
    from eczema_tracker.app.personal_severity import CrossValidation

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
    """One paragraph: how often the model agreed, how it was checked, on how many photos."""
    agreed = int(round(validation.accuracy * validation.n_samples))
    return (
        f"Correct on {100 * validation.accuracy:.0f} % of your {validation.n_samples} rated "
        f"photos ({agreed} of {validation.n_samples}), checked on photos the model did not "
        "learn from. With few photos this is a rough estimate."
    )


def advice_text(validation: CrossValidation) -> str:
    """What to do next: '' when the model agrees well, else rate more photos at more levels."""
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
        ". Then train again (Models ▸ Train personal severity model). Until then, treat its "
        "grades as a rough guide."
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


class PersonalModelDialog(QDialog):
    """Agreement in words, the photos it got wrong, advice, and the table of agreements."""

    #: The person clicked a wrongly graded photo: open it.
    photoActivated = Signal(int)  # noqa: N815 - Qt naming

    def __init__(
        self,
        validation: CrossValidation,
        parent: QWidget | None = None,
        *,
        mistakes: Sequence[Mistake] = (),
    ) -> None:
        super().__init__(parent)
        keep_on_screen(self)
        self.setWindowTitle("Your personal severity model")
        self.text = QLabel(validation_text(validation), self)  # first label: the headline
        self.text.setWordWrap(True)
        self.text.setToolTip(f"Measured by {validation.scheme}.")
        self.advice = QLabel(advice_text(validation), self)
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
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.advice)
        layout.addWidget(self.mistakes_label)
        layout.addWidget(self.mistakes, 1)
        layout.addWidget(self.table_label)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(680, 560)

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
