"""Crafted image bytes for the hostile-input and fuzz tests (headers that lie, cut files)."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def crafted_huge_jpeg(width: int, height: int, *, total_bytes: int = 632) -> bytes:
    """A real small JPEG whose SOF claims ``width`` x ``height``, cut and closed with an EOI."""
    pixels = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=90)
    data = bytearray(buf.getvalue())
    i = 2
    while data[i + 1] != 0xC0:  # walk the marker segments to the baseline SOF
        i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    data[i + 5 : i + 9] = struct.pack(">HH", height, width)
    return bytes(data[: total_bytes - 2]) + b"\xff\xd9"


def png_claiming(width: int, height: int, mode: str = "L") -> bytes:
    """A small valid PNG whose IHDR (CRC recomputed) claims ``width`` x ``height``."""
    buf = io.BytesIO()
    Image.new(mode, (4, 4)).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    # signature (8) + length (4) + b"IHDR" (4) + width, height (8) ...; CRC after 13 data bytes
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def with_claimed_size(data: bytes, width: int, height: int) -> bytes:
    """Rewrite the size a JPEG (SOF) or PNG (IHDR) header claims; other formats unchanged."""
    out = bytearray(data)
    if out[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(out) and out[i] == 0xFF:
            marker, length = out[i + 1], struct.unpack_from(">H", out, i + 2)[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                out[i + 5 : i + 9] = struct.pack(">HH", height & 0xFFFF, width & 0xFFFF)
                break
            i += 2 + length
    elif out[:8] == b"\x89PNG\r\n\x1a\n" and len(out) > 33:
        out[16:24] = struct.pack(">II", width, height)
        out[29:33] = struct.pack(">I", zlib.crc32(bytes(out[12:29])))
    return bytes(out)
