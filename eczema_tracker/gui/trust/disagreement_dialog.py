""" "Show it" on a site's weakest example: the mask the person painted next to the mask SegGPT
found in the same photo from the site's other examples, both outlined, their overlap in words.

:func:`compare_weakest` segments the weakest example again off the GUI thread (the agreement
check keeps only its IoUs; :func:`eczema_tracker.app.trust.weakest_disagreement`), then opens a
:class:`DisagreementDialog`. It never downloads a model: without the models on this computer it
says so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.app import analysis_models
from eczema_tracker.app.settings import Settings
from eczema_tracker.app.trust import agreement as trust
from eczema_tracker.core.errors import UserError
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback
from eczema_tracker.gui.screen_fit import keep_on_screen
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.gui.widgets.mask_colors import (
    PROMPT_MASK_COLOR,
    PROMPT_MASK_COLOR_NAME,
    RESULT_MASK_COLOR,
    RESULT_MASK_COLOR_NAME,
)

#: The longest side each picture is shown at.
PICTURE_SIDE = 420
TITLE = "Your weakest example"

#: Builds the segmenter for the comparison: a context manager whose value is a
#: :class:`~eczema_tracker.app.trust.PromptSegmenter` (tests give a fake one).
SegmenterFor = Callable[
    [Any, analysis_models.PipelineCache, analysis_models.ModelChoice, CancelCheck], Any
]


class ModelsNotReady(UserError):
    """The models are not on this computer yet (the comparison never downloads them)."""


def _seggpt_segmenter(
    store: Any,
    pipelines: analysis_models.PipelineCache,
    choice: analysis_models.ModelChoice,
    cancel: CancelCheck,
) -> Any:
    from eczema_tracker.gui.trust.flow import models_on_this_computer

    if not models_on_this_computer(pipelines, choice):
        raise ModelsNotReady(
            "The models are not set up yet: analyse a photo first, then show the weakest "
            "example again."
        )
    return trust.SegGptPromptSegmenter(store, pipelines, choice, cancel=cancel)


def _rgb(color: Any) -> tuple[int, int, int]:
    return int(color.red()), int(color.green()), int(color.blue())


def _qimage(pixels: np.ndarray) -> QImage:
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w = pixels.shape[:2]
    return QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class DisagreementDialog(QDialog):
    """The weakest example: what the person painted (left) and what SegGPT found (right)."""

    def __init__(
        self,
        found: trust.Disagreement,
        parent: QWidget | None = None,
        *,
        open_photo: Callable[[int], object] = lambda _pid: None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.found = found
        painted = trust.outlined_picture(found.image, found.painted, _rgb(PROMPT_MASK_COLOR))
        predicted = trust.outlined_picture(found.image, found.found, _rgb(RESULT_MASK_COLOR))
        self.painted_picture = self._picture(painted, "The mask you painted")
        self.found_picture = self._picture(predicted, "The mask SegGPT found")
        grid = QGridLayout()
        grid.addWidget(QLabel(f"<b>You painted</b> ({PROMPT_MASK_COLOR_NAME} outline)"), 0, 0)
        grid.addWidget(
            QLabel(
                f"<b>SegGPT found, from your other examples</b> ({RESULT_MASK_COLOR_NAME} outline)"
            ),
            0,
            1,
        )
        grid.addWidget(self.painted_picture, 1, 0)
        grid.addWidget(self.found_picture, 1, 1)
        self.overlap = QLabel(found.describe())
        self.overlap.setWordWrap(True)
        self.overlap.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        advice = QLabel(
            "If your painting is right, the model has not learnt this site yet: paint another "
            "example. If it is not, repaint this one."
        )
        advice.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.open_button = buttons.addButton(
            "Open this photo", QDialogButtonBox.ButtonRole.ActionRole
        )

        def open_and_close() -> None:
            open_photo(found.photo_id)
            self.accept()

        self.open_button.clicked.connect(open_and_close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.overlap)
        layout.addWidget(advice)
        layout.addWidget(buttons)
        keep_on_screen(self)

    @staticmethod
    def _picture(pixels: np.ndarray, name: str) -> QLabel:
        label = QLabel()
        pixmap = QPixmap.fromImage(_qimage(pixels)).scaled(
            PICTURE_SIDE,
            PICTURE_SIDE,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        label.setPixmap(pixmap)
        label.setAccessibleName(name)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return label


def compare_weakest(
    parent: QWidget,
    session: StoreSession,
    pipelines: analysis_models.PipelineCache,
    settings: Settings,
    agreement: trust.SiteAgreement,
    *,
    open_photo: Callable[[int], object] = lambda _pid: None,
    segmenter_for: SegmenterFor = _seggpt_segmenter,
    on_shown: Callable[[DisagreementDialog], object] = lambda _dialog: None,
) -> BackgroundTask:
    """Segment ``agreement``'s weakest example again off the GUI thread and show it next to
    its painted mask (a :class:`DisagreementDialog`, handed to ``on_shown`` once open)."""
    store = session.store

    def op(progress: ProgressCallback, cancel: CancelCheck) -> trust.Disagreement | None:
        choice = analysis_models.model_choice(settings, store)
        progress(0, 1, "segmenting your weakest example with the others")
        with contextlib.ExitStack() as stack:
            segmenter = stack.enter_context(segmenter_for(store, pipelines, choice, cancel))
            return trust.weakest_disagreement(store, agreement, segmenter, cancel=cancel)

    def shown(found: trust.Disagreement | None) -> None:
        if found is None:
            QMessageBox.information(
                parent, TITLE, "Your examples changed since they were checked: try again soon."
            )
            return
        dialog = DisagreementDialog(found, parent, open_photo=open_photo)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        on_shown(dialog)

    task = BackgroundTask(parent, op).with_progress("Showing your weakest example…")
    task.titled(TITLE)
    task.succeeded.connect(shown)
    task.run()
    return task
