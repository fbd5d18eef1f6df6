"""TimelineView: one body site's predicted severity, self-ratings and lesion area over time.

A matplotlib figure embedded in Qt. The score axis (0-3) carries shaded bands for the four
severity classes; self-ratings share it with a different marker; lesion area (% of the photo)
has its own axis on the right. Hovering a point shows its date and values, clicking it emits
``photoActivated(photo_id)``, and the figure exports to PNG, PDF or SVG (saying where).
The date axis shows a range (4 weeks, 3 months, 12 months or all; by default the last 3 months
with photos, so a long gap does not squeeze the rest into a line); the wheel zooms it around
the mouse, dragging pans it, a double-click goes back to the chosen range. The plotted score and
class follow :func:`eczema_tracker.core.severity_scale.shown_grade` (an empty mask is not graded).
The widget takes plain point objects (the store's ``TimelinePoint`` fits) and never reads the
store itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backend_bases import LocationEvent, MouseEvent
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
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

from eczema_tracker.core.atomic import atomic_path
from eczema_tracker.core.severity_scale import CLASS_NAMES
from eczema_tracker.gui.widgets.timeline_points import (
    TimelinePointLike,
    describe_point,
    plotted_grade,
    to_local_naive,
)

#: Score range of each class band: a score is the expected class, so class k is k ± 0.5.
CLASS_BANDS = ((-0.25, 0.5), (0.5, 1.5), (1.5, 2.5), (2.5, 3.25))
BAND_COLORS = ("#4caf50", "#ffc107", "#ff7043", "#c62828")
BAND_LABEL_COLORS = ("#2e7d32", "#9a7400", "#d84315", "#b71c1c")  # darker: legible as text
SCORE_COLOR = "#1f4e99"
RATING_COLOR = "#8e24aa"
AREA_COLOR = "#00897b"
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


@dataclass(frozen=True)
class _Target:
    """A drawn marker the mouse can hover or click."""

    axes: Axes
    x: float  # matplotlib date number
    y: float
    point: TimelinePointLike


def ask_export_path_with_dialog(parent: QWidget, suggested: str) -> str | None:
    """Ask where to export with a QFileDialog; None when cancelled."""
    path, chosen_filter = QFileDialog.getSaveFileName(
        parent, "Export timeline", suggested, "PNG image (*.png);;PDF document (*.pdf)"
    )
    if not path:
        return None
    if Path(path).suffix.lower() not in EXPORT_FORMATS:
        path += ".pdf" if "pdf" in chosen_filter.lower() else ".png"
    return path


class TimelineView(QWidget):
    """Plot of one site's timeline with hover details, click-to-open and export."""

    #: The user clicked a point: open this photo.
    photoActivated = Signal(int)

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
        self._targets: list[_Target] = []
        self._hovered: _Target | None = None
        self._range = DEFAULT_RANGE
        self._drag: tuple[float, tuple[float, float]] | None = None  # press x (px), xlim
        self._dragged = False
        self.last_export: Path | None = None

        self.figure = Figure(figsize=(8, 4.5), dpi=100, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumSize(420, 260)
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

        bottom = QHBoxLayout()
        bottom.setContentsMargins(6, 0, 6, 4)
        bottom.addWidget(self.range_choice)
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(bottom)

        self.score_axes: Axes = self.figure.add_subplot()
        self.area_axes: Axes | None = None
        self._annotation = None
        self.set_points([], "")

    # ------------------------------------------------------------ public API
    def points(self) -> list[TimelinePointLike]:
        return list(self._points)

    def site(self) -> str:
        return self._site

    def set_points(self, points: Sequence[TimelinePointLike], site: str) -> None:
        """Show ``points`` (any order) of body site ``site``."""
        self._points = sorted(points, key=lambda p: (to_local_naive(p.taken_at), p.photo_id))
        self._site = site
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
        if self.area_axes is not None or self.score_axes.lines:
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

    def export(self, path: str | os.PathLike[str]) -> Path:
        """Write the figure to ``path`` (.png, .pdf or .svg) atomically; returns the path."""
        target = Path(path)
        fmt = EXPORT_FORMATS.get(target.suffix.lower())
        if fmt is None:
            raise ValueError(
                f"cannot export to '{target.name}': use a .png, .pdf or .svg file name"
            )
        self._show_annotation(None)
        with atomic_path(target) as temp:
            self.figure.savefig(temp, format=fmt, dpi=150)
        return target

    def export_with_dialog(self) -> Path | None:
        """Ask for a file name and export there; failures are shown, not raised."""
        suggested = f"eczema-timeline-{self._site or 'all'}.png".replace(" ", "-")
        path = self._ask_export_path(self, suggested)
        if not path:
            return None
        try:
            saved = self.export(path)
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self, "Export failed", f"The timeline could not be saved: {exc}")
            return None
        self.last_export = saved
        self.status_label.setText(f"Chart saved to {saved}")
        self.status_label.setToolTip(str(saved))
        return saved

    def hover_text(self) -> str:
        """Text of the point under the mouse ('' when none)."""
        return describe_point(self._hovered.point) if self._hovered else ""

    def target_at(self, x: float, y: float) -> TimelinePointLike | None:
        """The point drawn nearest to display position (x, y) (matplotlib pixels), if close."""
        target = self._nearest(x, y)
        return target.point if target else None

    def display_position(self, point: TimelinePointLike) -> tuple[float, float] | None:
        """Display position (matplotlib pixels) of ``point``'s first drawn marker."""
        for target in self._targets:
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

    # ------------------------------------------------------------ drawing
    def _draw(self) -> None:
        self.figure.clear()
        self._targets = []
        ax = self.score_axes = self.figure.add_subplot()
        self.area_axes = None
        title = f"Eczema timeline — {self._site}" if self._site else "Eczema timeline"
        ax.set_title(title, loc="left", fontsize=11)
        dates = [mdates.date2num(to_local_naive(p.taken_at)) for p in self._points]
        has_values = any(
            p.score is not None or p.rating is not None or p.lesion_area_fraction is not None
            for p in self._points
        )
        if not has_values:
            self._draw_empty(ax)
            return
        self._draw_bands(ax)
        self._draw_scores(ax, dates)
        self._draw_ratings(ax, dates)
        self.area_axes = self._draw_areas(ax, dates)
        self._format_dates(ax, dates)
        handles, labels = [], []
        for axes in (ax, self.area_axes):
            if axes is not None:
                more_handles, more_labels = axes.get_legend_handles_labels()
                handles += more_handles
                labels += more_labels
        if handles:
            self.figure.legend(handles, labels, loc="outside lower center", ncols=len(handles),
                               fontsize=9, frameon=False)  # fmt: skip
        self._annotation = ax.annotate(
            "", xy=(0, 0), xycoords="figure pixels", xytext=(12, 12),
            textcoords="offset points", fontsize=9, zorder=10, visible=False,
            bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": "0.5", "alpha": 0.95},
        )  # fmt: skip
        self.status_label.setText("Hover a point for details; click it to open the photo.")
        self.canvas.draw_idle()

    def _draw_empty(self, ax: Axes) -> None:
        ax.set_axis_off()
        where = f"“{self._site}”" if self._site else "this body site"
        if self._points:
            message = (f"{len(self._points)} photo(s) of {where}, none analysed yet.\n"
                       "Analyse them to see how the eczema changes over time.")  # fmt: skip
        else:
            message = (f"No photos of {where} yet.\n"
                       "Import photos and analyse them to see how the eczema changes over time.")  # fmt: skip
        ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center",
                fontsize=11, color="0.35", wrap=True)  # fmt: skip
        self._annotation = None
        self.status_label.setText("")
        self.canvas.draw_idle()

    def _draw_bands(self, ax: Axes) -> None:
        for (low, high), color in zip(CLASS_BANDS, BAND_COLORS, strict=True):
            ax.axhspan(low, high, color=color, alpha=0.13, lw=0, zorder=0)
        ax.set_ylim(CLASS_BANDS[0][0], CLASS_BANDS[-1][1])
        ax.set_yticks(
            range(len(CLASS_NAMES)), [f"{name} ({i})" for i, name in enumerate(CLASS_NAMES)]
        )
        for label, color in zip(ax.get_yticklabels(), BAND_LABEL_COLORS, strict=True):
            label.set_color(color)
        ax.set_ylabel("Severity score (0–3)")
        ax.grid(axis="x", color="0.9", lw=0.8)

    def _draw_scores(self, ax: Axes, dates: list[float]) -> None:
        scored = [
            (d, p, grade.score)
            for d, p in zip(dates, self._points, strict=True)
            if (grade := plotted_grade(p)) is not None
        ]
        if not scored:
            return
        ax.plot([d for d, _, _ in scored], [y for _, _, y in scored], "-", color=SCORE_COLOR,
                lw=1.4, alpha=0.7, zorder=3)  # fmt: skip
        fresh = [(d, y) for d, p, y in scored if not p.stale]
        stale = [(d, y) for d, p, y in scored if p.stale]
        if fresh:
            ax.plot([d for d, _ in fresh], [y for _, y in fresh], "o", color=SCORE_COLOR,
                    ms=6, zorder=4, label="Predicted score", gid="score")  # fmt: skip
        if stale:
            ax.plot([d for d, _ in stale], [y for _, y in stale], "o", mfc="white",
                    mec=SCORE_COLOR, alpha=0.55, ms=6, zorder=4,
                    label="Predicted (out of date)", gid="score-stale")  # fmt: skip
        self._targets += [_Target(ax, d, float(y), p) for d, p, y in scored]

    def _draw_ratings(self, ax: Axes, dates: list[float]) -> None:
        rated = [(d, p) for d, p in zip(dates, self._points, strict=True) if p.rating is not None]
        if not rated:
            return
        ax.plot([d for d, _ in rated], [p.rating for _, p in rated], "D", mfc="none",
                mec=RATING_COLOR, mew=1.6, ms=8, zorder=5, label="Your rating",
                gid="rating")  # fmt: skip
        self._targets += [_Target(ax, d, float(p.rating), p) for d, p in rated]

    def _draw_areas(self, ax: Axes, dates: list[float]) -> Axes | None:
        measured = [
            (d, p) for d, p in zip(dates, self._points, strict=True)
            if p.lesion_area_fraction is not None
        ]  # fmt: skip
        if not measured:
            return None
        area_ax = ax.twinx()
        percent = [100 * p.lesion_area_fraction for _, p in measured]
        area_ax.plot([d for d, _ in measured], percent, "--", color=AREA_COLOR, lw=1.1,
                     alpha=0.7, zorder=2)  # fmt: skip
        fresh = [(d, pc) for (d, p), pc in zip(measured, percent, strict=True) if not p.stale]
        stale = [(d, pc) for (d, p), pc in zip(measured, percent, strict=True) if p.stale]
        if fresh:
            area_ax.plot([d for d, _ in fresh], [pc for _, pc in fresh], "s", color=AREA_COLOR,
                         ms=5, zorder=3, label="Lesion area (%)", gid="area")  # fmt: skip
        if stale:
            area_ax.plot([d for d, _ in stale], [pc for _, pc in stale], "s", mfc="white",
                         mec=AREA_COLOR, alpha=0.55, ms=5, zorder=3,
                         label="Area (out of date)", gid="area-stale")  # fmt: skip
        area_ax.set_ylim(0, max(5.0, max(percent) * 1.15))
        area_ax.set_ylabel("Lesion area (% of photo)", color=AREA_COLOR)
        area_ax.tick_params(axis="y", colors=AREA_COLOR)
        self._targets += [
            _Target(area_ax, d, pc, p) for (d, p), pc in zip(measured, percent, strict=True)
        ]
        return area_ax

    def _format_dates(self, ax: Axes, dates: list[float]) -> None:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        self._dates = dates
        self._apply_range()

    def _apply_range(self) -> None:
        """Set the date axis to the chosen range, ending at the newest photo."""
        dates = getattr(self, "_dates", [])
        if not dates:
            return
        low, high = min(dates), max(dates)
        days = RANGES[self._range][1]
        if days is not None and high - low > days:
            low = high - days
        pad = max((high - low) * 0.04, 1.0)  # at least a day either side
        self.score_axes.set_xlim(low - pad, high + pad)

    # ------------------------------------------------------------ mouse
    def _nearest(self, x: float, y: float) -> _Target | None:
        if not self._targets:
            return None
        best, best_distance = None, HIT_RADIUS_PX * self.canvas.device_pixel_ratio
        for axes in {id(t.axes): t.axes for t in self._targets}.values():
            group = [t for t in self._targets if t.axes is axes]
            screen = axes.transData.transform([(t.x, t.y) for t in group])  # n x 2 pixels
            distances = np.hypot(screen[:, 0] - x, screen[:, 1] - y)
            index = int(np.argmin(distances))
            if distances[index] <= best_distance:
                best, best_distance = group[index], float(distances[index])
        return best

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
        self._show_annotation(target)
        self.canvas.setCursor(
            Qt.CursorShape.PointingHandCursor if target else Qt.CursorShape.ArrowCursor
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
        if target is not None:
            self.photoActivated.emit(int(target.point.photo_id))

    def _on_scroll(self, event: MouseEvent) -> None:
        if event.xdata is None or not self._targets:
            return
        center = event.xdata
        if event.inaxes is not None and event.inaxes is not self.score_axes:
            center = self.score_axes.transData.inverted().transform((event.x, event.y))[0]
        self.zoom(ZOOM_PER_WHEEL_STEP ** float(event.step), center)

    def _on_leave(self, _event: LocationEvent) -> None:
        self._hovered = None
        self._show_annotation(None)

    def _show_annotation(self, target: _Target | None) -> None:
        annotation = self._annotation
        if target is None:
            if self._points:
                self.status_label.setText("Hover a point for details; click it to open the photo.")
            if annotation is not None and annotation.get_visible():
                annotation.set_visible(False)
                self.canvas.draw_idle()
            return
        text = describe_point(target.point)
        self.status_label.setText(text.replace("\n", " · "))
        if annotation is None:
            return
        x, y = target.axes.transData.transform((target.x, target.y))
        annotation.xy = (x, y)
        # Keep the box inside the figure: open it towards the side with more room.
        width, height = self.figure.bbox.width, self.figure.bbox.height
        annotation.set_position((-12 if x > width * 0.6 else 12, -12 if y > height * 0.6 else 12))
        annotation.set_horizontalalignment("right" if x > width * 0.6 else "left")
        annotation.set_verticalalignment("top" if y > height * 0.6 else "bottom")
        annotation.set_text(text)
        annotation.set_visible(True)
        self.canvas.draw_idle()
