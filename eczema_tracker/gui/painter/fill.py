"""Filling in a boolean mask, in numpy (no Qt, no scipy): the enclosed area a fill click
reaches, and the hairline gaps a brush stroke closes (:func:`close_hairlines`).

The fill works on horizontal runs of fillable pixels instead of single pixels: a run touches
the runs above and below it that overlap it (4-connectivity, so a one-pixel diagonal stroke is
a wall), and a breadth-first walk over runs finds the connected area. A 12-MP photo has a few
thousand runs where a pixel walk would have millions of steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FillRegion:
    """The pixels a fill reaches: ``pixels`` is (h, w) bool, placed at ``(x, y)`` in the mask."""

    x: int
    y: int
    pixels: np.ndarray  # h x w, bool

    @property
    def area(self) -> int:
        """Number of filled pixels."""
        return int(self.pixels.sum())


def _runs(free: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, start and end (exclusive) of every horizontal run of True, in row-major order."""
    height = free.shape[0]
    padded = np.zeros((height, free.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = free
    steps = np.diff(padded, axis=1)  # +1 where a run starts, -1 just after it ends
    rows, starts = np.nonzero(steps == 1)
    _, ends = np.nonzero(steps == -1)
    return rows, starts, ends


def connected_area(free: np.ndarray, x: int, y: int) -> FillRegion | None:
    """The 4-connected area of True pixels of ``free`` (H, W) that contains pixel ``(x, y)``.

    Returns None when ``(x, y)`` is outside the mask or not a True pixel.
    """
    if free.ndim != 2:
        raise ValueError(f"fill needs a 2-D mask, got shape {free.shape}")
    height, width = free.shape
    if not (0 <= x < width and 0 <= y < height) or not free[y, x]:
        return None
    rows, starts, ends = _runs(free)
    row_first = np.searchsorted(rows, np.arange(height + 1))  # runs of row r: row_first[r]:[r+1]

    lo, hi = row_first[y], row_first[y + 1]
    seed = lo + int(np.searchsorted(ends[lo:hi], x, side="right"))
    reached = np.zeros(len(rows), dtype=bool)
    reached[seed] = True
    todo = [seed]
    while todo:
        run = todo.pop()
        row, start, end = rows[run], starts[run], ends[run]
        for other_row in (row - 1, row + 1):
            if not 0 <= other_row < height:
                continue
            lo, hi = row_first[other_row], row_first[other_row + 1]
            # Runs of a row are sorted and disjoint: the overlapping ones form one slice.
            first = lo + int(np.searchsorted(ends[lo:hi], start, side="right"))
            last = lo + int(np.searchsorted(starts[lo:hi], end, side="left"))
            for other in range(first, last):
                if not reached[other]:
                    reached[other] = True
                    todo.append(other)

    rows, starts, ends = rows[reached], starts[reached], ends[reached]
    top, left = int(rows.min()), int(starts.min())
    bottom, right = int(rows.max()) + 1, int(ends.max())
    # Mark +1 at each run start and -1 after its end, then a running sum paints the runs.
    marks = np.zeros((bottom - top, right - left + 1), dtype=np.int8)
    marks[rows - top, starts - left] += 1
    marks[rows - top, ends - left] -= 1
    pixels = np.cumsum(marks, axis=1, dtype=np.int8)[:, :-1] > 0
    return FillRegion(x=left, y=top, pixels=pixels)


def _spread(pixels: np.ndarray, *, grow: bool) -> np.ndarray:
    """3 x 3 dilation (``grow``) or erosion of ``pixels``; cells past the edge count as
    unpainted for a dilation and painted for an erosion."""
    out = pixels.copy()
    combine = np.logical_or if grow else np.logical_and
    for axis in (0, 1):  # a 3 x 3 square is a 3 x 1 pass, then a 1 x 3 pass
        ahead, behind = out.copy(), out.copy()
        if axis == 0:
            combine(ahead[:-1], out[1:], out=ahead[:-1])
            combine(behind[1:], out[:-1], out=behind[1:])
        else:
            combine(ahead[:, :-1], out[:, 1:], out=ahead[:, :-1])
            combine(behind[:, 1:], out[:, :-1], out=behind[:, 1:])
        out = combine(ahead, behind)
    return out


def close_hairlines(pixels: np.ndarray, near: np.ndarray | None = None) -> np.ndarray:
    """``pixels`` (H, W bool) with unpainted gaps up to 2 px wide filled: a morphological
    closing with a 3 x 3 square; with ``near`` (H, W bool), only the gaps within 2 px of its
    pixels (a new stroke's: an older gap, an eraser's thin line, is left as it is).

    A closing only adds pixels, and only where paint lies on both sides within 2 px: the
    hairlines between strokes laid side by side, and holes of at most 2 x 2 px. An outer edge
    never moves (not even at the photo's border, where the mask is extended outward), and a
    gap of 3 px or more stays: that one the person left, and can see.
    """
    if pixels.ndim != 2:
        raise ValueError(f"closing needs a 2-D mask, got shape {pixels.shape}")
    padded = np.pad(np.asarray(pixels, dtype=bool), 2, mode="edge")
    closed = _spread(_spread(padded, grow=True), grow=False)[2:-2, 2:-2]
    if near is not None:
        closed &= _spread(_spread(near, grow=True), grow=True)
    return closed | pixels
