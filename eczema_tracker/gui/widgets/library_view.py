"""The photo library: one continuous grid of thumbnails, newest first, grouped by month.

``PhotoListModel`` is a plain list model whose rows are month headers and photos. A header is as
wide as the grid, so it stands on a row of its own and its month's photos start at the left edge
of the next row (one ``QListView`` in icon mode: the layout stays Qt's, fast for thousands of
photos; the arrow keys step over the headers). Thumbnails are
loaded lazily, off the GUI thread, the first time a row is painted (``ThumbnailLoader``).
Badges (prompt, analysed, out of date, unlike your examples, rating; drawn by
:mod:`.result_badges`) are explained in tooltips and in a legend under
the grid, next to a thumbnail-size slider (Ctrl+wheel does the same; the size is remembered).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QPainter,
    QPalette,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QSlider,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from eczema_tracker.core import paths
from eczema_tracker.core.atomic import atomic_write_text
from eczema_tracker.gui.formatting import GUESSED_DATE_MARK, GUESSED_DATE_NOTE, format_day_time
from eczema_tracker.gui.widgets.result_badges import (
    BADGES,
    draw_badges,
    legend_html,
)
from eczema_tracker.gui.widgets.thumbnail_loader import LOADED_THUMB, ThumbnailLoader

log = logging.getLogger(__name__)

#: Default thumbnail edge in pixels, and the range the slider and Ctrl+wheel allow.
THUMB_SIZE = 96
MIN_THUMB, MAX_THUMB, THUMB_STEP = 64, 256, 16
#: A month header's height beyond one line of text.
HEADER_PADDING = 10
PhotoIdRole = Qt.ItemDataRole.UserRole + 1
IsHeaderRole = Qt.ItemDataRole.UserRole + 2
BadgeRole = Qt.ItemDataRole.UserRole + 3


@dataclass
class LibraryItem:
    """One photo as the library shows it."""

    photo_id: int
    taken_at: datetime | None
    site: str
    is_prompt: bool = False
    analysed: bool = False
    stale: bool = False
    rating: int | None = None
    #: its result looks unlike the site's example photos (``app.familiarity_text``)
    unfamiliar: bool = False
    #: its date is the file's modification time, not a camera date
    date_guessed: bool = False


@dataclass
class _Row:
    header: str | None = None
    item: LibraryItem | None = None


def date_label(when: datetime | None) -> str:
    """A month header like 'March 2025' ('Date unknown' without a date)."""
    if when is None:
        return "Date unknown"
    return f"{when:%B %Y}"


def month_key(when: datetime | None) -> tuple[int, int] | None:
    """(year, month) a photo is grouped under."""
    return None if when is None else (when.year, when.month)


def badges_of(item: LibraryItem) -> list[str]:
    """Keys of :data:`BADGES` drawn on ``item``'s thumbnail (rating excluded)."""
    keys = ["prompt"] if item.is_prompt else []
    if item.analysed:
        keys.append("stale" if item.stale else "analysed")
        if item.unfamiliar:
            keys.append("unfamiliar")
    return keys


def photo_tooltip(item: LibraryItem) -> str:
    """Date, site and every badge in words."""
    when = format_day_time(item.taken_at)
    if item.date_guessed:
        when = f"{GUESSED_DATE_MARK} {when} ({GUESSED_DATE_NOTE})"
    lines = [when, item.site]
    lines += [BADGES[key][2][:1].upper() + BADGES[key][2][1:] for key in badges_of(item)]
    if not item.analysed:
        lines.append("Not analysed yet")
    if item.rating is not None:
        lines.append(f"Your rating: {item.rating}")
    return "\n".join(lines)


class PhotoListModel(QAbstractListModel):
    """Rows: a month header before each month's photos, then the photos, newest first."""

    def __init__(self, loader: ThumbnailLoader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._row_of: dict[int, int] = {}
        self._thumbs: dict[int, QPixmap] = {}
        self._loader = loader
        loader.loaded.connect(self._on_thumbnail)
        self._placeholder = QPixmap(LOADED_THUMB, LOADED_THUMB)
        self._placeholder.fill(QColor("#e4e4e4"))
        self._header_counts: dict[int, int] = {}

    def set_items(self, items: Sequence[LibraryItem]) -> None:
        """Replace the photos shown (already filtered, newest first)."""
        self.beginResetModel()
        self._rows, self._row_of, self._header_counts = [], {}, {}
        last: object = object()
        header_row = -1
        for item in items:
            month = month_key(item.taken_at)
            if month != last:
                header_row = len(self._rows)
                self._rows.append(_Row(header=date_label(item.taken_at)))
                self._header_counts[header_row] = 0
                last = month
            self._header_counts[header_row] += 1
            self._row_of[item.photo_id] = len(self._rows)
            self._rows.append(_Row(item=item))
        self.endResetModel()

    def headers(self) -> list[str]:
        """The month headers in display order."""
        return [r.header for r in self._rows if r.header is not None]

    def photo_ids(self) -> list[int]:
        """Photo ids in display order."""
        return [r.item.photo_id for r in self._rows if r.item is not None]

    def index_of(self, photo_id: int) -> QModelIndex:
        """The model index of a photo (invalid when not shown)."""
        row = self._row_of.get(photo_id)
        return self.index(row) if row is not None else QModelIndex()

    def item(self, index: QModelIndex) -> LibraryItem | None:
        """The photo at ``index`` (None for a header)."""
        return self._rows[index.row()].item if index.isValid() else None

    def update_item(self, item: LibraryItem) -> None:
        """Redraw one photo with new facts (rating, prompt, analysis) without a reset."""
        row = self._row_of.get(item.photo_id)
        if row is not None:
            self._rows[row].item = item
            index = self.index(row)
            self.dataChanged.emit(index, index)

    def invalidate_thumbnail(self, photo_id: int) -> None:
        """Reload a photo's thumbnail next time it is painted."""
        self._thumbs.pop(photo_id, None)
        self._loader.forget(photo_id)
        index = self.index_of(photo_id)
        if index.isValid():
            self.dataChanged.emit(index, index)

    def next_unrated(self, after: int, skip: frozenset[int] = frozenset()) -> int | None:
        """The first photo after ``after`` in display order without a rating (wrapping round
        to the top; photos in ``skip`` count as rated), or None when there is none."""
        start = self._row_of.get(after)
        if start is None:
            return None
        rows = self._rows[start + 1 :] + self._rows[:start]
        for row in rows:
            item = row.item
            if item is not None and item.rating is None and item.photo_id not in skip:
                return item.photo_id
        return None

    def has_thumbnail(self, photo_id: int) -> bool:
        """True once the photo's thumbnail was loaded."""
        return photo_id in self._thumbs

    # -- Qt model API ------------------------------------------------------------------------
    def rowCount(  # noqa: N802
        self,
        parent: QModelIndex | QPersistentModelIndex = QModelIndex(),  # noqa: B008
    ) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid() or self._rows[index.row()].header is not None:
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == IsHeaderRole:
            return row.header is not None
        if row.header is not None:
            if role == Qt.ItemDataRole.DisplayRole:
                return row.header
            if role == Qt.ItemDataRole.ToolTipRole:
                n = self._header_counts.get(index.row(), 0)
                return f"{row.header}: {n} photo{'s' if n != 1 else ''}"
            return None
        item = row.item
        assert item is not None
        if role == Qt.ItemDataRole.DisplayRole:
            return item.site
        if role == PhotoIdRole:
            return item.photo_id
        if role == BadgeRole:
            return item
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self._thumbs.get(item.photo_id)
            if pixmap is None:
                self._loader.request(item.photo_id)
                return self._placeholder
            return pixmap
        if role == Qt.ItemDataRole.ToolTipRole:
            return photo_tooltip(item)
        return None

    def _on_thumbnail(self, photo_id: int, image: QImage) -> None:
        if image.isNull():
            return
        self._thumbs[photo_id] = QPixmap.fromImage(image)
        index = self.index_of(photo_id)
        if index.isValid():
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class _LibraryDelegate(QStyledItemDelegate):
    """Draws month headers as rows across the grid and photos as thumbnails with badges."""

    def __init__(self, view: LibraryView) -> None:
        super().__init__(view)
        self._view = view

    def sizeHint(  # noqa: N802
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        size = self._view.thumbnail_size()
        if index.data(IsHeaderRole):
            return QSize(self._view.month_row_width(), option.fontMetrics.height() + HEADER_PADDING)
        return QSize(size + 8, size + 24)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect: QRect = option.rect
        size = self._view.thumbnail_size()
        if index.data(IsHeaderRole):
            self._paint_header(painter, option, rect, str(index.data()))
            painter.restore()
            return
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, option.palette.highlight())
        pixmap: QPixmap = index.data(Qt.ItemDataRole.DecorationRole)
        thumb = QRect(rect.left() + 4, rect.top() + 4, size, size)
        scaled = pixmap.size().scaled(thumb.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(0, 0, scaled.width(), scaled.height())
        target.moveCenter(thumb.center())
        painter.drawPixmap(target, pixmap)
        item: LibraryItem = index.data(BadgeRole)
        draw_badges(painter, thumb, badges_of(item), item.rating)
        text_rect = QRect(rect.left() + 2, thumb.bottom() + 3, rect.width() - 4, 18)
        selected = option.state & QStyle.StateFlag.State_Selected
        painter.setPen(
            option.palette.highlightedText().color() if selected else option.palette.text().color()
        )
        day = f"{item.taken_at:%a} {item.taken_at.day}" if item.taken_at else "no date"
        if item.date_guessed:
            day = f"{GUESSED_DATE_MARK} {day}"
        label = day if self._view.single_site else f"{day} · {item.site}"
        elided = option.fontMetrics.elidedText(
            label, Qt.TextElideMode.ElideRight, text_rect.width()
        )
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, elided
        )
        painter.restore()

    @staticmethod
    def _paint_header(
        painter: QPainter, option: QStyleOptionViewItem, rect: QRect, text: str
    ) -> None:
        font = QFont(option.font)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(
            option.palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText)
        )
        body = rect.adjusted(4, 0, -4, 0)
        painter.drawText(body, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        # a rule from the month's name to the right edge: the row is the month's, not a photo's
        after = QFontMetrics(font).horizontalAdvance(text) + 10
        if after < body.width():
            painter.setPen(QColor("#c3c9d1"))
            y = body.center().y()
            painter.drawLine(body.left() + after, y, body.right(), y)


def _layout_file() -> Path:
    return paths.config_dir() / "library_view.json"


def load_thumbnail_size() -> int:
    """The thumbnail size chosen last time (the default when none or unreadable)."""
    try:
        size = int(json.loads(_layout_file().read_text(encoding="utf-8"))["thumbnail_size"])
    except (OSError, ValueError, KeyError, TypeError):
        return THUMB_SIZE
    return max(MIN_THUMB, min(MAX_THUMB, size))


def save_thumbnail_size(size: int) -> None:
    """Remember the thumbnail size (a failure is logged, never shown)."""
    try:
        paths.ensure_private_dir(_layout_file().parent)
        atomic_write_text(_layout_file(), json.dumps({"thumbnail_size": int(size)}), sync=False)
    except OSError:
        log.warning("could not remember the thumbnail size", exc_info=True)


class LibraryFooter(QWidget):
    """Under the grid: the badge legend and the thumbnail-size slider."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.legend = QLabel(f"{legend_html()} {GUESSED_DATE_MARK}&nbsp;{GUESSED_DATE_NOTE}")
        self.legend.setWordWrap(True)
        small = self.legend.font()
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1.5))
        self.legend.setFont(small)
        self.legend.setToolTip("\n".join(f"{v[0]}: {v[2]}" for v in BADGES.values()))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(MIN_THUMB, MAX_THUMB)
        self.slider.setSingleStep(THUMB_STEP)
        self.slider.setPageStep(THUMB_STEP * 2)
        self.slider.setFixedWidth(70)
        self.slider.setToolTip("Thumbnail size (or Ctrl+wheel over the photos)")
        self.slider.setAccessibleName("Thumbnail size")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.legend, 1)
        layout.addWidget(self.slider)


class LibraryView(QListView):
    """Thumbnails in one wrapping grid; ``photoSelected(id)`` for the current photo and
    ``selectionChangedIds(ids)`` when the (multi-)selection changes."""

    photoSelected = Signal(int)  # noqa: N815 - Qt naming
    selectionChangedIds = Signal(list)  # noqa: N815
    thumbnailSizeChanged = Signal(int)  # noqa: N815

    def __init__(self, model: PhotoListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._thumb = load_thumbnail_size()
        self.single_site = False
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(False)
        self.setSpacing(2)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setItemDelegate(_LibraryDelegate(self))
        self._photo_model = model
        self.setModel(model)
        self.setAccessibleName("Photo library")
        self.footer = LibraryFooter(self)
        self.footer.slider.setValue(self._thumb)
        self.footer.slider.valueChanged.connect(self.set_thumbnail_size)
        self.selectionModel().selectionChanged.connect(self._on_selection)
        self.selectionModel().currentChanged.connect(self._on_current)
        model.modelReset.connect(self._note_sites)

    def thumbnail_size(self) -> int:
        """The edge of the thumbnails in pixels."""
        return self._thumb

    def set_thumbnail_size(self, size: int) -> None:
        """Draw thumbnails ``size`` pixels wide (clamped), and remember it."""
        size = max(MIN_THUMB, min(MAX_THUMB, int(size)))
        if size == self._thumb:
            return
        self._thumb = size
        self.footer.slider.blockSignals(True)
        self.footer.slider.setValue(size)
        self.footer.slider.blockSignals(False)
        self.scheduleDelayedItemsLayout()
        self.viewport().update()
        save_thumbnail_size(size)
        self.thumbnailSizeChanged.emit(size)

    def month_row_width(self) -> int:
        """How wide a month header is drawn: nearly the width the grid lays rows out in, so no
        photo fits beside it (Qt lays out as if a vertical scroll bar were there; a few pixels
        are left over so that a header alone never spills onto a row of its own)."""
        bar = self.style().pixelMetric(
            QStyle.PixelMetric.PM_ScrollBarExtent, None, self.verticalScrollBar()
        )
        grid = self.maximumViewportSize().width() - bar
        return max(1, grid - 3 * self.spacing() - 8)

    def moveCursor(  # noqa: N802 - the arrow keys step over month headers
        self,
        cursorAction: QAbstractItemView.CursorAction,  # noqa: N803 - Qt's name
        modifiers: Qt.KeyboardModifier,
    ) -> QModelIndex:
        current = self.currentIndex()
        target = super().moveCursor(cursorAction, modifiers)
        if not target.isValid() or not target.data(IsHeaderRole):
            return target
        forward = not current.isValid() or target.row() > current.row()
        photo = self._nearest_photo_beyond(target.row(), forward, current)
        return photo if photo is not None else current

    def _nearest_photo_beyond(
        self, header_row: int, forward: bool, current: QModelIndex
    ) -> QModelIndex | None:
        """The photo in the row of thumbnails just after (``forward``) or just before a header,
        closest to the current photo's column."""
        model = self.photo_model()
        step = 1 if forward else -1
        first = header_row + step
        if not 0 <= first < model.rowCount() or model.index(first).data(IsHeaderRole):
            return None
        line_top = self.visualRect(model.index(first)).top()
        x = self.visualRect(current).center().x() if current.isValid() else 0
        best: QModelIndex | None = None
        row = first
        while 0 <= row < model.rowCount():
            index = model.index(row)
            if index.data(IsHeaderRole) or self.visualRect(index).top() != line_top:
                break
            if best is None or abs(self.visualRect(index).center().x() - x) < abs(
                self.visualRect(best).center().x() - x
            ):
                best = index
            row += step
        return best

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Ctrl+wheel: size
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            if steps:
                self.set_thumbnail_size(self._thumb + round(steps * THUMB_STEP) or THUMB_STEP)
            event.accept()
            return
        super().wheelEvent(event)

    def _note_sites(self) -> None:
        model = self.photo_model()
        items = (model.item(model.index(r)) for r in range(model.rowCount()))
        sites = {item.site for item in items if item is not None}
        self.single_site = len(sites) <= 1

    def photo_model(self) -> PhotoListModel:
        """The model (typed)."""
        return self._photo_model

    def selected_photo_ids(self) -> list[int]:
        """Selected photos in display order."""
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        model = self.photo_model()
        items = (model.item(model.index(r)) for r in rows)
        return [item.photo_id for item in items if item is not None]

    def select_photo(self, photo_id: int) -> None:
        """Make ``photo_id`` the current, only selected photo."""
        index = self.photo_model().index_of(photo_id)
        if index.isValid():
            self.setCurrentIndex(index)
            self.scrollTo(index)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        # the footer sits under the grid
        width = self.contentsRect().width()
        height = max(self.footer.heightForWidth(width), self.footer.minimumSizeHint().height())
        if self.viewportMargins().bottom() != height:
            self.setViewportMargins(0, 0, 0, height)
        super().resizeEvent(event)
        port = self.viewport().geometry()
        self.footer.setGeometry(port.left(), port.bottom() + 1, port.width(), height)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        item = self.photo_model().item(current)
        if item is not None:
            self.photoSelected.emit(item.photo_id)

    def _on_selection(self, *_args: object) -> None:
        self.selectionChangedIds.emit(self.selected_photo_ids())
