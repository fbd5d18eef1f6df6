"""ThumbnailLoader: the library's thumbnails read and scaled on one worker thread."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage

#: Thumbnails are decoded at this size once and drawn at the chosen size.
LOADED_THUMB = 256


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
                LOADED_THUMB,
                LOADED_THUMB,
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
