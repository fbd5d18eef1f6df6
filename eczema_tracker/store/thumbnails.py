"""Thumbnails: upright JPEG caches of the photos, one home for where they lie and how they look.

A thumbnail is a cache: it is made again when missing, written without fsync by the import and
never backed up. Its stored name follows from the photo's sha256 (and the size, when not the
default), so nothing in the database points at it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from PIL import Image

from eczema_tracker.core import imaging
from eczema_tracker.store import files

#: Longest side of the thumbnail the library shows.
THUMBNAIL_SIZE = 256
#: Longest side a photo is decoded at to rebuild its thumbnail (twice the thumbnail: sharp).
THUMBNAIL_DECODE_SIDE = 512


def thumbnail_name(sha256: str, size: int = THUMBNAIL_SIZE) -> str:
    """Stored name (relative to the store folder) of a photo's thumbnail of ``size``."""
    suffix = ".jpg" if size == THUMBNAIL_SIZE else f"-{size}.jpg"
    return f"{files.THUMBNAILS}/{sha256[:2]}/{sha256}{suffix}"


def thumbnail_files(root: Path, sha256: str) -> Iterator[Path]:
    """Every thumbnail file of the photo with this sha256 under the store folder ``root``."""
    yield from (root / thumbnail_name(sha256)).parent.glob(f"{sha256}*")


def thumbnail_jpeg(image: Image.Image, size: int = THUMBNAIL_SIZE) -> bytes:
    """JPEG bytes of an upright thumbnail of ``image``."""
    buf = io.BytesIO()
    imaging.thumbnail(image, size).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def write_thumbnail(
    root: Path, sha256: str, image: Image.Image, size: int = THUMBNAIL_SIZE
) -> Path:
    """Write (atomically) the thumbnail cache file of a photo."""
    return files.atomic_write_bytes(root, thumbnail_name(sha256, size), thumbnail_jpeg(image, size))


def write_cached_thumbnail(root: Path, sha256: str, jpeg: bytes) -> None:
    """Write already encoded thumbnail bytes without fsync (a lost cache file costs nothing)."""
    try:
        files.write_cache_file(root, thumbnail_name(sha256), jpeg)
    except OSError:
        pass


def ensure_thumbnail(root: Path, sha256: str, stored_name: str, size: int = THUMBNAIL_SIZE) -> Path:
    """Path of the thumbnail of the photo stored as ``stored_name``, made first when missing."""
    target = root / thumbnail_name(sha256, size)
    if not target.exists():
        image = imaging.open_image(root / stored_name, max_side=max(THUMBNAIL_DECODE_SIDE, size))
        write_thumbnail(root, sha256, image, size)
    return target
