"""Fixing mistakes from the main window: rate, clear a rating, delete to the bin, restore, move to
another site, rename a site, edit date/site/note, and undo each of these (Ctrl+Z).

Actions work on every photo selected in the library (or the photo shown when none is). Each one
is a :meth:`~eczema_tracker.gui.store_session.StoreSession.write`: it runs in the background, in
the order the person asked (20 ratings keyed quickly land in that order, the last one wins), and
the views refresh from the ``StoreChanges`` it reports. What an undo needs (the ratings or sites
before) is read inside the write, so it is right even when several writes were queued. Each
change pushes one step on the :class:`~eczema_tracker.gui.undo.UndoHistory`; undoing is a write
too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from eczema_tracker.app import services
from eczema_tracker.app.changes import StoreChanges
from eczema_tracker.core.severity_scale import CLASS_NAMES
from eczema_tracker.gui.dialogs.set_date_dialog import SetDateDialog
from eczema_tracker.gui.flow_host import EditHost
from eczema_tracker.gui.formatting import format_day_time
from eczema_tracker.gui.store_session import StoreSession
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.gui.undo import UndoHistory
from eczema_tracker.store import Store
from eczema_tracker.store.records import PhotoRecord

T = TypeVar("T")


def _photos(n: int) -> str:
    return f"{n} photo{'s' if n != 1 else ''}"


def _photo_name(photo: PhotoRecord) -> str:
    """Which photo, in words: its site and when it was taken."""
    try:
        when = photo.taken_datetime
    except (ValueError, TypeError):
        when = None
    return f"the '{photo.site}' photo of {format_day_time(when)}"


def _ids(ids: list[int]) -> frozenset[int]:
    return frozenset(ids)


class PhotoActions(QObject):
    """The window's edit actions (see the module docstring)."""

    rated = Signal(object)  # noqa: N815 - the level (int, or None when cleared), once stored
    #: photo ids and level as soon as a rating is keyed (0-3), before it is stored: the window
    #: moves on to the next unrated photo (a click on the photo view's buttons stays)
    ratingKeyed = Signal(list, object)  # noqa: N815

    def __init__(
        self,
        session: StoreSession,
        undo_history: UndoHistory,
        host: EditHost,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.undo_history = undo_history
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

    def _undoable(
        self, op: Callable[[Store], T], changes: StoreChanges, then: Callable[[T], None] | None
    ) -> None:
        """Queue an undo write; a refusal by the store is said in words."""
        self.session.write(op, changes, on_done=then, on_failure=self._undo_failed)

    def _undo_failed(self, message: str) -> None:
        self.host.show_message("warning", "Nothing undone", f"This could not be undone: {message}")

    # -- ratings ------------------------------------------------------------------------------
    def rate_selected(self, level: int | None, *, keyed: bool = False) -> BackgroundTask | None:
        """Rate every target photo ``level`` 0-3 (None clears the rating); ``keyed``: by the
        keys 0-3 (:attr:`ratingKeyed` is emitted)."""
        ids = self.target_ids()
        if not ids:
            self.host.status("Select a photo to rate it.")
            return None

        def op(store: Store) -> tuple[dict[int, int | None], PhotoRecord]:
            before = {pid: store.rating(pid) for pid in ids}
            for pid in ids:
                store.rate(pid, level)
            return before, store.photo(ids[0])

        def done(result: tuple[dict[int, int | None], PhotoRecord]) -> None:
            before, first = result
            what = "cleared" if level is None else f"{level} ({CLASS_NAMES[level]})"
            self.undo_history.push(
                f"rating of {_photos(len(ids))}", lambda: self._restore_ratings(before)
            )
            which = _photos(len(ids)) if len(ids) > 1 else _photo_name(first)
            self.host.status(f"Rating {what} for {which}. Ctrl+Z undoes it.")
            self.rated.emit(level)

        task = self.session.write(op, StoreChanges(ratings=True, photo_ids=_ids(ids)), on_done=done)
        self._ratings_waiting.update(ids)
        if keyed:
            self.ratingKeyed.emit(ids, level)
        return task

    def _restore_ratings(self, before: dict[int, int | None]) -> None:
        def op(store: Store) -> None:
            for pid, rating in before.items():
                if store.rating(pid) != rating:
                    store.rate(pid, rating)

        self._undoable(op, StoreChanges(ratings=True, photo_ids=_ids(list(before))), None)

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
            self.undo_history.push(
                f"deletion of {_photos(len(moved))}", lambda: self.restore(moved, record=False)
            )
            self.host.status(
                f"{_photos(len(moved))} moved to the bin. Ctrl+Z or File ▸ Bin brings them back."
            )

        return self.session.write(
            lambda store: store.move_to_bin(ids),
            StoreChanges(photos=True, prompts=bool(question), photo_ids=_ids(ids)),
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

    def restore(self, ids: list[int], *, record: bool = True) -> BackgroundTask:
        """Bring photos back from the bin (the one shown before comes back on screen)."""

        def done(restored: list[int]) -> None:
            if record and restored:
                self.undo_history.push(
                    f"restore of {_photos(len(restored))}",
                    lambda: self._undoable(
                        lambda store: store.move_to_bin(restored),
                        StoreChanges(photos=True, prompts=True, photo_ids=_ids(restored)),
                        None,
                    ),
                )
            if restored and self.host.shown_photo is None:
                self.host.open_photo(restored[0])  # back on screen where it was
            self.host.status(f"{_photos(len(restored))} restored from the bin.")

        return self.session.write(
            lambda store: store.restore_from_bin(ids),
            StoreChanges(photos=True, prompts=True, photo_ids=_ids(ids)),
            on_done=done,
            on_failure=None if record else self._undo_failed,
            error_title="Not restored",
        )

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

        def op(store: Store) -> tuple[dict[int, str], str]:
            before = {pid: store.photo(pid).site for pid in ids}
            for pid in ids:
                store.update_photo(pid, site=site)
            return before, store.photo(ids[0]).site

        def done(result: tuple[dict[int, str], str]) -> None:
            before, moved_to = result
            self.undo_history.push(
                f"move of {_photos(len(ids))}", lambda: self._restore_sites(before)
            )
            self.host.status(f"{_photos(len(ids))} moved to '{moved_to}'.")

        return self.session.write(
            op, StoreChanges(photos=True, prompts=True, photo_ids=_ids(ids)), on_done=done
        )

    def _restore_sites(self, before: dict[int, str]) -> None:
        def op(store: Store) -> None:
            for pid, site in before.items():
                store.update_photo(pid, site=site)

        self._undoable(
            op, StoreChanges(photos=True, prompts=True, photo_ids=_ids(list(before))), None
        )

    def rename_site(self, old: str, new: str) -> BackgroundTask:
        """Rename body site ``old`` to ``new`` for every photo of it."""
        filtered = self.host.current_site_filter() == old

        def op(store: Store) -> tuple[list[int], int, str]:
            ids = [p.id for p in store.photos(old)]
            ids += [p.id for p in store.binned_photos() if p.site == old]
            moved = store.rename_site(old, new)
            return ids, moved, store.photo(ids[0]).site if ids else new

        def done(result: tuple[list[int], int, str]) -> None:
            ids, moved, renamed = result
            self.undo_history.push(
                f"renaming of '{old}'", lambda: self._restore_sites(dict.fromkeys(ids, old))
            )
            if filtered:  # keep showing the same photos under their new name
                self.host.show_site(renamed)
            self.host.status(f"'{old}' renamed; {_photos(moved)} moved.")

        return self.session.write(op, StoreChanges(photos=True, prompts=True), on_done=done)

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
        changes = StoreChanges(
            photos=True, prompts=edit.site is not None, photo_ids=frozenset({pid})
        )

        def op(store: Store) -> PhotoRecord:
            old = store.photo(pid)
            store.update_photo(pid, taken_at=edit.taken_at, site=edit.site, note=edit.note)
            return old

        def undo_op(old: PhotoRecord) -> Callable[[Store], None]:
            def put_back(store: Store) -> None:
                taken: datetime | str | None = old.taken_at if edit.taken_at is not None else None
                store.update_photo(
                    pid,
                    taken_at=taken,
                    taken_at_source=old.taken_at_source,
                    site=old.site if edit.site is not None else None,
                    note=old.note if edit.note is not None else None,
                )

            return put_back

        def done(old: PhotoRecord) -> None:
            host.status("Photo changed. Ctrl+Z undoes it.")
            self.undo_history.push(
                "edit of the photo", lambda: self._undoable(undo_op(old), changes, None)
            )

        return self.session.write(op, changes, on_done=done)

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
        changes = StoreChanges(photos=True, photo_ids=_ids(ids))

        def op(store: Store) -> list[PhotoRecord]:
            before = [store.photo(pid) for pid in ids]
            for old in before:
                when = old.taken_datetime.replace(year=day.year, month=day.month, day=day.day)
                store.update_photo(old.id, taken_at=when)
            return before

        def put_back(before: list[PhotoRecord]) -> Callable[[Store], None]:
            def op(store: Store) -> None:
                for old in before:
                    store.update_photo(
                        old.id, taken_at=old.taken_at, taken_at_source=old.taken_at_source
                    )

            return op

        def done(before: list[PhotoRecord]) -> None:
            self.host.status(f"{_photos(len(ids))} dated {day.day} {day:%b %Y}. Ctrl+Z undoes it.")
            self.undo_history.push(
                "setting one date", lambda: self._undoable(put_back(before), changes, None)
            )

        return self.session.write(op, changes, on_done=done)

    # -- undo ---------------------------------------------------------------------------------
    def undo(self) -> None:
        """Edit ▸ Undo (Ctrl+Z): queue the newest step's undo (a write; a refusal is told)."""
        try:
            done = self.undo_history.undo()
        except (KeyError, ValueError) as exc:
            self._undo_failed(str(exc))
            return
        self.host.status(f"Undone: {done}." if done else "Nothing to undo.")
