"""Mask files: the lossless PNGs that prompts and analyses point at.

Masks are content-addressed by the sha256 of their PNG bytes, so the same mask saved twice is
one file and one row; a mask is only ever added, never changed.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from eczema_tracker.core import imaging, mask_labels
from eczema_tracker.store import db, files
from eczema_tracker.store.base import StoreBase
from eczema_tracker.store.records import MaskRecord, PhotoRecord, now_iso
from eczema_tracker.store.rows import fetch_one, last_id, mask_columns, mask_from_row

T = TypeVar("T")


class MasksMixin(StoreBase):
    """Mask methods of the Store (see the module docstring)."""

    def load_mask(self, mask: MaskRecord | str | os.PathLike[str]) -> np.ndarray:
        """A stored mask's lesion as a boolean (H, W) array."""
        path = mask.path if isinstance(mask, MaskRecord) else mask
        return imaging.load_mask(path)

    def load_labelled_mask(self, mask: MaskRecord | str | os.PathLike[str]) -> np.ndarray:
        """A stored mask with its labels: uint8 (H, W), 0 / 128 healthy skin / 255 lesion
        (:mod:`core.mask_labels`)."""
        path = mask.path if isinstance(mask, MaskRecord) else mask
        return imaging.load_labelled_mask(path)

    def mask(self, mask_id: int) -> MaskRecord:
        """One stored mask; ``KeyError`` if absent."""
        with self._lock:
            row = fetch_one(
                self._db,
                f"SELECT {mask_columns('m', skin=self._has_mask_skin())} FROM mask_file m "
                "WHERE m.id = ?",
                (int(mask_id),),
            )
            if row is None:
                raise KeyError(f"no mask with id {mask_id}")
            return mask_from_row(row, self.data_dir)

    def _put_mask(
        self,
        mask: np.ndarray,
        photo: PhotoRecord,
        then: Callable[[sqlite3.Connection, int], T],
    ) -> T:
        """Store a mask file (if new) and, in the same transaction as its row, run ``then(conn,
        mask_id)``; return what ``then`` returns. Hold ``_lock``."""
        sha, name, png, area, skin = _encode_mask(mask, photo)
        existing = self._db.execute("SELECT id FROM mask_file WHERE sha256 = ?", (sha,)).fetchone()
        wrote = False
        if existing is None or not (self.data_dir / name).exists():
            self._begin_file(name, png)
            wrote = True
        try:
            with db.transaction(self._db) as conn:
                if existing is None:
                    columns = ["sha256", "stored_name", "width", "height", "area_fraction"]
                    values: list[object] = [sha, name, photo.width, photo.height, area]
                    if self._has_mask_skin():
                        columns.append("skin_fraction")
                        values.append(skin)
                    columns.append("created_at")
                    values.append(now_iso())
                    cur = conn.execute(
                        f"INSERT INTO mask_file ({', '.join(columns)}) "
                        f"VALUES ({', '.join('?' * len(values))})",
                        values,
                    )
                    mask_id = last_id(cur)
                else:
                    mask_id = int(existing[0])
                conn.execute("DELETE FROM pending_file WHERE stored_name = ?", (name,))
                return then(conn, mask_id)
        except BaseException:
            if wrote:
                self._abandon_file(name)
            raise


def _encode_mask(mask: np.ndarray, photo: PhotoRecord) -> tuple[str, str, bytes, float, float]:
    """Validate a mask (:mod:`core.mask_labels` format) against its photo and encode it;
    returns (sha, name, png, lesion area, healthy-skin area) (areas: shares of the photo)."""
    arr = np.asarray(mask)
    if arr.ndim != 2 or arr.shape != (photo.height, photo.width):
        raise ValueError(
            f"the mask is {arr.shape[::-1] if arr.ndim == 2 else arr.shape} but photo "
            f"{photo.id} is {photo.width}x{photo.height} (width x height, upright)"
        )
    # A mask without skin encodes to the same 0/255 bytes (and file) as before skin existed.
    labelled = mask_labels.canonical_mask(arr)
    png = imaging.mask_png_bytes(labelled)
    sha = files.sha256_bytes(png)
    lesion = float((labelled == mask_labels.LESION_VALUE).mean())
    skin = float((labelled == mask_labels.SKIN_VALUE).mean())
    return sha, files.content_name(files.MASKS, sha, ".png"), png, lesion, skin
