"""One photo: its mask overlaid, lesion area, severity (when a model is active), rating, actions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.gui.widgets.image_overlay import ImageOverlayWidget

SEVERITY_NAMES = ("none", "mild", "moderate", "severe")
PROMPT_COLOR = QColor("#2a7de1")
RESULT_COLOR = QColor("#e0245e")


@dataclass
class PhotoDetails:
    """Everything the photo view shows about one photo."""

    photo_id: int
    site: str
    taken_at: datetime | None = None
    image: QImage | None = None
    is_prompt: bool = False
    prompt_mask: np.ndarray | None = None
    result_mask: np.ndarray | None = None
    result_corrected: bool = False
    lesion_area_fraction: float | None = None
    stale: bool = False
    severity_class: int | None = None
    probabilities: Sequence[float] | None = None
    score: float | None = None
    rating: int | None = None
    has_severity_model: bool = False
    site_prompt_count: int = 0


class PhotoView(QWidget):
    """Photo with overlay on the left, facts and actions on the right."""

    ratingChosen = Signal(int)  # noqa: N815
    paintPromptRequested = Signal()  # noqa: N815
    unsetPromptRequested = Signal()  # noqa: N815
    correctResultRequested = Signal()  # noqa: N815
    analyseRequested = Signal()  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.details: PhotoDetails | None = None
        self.image_view = ImageOverlayWidget()
        self.image_view.set_placeholder("Select a photo in the library on the left.")
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.show_mask = QCheckBox("Show mask")
        self.show_mask.setChecked(True)
        self.show_mask.toggled.connect(self._apply_mask)

        self.mask_state = QLabel()
        self.mask_state.setWordWrap(True)
        self.area = QLabel("—")
        self.severity = QLabel("—")
        self.severity.setWordWrap(True)
        self.probability_bars = [QProgressBar() for _ in SEVERITY_NAMES]
        facts = QFormLayout()
        facts.addRow("Mask:", self.mask_state)
        facts.addRow("Lesion area:", self.area)
        facts.addRow("Severity:", self.severity)
        probs = QGridLayout()
        for i, (name, bar) in enumerate(zip(SEVERITY_NAMES, self.probability_bars, strict=True)):
            bar.setRange(0, 100)
            bar.setFormat("%p %")
            probs.addWidget(QLabel(name), i, 0)
            probs.addWidget(bar, i, 1)
        self.probability_box = QWidget()
        self.probability_box.setLayout(probs)
        facts.addRow("", self.probability_box)

        rating_box = QGroupBox("Your rating (keys 0–3)")
        rating_layout = QGridLayout(rating_box)
        self.rating_group = QButtonGroup(self)
        self.rating_group.setExclusive(True)
        self.rating_buttons: list[QPushButton] = []
        for level, name in enumerate(SEVERITY_NAMES):
            button = QPushButton(f"{level} {name}")
            button.setCheckable(True)
            button.setToolTip(f"Rate this photo {level} ({name}); shortcut: {level}")
            self.rating_group.addButton(button, level)
            rating_layout.addWidget(button, level // 2, level % 2)
            self.rating_buttons.append(button)
        self.rating_group.idClicked.connect(self.ratingChosen)

        self.paint_button = QPushButton("Paint prompt mask…")
        self.paint_button.setToolTip(
            "Paint where the eczema is; the app learns each body site from 2–3 such masks"
        )
        self.paint_button.clicked.connect(self.paintPromptRequested)
        self.unset_button = QPushButton("Stop using as prompt")
        self.unset_button.clicked.connect(self.unsetPromptRequested)
        self.correct_button = QPushButton("Correct the result mask…")
        self.correct_button.setToolTip(
            "Fix the app's mask with the painting tools (and use it as a prompt)"
        )
        self.correct_button.clicked.connect(self.correctResultRequested)
        self.analyse_button = QPushButton("Analyse this photo")
        self.analyse_button.clicked.connect(self.analyseRequested)

        side = QVBoxLayout()
        side.addWidget(self.title)
        side.addWidget(self.show_mask)
        side.addLayout(facts)
        side.addWidget(rating_box)
        for button in (
            self.paint_button,
            self.unset_button,
            self.correct_button,
            self.analyse_button,
        ):
            side.addWidget(button)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setFrameShape(QFrame.Shape.StyledPanel)
        self.hint.setMargin(6)
        side.addWidget(self.hint)
        side.addStretch(1)
        panel = QWidget()
        panel.setLayout(side)
        panel.setFixedWidth(330)

        layout = QHBoxLayout(self)
        layout.addWidget(self.image_view, 1)
        layout.addWidget(panel)
        self.set_details(None)

    # -- showing ------------------------------------------------------------------------------
    def set_details(self, details: PhotoDetails | None) -> None:
        """Show a photo (None: nothing selected)."""
        self.details = details
        enabled = details is not None
        for w in (self.paint_button, self.analyse_button, *self.rating_buttons, self.show_mask):
            w.setEnabled(enabled)
        if details is None:
            self.title.setText("<b>No photo selected</b>")
            self.image_view.set_image(None)
            self.mask_state.setText("—")
            self.area.setText("—")
            self.severity.setText("—")
            self.probability_box.hide()
            self.unset_button.hide()
            self.correct_button.hide()
            self.hint.hide()
            self._set_rating(None)
            return
        when = f"{details.taken_at:%A %d %B %Y, %H:%M}" if details.taken_at else "date unknown"
        self.title.setText(f"<b>{details.site}</b><br>{when}")
        self.image_view.set_image(details.image)
        self._apply_mask()
        self._show_facts(details)
        self._set_rating(details.rating)
        self.paint_button.setText(
            "Edit prompt mask…" if details.is_prompt else "Paint prompt mask…"
        )
        self.unset_button.setVisible(details.is_prompt)
        self.correct_button.setVisible(details.result_mask is not None)
        self.hint.setText(self._hint(details))
        self.hint.setVisible(bool(self.hint.text()))

    def set_image(self, image: QImage | None) -> None:
        """The decoded photo arrived (loaded off the GUI thread)."""
        if self.details is None:
            return
        self.details.image = image
        self.image_view.set_image(image)
        self._apply_mask()

    def _apply_mask(self) -> None:
        d = self.details
        if d is None or not self.show_mask.isChecked():
            self.image_view.set_mask(None)
        else:
            layers = [(d.prompt_mask, PROMPT_COLOR), (d.result_mask, RESULT_COLOR)]
            self.image_view.set_masks([(m, c) for m, c in layers if m is not None])

    def _show_facts(self, d: PhotoDetails) -> None:
        states = []
        if d.is_prompt:
            states.append(f"your prompt mask of '{d.site}' (blue)")
        if d.result_mask is not None:
            what = (
                "the analysis, corrected by you" if d.result_corrected else "result of the analysis"
            )
            states.append(f"{what} (red)" + (" — stale: the prompts changed" if d.stale else ""))
        self.mask_state.setText("; ".join(states) or "none yet")
        self.area.setText(
            f"{100 * d.lesion_area_fraction:.1f} % of the photo"
            if d.lesion_area_fraction is not None
            else "not analysed yet"
        )
        if d.probabilities is not None and d.severity_class is not None:
            name = SEVERITY_NAMES[int(d.severity_class)]
            score = f" (score {d.score:.2f} of 3)" if d.score is not None else ""
            self.severity.setText(f"<b>{name}</b>{score}")
            for bar, p in zip(self.probability_bars, d.probabilities, strict=False):
                bar.setValue(round(100 * float(p)))
            self.probability_box.show()
        else:
            self.probability_box.hide()
            if d.has_severity_model:
                self.severity.setText("not scored yet — analyse this photo")
            else:
                self.severity.setText(
                    "no severity model yet — rate 8 analysed photos (keys 0–3) to "
                    "train your own, or import one (Models menu)"
                )

    @staticmethod
    def _hint(d: PhotoDetails) -> str:
        if d.site_prompt_count < 2:
            return (
                f"'{d.site}' has {d.site_prompt_count} prompt mask(s). Paint 2–3 photos of this "
                "site first; then the app can analyse the others."
            )
        if d.result_mask is None:
            return "Ready to analyse: press 'Analyse this photo' (or Analyse ▸ All not analysed)."
        if d.stale:
            return "The prompts of this site changed since this analysis. Analyse it again."
        return ""

    def _set_rating(self, rating: int | None) -> None:
        self.rating_group.setExclusive(False)
        for level, button in enumerate(self.rating_buttons):
            button.setChecked(rating == level)
        self.rating_group.setExclusive(True)
