"""How a newly trained personal severity model does on the person's own ratings."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

SEVERITY_NAMES = ("none", "mild", "moderate", "severe")


def validation_text(validation: Any) -> str:
    """One paragraph: accuracy, how it was measured, and on how many photos."""
    return (
        f"Correct on {100 * validation.accuracy:.0f} % of your {validation.n_samples} rated "
        f"photos when each photo was held out from training ({validation.scheme}). "
        "With few photos this is a rough estimate. Rows: your rating; columns: what the model said."
    )


class PersonalModelDialog(QDialog):
    """Accuracy, the validation scheme and a confusion table."""

    def __init__(self, validation: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Your personal severity model")
        text = QLabel(validation_text(validation))
        text.setWordWrap(True)
        confusion = np.asarray(validation.confusion)
        self.table = QTableWidget(4, 4)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setHorizontalHeaderLabels([f"said {n}" for n in SEVERITY_NAMES])
        self.table.setVerticalHeaderLabels([f"you: {n}" for n in SEVERITY_NAMES])
        for i in range(4):
            for j in range(4):
                self.table.setItem(i, j, QTableWidgetItem(str(int(confusion[i, j]))))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(640, 360)
