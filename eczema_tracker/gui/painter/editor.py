"""MaskEditorDialog: paint or correct a mask on a photo and save it through a callback.

The dialog never touches the store: the caller passes ``save_mask(mask)`` (for instance
``lambda m: store.set_prompt_mask(photo_id, m)``). Closing with unsaved strokes asks
Save / Discard / Cancel; a failed save keeps the dialog open with the strokes intact. The
brush size the person chose is remembered for the next photo and the next start (in the
window-layout file of :mod:`eczema_tracker.gui.window_layout`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from PIL import Image
from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.core import paths
from eczema_tracker.gui.painter.canvas import MaskPainter
from eczema_tracker.gui.painter.toolbar import MaskPainterToolBar
from eczema_tracker.gui.screen_fit import keep_on_screen
from eczema_tracker.gui.window_layout import LAYOUT_FILE

UnsavedAnswer = Literal["save", "discard", "cancel"]
#: Asks what to do with unsaved changes; tests pass a function returning the answer directly.
AskUnsaved = Callable[[QWidget], UnsavedAnswer]
ShowError = Callable[[QWidget, str], None]


def ask_unsaved_with_message_box(parent: QWidget) -> UnsavedAnswer:
    """The Save / Discard / Cancel question as a modal QMessageBox."""
    buttons = (
        QMessageBox.StandardButton.Save
        | QMessageBox.StandardButton.Discard
        | QMessageBox.StandardButton.Cancel
    )
    answer = QMessageBox.question(
        parent,
        "Unsaved mask",
        "The mask has changes that are not saved. Save them before closing?",
        buttons,
        QMessageBox.StandardButton.Save,
    )
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"


BRUSH_SIZE_KEY = "painter/brush_size"


def _layout_settings() -> QSettings:
    return QSettings(str(paths.config_dir() / LAYOUT_FILE), QSettings.Format.IniFormat)


def remembered_brush_size() -> int | None:
    """The brush size the person chose last (None: never chosen, or unreadable)."""
    value = _layout_settings().value(BRUSH_SIZE_KEY)
    try:
        size = int(value)
    except (TypeError, ValueError):
        return None
    return size if MaskPainter.MIN_BRUSH <= size <= MaskPainter.MAX_BRUSH else None


def remember_brush_size(size: int) -> None:
    """Keep ``size`` for the next photo and the next start."""
    settings = _layout_settings()
    settings.setValue(BRUSH_SIZE_KEY, int(size))
    settings.sync()


def show_error_with_message_box(parent: QWidget, message: str) -> None:
    """Tell the user about a failure in a modal QMessageBox."""
    QMessageBox.warning(parent, "Mask not saved", message)


class MaskEditorDialog(QDialog):
    """Toolbar + :class:`MaskPainter` + Save / Close.

    ``exec()`` returns Accepted when the mask was saved at least once, else Rejected.
    """

    #: Emitted after ``save_mask`` succeeded, with the saved (H, W) uint8 mask (0, 128 healthy
    #: skin, 255 lesion; :mod:`core.mask_labels`).
    maskSaved = Signal(object)

    def __init__(
        self,
        image: Image.Image | np.ndarray | QImage,
        mask: np.ndarray | None = None,
        *,
        save_mask: Callable[[np.ndarray], None],
        title: str = "Edit mask",
        save_text: str = "Save",
        hint: str | None = None,
        option_text: str | None = None,
        option_checked: bool = False,
        option_note: str | None = None,
        color: QColor | None = None,
        ask_unsaved: AskUnsaved = ask_unsaved_with_message_box,
        show_error: ShowError = show_error_with_message_box,
        parent: QWidget | None = None,
    ) -> None:
        """Edit ``mask`` (or a new empty one) over ``image``.

        ``save_text`` labels the save button (e.g. "Use as prompt" when correcting a result
        mask); ``option_text`` adds a checkbox whose state :meth:`option_checked` reports,
        e.g. "Use as prompt for this body site", so ``save_mask`` can act on it, and
        ``option_note`` a line under it saying what ticking it does. ``color``: the mask's
        colour, the one of its meaning (:mod:`eczema_tracker.gui.widgets.mask_colors`).
        """
        super().__init__(parent)
        keep_on_screen(self)
        self._save_mask = save_mask
        self._ask_unsaved = ask_unsaved
        self._show_error = show_error
        self._saved_mask: np.ndarray | None = None
        self.setWindowTitle(f"{title}[*]")
        self.setSizeGripEnabled(True)

        self.painter = MaskPainter(self)
        self.painter.set_image(image, mask)
        if color is not None:
            self.painter.set_overlay(color=color)
        remembered = remembered_brush_size()
        if remembered is not None:
            self.painter.set_brush_size(remembered)
        # the person's changes, written once when the editor closes (not on every step)
        self._brush_size_changed = False
        self.painter.brushSizeChanged.connect(self._note_brush_size_changed)
        self.finished.connect(self._remember_brush_size_if_changed)
        self.toolbar = MaskPainterToolBar(self.painter, self)

        self.hint_label = QLabel(
            hint
            or "Paint over the eczema. Outline an area and fill it (F); "
            "Healthy skin (K) marks the skin around it, Fill in a click or two; "
            "Ctrl+wheel zooms, Space+drag pans."
        )
        self.hint_label.setWordWrap(True)
        self.coverage_label = QLabel()
        self.option_box = QCheckBox(option_text or "")
        self.option_box.setChecked(option_checked)
        self.option_box.setVisible(option_text is not None)
        self.option_note = QLabel(option_note or "")
        self.option_note.setWordWrap(True)
        self.option_note.setStyleSheet("color: #555;")
        self.option_note.setVisible(option_text is not None and bool(option_note))
        if option_note:
            self.option_box.setToolTip(option_note)

        self.save_button = QPushButton(save_text)
        self.save_button.setToolTip(f"{save_text} (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        self.close_button = QPushButton("Close")
        self.close_button.setToolTip("Close (Esc); asks first if there are unsaved changes")
        self.close_button.clicked.connect(self.reject)
        for button in (self.save_button, self.close_button):
            button.setAutoDefault(False)  # Enter must not close the dialog mid-work
        QShortcut(QKeySequence.StandardKey.Save, self).activated.connect(self.save)

        bottom = QHBoxLayout()
        bottom.addWidget(self.coverage_label)
        bottom.addStretch(1)
        bottom.addWidget(self.option_box)
        bottom.addWidget(self.save_button)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.hint_label)
        layout.addWidget(self.painter, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.option_note)

        self.painter.maskChanged.connect(self._show_coverage)
        self.painter.modifiedChanged.connect(self._show_modified)
        self._show_coverage()
        self._show_modified(self.painter.is_modified())
        self.resize(1180, 760)  # the toolbar, both labels included, whole at 1280 px
        self.painter.setFocus()

    def option_checked(self) -> bool:
        """State of the optional checkbox (False when there is none)."""
        return self.option_box.isVisible() and self.option_box.isChecked()

    def saved_mask(self) -> np.ndarray | None:
        """The mask last saved from this dialog, or None."""
        return None if self._saved_mask is None else self._saved_mask.copy()

    def save(self) -> bool:
        """Pass the mask to ``save_mask``; on failure show why and keep the strokes."""
        mask = self.painter.labelled_mask()
        try:
            self._save_mask(mask)
        except Exception as exc:  # noqa: BLE001 - any failure is shown, nothing is lost
            self._show_error(self, f"The mask could not be saved: {exc}")
            return False
        self.painter.mark_saved()
        self._saved_mask = mask
        self.maskSaved.emit(mask)
        return True

    def confirm_close(self) -> bool:
        """True when the dialog may close: nothing unsaved, or the user chose Save/Discard."""
        if not self.painter.is_modified():
            return True
        answer = self._ask_unsaved(self)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def reject(self) -> None:
        """Close (Close button, Esc or the window's close box), asking about unsaved strokes."""
        if self.confirm_close():
            self.done(
                QDialog.DialogCode.Accepted
                if self._saved_mask is not None
                else QDialog.DialogCode.Rejected
            )

    # ------------------------------------------------------------ internals
    def _note_brush_size_changed(self, _size: int) -> None:
        self._brush_size_changed = True

    def _remember_brush_size_if_changed(self, _result: int) -> None:
        if self._brush_size_changed:
            remember_brush_size(self.painter.brush_size())
            self._brush_size_changed = False

    def _show_coverage(self) -> None:
        lesion = f"Lesion: {self.painter.mask_fraction():.1%} of the photo"
        share = self.painter.lesion_share_of_skin()
        if share is None:
            self.coverage_label.setText(f"{lesion} (mark healthy skin to see its share of skin)")
        else:
            self.coverage_label.setText(f"{lesion}, {share:.1%} of the skin marked")

    def _show_modified(self, modified: bool) -> None:
        self.setWindowModified(modified)
