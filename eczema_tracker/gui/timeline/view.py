"""TimelineView: a site's photos and the patient's record over time, with hover and export.

A matplotlib figure embedded in Qt, drawn by :func:`eczema_tracker.app.timeline.figure.draw_timeline`
(Qt-free, shared with the report): the site's predicted severity (0-3, shaded class bands),
self-ratings and lesion area; under it, on the same date axis, POEM totals with their bands,
itch and sleep numbers, treatment courses as bars, flares and notes. Hovering shows a point's
date and values (or a course, a note), clicking a photo's point emits
``photoActivated(photo_id)``, and the figure exports to PNG, PDF or SVG (saying where).
Shift-click (or Ctrl-click) a photo's point marks it for a comparison (ringed); shift-clicking
a second point emits ``compareRequested(first_id, second_id)``; the Compare… button emits it
with the marked point (or 0) and 0, for the Compare view to choose the site's default pair.
The date axis shows a range (4 weeks, 3 months, 12 months or all; by default the last 3 months
with anything recorded, so a long gap does not squeeze the rest into a line); the wheel zooms
it around the mouse, dragging pans it, a double-click goes back to the chosen range. The widget
takes plain data (:class:`~eczema_tracker.app.timeline.figure.TimelineData`, or just points
with :meth:`TimelineView.set_points`) and never reads the store itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.backend_bases import LocationEvent, MouseEvent
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.text import Annotation
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from eczema_tracker.app.timeline.figure import (
    HoverTarget,
    SiteSeries,
    TimelineAxes,
    TimelineData,
    draw_timeline,
    nearest_target,
    range_limits,
)
from eczema_tracker.core.output_files import (
    OutputFileError,
    check_output_target,
    writing_output,
)
from eczema_tracker.gui.timeline.points import (
    TimelinePointLike,
    describe_point,
    to_local_naive,
)

__all__ = ["RANGES", "TimelineView"]

EXPORT_FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}
#: How close (in screen pixels) the mouse must be to a point to hover or click it.
HIT_RADIUS_PX = 9
#: A press that moves less than this (pixels) before release is a click, not a drag.
DRAG_THRESHOLD_PX = 4
#: The date ranges offered: key -> (label, days; None = everything).
RANGES: dict[str, tuple[str, float | None]] = {
    "4w": ("Last 4 weeks", 28.0),
    "3m": ("Last 3 months", 91.0),
    "12m": ("Last 12 months", 365.0),
    "all": ("All", None),
}
DEFAULT_RANGE = "3m"
ZOOM_PER_WHEEL_STEP = 0.8
HOVER_HINT = (
    "Hover a point for details; click a photo's point to open it, "
    "shift-click two points to compare them."
)
#: Mouse modifiers (matplotlib's names) that make a click on a point pick it for a comparison.
COMPARE_MODIFIERS = frozenset({"shift", "ctrl"})


def ask_export_path_with_dialog(parent: QWidget, suggested: str) -> str | None:
    """Ask where to export with a QFileDialog; None when cancelled."""
    path, chosen_filter = QFileDialog.getSaveFileName(
        parent, "Export timeline", suggested, "PNG image (*.png);;PDF document (*.pdf)"
    )
    if not path:
        return None
    if Path(path).suffix.lower() not in EXPORT_FORMATS:  # a name the dialog did not ask about
        path += ".pdf" if "pdf" in chosen_filter.lower() else ".png"
        if Path(path).is_file() and not Path(path).is_symlink():
            answer = QMessageBox.question(
                parent,
                "Replace the file?",
                f"{Path(path).name} already exists. Replace it with the chart?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return None
    return path


class TimelineView(QWidget):
    """Plot of one site's timeline with hover details, click-to-open and export."""

    #: The user clicked a point: open this photo.
    photoActivated = Signal(int)
    #: Compare these two photos (ids; 0: let the Compare view choose).
    compareRequested = Signal(int, int)  # noqa: N815

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        ask_export_path: Callable[[QWidget, str], str | None] = ask_export_path_with_dialog,
    ) -> None:
        super().__init__(parent)
        self._ask_export_path = ask_export_path
        self._points: list[TimelinePointLike] = []
        self._site = ""
        self._data = TimelineData()
        self.drawn = TimelineAxes()  # the panels drawn last
        self._hovered: HoverTarget | None = None
        self._range = DEFAULT_RANGE
        self._drag: tuple[float, tuple[float, float]] | None = None  # press x (px), xlim
        self._dragged = False
        self._compare_mark: HoverTarget | None = None  # the first point picked to compare
        self._compare_ring: list = []  # the ring drawn around it
        self.last_export: Path | None = None
        #: the photo store's folder: a chart is never saved inside it (set by the panel)
        self.store_root: Path | None = None

        self.figure = Figure(figsize=(8, 6), dpi=100, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumSize(420, 300)
        self.canvas.mpl_connect("motion_notify_event", self._on_motion)
        self.canvas.mpl_connect("button_press_event", self._on_press)
        self.canvas.mpl_connect("figure_leave_event", self._on_leave)
        self.canvas.mpl_connect("button_release_event", self._on_release)
        self.canvas.mpl_connect("scroll_event", self._on_scroll)
        self.range_choice = QComboBox()
        for key, (label, _days) in RANGES.items():
            self.range_choice.addItem(label, key)
        self.range_choice.setCurrentIndex(list(RANGES).index(DEFAULT_RANGE))
        self.range_choice.setToolTip(
            "Which dates to show. The wheel zooms, dragging moves along the dates, "
            "a double-click comes back to this range."
        )
        self.range_choice.currentIndexChanged.connect(
            lambda _i: self.set_range(self.range_choice.currentData())
        )
        self.status_label = QLabel()
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # long hover texts must not widen the window (that would move every point)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save this chart as a PNG image or a PDF document")
        self.export_button.clicked.connect(self.export_with_dialog)
        self.compare_button = QPushButton("Compare…")
        self.compare_button.setToolTip(
            "Two dates side by side: the point you shift-clicked, or the first and latest "
            "analysed photo"
        )
        self.compare_button.clicked.connect(self._compare_clicked)

        bottom = QHBoxLayout()
        bottom.setContentsMargins(6, 0, 6, 4)
        bottom.addWidget(self.range_choice)
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.compare_button)
        bottom.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(bottom)

        self.score_axes: Axes = self.figure.add_subplot()
        self.area_axes: Axes | None = None
        self._annotation: Annotation | None = None
        self.set_points([], "")

    # ------------------------------------------------------------ public API
    def points(self) -> list[TimelinePointLike]:
        return list(self._points)

    def site(self) -> str:
        return self._site

    def data(self) -> TimelineData:
        """What is shown."""
        return self._data

    def set_points(self, points: Sequence[TimelinePointLike], site: str) -> None:
        """Show ``points`` (any order) of body site ``site``, with the record shown before."""
        self.set_data(replace(self._data, sites=(SiteSeries(site, tuple(points)),)))

    def set_data(self, data: TimelineData) -> None:
        """Show ``data``: its sites' photos (each site its own colour) and the record
        (check-ins, numbers, courses, flares and notes)."""
        points = [p for series in data.sites for p in series.points]
        self._points = sorted(points, key=lambda p: (to_local_naive(p.taken_at), p.photo_id))
        self._site = data.sites[0].site if len(data.sites) == 1 else ""
        self._data = data
        self._hovered = None
        self._draw()

    def set_range(self, key: str) -> None:
        """Show the last 4 weeks / 3 months / 12 months with photos, or all ("4w", "3m", ...)."""
        if key not in RANGES:
            raise ValueError(f"unknown range {key!r}; choose one of {', '.join(RANGES)}")
        self._range = key
        index = list(RANGES).index(key)
        if self.range_choice.currentIndex() != index:
            self.range_choice.blockSignals(True)
            self.range_choice.setCurrentIndex(index)
            self.range_choice.blockSignals(False)
        if self.drawn.extent is not None:
            self._apply_range()
            self.canvas.draw_idle()

    def date_range(self) -> tuple[datetime, datetime]:
        """The dates shown now (left and right end of the axis)."""
        low, high = self.score_axes.get_xlim()
        return mdates.num2date(low).replace(tzinfo=None), mdates.num2date(high).replace(tzinfo=None)

    def zoom(self, factor: float, center: float | None = None) -> None:
        """Zoom the date axis by ``factor`` (< 1 zooms in) around ``center`` (a date number)."""
        low, high = self.score_axes.get_xlim()
        center = (low + high) / 2 if center is None else center
        span = max((high - low) * factor, 1 / 24)  # never closer than an hour
        left = center - (center - low) * span / (high - low)
        self.score_axes.set_xlim(left, left + span)
        self.canvas.draw_idle()

    def pan(self, days: float) -> None:
        """Move the date axis by ``days`` (positive: later)."""
        low, high = self.score_axes.get_xlim()
        self.score_axes.set_xlim(low + days, high + days)
        self.canvas.draw_idle()

    def export(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the figure to ``path`` (.png, .pdf or .svg) atomically; returns the path.

        The target follows the rules of every output (``core.output_files``): never inside the
        store, never a device, folder or link, an existing file only with ``overwrite``.
        """
        target = Path(path)
        fmt = EXPORT_FORMATS.get(target.suffix.lower())
        if fmt is None:
            raise ValueError(
                f"cannot export to '{target.name}': use a .png, .pdf or .svg file name"
            )
        target = check_output_target(target, store_root=self.store_root, overwrite=overwrite)
        self._show_annotation(None)
        with writing_output(target) as temp:
            self.figure.savefig(temp, format=fmt, dpi=150)
        return target

    def export_with_dialog(self) -> Path | None:
        """Ask for a file name and export there; failures are shown, not raised."""
        suggested = f"eczema-timeline-{self._site or 'all'}.png".replace(" ", "-")
        path = self._ask_export_path(self, suggested)
        if not path:
            return None
        try:  # the file dialog (or ours, for a name it did not ask about) asked before replacing
            saved = self.export(path, overwrite=True)
        except OutputFileError as exc:
            QMessageBox.warning(self, "Export failed", exc.message)
            return None
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self, "Export failed", f"The timeline could not be saved: {exc}")
            return None
        self.last_export = saved
        self.status_label.setText(f"Chart saved to {saved}")
        self.status_label.setToolTip(str(saved))
        return saved

    def hover_text(self) -> str:
        """Text of the point, course or note under the mouse ('' when none)."""
        return _describe(self._hovered) if self._hovered else ""

    def target_at(self, x: float, y: float) -> TimelinePointLike | None:
        """The point drawn nearest to display position (x, y) (matplotlib pixels), if close."""
        target = self._nearest(x, y)
        return target.point if target else None

    def record_target_at(self, x: float, y: float) -> HoverTarget | None:
        """The hover target (of any kind) nearest to display position (x, y), if close."""
        return self._nearest(x, y)

    def display_position(self, point: TimelinePointLike) -> tuple[float, float] | None:
        """Display position (matplotlib pixels) of ``point``'s first drawn marker."""
        for target in self.drawn.targets:
            if target.point is point:
                return tuple(target.axes.transData.transform((target.x, target.y)))
        return None

    def widget_position(self, point: TimelinePointLike) -> QPoint | None:
        """Position of ``point``'s first marker in the canvas widget's coordinates."""
        position = self.display_position(point)
        if position is None:
            return None
        ratio = self.canvas.device_pixel_ratio
        x, y = position
        return QPoint(round(x / ratio), round((self.figure.bbox.height - y) / ratio))

    def compare_mark(self) -> int | None:
        """The photo id of the point picked first for a comparison, if any."""
        mark = self._compare_mark
        return None if mark is None or mark.point is None else int(mark.point.photo_id)

    def pick_for_comparison(self, target: HoverTarget) -> None:
        """A photo's point shift-clicked: the first marks it, the second asks for the
        comparison of both (the same point again unmarks it)."""
        if target.point is None:
            return
        first = self.compare_mark()
        chosen = int(target.point.photo_id)
        self._set_compare_mark(None)
        if first is None:
            self._set_compare_mark(target)
            self.status_label.setText(
                f"Comparing {describe_point(target.point).splitlines()[0]}: "
                "shift-click another point (or press Compare…)."
            )
        elif first != chosen:
            self.compareRequested.emit(first, chosen)

    def _compare_clicked(self) -> None:
        first = self.compare_mark() or 0
        self._set_compare_mark(None)
        self.compareRequested.emit(first, 0)

    def _set_compare_mark(self, target: HoverTarget | None) -> None:
        for artist in self._compare_ring:
            artist.remove()
        self._compare_ring = []
        self._compare_mark = target
        if target is not None:
            self._compare_ring = target.axes.plot(
                [target.x], [target.y], marker="o", markersize=16, markerfacecolor="none",
                markeredgecolor="black", markeredgewidth=2, zorder=9,
            )  # fmt: skip
        self.canvas.draw_idle()

    # ------------------------------------------------------------ drawing
    def _draw(self) -> None:
        self._compare_mark, self._compare_ring = None, []  # the figure is drawn anew
        self.drawn = draw_timeline(self.figure, self._data)
        self.score_axes = self.drawn.first
        self.area_axes = self.drawn.area
        self._apply_range()
        self._annotation = None
        if self.drawn.extent is None:
            self.status_label.setText("")
        else:
            # on the figure, not an axes: drawn over every panel, whichever it points into
            self._annotation = Annotation(
                "", xy=(0, 0), xycoords="figure pixels", xytext=(12, 12),
                textcoords="offset points", fontsize=9, zorder=10, visible=False,
                annotation_clip=False,
                bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": "0.5", "alpha": 0.95},
            )  # fmt: skip
            self.figure.add_artist(self._annotation)
            # the box must not take part in the layout: showing it would move every panel
            self._annotation.set_in_layout(False)
            self.status_label.setText(HOVER_HINT)
        self.canvas.draw_idle()

    def _apply_range(self) -> None:
        """Set the date axis to the chosen range, ending at the newest thing shown."""
        if self.drawn.extent is not None:
            self.score_axes.set_xlim(*range_limits(self.drawn.extent, RANGES[self._range][1]))

    # ------------------------------------------------------------ mouse
    def _nearest(self, x: float, y: float) -> HoverTarget | None:
        radius = HIT_RADIUS_PX * self.canvas.device_pixel_ratio
        return nearest_target(self.drawn.targets, x, y, radius)

    def _on_motion(self, event: MouseEvent) -> None:
        if self._drag is not None and event.x is not None:
            start_x, (low, high) = self._drag
            if abs(event.x - start_x) >= DRAG_THRESHOLD_PX:
                self._dragged = True
            if self._dragged:
                width = max(1.0, self.score_axes.bbox.width)
                shift = (event.x - start_x) / width * (high - low)
                self.score_axes.set_xlim(low - shift, high - shift)
                self.canvas.draw_idle()
                return
        target = self._nearest(event.x, event.y) if event.x is not None else None
        if target is self._hovered:
            return
        self._hovered = target
        self._show_annotation(target, event.x)
        self.canvas.setCursor(
            Qt.CursorShape.PointingHandCursor
            if target is not None and target.point is not None
            else Qt.CursorShape.ArrowCursor
        )

    def _on_press(self, event: MouseEvent) -> None:
        if event.button != 1 or event.x is None:
            return
        if event.dblclick:
            self._drag = None
            self._apply_range()
            self.canvas.draw_idle()
            return
        self._drag = (float(event.x), self.score_axes.get_xlim())
        self._dragged = False

    def _on_release(self, event: MouseEvent) -> None:
        if event.button != 1 or self._drag is None:
            return
        dragged, self._drag = self._dragged, None
        self._dragged = False
        if dragged or event.x is None:
            return
        target = self._nearest(event.x, event.y)
        if target is not None and target.point is not None:
            if COMPARE_MODIFIERS & set(event.modifiers):
                self.pick_for_comparison(target)
            else:
                self.photoActivated.emit(int(target.point.photo_id))

    def _on_scroll(self, event: MouseEvent) -> None:
        if event.xdata is None or self.drawn.extent is None:
            return
        center = event.xdata
        if event.inaxes is not None and event.inaxes is not self.score_axes:
            center = self.score_axes.transData.inverted().transform((event.x, event.y))[0]
        self.zoom(ZOOM_PER_WHEEL_STEP ** float(event.step), center)

    def _on_leave(self, _event: LocationEvent) -> None:
        self._hovered = None
        self._show_annotation(None)

    def _show_annotation(self, target: HoverTarget | None, mouse_x: float | None = None) -> None:
        annotation = self._annotation
        if target is None:
            if self.drawn.extent is not None:
                self.status_label.setText(HOVER_HINT)
            if annotation is not None and annotation.get_visible():
                annotation.set_visible(False)
                self.canvas.draw_idle()
            return
        text = _describe(target)
        self.status_label.setText(text.replace("\n", " · "))
        if annotation is None:
            return
        x, y = target.axes.transData.transform((target.x, target.y))
        if target.x_end is not None and mouse_x is not None:  # a bar: point where the mouse is
            right = target.axes.transData.transform((target.x_end, target.y))[0]
            x = min(max(float(mouse_x), x), right)
        annotation.xy = (x, y)
        # Keep the box inside the figure: open it towards the side with more room.
        width, height = self.figure.bbox.width, self.figure.bbox.height
        annotation.set_position((-12 if x > width * 0.6 else 12, -12 if y > height * 0.6 else 12))
        annotation.set_horizontalalignment("right" if x > width * 0.6 else "left")
        annotation.set_verticalalignment("top" if y > height * 0.6 else "bottom")
        annotation.set_text(text)
        annotation.set_visible(True)
        self.canvas.draw_idle()


def _describe(target: HoverTarget) -> str:
    """The hover text of a target: a photo's values, else the target's own text."""
    return describe_point(target.point) if target.point is not None else target.text
