"""Undo/redo history of a mask, one entry per edit (stroke, fill or clear).

Each entry keeps only the rectangle the edit touched, before and after, zlib-compressed (a bool
mask bit-packed first; a uint8 mask with labels, lesion and healthy skin, as its bytes): a stroke
on a 12-MP photo costs a few kilobytes, a full clear a few hundred.
No Qt here, so the history is tested as plain Python.
"""

from __future__ import annotations

import zlib
from collections import deque
from dataclasses import dataclass

import numpy as np

#: Entries kept for undo; older ones are dropped (their changes stay in the mask).
DEFAULT_LIMIT = 50
#: Upper bound on the memory the compressed entries may take together.
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


def pack_bits(pixels: np.ndarray) -> bytes:
    """Compress a bool array (its shape is kept by the caller)."""
    return zlib.compress(np.packbits(pixels, axis=None).tobytes(), 1)


def _pack(pixels: np.ndarray) -> bytes:
    """Compress a bool or uint8 array (:func:`_unpack` needs its shape and whether bool)."""
    if pixels.dtype == bool:
        return pack_bits(pixels)
    return zlib.compress(np.ascontiguousarray(pixels, dtype=np.uint8).tobytes(), 1)


def _unpack(data: bytes, shape: tuple[int, int], labelled: bool) -> np.ndarray:
    if not labelled:
        return unpack_bits(data, shape)
    return np.frombuffer(zlib.decompress(data), dtype=np.uint8).reshape(shape).copy()


def unpack_bits(data: bytes, shape: tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`pack_bits`."""
    count = shape[0] * shape[1]
    bits = np.unpackbits(np.frombuffer(zlib.decompress(data), dtype=np.uint8), count=count)
    return bits.reshape(shape).astype(bool)


@dataclass(frozen=True)
class MaskEdit:
    """One undoable edit: the rectangle ``(x, y, w, h)`` of the mask before and after it."""

    edit_id: int
    x: int
    y: int
    width: int
    height: int
    packed_before: bytes
    packed_after: bytes
    #: uint8 pixels (a mask with labels) rather than bool
    labelled: bool = False

    def before(self) -> np.ndarray:
        """The rectangle's pixels before the edit, (height, width), of the recorded dtype."""
        return _unpack(self.packed_before, (self.height, self.width), self.labelled)

    def after(self) -> np.ndarray:
        """The rectangle's pixels after the edit, (height, width), of the recorded dtype."""
        return _unpack(self.packed_after, (self.height, self.width), self.labelled)

    @property
    def nbytes(self) -> int:
        return len(self.packed_before) + len(self.packed_after)


class MaskHistory:
    """Undo and redo stacks of :class:`MaskEdit`, bounded in count and bytes.

    ``state_id`` names the mask state the history is at: it returns to an earlier value when
    the edits since are undone, so "modified since saved" is ``state_id != saved_id``.
    """

    def __init__(self, limit: int = DEFAULT_LIMIT, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._limit = limit
        self._max_bytes = max_bytes
        self._undo: deque[MaskEdit] = deque()
        self._redo: list[MaskEdit] = []
        self._next_id = 1
        self._floor_id = 0  # state below the oldest kept entry

    @property
    def state_id(self) -> int:
        return self._undo[-1].edit_id if self._undo else self._floor_id

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def __len__(self) -> int:
        return len(self._undo)

    def record(self, x: int, y: int, before: np.ndarray, after: np.ndarray) -> MaskEdit:
        """Add an edit of the rectangle at ``(x, y)`` (bool or uint8 pixels, both alike); clears
        the redo stack."""
        if before.shape != after.shape:
            raise ValueError(f"before {before.shape} and after {after.shape} differ in shape")
        if before.dtype != after.dtype:
            raise ValueError(f"before {before.dtype} and after {after.dtype} differ in dtype")
        height, width = before.shape
        labelled = before.dtype != bool
        edit = MaskEdit(
            self._next_id, x, y, width, height, _pack(before), _pack(after), labelled=labelled
        )
        self._next_id += 1
        self._undo.append(edit)
        self._redo.clear()
        self._trim()
        return edit

    def undo(self) -> MaskEdit | None:
        """Move the newest edit to the redo stack and return it (apply its ``before``)."""
        if not self._undo:
            return None
        edit = self._undo.pop()
        self._redo.append(edit)
        return edit

    def redo(self) -> MaskEdit | None:
        """Move the last undone edit back and return it (apply its ``after``)."""
        if not self._redo:
            return None
        edit = self._redo.pop()
        self._undo.append(edit)
        return edit

    def reset(self) -> None:
        """Forget every edit; the current state gets a fresh id."""
        self._undo.clear()
        self._redo.clear()
        self._floor_id = self._next_id
        self._next_id += 1

    def _trim(self) -> None:
        total = sum(edit.nbytes for edit in self._undo)
        while self._undo and (len(self._undo) > self._limit or total > self._max_bytes):
            dropped = self._undo.popleft()
            total -= dropped.nbytes
            self._floor_id = dropped.edit_id
