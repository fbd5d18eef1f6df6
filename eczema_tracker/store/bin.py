"""The bin: photos a person deleted, restorable until the bin is emptied.

Moving a photo to the bin only stamps ``photo.deleted_at``: its file, masks, analyses and ratings
stay, and it disappears from :meth:`~eczema_tracker.store.Store.photos`, the timeline, the sites
and the prompts. Binning or restoring a prompt photo changes its site's prompt set (the site's
results become out of date). Emptying the bin removes rows and files for good
(:meth:`BinMixin.delete_photo`, which also removes a photo straight away when asked).
"""

from __future__ import annotations

from collections.abc import Iterable

from eczema_tracker.store import maintenance
from eczema_tracker.store.base import StoreBase
from eczema_tracker.store.records import PhotoRecord, now_iso
from eczema_tracker.store.rows import PHOTO_COLUMNS, PHOTO_FROM, fetch_all, photo_from_row
from eczema_tracker.store.thumbnails import thumbnail_files


class BinMixin(StoreBase):
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
        with self._lock:
            rows = fetch_all(
                self._db,
                f"SELECT {PHOTO_COLUMNS} {PHOTO_FROM} WHERE p.deleted_at IS NOT NULL "
                "ORDER BY p.deleted_at DESC, p.id DESC",
            )
            return [photo_from_row(row) for row in rows]

    def empty_bin(self, photo_ids: Iterable[int] | None = None) -> int:
        """Delete for good the photos in the bin (only ``photo_ids`` if given): their rows,
        files, masks and thumbnails. Returns how many were deleted."""
        binned = {p.id for p in self.binned_photos()}
        chosen = binned if photo_ids is None else binned & {int(i) for i in photo_ids}
        for pid in sorted(chosen):
            self.delete_photo(pid)
        return len(chosen)

    def delete_photo(self, photo_id: int) -> None:
        """Remove a photo with its analyses, ratings and prompt masks (the person asked)."""
        with self._lock:
            with self._write() as conn:
                old = self._photo_row(photo_id)
                if old.is_prompt and not old.in_bin:  # a binned prompt is no prompt already
                    self._bump_prompt_change(old.site)
                conn.execute("UPDATE photo SET current_analysis_id = NULL WHERE id = ?", (old.id,))
                conn.execute("DELETE FROM photo WHERE id = ?", (old.id,))
                names = [old.stored_name] + [
                    r[0]
                    for r in conn.execute(
                        "SELECT stored_name FROM mask_file m WHERE NOT EXISTS "
                        "(SELECT 1 FROM prompt_mask_version v WHERE v.mask_id = m.id) AND NOT "
                        "EXISTS (SELECT 1 FROM analysis a WHERE a.mask_id = m.id "
                        "OR a.corrected_mask_id = m.id)"
                    )
                ]
                conn.executemany(
                    "DELETE FROM mask_file WHERE stored_name = ?", [(n,) for n in names]
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO pending_file (stored_name, created_at) VALUES (?, ?)",
                    [(n, now_iso()) for n in names],
                )
            maintenance.delete_unreferenced(self._db, self.data_dir, names)
            for thumb in thumbnail_files(self.data_dir, old.sha256):
                thumb.unlink(missing_ok=True)
