"""Catch damaged photos that decoders fill in silently instead of refusing.

libjpeg and libheif both *conceal* damage: a JPEG cut short with an end marker appended decodes
with its missing part mid-grey, a HEIC whose tiles lie beyond the end of the file decodes with
those tiles green. Neither tells Pillow. The checks here look at the file's structure (cheap,
before decoding) and at the tell-tale fill of a decoded image (after decoding); each returns one
plain reason or ``None``.

What is not caught: bytes flipped *inside* compressed data that still decodes. JPEG and HEVC
carry no checksums, so such a photo decodes with blocky damage and no decoder can tell.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator

import numpy as np
from PIL import Image

_SOF_HUFFMAN = {0xC0, 0xC1, 0xC2}  # baseline, extended, progressive (Huffman-coded)
_SOF_ALL = _SOF_HUFFMAN | {0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}
#: The value a JPEG block with no coefficients (data missing) decodes to in every channel.
_JPEG_FILL = 128
_CUT = "is truncated or damaged"


def jpeg_problem(data: bytes) -> str | None:
    """Why the first JPEG image in ``data`` cannot be complete, or None (see module doc).

    Checks: the compressed data is large enough for the claimed size (every 8x8 block needs
    at least one bit), a progressive file has all its scans, and a file with restart markers
    has all of them.
    """
    if data[:2] != b"\xff\xd8":
        return None
    frame, scans = _jpeg_structure(data)
    if frame is None:
        return None
    marker, width, height, components = frame
    if width == 0 or height == 0:
        return None  # height from a DNL marker: rare; left to the decoder
    hmax = max(c[1] for c in components)
    vmax = max(c[2] for c in components)
    blocks = {
        cid: math.ceil(math.ceil(width * h / hmax) / 8)
        * math.ceil(math.ceil(height * v / vmax) / 8)
        for cid, h, v in components
    }
    coded = sum(scan[5] for scan in scans)
    if marker in _SOF_HUFFMAN and coded * 8 < sum(blocks.values()):
        return (
            f"claims {width}x{height} pixels but holds too little data for that ({len(data)} "
            "bytes): it is truncated, damaged or crafted"
        )
    if marker in _PROGRESSIVE:
        for cid, _h, _v in components:
            done = np.zeros(64, dtype=bool)
            for ids, ss, se, _ah, al, _n, _rst, _interval in scans:
                if cid in ids and al == 0:
                    done[ss : se + 1] = True
            if not done.all():
                return f"{_CUT} (the file ends before its last progressive scans)"
    mcus_interleaved = math.ceil(width / (8 * hmax)) * math.ceil(height / (8 * vmax))
    for ids, _ss, _se, _ah, _al, _n, restarts, interval in scans:
        if interval <= 0:
            continue
        mcus = blocks.get(ids[0], 0) if len(ids) == 1 else mcus_interleaved
        if restarts < math.ceil(mcus / interval) - 1:
            return f"{_CUT} (the file ends before its last restart markers)"
    return None


#: (SOF marker, width, height, [(component id, h sampling, v sampling)]).
_Frame = tuple[int, int, int, list[tuple[int, int, int]]]
#: (component ids, Ss, Se, Ah, Al, coded bytes, restart markers, restart interval).
_Scan = tuple[tuple[int, ...], int, int, int, int, int, int, int]


def _jpeg_structure(data: bytes) -> tuple[_Frame | None, list[_Scan]]:
    """(frame, scans) of the first image: frame = (marker, width, height, [(id, h, v)]);
    each scan = (component ids, Ss, Se, Ah, Al, coded bytes, restart markers, interval)."""
    n = len(data)
    i = 2
    frame: _Frame | None = None
    interval = 0
    scans: list[_Scan] = []
    while i < n:
        if data[i] != 0xFF:
            i += 1  # garbage between segments: libjpeg skips it too
            continue
        while i < n and data[i] == 0xFF:
            i += 1
        if i >= n:
            break
        marker = data[i]
        i += 1
        if marker == 0xD9:  # EOI
            break
        if 0xD0 <= marker <= 0xD7 or marker in (0x01, 0x00):
            continue
        if i + 2 > n:
            break
        length = struct.unpack_from(">H", data, i)[0]
        segment = data[i + 2 : i + length]
        i += length
        if marker in _SOF_ALL and frame is None and len(segment) >= 6:
            height, width = struct.unpack_from(">HH", segment, 1)
            count = segment[5]
            comps = [
                (
                    segment[6 + 3 * k],
                    max(1, segment[7 + 3 * k] >> 4),
                    max(1, segment[7 + 3 * k] & 15),
                )
                for k in range(count)
                if 7 + 3 * k < len(segment)
            ]
            if comps:
                frame = (marker, width, height, comps)
        elif marker == 0xDD and len(segment) >= 2:  # DRI
            interval = struct.unpack_from(">H", segment, 0)[0]
        elif marker == 0xDA and segment:  # SOS, then entropy-coded data up to the next marker
            ns = segment[0]
            if len(segment) < 4 + 2 * ns:
                break
            ids = tuple(segment[1 + 2 * k] for k in range(ns))
            ss, se, ahal = segment[1 + 2 * ns], segment[2 + 2 * ns], segment[3 + 2 * ns]
            start = j = i
            restarts = 0
            while True:
                j = data.find(b"\xff", j)
                if j < 0 or j + 1 >= n:
                    j = n
                    break
                follow = data[j + 1]
                if follow == 0x00 or follow == 0xFF:
                    j += 1 if follow == 0xFF else 2
                elif 0xD0 <= follow <= 0xD7:
                    restarts += 1
                    j += 2
                else:
                    break
            scans.append(
                (ids, ss, min(se, 63), ahal >> 4, ahal & 15, j - start, restarts, interval)
            )
            i = j
    return frame, scans


def _iter_boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, payload start, box end, declared end) of the ISOBMFF boxes in data[start:end]."""
    i = start
    while i + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, i)
        header = 8
        if size == 1:
            if i + 16 > end:
                return
            size = struct.unpack_from(">Q", data, i + 8)[0]
            header = 16
        elif size == 0:
            size = end - i
        if size < header:
            return
        yield kind, i + header, min(i + size, end), i + size
        i += size


def heif_item_extents(data: bytes) -> list[tuple[int, int]]:
    """(file offset, length) of every item extent stored in the file itself (``iloc``)."""
    extents: list[tuple[int, int]] = []
    for kind, body, end, _declared in _iter_boxes(data, 0, len(data)):
        if kind != b"meta":
            continue
        for sub, sbody, send, _ in _iter_boxes(data, body + 4, end):  # meta is a full box
            if sub == b"iloc":
                extents.extend(_iloc_extents(data, sbody, send))
    return extents


def _iloc_extents(data: bytes, i: int, end: int) -> list[tuple[int, int]]:
    version = data[i]
    i += 4
    sizes = struct.unpack_from(">H", data, i)[0]
    i += 2
    offset_size, length_size = sizes >> 12, (sizes >> 8) & 15
    base_size, index_size = (sizes >> 4) & 15, sizes & 15 if version in (1, 2) else 0

    def take(width: int) -> int:
        nonlocal i
        if width == 0:
            return 0
        value = int.from_bytes(data[i : i + width], "big")
        i += width
        return value

    count = take(4 if version == 2 else 2)
    out = []
    for _ in range(count):
        if i >= end:
            break
        take(4 if version == 2 else 2)  # item id
        method = take(2) & 15 if version in (1, 2) else 0
        reference = take(2)
        base = take(base_size)
        for _ in range(take(2)):
            take(index_size)
            offset, length = take(offset_size), take(length_size)
            if method == 0 and reference == 0:
                out.append((base + offset, length))
    return out


def heif_problem(data: bytes) -> str | None:
    """Why a HEIF file cannot be complete (a box or an image's data past the end), or None."""
    if data[4:8] != b"ftyp":
        return None
    try:
        for kind, _body, _end, declared in _iter_boxes(data, 0, len(data)):
            if not all(32 <= c < 127 for c in kind):
                return None  # not a box at all: the decoder gives the reason
            if declared > len(data):
                name = kind.decode("latin-1", "replace")
                return f"{_CUT} (the file ends inside its '{name}' box)"
        for offset, length in heif_item_extents(data):
            if offset + length > len(data):
                return f"{_CUT} (image data lies past the end of the file)"
    except (struct.error, IndexError):
        return None  # too broken to read: the decoder gives the reason
    return None


def decoded_problem(im: Image.Image, fmt: str) -> str | None:
    """Why a decoded image shows a decoder's fill for missing data, or None.

    JPEG: the whole last pixel row is exactly mid-grey in every channel (blocks without data).
    HEIF: a grid tile is uniform pure green (a tile the decoder could not decode, left zero).
    """
    if fmt in ("JPEG", "MPO") and im.mode in ("L", "RGB"):
        last = np.asarray(im.crop((0, im.height - 1, im.width, im.height)))
        if last.size and (last == _JPEG_FILL).all():
            return f"{_CUT} (its last part decodes to the grey a decoder fills in for missing data)"
    if fmt == "HEIF" and im.mode in ("RGB", "RGBA"):
        tiling = im.info.get("tiling") or {}
        tw, th = int(tiling.get("tile_width") or 0), int(tiling.get("tile_height") or 0)
        if tw > 0 and th > 0:
            arr = np.asarray(im)
            for y in range(0, im.height, th):
                for x in range(0, im.width, tw):
                    tile = arr[y : y + th, x : x + tw]
                    g = tile[..., 1]
                    if not tile[..., 0].any() and not tile[..., 2].any() and g.min() == g.max() > 0:
                        return f"{_CUT} (part of the image could not be decoded)"
    return None
