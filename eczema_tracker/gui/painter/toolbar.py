"""MaskPainterToolBar: the tools, brush size, overlay look, history and zoom of a MaskPainter.

Every action carries its shortcut in its tooltip. The toolbar follows the painter's signals,
so keyboard, wheel and toolbar changes stay in step.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QColor, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import QColorDialog, QLabel, QSlider, QToolBar, QToolButton, QWidget

from eczema_tracker.gui.painter.canvas import MaskPainter

#: Positions of the (logarithmic) brush-size slider.
SIZE_SLIDER_STEPS = 1000

ChooseColor = Callable[[QColor, QWidget], "QColor | None"]


def choose_color_with_dialog(current: QColor, parent: QWidget) -> QColor | None:
    """Ask for a colour with QColorDialog; None when cancelled."""
    color = QColorDialog.getColor(current, parent, "Mask colour")
    return color if color.isValid() else None


def _swatch(color: QColor) -> QIcon:
    pixmap = QPixmap(16, 16)
    pixmap.fill(color)
    return QIcon(pixmap)


class MaskPainterToolBar(QToolBar):
    """Toolbar driving ``painter``; its actions work as shortcuts in the toolbar's window."""

    def __init__(
        self,
        painter: MaskPainter,
        parent: QWidget | None = None,
        *,
        choose_color: ChooseColor = choose_color_with_dialog,
        shortcut_context: Qt.ShortcutContext = Qt.ShortcutContext.WindowShortcut,
    ) -> None:
        """``shortcut_context``: where the single-key shortcuts work (the whole window by
        default; pass WidgetWithChildrenShortcut and add the actions to a container to limit
        them when the toolbar lives in a bigger window)."""
        super().__init__("Mask tools", parent)
        self.painter = painter
        self._choose_color = choose_color
        self._shortcut_context = shortcut_context
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)

        group = QActionGroup(self)
        self.tool_actions: dict[str, QAction] = {}
        for tool, text, key, tip in (
            ("brush", "Brush", "B", "Paint the lesion"),
            ("eraser", "Eraser", "E", "Erase painted pixels"),
            ("fill", "Fill", "F", "Click inside a closed outline to fill it"),
        ):
            action = self._action(
                text, key, f"{tip} ({key})", lambda _=False, t=tool: painter.set_tool(t)
            )
            action.setCheckable(True)
            group.addAction(action)
            self.tool_actions[tool] = action
        self.tool_actions[painter.tool()].setChecked(True)
        self.addSeparator()

        labels = QActionGroup(self)
        self.label_actions: dict[str, QAction] = {}
        for label, text, key, tip, color in (
            ("lesion", "Lesion", "L", "Brush, eraser and fill mark the lesion", None),
            (
                "skin",
                "Healthy skin",
                "K",
                "Brush, eraser and fill mark the healthy skin around the lesion (never over "
                "it), so the lesion is measured as a share of the skin; Fill marks an area in "
                "one click",
                painter.skin_color(),
            ),
        ):
            action = self._action(
                text, key, f"{tip} ({key})", lambda _=False, m=label: painter.set_label(m)
            )
            action.setCheckable(True)
            if color is not None:
                action.setIcon(_swatch(color))
            labels.addAction(action)
            self.label_actions[label] = action
        self.label_actions[painter.label()].setChecked(True)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addSeparator()

        self.addWidget(QLabel(" Size "))
        self.smaller_action = self._action(
            "−", "[", "Smaller brush ([; or Shift+wheel)", lambda: painter.change_brush_size(-1)
        )
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(0, SIZE_SLIDER_STEPS)
        self.size_slider.setFixedWidth(100)
        self.size_slider.setToolTip("Brush size in photo pixels ([ and ], or Shift+wheel)")
        self.size_slider.valueChanged.connect(
            lambda value: painter.set_brush_size(self._size_from_slider(value))
        )
        self.addWidget(self.size_slider)
        self.larger_action = self._action(
            "+", "]", "Larger brush (]; or Shift+wheel)", lambda: painter.change_brush_size(1)
        )
        self.size_label = QLabel()
        self.size_label.setMinimumWidth(48)
        self.addWidget(self.size_label)
        self.addSeparator()

        self.color_button = QToolButton()
        self.color_button.setToolTip("Lesion colour")
        self.color_button.clicked.connect(self.choose_color)
        self.addWidget(self.color_button)
        self.addWidget(QLabel(" Opacity "))
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setFixedWidth(70)
        self.opacity_slider.setToolTip("Mask opacity")
        self.opacity_slider.setValue(round(painter.overlay_opacity() * 100))
        self.opacity_slider.valueChanged.connect(
            lambda value: painter.set_overlay(opacity=value / 100)
        )
        self.addWidget(self.opacity_slider)
        self.addSeparator()

        self.undo_action = self._action(
            "Undo", QKeySequence.StandardKey.Undo, "Undo the last stroke (Ctrl+Z)", painter.undo
        )
        self.redo_action = self._action(
            "Redo", QKeySequence.StandardKey.Redo, "Redo (Ctrl+Shift+Z or Ctrl+Y)", painter.redo
        )
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.clear_action = self._action(
            "Clear", None, "Erase the whole mask (can be undone)", painter.clear
        )
        self.addSeparator()

        self.addWidget(QLabel(" Zoom "))
        self.zoom_out_action = self._action(
            "−", "-", "Zoom out (- or Ctrl+wheel)", painter.zoom_out
        )
        self.zoom_in_action = self._action("+", "+", "Zoom in (+ or Ctrl+wheel)", painter.zoom_in)
        self.zoom_in_action.setShortcuts([QKeySequence("+"), QKeySequence("=")])
        self.fit_action = self._action("Fit", "0", "Show the whole photo (0)", painter.zoom_fit)
        self.zoom_label = QLabel()
        self.zoom_label.setMinimumWidth(48)
        self.zoom_label.setToolTip("Zoom. Pan with the middle button or Space + drag")
        self.addWidget(self.zoom_label)  # fmt: skip

        painter.toolChanged.connect(lambda tool: self.tool_actions[tool].setChecked(True))
        painter.labelChanged.connect(lambda label: self.label_actions[label].setChecked(True))
        painter.brushSizeChanged.connect(self._show_brush_size)
        painter.historyChanged.connect(self._show_history)
        painter.zoomChanged.connect(lambda zoom: self.zoom_label.setText(f"{zoom:.0%}"))
        self._show_brush_size(painter.brush_size())
        self._show_history()
        self._show_color()
        self.zoom_label.setText(f"{painter.zoom():.0%}")

    def choose_color(self) -> None:
        """Ask for the mask colour and apply it."""
        color = self._choose_color(self.painter.overlay_color(), self)
        if color is not None:
            self.painter.set_overlay(color=color)
            self._show_color()

    # ------------------------------------------------------------ internals
    def _action(
        self,
        text: str,
        shortcut: str | QKeySequence.StandardKey | None,
        tooltip: str,
        slot: Callable,
    ) -> QAction:
        action = QAction(text, self)
        action.setShortcutContext(self._shortcut_context)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(tooltip)
        action.triggered.connect(lambda _=False: slot())
        self.addAction(action)
        return action

    def _size_from_slider(self, value: int) -> int:
        low, high = math.log(MaskPainter.MIN_BRUSH), math.log(MaskPainter.MAX_BRUSH)
        return round(math.exp(low + (high - low) * value / SIZE_SLIDER_STEPS))

    def _slider_from_size(self, size: int) -> int:
        low, high = math.log(MaskPainter.MIN_BRUSH), math.log(MaskPainter.MAX_BRUSH)
        return round((math.log(max(size, 1)) - low) / (high - low) * SIZE_SLIDER_STEPS)

    def _show_brush_size(self, size: int) -> None:
        self.size_label.setText(f"{size} px")
        if self._size_from_slider(self.size_slider.value()) != size:
            self.size_slider.blockSignals(True)
            self.size_slider.setValue(self._slider_from_size(size))
            self.size_slider.blockSignals(False)

    def _show_history(self) -> None:
        self.undo_action.setEnabled(self.painter.can_undo())
        self.redo_action.setEnabled(self.painter.can_redo())

    def _show_color(self) -> None:
        self.color_button.setIcon(_swatch(self.painter.overlay_color()))
        self.label_actions["lesion"].setIcon(_swatch(self.painter.overlay_color()))
