"""File ▸ Bin: the photos a person deleted, to restore or to delete for good."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from eczema_tracker.gui.formatting import format_day, format_day_time
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.store.records import parse_iso

if TYPE_CHECKING:
    from eczema_tracker.gui.main_window import MainWindow


class BinDialog(QDialog):
    """Non-modal list of the photos in the bin with Restore and Empty bin."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.setWindowTitle("Bin")
        self.resize(560, 420)
        self.explanation = QLabel(
            "Deleted photos wait here with their masks, results and ratings until you empty "
            "the bin. Restore brings them back to the library."
        )
        self.explanation.setWordWrap(True)
        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setIconSize(QSize(64, 64))
        self.restore_button = QPushButton("Restore selected")
        self.restore_button.clicked.connect(self.restore_selected)
        self.empty_button = QPushButton("Empty bin…")
        self.empty_button.setToolTip("Delete the photos in the bin and their files for good")
        self.empty_button.clicked.connect(self.empty_bin)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.restore_button)
        buttons.addStretch(1)
        buttons.addWidget(self.empty_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explanation)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        """Reload the bin from the store."""
        self.list.clear()
        for photo in self.window.store.binned_photos():
            try:
                taken = format_day(photo.taken_datetime)
                deleted = format_day_time(parse_iso(photo.deleted_at))
            except (TypeError, ValueError):
                taken = deleted = "date unknown"
            item = QListWidgetItem(f"{photo.site} — taken {taken}\ndeleted {deleted}")
            item.setData(Qt.ItemDataRole.UserRole, photo.id)
            thumb = self.window.store.data_dir / "thumbnails" / photo.sha256[:2]
            path = thumb / f"{photo.sha256}.jpg"
            if path.is_file():
                item.setIcon(QIcon(str(path)))
            self.list.addItem(item)
        has = self.count() > 0
        self.restore_button.setEnabled(has)
        self.empty_button.setEnabled(has)
        if not has:
            self.list.addItem(QListWidgetItem("The bin is empty."))
            self.list.item(0).setFlags(Qt.ItemFlag.NoItemFlags)

    def count(self) -> int:
        """Photos listed."""
        return sum(
            1
            for i in range(self.list.count())
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) is not None
        )

    def select_all(self) -> None:
        self.list.selectAll()

    def selected_ids(self) -> list[int]:
        ids = [i.data(Qt.ItemDataRole.UserRole) for i in self.list.selectedItems()]
        return [int(i) for i in ids if i is not None]

    def restore_selected(self) -> None:
        """Bring the selected photos back to the library."""
        ids = self.selected_ids()
        if ids:
            self.window.photo_actions.restore(ids)
        self.refresh()

    def empty_bin(self) -> BackgroundTask | None:
        """Delete everything in the bin for good (asks first), in the background."""
        n = self.count()
        if not n or not self.window.ask_question(
            "Empty the bin?",
            f"Delete the {n} photo{'s' if n != 1 else ''} in the bin with their masks, results "
            "and ratings for good? This cannot be undone.",
        ):
            return None
        store = self.window.store
        self.empty_button.setEnabled(False)

        def done(count: int) -> None:
            self.window.undo_history.clear()  # a step may name a photo that is gone
            self.refresh()
            self.window.status(f"The bin was emptied ({count} photo(s) deleted).")

        return (
            BackgroundTask(self.window, lambda _p, _c: store.empty_bin(), done)
            .titled("Bin not emptied")
            .run()
        )
