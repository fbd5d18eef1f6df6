"""The mask format: which pixels are lesion, which are healthy skin (no Qt, no I/O).

A mask is one channel at the photo's size. In a file and in memory (``uint8``):

- ``0``: not skin, or not marked;
- ``128`` (:data:`SKIN_VALUE`): healthy skin;
- any other non-zero value: lesion (written as ``255``, :data:`LESION_VALUE`).

So the binary masks made before skin could be marked, 0/255 and 0/1 alike, keep their meaning
exactly: every non-zero pixel is lesion (a 0/1 mask's ``1`` is lesion; only ``128`` is skin). A
``bool`` array is a lesion mask without skin.

The lesion share of the skin is ``lesion / (lesion + healthy skin)``: unlike the share of the
photo, it does not change when the photo is framed closer or wider.
"""

from __future__ import annotations

import numpy as np

#: The value of a healthy-skin pixel.
SKIN_VALUE = 128
#: The value a lesion pixel is written with (any non-zero value but 128 reads as lesion).
LESION_VALUE = 255


def lesion_of(mask: np.ndarray) -> np.ndarray:
    """The lesion pixels of a mask in the format above, (H, W) bool."""
    arr = np.asarray(mask)
    if arr.dtype == bool:
        return arr
    return np.asarray((arr != 0) & (arr != SKIN_VALUE), dtype=bool)


def skin_of(mask: np.ndarray) -> np.ndarray:
    """The healthy-skin pixels of a mask in the format above, (H, W) bool (none in a bool)."""
    arr = np.asarray(mask)
    if arr.dtype == bool:
        return np.zeros(arr.shape, dtype=bool)
    return np.asarray(arr == SKIN_VALUE, dtype=bool)


def has_skin(mask: np.ndarray) -> bool:
    """Whether any pixel of the mask is marked healthy skin."""
    arr = np.asarray(mask)
    return arr.dtype != bool and bool((arr == SKIN_VALUE).any())


def labelled_mask(lesion: np.ndarray, skin: np.ndarray | None = None) -> np.ndarray:
    """The uint8 (H, W) mask (0 / 128 / 255) of a lesion mask and a healthy-skin mask.

    A pixel in both is lesion (a lesion lies on skin). Without ``skin`` the result is the
    0/255 mask the store wrote before skin could be marked, byte for byte.
    """
    lesion = np.asarray(lesion, dtype=bool)
    # uint8 throughout: np.where(mask, 255, 0) would build an int64 array (192 MB at 24 MP).
    out = lesion.astype(np.uint8) * np.uint8(LESION_VALUE)
    if skin is not None:
        skin = np.asarray(skin, dtype=bool)
        if skin.shape != lesion.shape:
            raise ValueError(f"skin mask {skin.shape} and lesion mask {lesion.shape} differ")
        out[skin & ~lesion] = SKIN_VALUE
    return out


def canonical_mask(mask: np.ndarray) -> np.ndarray:
    """Any mask in the format above (bool, 0/1, 0/255, 0/128/255, ...) as uint8 0/128/255."""
    arr = np.asarray(mask)
    if arr.ndim != 2:
        raise ValueError(f"a mask must be 2-D (H, W), got shape {arr.shape}")
    if arr.dtype == bool:
        return labelled_mask(arr)
    return labelled_mask(lesion_of(arr), skin_of(arr))


def lesion_share_of_skin(lesion: np.ndarray, skin: np.ndarray | None) -> float | None:
    """lesion / (lesion + healthy skin) in pixels, 0..1.

    None when there is no skin mask (the lesion can then only be a share of the photo) or
    when neither lesion nor skin was found (no skin seen: no share to give).
    """
    if skin is None:
        return None
    lesion = np.asarray(lesion, dtype=bool)
    skin = np.asarray(skin, dtype=bool)
    lesion_pixels = int(np.count_nonzero(lesion))
    skin_pixels = int(np.count_nonzero(skin & ~lesion))
    total = lesion_pixels + skin_pixels
    return lesion_pixels / total if total else None
