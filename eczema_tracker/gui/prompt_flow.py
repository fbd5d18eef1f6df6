"""Prompt masks from the GUI: paint, correct a result, promote, stop using a photo as a prompt.

Every store access runs through the :class:`~eczema_tracker.gui.store_session.StoreSession`:
the photo and its mask are decoded off the GUI thread before the editor opens, and a mask save
(PNG encoding, two durable commits) is a session write, so the window never waits for it. The
views refresh from the session's ``StoreChanges``; :attr:`PromptFlow.promptsChanged` says which
site's prompts a person changed (the window offers to re-analyse its results). Every mask save
can be undone (Ctrl+Z in the window, once the painter is closed: in the painter Ctrl+Z undoes
strokes), and ``editorClosed`` asks the window to take the keyboard back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from eczema_tracker.app import edits
from eczema_tracker.app.edits import MaskSaved
from eczema_tracker.core import mask_labels
from eczema_tracker.gui.flow_host import Messages
from eczema_tracker.gui.painter.canvas import painting_qimage
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.gui.undo import EditHistory
from eczema_tracker.gui.widgets.mask_colors import PROMPT_MASK_COLOR, RESULT_MASK_COLOR
from eczema_tracker.store import Store

if TYPE_CHECKING:
    from eczema_tracker.gui.painter.editor import MaskEditorDialog

#: The status after a mask save while the painter is open (its Ctrl+Z undoes strokes) ...
SAVED_UNDO_AFTER_CLOSE = (
    "Mask saved. Ctrl+Z in the painter undoes strokes; close the painter, then Ctrl+Z undoes "
    "the save."
)
#: ... and once it is closed (or when the save landed after it closed).
SAVED_UNDO_NOW = "Mask saved. Ctrl+Z undoes the save."

#: Loads the mask to edit from the store (worker thread).
MaskLoader = Callable[[Store], np.ndarray | None]


def _mask_of_prompt(store: Store, photo_id: int) -> np.ndarray | None:
    record = store.prompt(photo_id)
    return None if record is None else store.load_labelled_mask(record.mask)


def _mask_shown(store: Store, photo_id: int) -> np.ndarray | None:
    shown = store.shown_mask(photo_id)
    return None if shown is None else store.load_labelled_mask(shown.mask)


class PromptFlow(QObject):
    """Owns the prompt-mask actions; ``editor`` is the open mask editor."""

    editorOpened = Signal(object)  # noqa: N815 - the MaskEditorDialog, once shown
    editorClosed = Signal()  # noqa: N815 - the editor closed: the window takes the keyboard
    maskStored = Signal(int)  # noqa: N815 - photo id: a mask saved from the editor is stored
    promptsChanged = Signal(str)  # noqa: N815 - a person changed this site's prompts (told
    # once the mask editor closed: the re-analysis question must not come over the painter)

    def __init__(
        self,
        session: StoreSession,
        history: EditHistory,
        host: Messages,
        *,
        parent: QWidget | None = None,
        shown_photo: Callable[[], int | None] = lambda: None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.history = history
        self.host = host
        self._parent = parent
        self._shown_photo = shown_photo
        self.editor: MaskEditorDialog | None = None
        self._editor_open = False
        self._sites_changed: list[str] = []  # prompts changed while the editor is open
        self._saved_while_open = False  # a mask save landed while the editor was open
        self._opening: BackgroundTask | None = None

    def paint_prompt_of_current(self) -> BackgroundTask | None:
        """Open the mask editor on the photo shown; saving makes it a prompt of its site."""
        pid = self._shown_photo()
        if pid is None:
            self.host.status("Select a photo first.")
            return None
        return self.open_mask_editor(
            pid,
            lambda store: _mask_of_prompt(store, pid),
            title="Paint prompt mask",
            save_text="Save as prompt",
        )

    def correct_result_of_current(self) -> BackgroundTask | None:
        """Correct the analysis mask with the painting tools (and use it as a prompt)."""
        pid = self._shown_photo()
        if pid is None:
            return None
        return self.open_mask_editor(
            pid,
            lambda store: _mask_shown(store, pid),
            title="Correct the result mask",
            save_text="Save correction",
            correcting=True,
        )

    def open_mask_editor(
        self,
        photo_id: int,
        load_mask: MaskLoader,
        *,
        title: str,
        save_text: str,
        correcting: bool = False,
    ) -> BackgroundTask:
        """Decode the photo and its mask off the GUI thread (a 12-MP HEIC takes a while), then
        open the editor (non-blocking) and emit ``editorOpened``. Its save callback is
        :meth:`save_in_background`."""

        def load(store: Store) -> tuple[QImage, np.ndarray | None, str]:
            # Decoding and converting a 12-MP photo: here, not on the GUI thread.
            image = painting_qimage(store.load_image(photo_id))
            return image, load_mask(store), store.photo(photo_id).site

        def show(result: tuple[QImage, np.ndarray | None, str]) -> None:
            image, mask, site = result
            self._show_editor(photo_id, image, mask, site, title, save_text, correcting)

        if self._opening is not None and not self._opening.done:
            return self._opening  # a second click while the photo is still being decoded
        self.host.status("Opening the photo for painting…")
        self._opening = self.session.read(load, show, error_title="Mask editor not opened")
        return self._opening

    def _show_editor(
        self,
        photo_id: int,
        image: QImage,
        mask: np.ndarray | None,
        site: str,
        title: str,
        save_text: str,
        correcting: bool,
    ) -> None:
        from eczema_tracker.gui.painter.editor import MaskEditorDialog

        def save(m: np.ndarray) -> None:
            self.save_in_background(
                photo_id, m, correcting=correcting, promote=correcting and dialog.option_checked()
            )

        dialog = MaskEditorDialog(
            image,
            mask,
            save_mask=save,
            title=f"{title} — {site}",
            save_text=save_text,
            parent=self._parent,
            option_text="Also use it as a prompt mask of this body site" if correcting else None,
            option_checked=False,  # a fix of one photo must not quietly change its whole site
            option_note=(
                f"Ticked, the corrected mask also becomes a prompt mask of '{site}': the app "
                f"learns where the eczema is from it, and every analysis of '{site}' is out of "
                "date until it is analysed again."
            ),
            color=RESULT_MASK_COLOR if correcting else PROMPT_MASK_COLOR,
            show_error=lambda _parent, message: self.host.show_message(
                "warning", "Mask not saved", message
            ),
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._editor_finished())
        self.editor = dialog
        self._editor_open = True
        dialog.open()
        self.host.status("")
        self.editorOpened.emit(dialog)

    def _editor_finished(self) -> None:
        self._editor_open = False
        if self._saved_while_open:  # only now is the window's Ctrl+Z the save's undo
            self._saved_while_open = False
            self.host.status(SAVED_UNDO_NOW)
        self.editorClosed.emit()
        sites, self._sites_changed = self._sites_changed, []
        for site in sites:
            self.promptsChanged.emit(site)

    def _prompts_changed(self, site: str) -> None:
        """Say that ``site``'s prompts changed; while the editor is open, once it closes (the
        question it may bring must not come over the painter and take its Escape)."""
        if not self._editor_open:
            self.promptsChanged.emit(site)
        elif site not in self._sites_changed:
            self._sites_changed.append(site)

    def save_in_background(
        self, photo_id: int, mask: np.ndarray, *, correcting: bool, promote: bool
    ) -> BackgroundTask:
        """The editor's save: checked at once (an empty mask raises with a plain message), then
        encoded and written as a session write (a 12-MP mask takes about a second);
        ``maskStored`` once it is in, and an undo step."""
        mask = np.asarray(mask)  # healthy skin, if marked, is kept
        if not mask_labels.lesion_of(mask).any():
            raise ValueError("The mask is empty: paint over the eczema before saving.")

        def done(saved: MaskSaved) -> None:
            what = "mask correction" if saved.analysis_id is not None else "prompt mask save"
            self.history.push(
                what,
                saved,
                undo_op=edits.put_mask_back,
                redo_op=lambda store: edits.save_mask_again(store, saved),
            )
            if self._editor_open:  # its Ctrl+Z undoes strokes, not the save
                self._saved_while_open = True
                self.host.status(SAVED_UNDO_AFTER_CLOSE)
            else:
                self.host.status(SAVED_UNDO_NOW)
            self.maskStored.emit(photo_id)
            if saved.prompt_changed:
                self._prompts_changed(saved.site)

        self.host.status("Saving the mask…")
        return self.session.write(
            lambda store: edits.save_mask(
                store, photo_id, mask, correcting=correcting, promote=promote
            ),
            on_done=done,
            error_title="Mask not saved",
        )

    def unset_prompt_of_current(self) -> BackgroundTask | None:
        """Stop using the photo shown as a prompt."""
        pid = self._shown_photo()
        if pid is None or not self.session.store.photo(pid).is_prompt:
            return None

        def done(saved: MaskSaved) -> None:
            self.history.push(
                "stop using as prompt",
                saved,
                undo_op=edits.put_mask_back,
                redo_op=lambda store: edits.stop_using_as_prompt(store, pid),
            )
            self._prompts_changed(saved.site)

        return self.session.write(
            lambda store: edits.stop_using_as_prompt(store, pid),
            on_done=done,
            error_title="Not changed",
        )
