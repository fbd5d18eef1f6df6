"""File ▸ Bin: the photos a person deleted, to restore or to delete for good.

The dialog lists the bin again whenever the store session reports changed photos (a deletion,
a restore, an undo), and empties the bin as a session write.
"""

from __future__ import annotations

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
    QWidget,
)

from eczema_tracker.app import edits
from eczema_tracker.app.changes import StoreChanges
from eczema_tracker.gui.flow_host import Messages
from eczema_tracker.gui.formatting import format_day, format_day_time
from eczema_tracker.gui.photo_actions import PhotoActions
from eczema_tracker.gui.screen_fit import keep_on_screen
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.store.records import parse_iso


class BinDialog(QDialog):
    """Non-modal list of the photos in the bin with Restore and Empty bin."""

    def __init__(
        self,
        session: StoreSession,
        actions: PhotoActions,
        host: Messages,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        keep_on_screen(self)
        self.session = session
        self.photo_actions = actions
        self.host = host
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
        session.changed.connect(self._store_changed)
        self.refresh()

    def _store_changed(self, changes: StoreChanges) -> None:
        if changes.photos:
            self.refresh()

    def refresh(self) -> None:
        """Reload the bin from the store."""
        self.list.clear()
        store = self.session.store
        for photo in store.binned_photos():
            try:
                taken = format_day(photo.taken_datetime)
                if photo.deleted_at is None:
                    raise ValueError("no deletion time")
                deleted = format_day_time(parse_iso(photo.deleted_at))
            except (TypeError, ValueError):
                taken = deleted = "date unknown"
            item = QListWidgetItem(f"{photo.site} — taken {taken}\ndeleted {deleted}")
            item.setData(Qt.ItemDataRole.UserRole, photo.id)
            thumb = store.data_dir / "thumbnails" / photo.sha256[:2]
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
        """Select every photo listed."""
        self.list.selectAll()

    def selected_ids(self) -> list[int]:
        """The photos selected in the list."""
        ids = [i.data(Qt.ItemDataRole.UserRole) for i in self.list.selectedItems()]
        return [int(i) for i in ids if i is not None]

    def restore_selected(self) -> BackgroundTask | None:
        """Bring the selected photos back to the library (the list follows when it is done)."""
        ids = self.selected_ids()
        return self.photo_actions.restore(ids) if ids else None

    def empty_bin(self) -> BackgroundTask | None:
        """Delete everything in the bin for good (asks first), in the background."""
        n = self.count()
        if not n or not self.host.ask_question(
            "Empty the bin?",
            f"Delete the {n} photo{'s' if n != 1 else ''} in the bin with their masks, results "
            "and ratings for good? This cannot be undone.",
        ):
            return None
        self.empty_button.setEnabled(False)

        def done(count: int) -> None:
            self.photo_actions.history.clear()  # an edit may name a photo that is gone
            self.host.status(f"The bin was emptied ({count} photo(s) deleted).")

        return self.session.write(
            edits.empty_bin,
            on_done=done,
            on_failure=self._not_emptied,
        )

    def _not_emptied(self, message: str) -> None:
        self.refresh()
        self.host.show_message("error", "Bin not emptied", message)
