"""One photo: its mask overlaid, lesion area, severity (when a model is active), rating, actions."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
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
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.app.personal_severity import KEPT_OFF_PREFIX
from eczema_tracker.app.photo_result import PhotoResult
from eczema_tracker.app.trust.agreement import (
    UNRELIABLE_COLOR,
    UNRELIABLE_MARK,
    UNRELIABLE_TEXT,
    SiteReliability,
    result_in_doubt,
)
from eczema_tracker.app.trust.familiarity_text import UNFAMILIAR_NOTE, distance_text, sentence
from eczema_tracker.core.severity_scale import CLASS_NAMES, ShownGrade
from eczema_tracker.gui.formatting import GUESSED_DATE_NOTE, format_day_time
from eczema_tracker.gui.widgets.image_overlay import ImageOverlayWidget
from eczema_tracker.gui.widgets.mask_colors import (
    PROMPT_MASK_COLOR,
    PROMPT_MASK_COLOR_NAME,
    RESULT_MASK_COLOR,
    RESULT_MASK_COLOR_NAME,
)
from eczema_tracker.gui.widgets.result_badges import UNFAMILIAR_COLOR

SEVERITY_NAMES = CLASS_NAMES
#: The colour of the line under a grade naming the model and its agreement with the person.
MODEL_LINE_COLOR = "#555555"
SIDE_PANEL_MIN_WIDTH = 275
SIDE_PANEL_MAX_WIDTH = 330


@dataclass
class PhotoDetails:
    """Everything the photo view shows about one photo.

    ``mask_origin`` says whose mask the area is of: "prompt" (the person's prompt mask),
    "corrected" (their correction of the result), "analysis" (the app's) or None; each is drawn
    in its colour (:mod:`.mask_colors`). The ``*_mask_id`` fields name the stored masks; the arrays are decoded off the GUI thread.
    """

    photo_id: int
    site: str
    taken_at: datetime | None = None
    #: ``taken_at`` is the file's modification time, not a camera date
    date_guessed: bool = False
    image: QImage | None = None
    is_prompt: bool = False
    prompt_mask: np.ndarray | None = None
    result_mask: np.ndarray | None = None
    prompt_mask_id: int | None = None
    result_mask_id: int | None = None
    result_corrected: bool = False
    mask_origin: str | None = None
    analysed: bool = False
    #: the area shown (``result.area_fraction``: the model's whenever the photo has one)
    lesion_area_fraction: float | None = None
    #: the one decision of the grade and area shown (``app.photo_result``)
    result: PhotoResult | None = None
    stale: bool = False
    severity_class: int | None = None
    probabilities: Sequence[float] | None = None
    score: float | None = None
    grade: ShownGrade | None = None
    rating: int | None = None
    has_severity_model: bool = False
    #: the severity model in use in one line: its agreement against the majority guess, or
    #: why none is used (``app.personal_severity.severity_model_line``)
    severity_model_line: str = ""
    site_prompt_count: int = 0
    note: str = ""
    #: the result looks unlike the site's example photos (``app.familiarity_text``)
    unfamiliar: bool = False
    #: nearest-example distance / the examples' spread (None: not measured)
    prompt_distance_ratio: float | None = None
    #: whether the site's results are reliable (``app.trust.site_reliability``; None: not read)
    site_reliability: SiteReliability | None = None

    @property
    def site_unreliable(self) -> bool:
        """The site's examples disagree: its results are "not reliable yet"."""
        return self.site_reliability is not None and not self.site_reliability.reliable

    @property
    def doubtful(self) -> bool:
        """The result is in doubt (``app.trust.result_in_doubt``): an empty mask must not read
        as "no eczema found"."""
        return result_in_doubt(
            unfamiliar=self.unfamiliar, site=self.site_reliability, mask_origin=self.mask_origin
        )

    prompt_overlay: QImage | None = None  # the masks drawn as tinted images (made off-thread)
    result_overlay: QImage | None = None

    def take_masks_from(self, other: PhotoDetails) -> None:
        """Reuse another details' decoded masks and overlays (same :meth:`mask_key`)."""
        self.prompt_mask, self.result_mask = other.prompt_mask, other.result_mask
        self.prompt_overlay, self.result_overlay = other.prompt_overlay, other.result_overlay

    def make_overlays(self, max_side: int | None = None) -> None:
        """Tint the decoded masks into overlay images reduced like the photo drawn (longest
        side at most ``max_side``; slow for 12 MP: call off the GUI thread; QImage may be
        built on any thread)."""
        from eczema_tracker.gui.widgets.image_overlay import (
            DISPLAY_MAX_SIDE,
            display_mask,
            mask_to_overlay,
        )

        side = max_side or DISPLAY_MAX_SIDE
        if self.prompt_mask is not None:
            self.prompt_overlay = mask_to_overlay(
                display_mask(self.prompt_mask, side), PROMPT_MASK_COLOR
            )
        if self.result_mask is not None:
            self.result_overlay = mask_to_overlay(
                display_mask(self.result_mask, side), RESULT_MASK_COLOR
            )

    def mask_key(self) -> tuple[int | None, int | None]:
        """Which stored masks are drawn (same key: the decoded arrays can be kept)."""
        return self.prompt_mask_id, self.result_mask_id


class PhotoView(QWidget):
    """Photo with overlay on the left, facts and actions on the right."""

    ratingChosen = Signal(int)  # noqa: N815
    paintPromptRequested = Signal()  # noqa: N815
    unsetPromptRequested = Signal()  # noqa: N815
    correctResultRequested = Signal()  # noqa: N815
    analyseRequested = Signal()  # noqa: N815
    ratingCleared = Signal()  # noqa: N815
    editRequested = Signal()  # noqa: N815
    compareRequested = Signal()  # noqa: N815 - this photo beside another date

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.details: PhotoDetails | None = None
        self.image_view = ImageOverlayWidget()
        self.image_view.set_placeholder("Select a photo in the library on the left.")
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.show_mask = QCheckBox("Show mask")
        self.show_mask.setChecked(True)
        self.show_mask.toggled.connect(self._apply_mask)

        self.mask_state = QLabel()
        self.mask_state.setWordWrap(True)
        self.area = QLabel("—")
        self.area.setWordWrap(True)
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
        self.unfamiliar_note = QLabel(sentence(UNFAMILIAR_NOTE))
        self.unfamiliar_note.setWordWrap(True)
        self.unfamiliar_note.setObjectName("unfamiliarNote")
        self.unfamiliar_note.setAccessibleName("Unlike your examples")
        self.unfamiliar_note.setMargin(6)
        self.unfamiliar_note.setStyleSheet(
            f"QLabel#unfamiliarNote {{ border: 2px solid {UNFAMILIAR_COLOR}; border-radius: 4px;"
            f" color: {UNFAMILIAR_COLOR}; }}"
        )

        self.unreliable_note = QLabel()
        self.unreliable_note.setWordWrap(True)
        self.unreliable_note.setObjectName("unreliableNote")
        self.unreliable_note.setAccessibleName("Results not reliable yet")
        self.unreliable_note.setMargin(6)
        self.unreliable_note.setStyleSheet(
            f"QLabel#unreliableNote {{ border: 2px solid {UNRELIABLE_COLOR}; border-radius: 4px;"
            f" color: {UNRELIABLE_COLOR}; font-weight: bold; }}"
        )

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
        self.clear_rating_button = QPushButton("Clear rating")
        self.clear_rating_button.setToolTip("Remove your rating of this photo (Ctrl+Z undoes)")
        self.clear_rating_button.clicked.connect(self.ratingCleared)
        rating_layout.addWidget(self.clear_rating_button, 2, 0, 1, 2)
        self.edit_button = QPushButton("Edit date, site, note…")
        self.edit_button.setToolTip("Change when the photo was taken, its body site or its note")
        self.edit_button.clicked.connect(self.editRequested)

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
        self.compare_button = QPushButton("Compare with another date…")
        self.compare_button.setToolTip(
            "This photo beside its site's first analysed photo, with the change in words (key C)"
        )
        self.compare_button.clicked.connect(self.compareRequested)

        side = QVBoxLayout()
        side.addWidget(self.title)
        side.addWidget(self.note)
        side.addWidget(self.edit_button)
        side.addWidget(self.show_mask)
        side.addLayout(facts)
        side.addWidget(self.unreliable_note)
        side.addWidget(self.unfamiliar_note)
        side.addWidget(rating_box)
        for button in (
            self.paint_button,
            self.unset_button,
            self.correct_button,
            self.analyse_button,
            self.compare_button,
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
        self._facts_panel = panel
        # The facts scroll when the window is low; the photo keeps every pixel of width it can.
        self.side_panel = QScrollArea()
        self.side_panel.setWidget(panel)
        self.side_panel.setWidgetResizable(True)
        self.side_panel.setFrameShape(QFrame.Shape.NoFrame)
        self.side_panel.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side_panel.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustIgnored)
        self.side_panel.setMinimumWidth(SIDE_PANEL_MIN_WIDTH)
        self.side_panel.setMaximumWidth(SIDE_PANEL_MAX_WIDTH)
        # QScrollArea does not grow a height-for-width panel when only its texts change: the
        # wrapped facts would be cut off. The panel is kept as tall as its texts need.
        self.side_panel.verticalScrollBar().rangeChanged.connect(self._fit_side_panel)
        self.image_view.setMinimumSize(120, 150)  # a 640 × 480 screen still shows the facts

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.image_view, 3)
        layout.addWidget(self.side_panel, 1)
        self.set_details(None)

    # -- showing ------------------------------------------------------------------------------
    def set_details(self, details: PhotoDetails | None) -> None:
        """Show a photo (None: nothing selected)."""
        self.details = details
        enabled = details is not None
        for w in (
            self.paint_button,
            self.analyse_button,
            *self.rating_buttons,
            self.show_mask,
            self.edit_button,
            self.compare_button,
        ):
            w.setEnabled(enabled)
        self.clear_rating_button.setEnabled(details is not None and details.rating is not None)
        if details is None:
            self.title.setText("<b>No photo selected</b>")
            self.note.hide()
            self.image_view.set_image(None)
            self.mask_state.setText("—")
            self.area.setText("—")
            self.severity.setText("—")
            self.probability_box.hide()
            self.unset_button.hide()
            self.correct_button.hide()
            self.hint.hide()
            self.unfamiliar_note.hide()
            self.unreliable_note.hide()
            self._set_rating(None)
            self._fit_side_panel()
            return
        when = format_day_time(details.taken_at)
        if details.date_guessed:
            when += f" <span style='color:#8a6d00'>({GUESSED_DATE_NOTE})</span>"
        self.title.setText(f"<b>{details.site}</b><br>{when}")
        self.title.setToolTip(
            "This photo has no camera date: its date is the file's, which copying can change. "
            "Photo ▸ Edit date, site and note sets the right one."
            if details.date_guessed
            else ""
        )
        self.note.setText(f"Note: {details.note}" if details.note else "")
        self.note.setVisible(bool(details.note))
        self.image_view.set_image(details.image)
        self._apply_mask()
        self._show_facts(details)
        self._set_rating(details.rating)
        self.paint_button.setText(
            "Edit prompt mask…" if details.is_prompt else "Paint prompt mask…"
        )
        self.unset_button.setVisible(details.is_prompt)
        # A prompt photo's mask is edited as a prompt; an analysed photo's result is corrected.
        self.correct_button.setVisible(details.analysed and not details.is_prompt)
        self.hint.setText(self._hint(details))
        self.hint.setVisible(bool(self.hint.text()))
        self.unfamiliar_note.setVisible(details.unfamiliar)
        reliability = details.site_reliability
        unreliable = reliability is not None and not reliability.reliable
        self.unreliable_note.setText(
            f"{UNRELIABLE_MARK} '{details.site}': {reliability.reason}."
            if reliability is not None and unreliable
            else ""
        )
        self.unreliable_note.setVisible(unreliable)
        self.unfamiliar_note.setToolTip(distance_text(details.prompt_distance_ratio))
        self._fit_side_panel()

    def _fit_side_panel(self, *_range: int) -> None:
        """Keep the facts' panel at least as tall as its wrapped texts need at its width."""
        panel = self._facts_panel
        layout = panel.layout()
        if layout is None:
            return
        layout.activate()  # the texts just set, measured now
        width = self.side_panel.viewport().width()
        panel.setMinimumHeight(
            layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else 0
        )

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's
        super().resizeEvent(event)
        self._fit_side_panel()

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
            # Only overlays tinted off the GUI thread are drawn (never a raw full-size mask).
            layers = [(d.prompt_overlay, PROMPT_MASK_COLOR), (d.result_overlay, RESULT_MASK_COLOR)]
            self.image_view.set_masks([(m, c) for m, c in layers if m is not None])

    def _show_facts(self, d: PhotoDetails) -> None:
        stale = " — out of date: the prompts changed" if d.stale else ""
        if d.mask_origin == "prompt":
            text = (
                f"your prompt mask of '{d.site}' ({PROMPT_MASK_COLOR_NAME}): you painted it; the "
                "area compared over time is the app's, from this site's other examples"
            )
        elif d.mask_origin == "corrected":
            text = (
                f"your corrected mask ({RESULT_MASK_COLOR_NAME}): it stays this photo's mask "
                "when analysed again"
            )
        elif d.mask_origin == "analysis":
            text = f"the app's result ({RESULT_MASK_COLOR_NAME})" + stale
        else:
            text = "none yet"
        self.mask_state.setText(text)
        self.area.setText(area_text(d.result))
        self.area.setToolTip("" if d.result is None else sentence(d.result.why))
        grade = d.grade
        # The result line of a photo of an unreliable site says so (a mark and words).
        doubt = (
            f' <span style="color:{UNRELIABLE_COLOR}"><b>{UNRELIABLE_MARK} {UNRELIABLE_TEXT}</b>'
            "</span>"
            if d.site_unreliable and d.doubtful
            else ""
        )
        if grade is not None and not grade.graded:
            self.severity.setText(f"<b>{grade.text}</b>{doubt}")
            self.probability_box.hide()
        elif grade is not None and grade.label is not None and d.probabilities is not None:
            name = SEVERITY_NAMES[grade.label]
            by = (
                f"<br><span style='color:{MODEL_LINE_COLOR};'>{html.escape(d.severity_model_line)}"
                "</span>"
                if d.severity_model_line
                else ""
            )
            self.severity.setText(f"<b>{name}</b> (score {grade.score:.2f} of 3){stale}{doubt}{by}")
            self.severity.setToolTip(
                "The score is the expected level (0 none … 3 severe) from the chances below; "
                "the level shown is the one the score is closest to."
            )
            for bar, p in zip(self.probability_bars, d.probabilities, strict=False):
                bar.setValue(round(100 * float(p)))
            self.probability_box.show()
        else:
            self.probability_box.hide()
            if d.has_severity_model:
                self.severity.setText("not scored yet — analyse this photo")
            elif d.severity_model_line.startswith(KEPT_OFF_PREFIX):
                self.severity.setText(
                    "no grades: " + d.severity_model_line.removeprefix(KEPT_OFF_PREFIX)
                )
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
        if not d.analysed and not d.is_prompt:
            return "Ready to analyse: press 'Analyse this photo' (or Analyse ▸ All not analysed)."
        if d.stale:
            return "The prompts of this site changed since this analysis. Analyse it again."
        return ""

    def _set_rating(self, rating: int | None) -> None:
        self.rating_group.setExclusive(False)
        for level, button in enumerate(self.rating_buttons):
            button.setChecked(rating == level)
        self.rating_group.setExclusive(True)


def area_text(result: PhotoResult | None) -> str:
    """The photo view's "Lesion area" line: the model's area (what the timeline and the report
    compare), then the area the person painted, each named."""
    if result is None or result.area_fraction is None:
        return "not analysed yet"
    if result.area_kind == "painted":
        return f"{100 * result.area_fraction:.1f} % as you painted it (not analysed yet)"
    if result.share_of_skin is not None:  # the site's examples mark healthy skin
        text = (
            f"{100 * result.share_of_skin:.1f} % of the skin shown, "
            f"{100 * result.area_fraction:.1f} % of the photo (the app's result)"
        )
        painted = result.painted_share_of_skin
        if painted is not None:
            return text + f"; you painted {100 * painted:.1f} % of the skin"
    else:
        text = f"{100 * result.area_fraction:.1f} % of the photo (the app's result)"
    if result.painted_area_fraction is not None:
        text += f"; you painted {100 * result.painted_area_fraction:.1f} % of the photo"
    return text
