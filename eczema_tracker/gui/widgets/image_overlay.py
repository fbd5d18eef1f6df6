"""A photo scaled to fit, with a boolean mask drawn over it (translucent fill + outline)."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from eczema_tracker.gui.widgets.mask_colors import RESULT_MASK_COLOR

#: The longest side the photo view draws (a 12-MP photo is shown at a sixth of its pixels:
#: converting and smooth-scaling 12 MP on the GUI thread at every repaint costs ~100 ms).
DISPLAY_MAX_SIDE = 2048


def display_step(width: int, height: int, max_side: int = DISPLAY_MAX_SIDE) -> int:
    """The integer reduction that brings ``width`` x ``height`` within ``max_side`` (1: none).

    The photo and its masks are reduced by the same step, so they stay aligned."""
    return max(1, -(-max(width, height) // max_side))


def display_image(image: Image.Image, max_side: int = DISPLAY_MAX_SIDE) -> QImage:
    """A photo reduced for the screen, as a QImage (worker thread: decoding and scaling)."""
    step = display_step(image.width, image.height, max_side)
    return pil_to_qimage(image.reduce(step) if step > 1 else image)


def display_mask(mask: np.ndarray, max_side: int = DISPLAY_MAX_SIDE) -> np.ndarray:
    """A boolean mask reduced by the same step as its photo (every ``step``-th pixel)."""
    m = np.asarray(mask, dtype=bool)
    step = display_step(m.shape[1], m.shape[0], max_side)
    return np.ascontiguousarray(m[::step, ::step]) if step > 1 else m


def pil_to_qimage(image: Image.Image) -> QImage:
    """A PIL RGB image as a QImage that owns its pixels."""
    rgb = np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))
    h, w, _ = rgb.shape
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def mask_to_overlay(mask: np.ndarray, color: QColor, *, alpha: int = 110) -> QImage:
    """An RGBA image: ``color`` at ``alpha`` inside the mask, opaque on its outline."""
    m = np.asarray(mask, dtype=bool)
    h, w = m.shape
    edge = m & ~_eroded(m)
    # Channel by channel (a multiply each) rather than fancy-indexed writes: 4x faster, and
    # the worker thread it runs on leaves more of the CPU to the GUI thread.
    rgba = np.empty((h, w, 4), dtype=np.uint8)
    for channel, value in enumerate((color.red(), color.green(), color.blue())):
        rgba[..., channel] = m * np.uint8(value)
    opacity = m * np.uint8(alpha)
    opacity[edge] = 255
    rgba[..., 3] = opacity
    return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


def _eroded(m: np.ndarray) -> np.ndarray:
    out = m.copy()
    out[1:, :] &= m[:-1, :]
    out[:-1, :] &= m[1:, :]
    out[:, 1:] &= m[:, :-1]
    out[:, :-1] &= m[:, 1:]
    return out


class ImageOverlayWidget(QWidget):
    """Paints a photo (keeping its aspect ratio) and an optional mask overlay."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._image: QImage | None = None  # the image _pixmap was made from
        self._overlays: list[QPixmap] = []
        self._overlay_sources: list[np.ndarray | QImage] = []  # what _overlays were made from
        self._placeholder = ""
        self.setMinimumSize(240, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(
        self, image: QImage | None, mask: np.ndarray | None = None, color: QColor | None = None
    ) -> None:
        """Show ``image`` with ``mask`` (same size) in ``color``; None clears the view.

        The same image again (a refresh of the facts) is not converted again."""
        if image is not self._image:
            self._image = image
            self._pixmap = (
                QPixmap.fromImage(image) if image is not None and not image.isNull() else None
            )
        self.set_mask(mask, color)

    def set_mask(self, mask: np.ndarray | None, color: QColor | None = None) -> None:
        """Replace the overlays by one mask (None removes them)."""
        self.set_masks([] if mask is None else [(mask, color or RESULT_MASK_COLOR)])

    def set_masks(self, layers: list[tuple[np.ndarray | QImage, QColor]]) -> None:
        """Overlay several masks, each in its colour, in order. A layer may also be a ready
        overlay image (:func:`mask_to_overlay`, made off the GUI thread); its colour is then
        the one it was made with."""
        if self._pixmap is None:
            layers = []
        sources = [m for m, _c in layers]
        if len(sources) != len(self._overlay_sources) or any(
            a is not b for a, b in zip(sources, self._overlay_sources, strict=True)
        ):
            self._overlay_sources = sources
            self._overlays = [
                QPixmap.fromImage(m if isinstance(m, QImage) else mask_to_overlay(m, c))
                for m, c in layers
            ]
        self.update()

    def set_placeholder(self, text: str) -> None:
        """Text shown when there is no image."""
        self._placeholder = text
        self.update()

    def has_overlay(self) -> bool:
        """True while a mask is drawn."""
        return bool(self._overlays)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(640, 480)

    def image_rect(self) -> QRect:
        """Where the photo is drawn inside the widget."""
        if self._pixmap is None:
            return QRect()
        size = self._pixmap.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        return QRect(
            (self.width() - size.width()) // 2,
            (self.height() - size.height()) // 2,
            size.width(),
            size.height(),
        )

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#2b2b2b"))
        if self._pixmap is None:
            painter.setPen(QColor("#d0d0d0"))
            painter.drawText(
                self.rect().adjusted(20, 20, -20, -20),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self._placeholder,
            )
            return
        target = self.image_rect()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawPixmap(target, self._pixmap)
        for overlay in self._overlays:
            painter.drawPixmap(target, overlay)
