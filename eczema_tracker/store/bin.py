"""The bin: photos a person deleted, restorable until the bin is emptied.

Moving a photo to the bin only stamps ``photo.deleted_at``: its file, masks, analyses and ratings
stay, and it disappears from :meth:`~eczema_tracker.store.Store.photos`, the timeline, the sites
and the prompts. Binning or restoring a prompt photo changes its site's prompt set (the site's
results become out of date). Emptying the bin removes rows and files for good.
"""

from __future__ import annotations

from collections.abc import Iterable

from eczema_tracker.store.records import PhotoRecord, now_iso


class BinMixin:
    """Bin methods of the Store (see the module docstring)."""

    def move_to_bin(self, photo_ids: Iterable[int]) -> list[int]:
        """Move photos to the bin (one transaction); returns the ids that were moved."""
        return self._set_binned(photo_ids, now_iso())

    def restore_from_bin(self, photo_ids: Iterable[int]) -> list[int]:
        """Bring photos back from the bin; returns the ids that were restored."""
        return self._set_binned(photo_ids, None)

    def _set_binned(self, photo_ids: Iterable[int], when: str | None) -> list[int]:
        ids = [int(i) for i in photo_ids]
        changed: list[int] = []
        with self._write() as conn:
            for pid in ids:
                photo = self._photo_row(pid)
                if photo.in_bin == (when is not None):
                    continue  # already where it is asked to go
                conn.execute("UPDATE photo SET deleted_at = ? WHERE id = ?", (when, photo.id))
                if photo.is_prompt:
                    self._bump_prompt_change(photo.site)
                changed.append(photo.id)
        return changed

    def binned_photos(self) -> list[PhotoRecord]:
        """The photos in the bin, most recently deleted first."""
        from eczema_tracker.store.repository import _PHOTO_COLUMNS, _PHOTO_FROM, _photo

        with self._lock:
            rows = self._db.execute(
                f"SELECT {_PHOTO_COLUMNS} {_PHOTO_FROM} WHERE p.deleted_at IS NOT NULL "
                "ORDER BY p.deleted_at DESC, p.id DESC"
            )
            return [_photo(r) for r in rows]

    def empty_bin(self, photo_ids: Iterable[int] | None = None) -> int:
        """Delete for good the photos in the bin (only ``photo_ids`` if given): their rows,
        files, masks and thumbnails. Returns how many were deleted."""
        binned = {p.id for p in self.binned_photos()}
        chosen = binned if photo_ids is None else binned & {int(i) for i in photo_ids}
        for pid in sorted(chosen):
            self.delete_photo(pid)
        return len(chosen)
