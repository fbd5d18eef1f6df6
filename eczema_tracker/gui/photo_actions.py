"""Fixing mistakes from the main window: rate, clear a rating, delete to the bin, restore, move to
another site, rename a site, edit date/site/note, and undo each of these (Ctrl+Z).

Actions work on every photo selected in the library (or the photo shown when none is). Each one
is a :meth:`~eczema_tracker.gui.store_session.StoreSession.write`: it runs in the background, in
the order the person asked (20 ratings keyed quickly land in that order, the last one wins), and
the views refresh from the changes its operation (:mod:`eczema_tracker.app.edits`) reports. What
an undo needs (the ratings or sites before) is read inside the write, so it is right even when
several writes were queued. Each change pushes one command on the window's
:class:`~eczema_tracker.gui.undo.EditHistory` (Qt's undo stack); undoing and redoing are writes
too.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from eczema_tracker.app import edits, services
from eczema_tracker.app.changes import OpResult
from eczema_tracker.core.severity_scale import CLASS_NAMES
from eczema_tracker.gui.dialogs.set_date_dialog import SetDateDialog
from eczema_tracker.gui.flow_host import EditHost
from eczema_tracker.gui.formatting import format_day_time
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.gui.undo import EditHistory
from eczema_tracker.store import Store
from eczema_tracker.store.records import PhotoRecord


def _photos(n: int) -> str:
    return f"{n} photo{'s' if n != 1 else ''}"


def _photo_name(photo: PhotoRecord) -> str:
    """Which photo, in words: its site and when it was taken."""
    try:
        when = photo.taken_datetime
    except (ValueError, TypeError):
        when = None
    return f"the '{photo.site}' photo of {format_day_time(when)}"


class PhotoActions(QObject):
    """The window's edit actions (see the module docstring)."""

    rated = Signal(object)  # noqa: N815 - the level (int, or None when cleared), once stored
    #: photo ids and level as soon as a rating is keyed (0-3), before it is stored: the window
    #: moves on to the next unrated photo (a click on the photo view's buttons stays)
    ratingKeyed = Signal(list, object)  # noqa: N815

    def __init__(
        self,
        session: StoreSession,
        history: EditHistory,
        host: EditHost,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.history = history
        self.host = host
        self._ratings_waiting: set[int] = set()
        session.idle.connect(self._ratings_waiting.clear)  # every rating stored and shown

    @property
    def ratings_waiting(self) -> frozenset[int]:
        """Photos whose new rating is asked for but not stored and shown yet."""
        return frozenset(self._ratings_waiting)

    @property
    def store(self) -> Store:
        """The store open now (for quick reads on the GUI thread)."""
        return self.session.store

    def target_ids(self) -> list[int]:
        """The photos an action applies to: the library's selection, else the photo shown."""
        return self.host.target_photo_ids()

    # -- ratings ------------------------------------------------------------------------------
    def rate_selected(self, level: int | None, *, keyed: bool = False) -> BackgroundTask | None:
        """Rate every target photo ``level`` 0-3 (None clears the rating); ``keyed``: by the
        keys 0-3 (:attr:`ratingKeyed` is emitted)."""
        ids = self.target_ids()
        if not ids:
            self.host.status("Select a photo to rate it.")
            return None

        def done(result: tuple[dict[int, int | None], PhotoRecord]) -> None:
            _before, first = result
            what = "cleared" if level is None else f"{level} ({CLASS_NAMES[level]})"
            self.history.push(
                f"rating of {_photos(len(ids))}",
                result,
                undo_op=lambda store, rated: edits.put_ratings_back(store, rated[0]),
                redo_op=lambda store: edits.rate_photos(store, ids, level),
            )
            which = _photos(len(ids)) if len(ids) > 1 else _photo_name(first)
            self.host.status(f"Rating {what} for {which}. Ctrl+Z undoes it.")
            self.rated.emit(level)

        task = self.session.write(lambda store: edits.rate_photos(store, ids, level), on_done=done)
        self._ratings_waiting.update(ids)
        if keyed:
            self.ratingKeyed.emit(ids, level)
        return task

    # -- bin ----------------------------------------------------------------------------------
    def delete_selected(self) -> BackgroundTask | None:
        """Move the target photos to the bin (asks first when prompt photos are among them)."""
        ids = self.target_ids()
        if not ids:
            self.host.status("Select the photos to delete first.")
            return None
        question = self.prompt_warning(ids)
        if question and not self.host.ask_question("Delete prompt photos?", question):
            return None
        if self.host.shown_photo in ids:
            self.host.clear_photo()  # at once: it is going to the bin

        def done(moved: list[int]) -> None:
            self.history.push(
                f"deletion of {_photos(len(moved))}",
                moved,
                undo_op=edits.restore_from_bin,
                redo_op=lambda store: edits.move_to_bin(store, moved),
                undone=lambda: self._back_on_screen(moved),
            )
            self.host.status(
                f"{_photos(len(moved))} moved to the bin. Ctrl+Z or File ▸ Bin brings them back."
            )

        return self.session.write(
            lambda store: edits.move_to_bin(store, ids),
            on_done=done,
            error_title="Not deleted",
        )

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
            after = services.SiteReadiness(site, left)  # the site once these are deleted
            need = (
                ""
                if after.ready
                else f" The app needs {after.needed} to analyse '{site}': paint "
                f"{after.missing} more first."
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

    def restore(self, ids: list[int]) -> BackgroundTask:
        """Bring photos back from the bin (the one shown before comes back on screen)."""

        def done(restored: list[int]) -> None:
            if restored:
                self.history.push(
                    f"restore of {_photos(len(restored))}",
                    restored,
                    undo_op=edits.move_to_bin,
                    redo_op=lambda store: edits.restore_from_bin(store, restored),
                    redone=lambda: self._back_on_screen(restored),
                )
            self._back_on_screen(restored)
            self.host.status(f"{_photos(len(restored))} restored from the bin.")

        return self.session.write(
            lambda store: edits.restore_from_bin(store, ids),
            on_done=done,
            error_title="Not restored",
        )

    def _back_on_screen(self, restored: list[int]) -> None:
        if restored and self.host.shown_photo is None:
            self.host.open_photo(restored[0])  # back on screen where it was

    # -- sites, dates, notes -----------------------------------------------------------------
    def move_selected(self) -> BackgroundTask | None:
        """Move the target photos to another body site (asked)."""
        ids = self.target_ids()
        if not ids:
            self.host.status("Select the photos to move first.")
            return None
        current = self.store.photo(ids[0]).site
        site = self.host.ask_move_site(len(ids), current)
        if not site:
            return None

        def done(result: tuple[dict[int, str], str]) -> None:
            _before, moved_to = result
            self.history.push(
                f"move of {_photos(len(ids))}",
                result,
                undo_op=lambda store, moved: edits.put_sites_back(store, moved[0]),
                redo_op=lambda store: edits.move_photos(store, ids, site),
            )
            self.host.status(f"{_photos(len(ids))} moved to '{moved_to}'.")

        return self.session.write(lambda store: edits.move_photos(store, ids, site), on_done=done)

    def rename_site(self, old: str, new: str) -> BackgroundTask:
        """Rename body site ``old`` to ``new`` for every photo of it."""
        filtered = self.host.current_site_filter() == old

        def done(result: tuple[list[int], int, str]) -> None:
            ids, moved, renamed = result
            self.history.push(
                f"renaming of '{old}'",
                result,
                undo_op=lambda store, renaming: edits.put_sites_back(
                    store, dict.fromkeys(renaming[0], old)
                ),
                redo_op=lambda store: edits.rename_site(store, old, new),
            )
            if filtered:  # keep showing the same photos under their new name
                self.host.show_site(renamed)
            self.host.status(f"'{old}' renamed; {_photos(moved)} moved.")

        return self.session.write(lambda store: edits.rename_site(store, old, new), on_done=done)

    def rename_site_dialog(self) -> None:
        """Photo ▸ Rename body site…: the site of the photo shown (or of the filter)."""
        old = self.host.current_site_filter()
        shown = self.host.shown_photo
        if old is None and shown is not None:
            old = self.store.photo(shown).site
        if old is None:
            self.host.status("Choose a body site in the library filter (or show a photo) first.")
            return
        new = self.host.ask_rename_site(old)
        if new and new.strip():
            self.rename_site(old, new)

    def edit_shown(self) -> BackgroundTask | None:
        """Edit the shown photo's date taken, body site and note (asked in a dialog)."""
        host = self.host
        if host.shown_photo is None and self.target_ids():
            host.open_photo(self.target_ids()[0])
        pid, details = host.shown_photo, host.shown_details()
        if pid is None or details is None:
            host.status("Select a photo first.")
            return None
        edit = host.ask_photo_edit(details)
        if edit is None or (edit.taken_at, edit.site, edit.note) == (None, None, None):
            return None

        def op(store: Store) -> OpResult[PhotoRecord]:
            return edits.edit_photo(
                store, pid, taken_at=edit.taken_at, site=edit.site, note=edit.note
            )

        def put_back(store: Store, old: PhotoRecord) -> OpResult[None]:
            return edits.put_photo_back(
                store,
                old,
                taken_at=edit.taken_at is not None,
                site=edit.site is not None,
                note=edit.note is not None,
            )

        def done(old: PhotoRecord) -> None:
            host.status("Photo changed. Ctrl+Z undoes it.")
            self.history.push("edit of the photo", old, undo_op=put_back, redo_op=op)

        return self.session.write(op, on_done=done)

    def ask_one_date(self, ids: list[int]) -> SetDateDialog:
        """Ask one day for ``ids`` (photos whose dates were guessed) and set it when saved."""
        parent = self.parent()
        dialog = SetDateDialog(len(ids), parent if isinstance(parent, QWidget) else None)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.set_one_date(ids, dialog.day()))
        dialog.open()
        return dialog

    def set_one_date(self, ids: list[int], day: date) -> BackgroundTask:
        """Give the photos ``ids`` the date ``day``, each keeping its time of day (so they stay
        in the order their files had); the dates are then the person's, no longer guessed."""

        def done(before: list[PhotoRecord]) -> None:
            self.host.status(f"{_photos(len(ids))} dated {day.day} {day:%b %Y}. Ctrl+Z undoes it.")
            self.history.push(
                "setting one date",
                before,
                undo_op=edits.put_dates_back,
                redo_op=lambda store: edits.set_one_date(store, ids, day),
            )

        return self.session.write(lambda store: edits.set_one_date(store, ids, day), on_done=done)

    # -- undo ---------------------------------------------------------------------------------
    def undo(self) -> None:
        """Edit ▸ Undo (Ctrl+Z): queue the newest edit's undo (a write; a refusal is told)."""
        self.history.undo()

    def redo(self) -> None:
        """Edit ▸ Redo (Ctrl+Shift+Z, Ctrl+Y): make the edit undone last again."""
        self.history.redo()
