"""Prompt masks from the GUI: paint, correct a result, promote, stop using a photo as a prompt.

Every change to a site's prompts refreshes the window and offers to re-analyse the site's
results that became stale. Every mask save can be undone (Ctrl+Z in the main window), and the
keyboard focus goes back to the main window when the editor closes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, Qt, Signal

from eczema_tracker.gui.tasks import BackgroundTask

if TYPE_CHECKING:
    from eczema_tracker.gui.dialogs.mask_editor import MaskEditorDialog
    from eczema_tracker.gui.main_window import MainWindow


class PromptFlow(QObject):
    """Owns the prompt-mask actions of the main window; ``editor`` is the open mask editor."""

    editorOpened = Signal(object)  # noqa: N815 - the MaskEditorDialog, once shown
    maskStored = Signal(int)  # noqa: N815 - photo id: a mask saved from the editor is stored

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.editor: MaskEditorDialog | None = None
        self._opening: BackgroundTask | None = None

    def paint_prompt_of_current(self) -> BackgroundTask | None:
        """Open the mask editor on the photo shown; saving makes it a prompt of its site."""
        pid = self.window.shown_photo
        if pid is None:
            self.window.status("Select a photo first.")
            return None
        return self.open_mask_editor(
            pid,
            lambda: self.window.state.prompt_mask(pid),
            title="Paint prompt mask",
            save_text="Save as prompt",
        )

    def correct_result_of_current(self) -> BackgroundTask | None:
        """Correct the analysis mask with the painting tools (and use it as a prompt)."""
        pid = self.window.shown_photo
        if pid is None:
            return None
        return self.open_mask_editor(
            pid,
            lambda: self.window.state.result_mask(pid),
            title="Correct the result mask",
            save_text="Save correction",
            correcting=True,
        )

    def open_mask_editor(
        self,
        photo_id: int,
        load_mask: Callable[[], np.ndarray | None],
        *,
        title: str,
        save_text: str,
        correcting: bool = False,
    ) -> BackgroundTask:
        """Decode the photo and its mask off the GUI thread (a 12-MP HEIC takes a while), then
        open the editor (non-blocking) and emit ``editorOpened``. Its save callback is
        :meth:`save_prompt_mask` (or :meth:`save_corrected_mask` when ``correcting``)."""

        def load(_progress, _cancel):  # worker thread: store reads only (the store is thread-safe)
            return self.window.store.load_image(photo_id), load_mask()

        def show(result: tuple[Image.Image, np.ndarray | None]) -> None:
            image, mask = result
            self._show_editor(photo_id, image, mask, title, save_text, correcting)

        if self._opening is not None and not self._opening.done:
            return self._opening  # a second click while the photo is still being decoded
        self.window.status("Opening the photo for painting…")
        self._opening = BackgroundTask(self.window, load, show).titled("Mask editor not opened")
        return self._opening.run()

    def _show_editor(
        self,
        photo_id: int,
        image: Image.Image,
        mask: np.ndarray | None,
        title: str,
        save_text: str,
        correcting: bool,
    ) -> None:
        from eczema_tracker.gui.dialogs.mask_editor import MaskEditorDialog

        site = self.window.store.photo(photo_id).site

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
            parent=self.window,
            option_text="Also use it as a prompt mask of this body site" if correcting else None,
            option_checked=True,
            show_error=lambda _parent, message: self.window.show_message(
                "warning", "Mask not saved", message
            ),
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self._give_focus_back)
        self.editor = dialog
        dialog.open()
        self.window.status("")
        self.editorOpened.emit(dialog)

    def _give_focus_back(self, _result: int = 0) -> None:
        """The editor closed: the main window gets the keyboard again (keys 0-3, Delete...)."""
        w = self.window
        w.raise_()
        w.activateWindow()
        (w.library if w.library.isVisible() else w.photo_view).setFocus(
            Qt.FocusReason.ActiveWindowFocusReason
        )

    def _remember_prompt(self, photo_id: int) -> Callable[[], None]:
        """An undo of the next prompt change of ``photo_id``: back to its current prompt mask,
        or no prompt at all."""
        store = self.window.store
        before = store.prompt(photo_id)

        def undo() -> None:
            if before is None:
                store.unset_prompt(photo_id)
            else:
                store.set_prompt_mask_id(photo_id, before.mask.id)
            self.after_prompts_changed(store.photo(photo_id).site, offer=False)

        return undo

    def save_prompt_mask(self, photo_id: int, mask: np.ndarray) -> None:
        """Store ``mask`` as the photo's prompt mask now (raises with a plain message if
        empty). The editor saves through :meth:`save_in_background` instead."""
        write, finish = self._mask_save(photo_id, mask, correcting=False, promote=True)
        write()
        finish()

    def save_corrected_mask(self, photo_id: int, mask: np.ndarray, *, promote: bool = True) -> None:
        """Keep a corrected result mask now (the original stays); with ``promote`` it also
        becomes the photo's prompt mask."""
        write, finish = self._mask_save(photo_id, mask, correcting=True, promote=promote)
        write()
        finish()

    def save_in_background(
        self, photo_id: int, mask: np.ndarray, *, correcting: bool, promote: bool
    ) -> BackgroundTask:
        """The editor's save: checked at once (an empty mask raises), then encoded and written
        off the GUI thread (a 12-MP mask takes about a second); ``maskStored`` when in."""
        write, finish = self._mask_save(photo_id, mask, correcting=correcting, promote=promote)

        def done(_result: object) -> None:
            finish()
            self.maskStored.emit(photo_id)

        self.window.status("Saving the mask…")
        return (
            BackgroundTask(self.window, lambda _p, _c: write(), done).titled("Mask not saved").run()
        )

    def _mask_save(
        self, photo_id: int, mask: np.ndarray, *, correcting: bool, promote: bool
    ) -> tuple[Callable[[], None], Callable[[], None]]:
        """``(write, finish)`` of a mask save: ``write`` touches only the store (any thread),
        ``finish`` records the undo step and refreshes the window (GUI thread)."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            raise ValueError("The mask is empty: paint over the eczema before saving.")
        store = self.window.store
        analysis = store.current_analysis(photo_id) if correcting else None
        site = store.photo(photo_id).site
        if analysis is None:  # a prompt mask (or a correction of nothing: the same)
            undo = self._remember_prompt(photo_id)

            def write() -> None:
                store.set_prompt_mask(photo_id, mask)

            def finish() -> None:
                self.window.undo_history.push("prompt mask save", undo)
                self.after_prompts_changed(site)

            return write, finish
        undo_prompt = self._remember_prompt(photo_id) if promote else None
        previous = analysis.corrected_mask.id if analysis.corrected_mask is not None else None

        def write_correction() -> None:
            store.save_corrected_mask(analysis.id, mask)
            if promote:
                store.promote_to_prompt(photo_id, analysis.id)

        def undo_correction() -> None:
            store.set_corrected_mask(analysis.id, previous)
            if undo_prompt is not None:
                undo_prompt()
            else:
                self.window.refresh()
                self.window.reshow_current()

        def finish_correction() -> None:
            self.window.undo_history.push("mask correction", undo_correction)
            if promote:
                self.after_prompts_changed(site)
            else:
                self.window.refresh()
                self.window.reshow_current()

        return write_correction, finish_correction

    def unset_prompt_of_current(self) -> None:
        """Stop using the photo shown as a prompt."""
        pid = self.window.shown_photo
        if pid is None or not self.window.store.photo(pid).is_prompt:
            return
        undo = self._remember_prompt(pid)
        self.window.store.unset_prompt(pid)
        self.window.undo_history.push("stop using as prompt", undo)
        self.after_prompts_changed(self.window.store.photo(pid).site)

    def after_prompts_changed(self, site: str, *, offer: bool = True) -> None:
        """Refresh and (with ``offer``) offer to re-analyse the site's results that became
        stale."""
        self.window.refresh()
        self.window.reshow_current()
        if offer:
            self.window.analysis.offer_reanalysis(site)
