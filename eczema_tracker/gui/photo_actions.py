"""Fixing mistakes from the main window: rate, clear a rating, delete to the bin, restore, move to
another site, rename a site, edit date/site/note, and undo each of these (Ctrl+Z).

Actions work on every photo selected in the library (or the photo shown when none is). Each
change pushes one step on the window's :class:`~eczema_tracker.gui.undo.UndoHistory`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from eczema_tracker.app import services
from eczema_tracker.core.severity_scale import CLASS_NAMES

if TYPE_CHECKING:
    from eczema_tracker.gui.main_window import MainWindow


def _photos(n: int) -> str:
    return f"{n} photo{'s' if n != 1 else ''}"


class PhotoActions(QObject):
    """The window's edit actions (see the module docstring)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    @property
    def store(self):
        return self.window.store

    def target_ids(self) -> list[int]:
        """The photos an action applies to: the library's selection, else the photo shown."""
        ids = self.window.library.selected_photo_ids()
        if not ids and self.window.shown_photo is not None:
            ids = [self.window.shown_photo]
        return ids

    def _after_change(self, *, refresh_all: bool = True) -> None:
        w = self.window
        if refresh_all:
            w.refresh()
        w.reshow_current()

    # -- ratings ------------------------------------------------------------------------------
    def rate_selected(self, level: int | None) -> None:
        """Rate every target photo ``level`` 0-3 (None clears the rating)."""
        ids = self.target_ids()
        if not ids:
            self.window.status("Select a photo to rate it.")
            return
        before = {pid: self.store.rating(pid) for pid in ids}
        for pid in ids:
            self.store.rate(pid, level)
        what = "cleared" if level is None else f"{level} ({CLASS_NAMES[level]})"
        description = f"rating of {_photos(len(ids))}"
        self.window.undo_history.push(description, lambda: self._restore_ratings(before))
        self.window.status(f"Rating {what} for {_photos(len(ids))}. Ctrl+Z undoes it.")
        self._update_items(ids)
        if level is not None:
            self.window.personal.maybe_offer_training()

    def _restore_ratings(self, before: dict[int, int | None]) -> None:
        for pid, rating in before.items():
            if self.store.rating(pid) != rating:
                self.store.rate(pid, rating)
        self._update_items(list(before))

    def _update_items(self, ids: list[int]) -> None:
        w = self.window
        w.reshow_current()
        for pid in ids:
            if w.library_model.index_of(pid).isValid():
                w.library_model.update_item(w.state.item(pid))

    # -- bin ----------------------------------------------------------------------------------
    def delete_selected(self) -> list[int]:
        """Move the target photos to the bin (asks first when prompt photos are among them)."""
        ids = self.target_ids()
        if not ids:
            self.window.status("Select the photos to delete first.")
            return []
        question = self.prompt_warning(ids)
        if question and not self.window.ask_question("Delete prompt photos?", question):
            return []
        moved = self.store.move_to_bin(ids)
        self.window.undo_history.push(
            f"deletion of {_photos(len(moved))}", lambda: self.restore(moved, record=False)
        )
        if self.window.shown_photo in moved:
            self.window.clear_photo()
        self._after_change()
        self.window.status(
            f"{_photos(len(moved))} moved to the bin. Ctrl+Z or File ▸ Bin brings them back."
        )
        return moved

    def prompt_warning(self, ids: list[int]) -> str:
        """What deleting ``ids`` does to the prompts of their sites ("" when none is a prompt)."""
        by_site: dict[str, int] = {}
        for pid in ids:
            photo = self.store.photo(pid)
            if photo.is_prompt:
                by_site[photo.site] = by_site.get(photo.site, 0) + 1
        if not by_site:
            return ""
        lines = []
        for site, n in sorted(by_site.items()):
            left = len(self.store.prompts(site)) - n
            need = (
                f" The app needs {services.MIN_PROMPTS} to analyse '{site}': paint "
                f"{services.MIN_PROMPTS - left} more first."
                if left < services.MIN_PROMPTS
                else ""
            )
            lines.append(
                f"{n} of them {'is a prompt' if n == 1 else 'are prompts'} of '{site}': it will "
                f"have {left} prompt mask{'s' if left != 1 else ''} left, and its results become "
                f"out of date.{need}"
            )
        return (
            "\n".join(lines)
            + "\n\nThe photos go to the bin (File ▸ Bin); restoring them brings their prompt "
            "masks back. Delete them?"
        )

    def restore(self, ids: list[int], *, record: bool = True) -> list[int]:
        """Bring photos back from the bin."""
        restored = self.store.restore_from_bin(ids)
        if record and restored:
            self.window.undo_history.push(
                f"restore of {_photos(len(restored))}", lambda: self.store.move_to_bin(restored)
            )
        self._after_change()
        if restored and self.window.shown_photo is None:
            self.window.open_photo(restored[0])  # back on screen where it was
        self.window.status(f"{_photos(len(restored))} restored from the bin.")
        return restored

    # -- sites, dates, notes -----------------------------------------------------------------
    def move_selected(self) -> None:
        """Move the target photos to another body site (asked)."""
        ids = self.target_ids()
        if not ids:
            self.window.status("Select the photos to move first.")
            return
        current = self.store.photo(ids[0]).site
        site = self.window.ask_move_site(len(ids), current)
        if not site:
            return
        before = {pid: self.store.photo(pid).site for pid in ids}
        for pid in ids:
            self.store.update_photo(pid, site=site)
        self.window.undo_history.push(
            f"move of {_photos(len(ids))}", lambda: self._restore_sites(before)
        )
        self._after_change()
        self.window.status(f"{_photos(len(ids))} moved to '{self.store.photo(ids[0]).site}'.")

    def _restore_sites(self, before: dict[int, str]) -> None:
        for pid, site in before.items():
            self.store.update_photo(pid, site=site)
        self._after_change()

    def rename_site(self, old: str, new: str) -> int:
        """Rename body site ``old`` to ``new`` for every photo of it."""
        ids = [p.id for p in self.store.photos(old)]
        ids += [p.id for p in self.store.binned_photos() if p.site == old]
        moved = self.store.rename_site(old, new)
        self.window.undo_history.push(
            f"renaming of '{old}'", lambda: self._restore_sites(dict.fromkeys(ids, old))
        )
        filtered = self.window.site_filter.currentText() == old
        self._after_change()
        if filtered:  # keep showing the same photos under their new name
            self.window.site_filter.setCurrentText(self.store.photo(ids[0]).site)
        self.window.status(f"'{old}' renamed; {_photos(moved)} moved.")
        return moved

    def rename_site_dialog(self) -> None:
        """Photo ▸ Rename body site…: the site of the photo shown (or of the filter)."""
        w = self.window
        old = w.current_site_filter()
        if old is None and w.shown_photo is not None:
            old = self.store.photo(w.shown_photo).site
        if old is None:
            w.status("Choose a body site in the library filter (or show a photo) first.")
            return
        new = w.ask_rename_site(old)
        if new and new.strip():
            self.rename_site(old, new)

    def edit_shown(self) -> None:
        """Edit the shown photo's date taken, body site and note (asked in a dialog)."""
        w = self.window
        if w.shown_photo is None and self.target_ids():
            w.open_photo(self.target_ids()[0])
        pid = w.shown_photo
        if pid is None or w.photo_view.details is None:
            w.status("Select a photo first.")
            return
        edit = w.ask_photo_edit(w.photo_view.details)
        if edit is None or (edit.taken_at, edit.site, edit.note) == (None, None, None):
            return
        old = self.store.photo(pid)
        self.store.update_photo(pid, taken_at=edit.taken_at, site=edit.site, note=edit.note)

        def undo() -> None:
            self.store.update_photo(
                pid,
                taken_at=old.taken_at if edit.taken_at is not None else None,
                site=old.site if edit.site is not None else None,
                note=old.note if edit.note is not None else None,
            )
            self._after_change()

        w.undo_history.push("edit of the photo", undo)
        self._after_change()
        w.status("Photo changed. Ctrl+Z undoes it.")

    # -- undo ---------------------------------------------------------------------------------
    def undo(self) -> None:
        """Edit ▸ Undo (Ctrl+Z)."""
        try:
            done = self.window.undo_history.undo()
        except (KeyError, ValueError) as exc:
            self.window.show_message(
                "warning", "Nothing undone", f"This could not be undone: {exc}"
            )
            self._after_change()
            return
        self.window.status(f"Undone: {done}." if done else "Nothing to undo.")
