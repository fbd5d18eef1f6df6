"""The photo library: thumbnails newest first, grouped under date headers, filterable by site.

``PhotoListModel`` is a plain list model whose rows are date headers and photos; thumbnails
are loaded lazily, off the GUI thread, the first time a row is painted (``ThumbnailLoader``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QRect,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

THUMB_SIZE = 128
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


@dataclass
class _Row:
    header: str | None = None
    item: LibraryItem | None = None


def date_label(when: datetime | None) -> str:
    """A date header like 'Tuesday 4 March 2025' ('Date unknown' without a date)."""
    if when is None:
        return "Date unknown"
    return f"{when:%A} {when.day} {when:%B %Y}"


class _ThumbSignals(QObject):
    loaded = Signal(int, QImage)


class _ThumbJob(QRunnable):
    def __init__(
        self, photo_id: int, path_of: Callable[[int], Path], signals: _ThumbSignals
    ) -> None:
        super().__init__()
        self.photo_id, self.path_of, self.signals = photo_id, path_of, signals

    def run(self) -> None:  # worker thread: QImage (not QPixmap) is safe here
        try:
            image = QImage(str(self.path_of(self.photo_id)))
        except Exception:  # noqa: BLE001 - a missing thumbnail shows the placeholder
            image = QImage()
        if not image.isNull():
            image = image.scaled(
                THUMB_SIZE,
                THUMB_SIZE,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        self.signals.loaded.emit(self.photo_id, image)


class ThumbnailLoader(QObject):
    """Loads thumbnails on one worker thread; ``loaded(photo_id, QImage)`` on the GUI thread.

    ``path_of(photo_id)`` runs on the worker (e.g. a thread's own ``store.thumbnail``).
    """

    loaded = Signal(int, QImage)

    def __init__(self, path_of: Callable[[int], Path], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._path_of = path_of
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(-1)  # keep the thread (and its store connection)
        self._pending: set[int] = set()
        self._signals = _ThumbSignals()
        self._signals.loaded.connect(self._on_loaded)

    def request(self, photo_id: int) -> None:
        """Load ``photo_id``'s thumbnail unless it is already on its way."""
        if photo_id in self._pending:
            return
        self._pending.add(photo_id)
        self._pool.start(_ThumbJob(photo_id, self._path_of, self._signals))

    def forget(self, photo_id: int) -> None:
        """Allow ``photo_id`` to be requested again (its thumbnail changed)."""
        self._pending.discard(photo_id)

    def wait_idle(self, msecs: int = 5000) -> bool:
        """Wait until queued loads finished (for shutdown and tests)."""
        return self._pool.waitForDone(msecs)

    def _on_loaded(self, photo_id: int, image: QImage) -> None:
        self._pending.discard(photo_id)
        self.loaded.emit(photo_id, image)


class PhotoListModel(QAbstractListModel):
    """Rows: a date header before each day's photos, then the photos, newest first."""

    def __init__(self, loader: ThumbnailLoader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._row_of: dict[int, int] = {}
        self._thumbs: dict[int, QPixmap] = {}
        self._loader = loader
        loader.loaded.connect(self._on_thumbnail)
        self._placeholder = QPixmap(THUMB_SIZE, THUMB_SIZE)
        self._placeholder.fill(QColor("#e4e4e4"))

    def set_items(self, items: Sequence[LibraryItem]) -> None:
        """Replace the photos shown (already filtered, newest first)."""
        self.beginResetModel()
        self._rows, self._row_of = [], {}
        last = object()
        for item in items:
            day = item.taken_at.date() if item.taken_at else None
            if day != last:
                self._rows.append(_Row(header=date_label(item.taken_at)))
                last = day
            self._row_of[item.photo_id] = len(self._rows)
            self._rows.append(_Row(item=item))
        self.endResetModel()

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

    def has_thumbnail(self, photo_id: int) -> bool:
        """True once the photo's thumbnail was loaded."""
        return photo_id in self._thumbs

    # -- Qt model API ------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid() or self._rows[index.row()].header is not None:
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == IsHeaderRole:
            return row.header is not None
        if row.header is not None:
            return row.header if role == Qt.ItemDataRole.DisplayRole else None
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
            when = f"{item.taken_at:%d %b %Y %H:%M}" if item.taken_at else "date unknown"
            state = ["prompt mask"] if item.is_prompt else []
            state.append(
                "analysed (stale)"
                if item.stale
                else "analysed"
                if item.analysed
                else "not analysed"
            )
            return f"{item.site} — {when}\n" + ", ".join(state)
        return None

    def _on_thumbnail(self, photo_id: int, image: QImage) -> None:
        if image.isNull():
            return
        self._thumbs[photo_id] = QPixmap.fromImage(image)
        index = self.index_of(photo_id)
        if index.isValid():
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])


class _LibraryDelegate(QStyledItemDelegate):
    """Draws date headers across the whole width and photos as thumbnails with badges."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:  # noqa: N802
        if index.data(IsHeaderRole):
            return QSize(max(THUMB_SIZE, self._view.viewport().width() - 12), 30)
        return QSize(THUMB_SIZE + 12, THUMB_SIZE + 30)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        rect: QRect = option.rect
        if index.data(IsHeaderRole):
            font = QFont(option.font)
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(
                option.palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText)
            )
            painter.drawText(rect.adjusted(4, 0, 0, -4), Qt.AlignmentFlag.AlignBottom, index.data())
            painter.setPen(QColor("#c8c8c8"))
            painter.drawLine(rect.left() + 4, rect.bottom(), rect.right() - 4, rect.bottom())
            painter.restore()
            return
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, option.palette.highlight())
        pixmap: QPixmap = index.data(Qt.ItemDataRole.DecorationRole)
        x = rect.left() + (rect.width() - pixmap.width()) // 2
        y = rect.top() + 6 + (THUMB_SIZE - pixmap.height()) // 2
        painter.drawPixmap(x, y, pixmap)
        item: LibraryItem = index.data(BadgeRole)
        self._draw_badges(
            painter, QRect(rect.left() + 6, rect.top() + 6, THUMB_SIZE, THUMB_SIZE), item
        )
        text_rect = QRect(rect.left() + 2, rect.top() + THUMB_SIZE + 8, rect.width() - 4, 20)
        selected = option.state & QStyle.StateFlag.State_Selected
        painter.setPen(
            option.palette.highlightedText().color() if selected else option.palette.text().color()
        )
        label = item.site if item.rating is None else f"{item.site} · rated {item.rating}"
        elided = option.fontMetrics.elidedText(
            label, Qt.TextElideMode.ElideRight, text_rect.width()
        )
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, elided
        )
        painter.restore()

    @staticmethod
    def _draw_badges(painter: QPainter, thumb: QRect, item: LibraryItem) -> None:
        badges = []
        if item.is_prompt:
            badges.append(("P", QColor("#2a7de1"), "prompt"))
        if item.analysed:
            badges.append(("A", QColor("#d08a00") if item.stale else QColor("#2e9d4f"), "analysed"))
        x = thumb.right() - 20
        for text, color, _ in badges:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawEllipse(x, thumb.top() + 4, 18, 18)
            painter.setPen(QColor("white"))
            painter.drawText(QRect(x, thumb.top() + 4, 18, 18), Qt.AlignmentFlag.AlignCenter, text)
            x -= 22


class LibraryView(QListView):
    """Thumbnails in icon mode, wrapping; emits ``photoSelected(id)`` for the current photo."""

    photoSelected = Signal(int)  # noqa: N815 - Qt naming
    selectionChangedIds = Signal(list)  # noqa: N815

    def __init__(self, model: PhotoListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(False)
        self.setSpacing(4)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setItemDelegate(_LibraryDelegate(self))
        self.setModel(model)
        self.setAccessibleName("Photo library")
        self.selectionModel().selectionChanged.connect(self._on_selection)
        self.selectionModel().currentChanged.connect(self._on_current)

    def photo_model(self) -> PhotoListModel:
        """The model (typed)."""
        return self.model()  # type: ignore[return-value]

    def selected_photo_ids(self) -> list[int]:
        """Selected photos in display order."""
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        model = self.photo_model()
        return [model.item(model.index(r)).photo_id for r in rows if model.item(model.index(r))]

    def select_photo(self, photo_id: int) -> None:
        """Make ``photo_id`` the current, only selected photo."""
        index = self.photo_model().index_of(photo_id)
        if index.isValid():
            self.setCurrentIndex(index)
            self.scrollTo(index)

    def resizeEvent(self, event) -> None:  # noqa: N802 - headers span the new width
        super().resizeEvent(event)
        self.scheduleDelayedItemsLayout()

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        item = self.photo_model().item(current)
        if item is not None:
            self.photoSelected.emit(item.photo_id)

    def _on_selection(self, *_args) -> None:
        self.selectionChangedIds.emit(self.selected_photo_ids())
