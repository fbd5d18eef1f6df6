"""The photo in the photo view: its facts at once, its pixels and masks decoded off the GUI thread.

The facts (site, date, rating, area, grade) are quick indexed queries, read on the GUI thread so
the view answers a click at once (on a worker too while a write runs: the write may hold the
store). Decoding the photo (a 12-MP JPEG or HEIC), decoding its masks
and tinting their overlays run as :meth:`~eczema_tracker.gui.store_session.StoreSession.read`
calls; each result names the photo and the masks it is of, and one that arrives for a photo no
longer shown (or for masks replaced meanwhile) is dropped. The photo is reduced to the size it
is drawn at (:func:`~eczema_tracker.gui.widgets.image_overlay.display_image`) on the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from eczema_tracker.gui.library_state import LibraryState
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.gui.widgets.image_overlay import DISPLAY_MAX_SIDE, display_image
from eczema_tracker.gui.widgets.photo_view import PhotoDetails, PhotoView
from eczema_tracker.store import Store

T = TypeVar("T")
#: Never decode for the view below this (a window enlarged later still looks sharp enough).
MIN_DISPLAY_SIDE = 1024


class ShownPhoto(QObject):
    """Keeps the photo view showing one photo, fresh from the store."""

    #: The photo view shows this photo with its pixels (decoded off the GUI thread).
    shown = Signal(int)

    def __init__(
        self,
        session: StoreSession,
        state: LibraryState,
        view: PhotoView,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.state = state
        self.view = view
        self._parent = parent
        self.photo_id: int | None = None
        self._request = 0  # bumped by every show/refresh: older results are dropped
        self._reads: set[BackgroundTask] = set()

    @property
    def reading(self) -> bool:
        """True while a decode for the view is still running."""
        return bool(self._reads)

    def clear(self) -> None:
        """Show no photo (it was deleted, or the filter hides it)."""
        self.photo_id = None
        self._request += 1
        self.view.set_details(None)

    def show(self, photo_id: int) -> None:
        """Show a photo's facts now, and its pixels and masks once decoded."""
        current = self.view.details
        if photo_id == self.photo_id and current is not None and current.image is not None:
            self.refresh()  # the same photo (e.g. reselected after a refresh): keep its pixels
            self.shown.emit(photo_id)
            return
        self.photo_id = photo_id
        self._request += 1
        if self.session.busy:
            # A write may hold the store a while (a 12-MP mask is encoded under its lock): the
            # facts are read on a worker too, and shown unless another photo was asked for.
            self._read(
                lambda _store: self.state.details(photo_id, load_masks=False),
                lambda details: self._show_facts(details) if photo_id == self.photo_id else None,
                "Photo not shown",
            )
        else:
            self._show_facts(self.state.details(photo_id, load_masks=False))

    def _show_facts(self, details: PhotoDetails) -> None:
        """Show ``details`` (no pixels yet) and decode its photo and masks off the GUI thread."""
        photo_id = details.photo_id
        self.view.set_details(details)
        state, side = self.state, self._display_side()

        def load(store: Store) -> tuple[QImage, PhotoDetails]:
            # PNG decoding and tinting of full-size masks, into a copy: the shown details
            # belong to the GUI thread.
            loaded = state.load_masks(replace(details), side)
            return display_image(store.load_image(photo_id), side), loaded

        def loaded(result: tuple[QImage, PhotoDetails]) -> None:
            image, with_masks = result
            shown = self.view.details
            if photo_id != self.photo_id or shown is None or shown.photo_id != photo_id:
                return  # another photo is shown now: this result is stale
            if shown.mask_key() == with_masks.mask_key():  # else newer masks are on their way
                shown.take_masks_from(with_masks)
            self.view.set_image(image)
            self.shown.emit(photo_id)

        self._read(load, loaded, "Photo not shown")

    def refresh(self) -> None:
        """Read the facts of the photo shown again (after a rating, a mask, an analysis);
        masks that changed are decoded again off the GUI thread."""
        if self.photo_id is None:
            return
        old = self.view.details
        try:
            details = self.state.details(self.photo_id, load_masks=False)
        except KeyError:  # the photo was deleted for good
            self.clear()
            return
        if old is not None and old.photo_id == details.photo_id:
            details.image = old.image
            if old.mask_key() == details.mask_key():
                details.take_masks_from(old)
            elif details.mask_key() != (None, None):
                self._load_masks(details)
        self.view.set_details(details)

    def _load_masks(self, details: PhotoDetails) -> None:
        self._request += 1
        request, state, side = self._request, self.state, self._display_side()
        wanted = replace(details)

        def shown(loaded: PhotoDetails) -> None:
            current = self.view.details
            if request != self._request or current is None:
                return  # a newer refresh or another photo: this result is stale
            if current.photo_id == loaded.photo_id and current.mask_key() == loaded.mask_key():
                current.take_masks_from(loaded)
                self.view.set_image(current.image)  # redraws the overlays

        self._read(lambda _store: state.load_masks(wanted, side), shown, "Mask not shown")

    def _display_side(self) -> int:
        """The longest side worth decoding for the view now (its size in device pixels, within
        :data:`DISPLAY_MAX_SIDE`): painting a larger photo scaled down costs the GUI thread
        time at every repaint."""
        area = self.view.image_view
        pixels = max(area.width(), area.height()) * area.devicePixelRatioF()
        return int(min(DISPLAY_MAX_SIDE, max(MIN_DISPLAY_SIDE, pixels)))

    def _read(self, op: Callable[[Store], T], on_done: Callable[[T], None], title: str) -> None:
        task = self.session.read(op, on_done, error_title=title)
        self._reads.add(task)
        task.finished.connect(lambda: self._reads.discard(task))
