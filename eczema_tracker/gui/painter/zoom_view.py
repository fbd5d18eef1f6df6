"""ZoomPanView: a QGraphicsView over an image with zoom (fit, factor, Ctrl+wheel) and panning.

Scene coordinates are image pixel coordinates. Panning uses the middle button or Space + left
button; Ctrl+wheel zooms keeping the point under the mouse still. Subclasses (the mask
painter) call :meth:`pan_press`/:meth:`pan_move`/:meth:`pan_release` first in their mouse
handlers and use the left button for themselves otherwise.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFocusEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QWidget


class ZoomPanView(QGraphicsView):
    """Image view that zooms and pans; keeps fitting the image until the user zooms."""

    #: The zoom factor (view pixels per image pixel) changed.
    zoomChanged = Signal(float)

    MIN_ZOOM = 0.01
    MAX_ZOOM = 32.0
    #: Cursor over the image when not panning.
    IDLE_CURSOR = Qt.CursorShape.CrossCursor

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self._pan_from: QPoint | None = None
        self._space_held = False
        self._fit_mode = True
        self.setBackgroundBrush(QBrush(QColor(45, 45, 48)))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setMouseTracking(True)
        self.viewport().setCursor(self.IDLE_CURSOR)

    # ------------------------------------------------------------ zoom
    def zoom(self) -> float:
        """View pixels per image pixel."""
        return float(self.transform().m11())

    def set_zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``factor``, keeping the image point under viewport point ``anchor`` still
        (default: the view centre)."""
        factor = min(self.MAX_ZOOM, max(self.MIN_ZOOM, float(factor)))
        self._fit_mode = False
        if anchor is None:
            self.setTransform(QTransform.fromScale(factor, factor))
        else:
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
            scene_before = self.viewport_to_image(anchor)
            self.setTransform(QTransform.fromScale(factor, factor))
            shift = self.viewport_to_image(anchor) - scene_before
            self.translate(shift.x(), shift.y())
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.zoomChanged.emit(self.zoom())

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom() * 1.25)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom() / 1.25)

    def zoom_fit(self) -> None:
        """Show the whole image (and keep fitting it when the view is resized)."""
        self._fit_mode = True
        if not self._scene.sceneRect().isEmpty():
            self.fitInView(self._scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
            self.zoomChanged.emit(self.zoom())

    def image_to_viewport(self, x: float, y: float) -> QPoint:
        """Viewport position of image point ``(x, y)`` (pixel centres are at +0.5)."""
        return self.mapFromScene(QPointF(x, y))

    def viewport_to_image(self, pos: QPointF | QPoint) -> QPointF:
        """Image coordinates (sub-pixel) of a viewport position."""
        inverse, _ = self.viewportTransform().inverted()
        return inverse.map(QPointF(pos))

    # ------------------------------------------------------------ panning
    def is_panning(self) -> bool:
        return self._pan_from is not None

    def pan_press(self, event: QMouseEvent) -> bool:
        """Start panning on a middle press or Space + left press; True if it did."""
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and self._space_held
        ):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return True
        return False

    def pan_move(self, event: QMouseEvent) -> bool:
        """Scroll with the mouse while panning; True if panning."""
        if self._pan_from is None:
            return False
        now = event.position().toPoint()
        delta = now - self._pan_from
        self._pan_from = now
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
        event.accept()
        return True

    def pan_release(self, event: QMouseEvent) -> bool:
        """End panning; True if the release belonged to a pan."""
        if self._pan_from is None or event.button() not in (
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.LeftButton,
        ):
            return False
        self._pan_from = None
        self._show_idle_cursor()
        event.accept()
        return True

    # ------------------------------------------------------------ Qt events
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if not self.pan_press(event):
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if not self.pan_move(event):
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if not self.pan_release(event):
            super().mouseReleaseEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        delta = event.angleDelta().y() or event.angleDelta().x()  # Alt may swap the axes
        steps = delta / 120.0
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            if steps:
                self.set_zoom(self.zoom() * 1.25**steps, anchor=event.position())
            event.accept()
        elif self.modified_wheel(steps, event.modifiers()):
            event.accept()
        else:
            super().wheelEvent(event)

    def modified_wheel(self, steps: float, modifiers: Qt.KeyboardModifier) -> bool:
        """Hook for other wheel + modifier uses; True if handled. The base handles none."""
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self._show_idle_cursor()
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self._show_idle_cursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        self._space_held = False  # a Space release elsewhere must not leave pan mode on
        self._show_idle_cursor()
        super().focusOutEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self._fit_mode:
            self.zoom_fit()

    def _show_idle_cursor(self) -> None:
        if self._pan_from is None:
            self.viewport().setCursor(
                Qt.CursorShape.OpenHandCursor if self._space_held else self.IDLE_CURSOR
            )
