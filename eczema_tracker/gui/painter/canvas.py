"""MaskPainter: paint a mask over a photo with brush, eraser and fill, zoom and pan.

A mask has two labels (:mod:`core.mask_labels`): the lesion (the default) and, around it,
healthy skin, so the lesion can be measured as a share of the skin shown. Brush, eraser and fill
work on the label chosen (:meth:`MaskPainter.set_label`): the skin brush never paints over the
lesion, and the eraser erases only the chosen label.

The mask lives in a QImage at the photo's full resolution: strokes are drawn into it with
QPainter (so a mouse move on a 12-MP photo costs a small line, not a numpy pass), one colour per
label, and a uint8 numpy copy of the last committed state (0 / 128 skin / 255 lesion, the file
format) backs :meth:`MaskPainter.labelled_mask` and the undo history.
The widget knows nothing of the store: callers read :meth:`~MaskPainter.lesion_mask` and listen
to the signals.

Mouse: left button paints with the current tool; middle button, or Space + left button, pans;
Ctrl+wheel zooms under the cursor (see :class:`ZoomPanView`); Shift+wheel (or Alt+wheel)
changes the brush size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPixmapItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from eczema_tracker.core import mask_labels
from eczema_tracker.gui.painter.fill import close_hairlines, connected_area
from eczema_tracker.gui.painter.history import MaskEdit, MaskHistory
from eczema_tracker.gui.painter.zoom_view import ZoomPanView
from eczema_tracker.gui.widgets.mask_colors import PROMPT_MASK_COLOR, SKIN_MASK_COLOR

TOOLS = ("brush", "eraser", "fill")
#: What the tools paint: the lesion (the default) or healthy skin.
LABELS = ("lesion", "skin")
_LABEL_VALUES = {"lesion": mask_labels.LESION_VALUE, "skin": mask_labels.SKIN_VALUE}
DEFAULT_OVERLAY_OPACITY = 0.5


def image_to_qimage(image: Image.Image | np.ndarray | QImage) -> QImage:
    """An RGB QImage (owning its pixels) of a PIL image or a uint8 (H, W[, 3|4]) array; a
    QImage (e.g. from :func:`painting_qimage` on a worker thread) is used as it is."""
    if isinstance(image, QImage):
        return image
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise ValueError(
                f"image array must be uint8 (H, W) or (H, W, 3|4), got {image.dtype} {image.shape}"
            )
        image = Image.fromarray(image)
    rgb = image.convert("RGB")
    width, height = rgb.size
    data = rgb.tobytes()
    return QImage(data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def painting_qimage(image: Image.Image) -> QImage:
    """The photo as the painter shows it, in the screen's own pixel format (``RGB32``), so
    making its pixmap on the GUI thread is a copy, not a conversion: for a worker thread
    (a 12-MP photo takes ~50 ms)."""
    rgb = image.convert("RGB")
    width, height = rgb.size
    data = rgb.tobytes("raw", "BGRX")  # RGB32 in memory order (little-endian 0xffRRGGBB)
    return QImage(data, width, height, 4 * width, QImage.Format.Format_RGB32).copy()


class _OverlayItem(QGraphicsItem):
    """Draws the mask image; repaints only the exposed part (a stroke updates a small rect)."""

    def __init__(self) -> None:
        super().__init__()
        self.image = QImage()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(self.image.rect())

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        exposed = option.exposedRect.toAlignedRect() & self.image.rect()
        if not exposed.isEmpty():
            # Zoomed in, show the mask's pixels crisply: they are exactly what gets saved.
            smooth = painter.worldTransform().m11() < 2
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
            painter.drawImage(exposed, self.image, exposed)


@dataclass
class _Stroke:
    erase: bool
    last: QPointF
    dirty: QRect
    value: int  # the label painted or erased (a value of core.mask_labels)


class MaskPainter(ZoomPanView):
    """A zoomable view of a photo with an editable mask (lesion and healthy skin) at the photo's
    resolution."""

    #: The mask changed (after each stroke, fill, clear, undo, redo or set_image).
    maskChanged = Signal()
    #: Whether the mask differs from the last saved state (see :meth:`mark_saved`).
    modifiedChanged = Signal(bool)
    #: can_undo() or can_redo() may have changed.
    historyChanged = Signal()
    toolChanged = Signal(str)
    #: The label the tools paint changed ("lesion" or "skin").
    labelChanged = Signal(str)
    brushSizeChanged = Signal(int)
    # zoomChanged(float) comes from ZoomPanView.

    MIN_BRUSH = 1
    MAX_BRUSH = 500

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._photo_item = QGraphicsPixmapItem()
        self._photo_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._overlay_item = _OverlayItem()
        self._overlay_item.setZValue(1)
        self._overlay_item.setOpacity(DEFAULT_OVERLAY_OPACITY)
        self._rings = (QGraphicsEllipseItem(), QGraphicsEllipseItem())
        for ring, color, style in zip(
            self._rings,
            (QColor(0, 0, 0), QColor(255, 255, 255)),
            (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine),
            strict=True,
        ):
            pen = QPen(color, 1, style)
            pen.setCosmetic(True)
            ring.setPen(pen)
            ring.setZValue(2)
            ring.setVisible(False)
        for item in (self._photo_item, self._overlay_item, *self._rings):
            self._scene.addItem(item)

        # mask after the last finished edit: uint8 0 / 128 skin / 255 lesion
        self._committed = np.zeros((0, 0), dtype=np.uint8)
        self._history = MaskHistory()
        self._saved_id = self._history.state_id
        self._modified = False
        self._tool = "brush"
        self._label = "lesion"
        self._skin_color = QColor(SKIN_MASK_COLOR)
        self._brush_size = 20
        self._color = QColor(PROMPT_MASK_COLOR)  # what it mostly paints
        self._stroke: _Stroke | None = None
        self._ring_at: QPointF | None = None  # last mouse position over the photo
        self.zoomChanged.connect(lambda _zoom: self._update_rings())  # the outline's width
        self.setMinimumSize(200, 150)

    # ----------------------------------------------------------------- image and mask
    def set_image(
        self, image: Image.Image | np.ndarray | QImage, mask: np.ndarray | None = None
    ) -> None:
        """Show ``image`` with ``mask`` (H, W; bool lesion, or 0 / 128 healthy skin / other
        non-zero lesion) or an empty mask.

        Forgets the undo history; the new mask counts as saved.
        """
        qimage = image_to_qimage(image)
        width, height = qimage.width(), qimage.height()
        if mask is None:
            committed = np.zeros((height, width), dtype=np.uint8)
        else:
            mask = np.asarray(mask)
            if mask.shape != (height, width):
                raise ValueError(
                    f"mask shape {mask.shape} does not match the image ({height}, {width})"
                )
            committed = mask_labels.canonical_mask(mask)
        self._stroke = None
        self._photo_item.setPixmap(QPixmap.fromImage(qimage))
        overlay = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
        overlay.fill(0)
        self._overlay_item.prepareGeometryChange()
        self._overlay_item.image = overlay
        self._committed = committed
        if committed.any():  # the overlay starts transparent: an empty mask needs no writing
            self._write_overlay(0, 0, committed)
        self._scene.setSceneRect(QRectF(0, 0, width, height))
        self.set_brush_size(max(4, round(min(width, height) * 0.03)))
        self._history.reset()
        self._saved_id = self._history.state_id
        self.zoom_fit()
        self._after_change()

    def has_image(self) -> bool:
        return self._committed.size > 0

    def image_size(self) -> tuple[int, int]:
        """(width, height) of the photo in pixels; (0, 0) before :meth:`set_image`."""
        height, width = self._committed.shape
        return width, height

    def labelled_mask(self) -> np.ndarray:
        """A copy of the mask with its labels, (H, W) uint8 at the photo's full resolution:
        0, 128 healthy skin, 255 lesion (:mod:`core.mask_labels`, what is saved).

        A stroke still being drawn is included (and keeps going)."""
        mask = self._committed.copy()
        if self._stroke is not None:
            rect = self._stroke.dirty & self._overlay_item.image.rect()
            x, y, w, h = rect.x(), rect.y(), rect.width(), rect.height()
            if w > 0 and h > 0:
                mask[y : y + h, x : x + w] = self._painted(rect)
        return mask

    def lesion_mask(self) -> np.ndarray:
        """The lesion, (H, W) bool at the photo's full resolution (a stroke still being drawn
        included)."""
        return self.labelled_mask() == mask_labels.LESION_VALUE

    def mask_fraction(self) -> float:
        """Share of the photo's pixels that are lesion (0..1)."""
        if not self.has_image():
            return 0.0
        return float((self._committed == mask_labels.LESION_VALUE).mean())

    def skin_fraction(self) -> float:
        """Share of the photo's pixels marked healthy skin (0..1)."""
        if not self.has_image():
            return 0.0
        return float((self._committed == mask_labels.SKIN_VALUE).mean())

    def lesion_share_of_skin(self) -> float | None:
        """lesion / (lesion + healthy skin), 0..1; None while no healthy skin is marked."""
        if not self.has_image() or not mask_labels.has_skin(self._committed):
            return None
        return mask_labels.lesion_share_of_skin(
            mask_labels.lesion_of(self._committed), mask_labels.skin_of(self._committed)
        )

    def is_modified(self) -> bool:
        """True when the mask differs from the state last marked saved."""
        return self._modified

    def mark_saved(self) -> None:
        """Declare the current mask saved (undoing back to it clears "modified" again)."""
        self._end_stroke()
        self._saved_id = self._history.state_id
        self._update_modified()

    # ------------------------------------------------------------------ tools
    def tool(self) -> str:
        return self._tool

    def set_tool(self, tool: str) -> None:
        """Choose ``"brush"``, ``"eraser"`` or ``"fill"`` (fill an enclosed area on click)."""
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}; choose one of {', '.join(TOOLS)}")
        if tool != self._tool:
            self._end_stroke()
            self._tool = tool
            self._update_rings()
            self.toolChanged.emit(tool)

    def label(self) -> str:
        """What the tools paint: ``"lesion"`` or ``"skin"`` (healthy skin)."""
        return self._label

    def set_label(self, label: str) -> None:
        """Paint, erase and fill ``"lesion"`` (the default) or ``"skin"`` (healthy skin)."""
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r}; choose one of {', '.join(LABELS)}")
        if label != self._label:
            self._end_stroke()
            self._label = label
            self.labelChanged.emit(label)

    def brush_size(self) -> int:
        """Brush and eraser diameter in image pixels."""
        return self._brush_size

    def painted_width(self) -> float:
        """The width a brush or eraser stroke paints, in photo pixels: the brush size, rounded
        up to whole screen pixels while the photo is shown smaller than 1:1.

        The mouse moves in whole screen pixels, several photo pixels each at fit zoom; with
        the exact size, two strokes laid side by side one brush width apart on screen left a
        1-3 px unpainted line between them in the photo. Rounded up, they meet (the brush
        outline shows this width, which differs from the size by under one screen pixel)."""
        zoom = self.zoom()
        if zoom >= 1:
            return float(self._brush_size)
        return math.ceil(self._brush_size * zoom - 1e-6) / zoom

    def set_brush_size(self, size: int) -> None:
        size = int(min(self.MAX_BRUSH, max(self.MIN_BRUSH, round(size))))
        if size != self._brush_size:
            self._brush_size = size
            self._update_rings()
            self.brushSizeChanged.emit(size)

    def overlay_color(self) -> QColor:
        """The lesion's display colour."""
        return QColor(self._color)

    def skin_color(self) -> QColor:
        """Healthy skin's display colour."""
        return QColor(self._skin_color)

    def overlay_opacity(self) -> float:
        return float(self._overlay_item.opacity())

    def set_overlay(self, color: QColor | None = None, opacity: float | None = None) -> None:
        """Set the lesion's display colour and/or the mask's opacity (0 transparent .. 1
        opaque). A colour equal to healthy skin's is nudged: the two labels must differ."""
        if color is not None and QColor(color).isValid():
            self._end_stroke()
            self._color = QColor(color)
            self._color.setAlpha(255)
            if self._color.rgb() == self._skin_color.rgb():
                self._color.setBlue(self._color.blue() ^ 1)
            if self.has_image():
                self._write_overlay(0, 0, self._committed)
                self._overlay_item.update()
        if opacity is not None:
            self._overlay_item.setOpacity(min(1.0, max(0.0, float(opacity))))

    # ------------------------------------------------------------ edits
    def paint_stroke(self, points: Sequence[tuple[float, float]], *, erase: bool = False) -> None:
        """Paint (or erase) one undoable stroke through image coordinates ``points``."""
        if not self.has_image() or not points:
            return
        self._end_stroke()
        self._begin_stroke(QPointF(*points[0]), erase)
        for x, y in points[1:]:
            self._extend_stroke(QPointF(x, y))
        self._end_stroke()

    def fill_at(self, x: int, y: int) -> bool:
        """Fill with the current label the area around pixel ``(x, y)`` that other pixels
        enclose: the 4-connected area of pixels labelled as ``(x, y)`` is (unpainted, or the
        skin inside a lesion outline), so strokes (even thin diagonal ones) are walls; the
        image border bounds it too. Healthy skin never covers the lesion.

        Returns False when ``(x, y)`` is outside, already of the label, or lesion under skin.
        """
        self._end_stroke()
        if not self.has_image():
            return False
        x, y = int(x), int(y)
        height, width = self._committed.shape
        if not (0 <= x < width and 0 <= y < height):
            return False
        value = _LABEL_VALUES[self._label]
        clicked = self._committed[y, x]
        if clicked == value or (value == mask_labels.SKIN_VALUE and clicked != 0):
            return False
        region = connected_area(self._committed == clicked, x, y)
        if region is None:
            return False
        height, width = region.pixels.shape
        before = self._committed[region.y : region.y + height, region.x : region.x + width]
        after = np.where(region.pixels, np.uint8(value), before)
        self._commit(region.x, region.y, before.copy(), after)
        return True

    def clear(self) -> None:
        """Erase the whole mask, lesion and skin (one undoable step)."""
        self._end_stroke()
        rows = np.flatnonzero(self._committed.any(axis=1))
        if rows.size == 0:
            return
        cols = np.flatnonzero(self._committed.any(axis=0))
        top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        before = self._committed[top:bottom, left:right].copy()
        self._commit(int(left), int(top), before, np.zeros_like(before))

    def can_undo(self) -> bool:
        return self._history.can_undo() or self._stroke is not None

    def can_redo(self) -> bool:
        return self._history.can_redo()

    def undo(self) -> None:
        """Undo the last stroke, fill or clear."""
        self._end_stroke()
        self._apply_edit(self._history.undo(), after=False)

    def redo(self) -> None:
        """Redo the last undone edit."""
        self._apply_edit(self._history.redo(), after=True)

    # ------------------------------------------------------------ Qt events
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self.pan_press(event):
            self._end_stroke()
            return
        if event.button() == Qt.MouseButton.LeftButton and self.has_image():
            point = self.viewport_to_image(event.position())
            if self._tool == "fill":
                self.fill_at(math.floor(point.x()), math.floor(point.y()))
            else:
                self._begin_stroke(point, erase=self._tool == "eraser")
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        point = self.viewport_to_image(event.position())
        self._update_rings(point)
        if self.pan_move(event):
            return
        if self._stroke is not None:
            self._extend_stroke(point)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self.pan_release(event):
            return
        if self._stroke is not None and event.button() == Qt.MouseButton.LeftButton:
            self._extend_stroke(self.viewport_to_image(event.position()))
            self._end_stroke()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def modified_wheel(self, steps: float, modifiers: Qt.KeyboardModifier) -> bool:
        """Shift+wheel or Alt+wheel changes the brush size."""
        if modifiers & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.AltModifier):
            if steps:
                self.change_brush_size(steps)
            return True
        return False

    def change_brush_size(self, steps: float) -> None:
        """Grow (steps > 0) or shrink the brush by ~15% per step, at least 1 px."""
        target = self._brush_size * 1.15**steps
        change = target - self._brush_size
        if abs(change) < 1:
            change = math.copysign(1, steps)
        self.set_brush_size(round(self._brush_size + change))

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        self._ring_at = None
        self._update_rings()
        super().leaveEvent(event)

    # ------------------------------------------------------------ internals
    def _begin_stroke(self, point: QPointF, erase: bool) -> None:
        value = _LABEL_VALUES[self._label]
        self._stroke = _Stroke(erase=erase, last=point, dirty=QRect(), value=value)
        self._paint_segment(point, point)
        self.historyChanged.emit()

    def _extend_stroke(self, point: QPointF) -> None:
        if self._stroke is not None and point != self._stroke.last:
            self._paint_segment(self._stroke.last, point)
            self._stroke.last = point

    def _paint_segment(self, start: QPointF, end: QPointF) -> None:
        """Draw a round-capped line of the brush's width into the mask image."""
        stroke = self._stroke
        assert stroke is not None
        image = self._overlay_item.image
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # one colour a label
        skin = stroke.value == mask_labels.SKIN_VALUE
        if stroke.erase:
            mode = QPainter.CompositionMode.CompositionMode_Clear
        elif skin:  # under what is painted: skin never covers the lesion
            mode = QPainter.CompositionMode.CompositionMode_DestinationOver
        else:
            mode = QPainter.CompositionMode.CompositionMode_Source
        painter.setCompositionMode(mode)
        size = self.painted_width()
        color = self._skin_color if skin else self._color
        painter.setPen(
            QPen(color, size, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                 Qt.PenJoinStyle.RoundJoin)
        )  # fmt: skip
        if start == end:
            painter.drawPoint(start)
        else:
            painter.drawLine(start, end)
        painter.end()
        reach = size / 2 + 2
        touched = QRectF(start, end).normalized().adjusted(-reach, -reach, reach, reach)
        touched_px = touched.toAlignedRect() & image.rect()
        if stroke.erase and not touched_px.isEmpty():
            # The eraser erases its own label only: show the other one again where it was.
            x, y, w, h = touched_px.x(), touched_px.y(), touched_px.width(), touched_px.height()
            kept = self._committed[y : y + h, x : x + w]
            kept = np.where(kept == stroke.value, np.uint8(0), kept)
            target = self._overlay_pixels()[y : y + h, x : x + w]
            target[kept != 0] = self._words(kept)[kept != 0]
        stroke.dirty = stroke.dirty.united(touched_px)
        self._overlay_item.update(QRectF(touched_px))

    def _end_stroke(self) -> None:
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return
        rect = stroke.dirty & self._overlay_item.image.rect()
        if rect.isEmpty():
            self.historyChanged.emit()
            return
        x, y, w, h = rect.x(), rect.y(), rect.width(), rect.height()
        after = self._painted(rect)
        before = self._committed[y : y + h, x : x + w].copy()
        if not stroke.erase:
            # Strokes laid side by side can still leave a line of pixels between them that
            # no stroke covers (a sub-pixel gap, diagonal edges): fill such gaps of up to
            # 2 px next to this stroke. The rect reaches 2 px past the stroke on every side.
            painted = after == stroke.value
            closed = close_hairlines(painted, near=painted & (before != stroke.value))
            gaps = closed & ~painted
            if stroke.value == mask_labels.SKIN_VALUE:
                gaps &= before != mask_labels.LESION_VALUE
            after[gaps] = stroke.value
        self._commit(x, y, before, after)
        self.historyChanged.emit()

    def _commit(self, x: int, y: int, before: np.ndarray, after: np.ndarray) -> None:
        """Record an edit of the rectangle at (x, y) and show it; no-op if nothing changed."""
        if np.array_equal(before, after):
            return
        self._history.record(x, y, before, after)
        self._set_region(x, y, after)
        self._after_change()

    def _apply_edit(self, edit: MaskEdit | None, *, after: bool) -> None:
        if edit is None:
            return
        self._set_region(edit.x, edit.y, edit.after() if after else edit.before())
        self._after_change()

    def _set_region(self, x: int, y: int, pixels: np.ndarray) -> None:
        height, width = pixels.shape
        self._committed[y : y + height, x : x + width] = pixels
        self._write_overlay(x, y, pixels)
        self._overlay_item.update(QRectF(x, y, width, height))

    def _overlay_pixels(self) -> np.ndarray:
        """Writable uint32 (H, W) view of the mask image's premultiplied ARGB pixels."""
        image = self._overlay_item.image
        words = np.frombuffer(image.bits(), dtype=np.uint32)
        return words.reshape(image.height(), image.bytesPerLine() // 4)[:, : image.width()]

    def _label_words(self) -> tuple[np.uint32, np.uint32]:
        """The overlay's pixel words of a lesion and of a healthy-skin pixel (opaque)."""
        lesion = np.uint32(0xFF000000 | (self._color.rgb() & 0xFFFFFF))
        skin = np.uint32(0xFF000000 | (self._skin_color.rgb() & 0xFFFFFF))
        return lesion, skin

    def _words(self, pixels: np.ndarray) -> np.ndarray:
        """The overlay's pixel words (uint32) of a uint8 0 / 128 / 255 mask."""
        lesion, skin = self._label_words()
        words = np.zeros(pixels.shape, dtype=np.uint32)
        words[pixels == mask_labels.LESION_VALUE] = lesion
        words[pixels == mask_labels.SKIN_VALUE] = skin
        return words

    def _painted(self, rect: QRect) -> np.ndarray:
        """What the mask image shows in ``rect``, (h, w) uint8: 0, 128 skin, 255 lesion."""
        x, y, w, h = rect.x(), rect.y(), rect.width(), rect.height()
        words = self._overlay_pixels()[y : y + h, x : x + w]
        lesion, skin = self._label_words()
        out = np.zeros(words.shape, dtype=np.uint8)
        out[words == skin] = mask_labels.SKIN_VALUE
        out[words == lesion] = mask_labels.LESION_VALUE
        return out

    def _write_overlay(self, x: int, y: int, pixels: np.ndarray) -> None:
        height, width = pixels.shape
        target = self._overlay_pixels()[y : y + height, x : x + width]
        target[...] = self._words(pixels)

    def _after_change(self) -> None:
        self.maskChanged.emit()
        self.historyChanged.emit()
        self._update_modified()

    def _update_modified(self) -> None:
        modified = self._history.state_id != self._saved_id
        if modified != self._modified:
            self._modified = modified
            self.modifiedChanged.emit(modified)

    def _update_rings(self, point: QPointF | None = None) -> None:
        """Show the brush outline at ``point`` (image coords; default: where it was)."""
        if point is not None:
            self._ring_at = point
        point = self._ring_at
        visible = point is not None and self._tool != "fill" and self.has_image()
        for ring in self._rings:
            ring.setVisible(visible)
            if visible and point is not None:
                radius = self.painted_width() / 2
                ring.setRect(point.x() - radius, point.y() - radius, 2 * radius, 2 * radius)
