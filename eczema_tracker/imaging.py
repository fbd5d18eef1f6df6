"""Safe image loading: every phone format, EXIF rotation, size limits, clear refusals.

All photo decoding in the app goes through :func:`open_image` (or :func:`decode_photo`, which
also reads the capture time); neither ever modifies the file.

Multi-image files (MPO stereo pairs, HEIC bursts, GIF animations, multi-page TIFF) give their
first image, which for HEIF is the primary image. A HEIF whose *primary* image decodes in full
is accepted even if a secondary image in it is damaged (``pillow_heif__truncated.heic``): the
photo the person sees is intact, and the stored original is kept byte-for-byte anyway.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

try:  # HEIC/HEIF from phones
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a hard dependency
    pillow_heif = None

#: Larger images are refused as likely decompression bombs (a 200-MP HEIC, say).
MAX_PIXELS = 100_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

SUPPORTED_FORMATS = frozenset({"JPEG", "PNG", "HEIF", "WEBP", "TIFF", "MPO", "BMP", "GIF"})
IMAGE_SUFFIXES = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".png",
        ".heic",
        ".heif",
        ".hif",
        ".webp",
        ".tif",
        ".tiff",
        ".mpo",
        ".bmp",
        ".gif",
    }
)
#: File suffix the store gives each decoded format.
FORMAT_SUFFIX = {
    "JPEG": ".jpg",
    "MPO": ".mpo",
    "PNG": ".png",
    "HEIF": ".heic",
    "WEBP": ".webp",
    "TIFF": ".tif",
    "BMP": ".bmp",
    "GIF": ".gif",
}

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_EXIF_DATE = re.compile(r"^\s*(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")


class ImageLoadError(ValueError):
    """A file that cannot be used as a photo; ``reason`` is one plain sentence."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass(frozen=True)
class DecodedPhoto:
    """A fully decoded photo: the upright RGB image plus what the file says about itself."""

    image: Image.Image  # upright (EXIF orientation applied), 8-bit RGB
    format: str  # Pillow format name, one of SUPPORTED_FORMATS
    taken_at: str | None  # EXIF DateTimeOriginal as ISO-8601 (with offset when the file has one)
    orientation: int  # EXIF orientation tag of the file (1 when absent)

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height


def open_image(path: str | os.PathLike[str], *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode ``path`` into an upright 8-bit RGB image (first/primary image of multi-image files).

    EXIF orientation is applied; CMYK, greyscale, 16-bit and alpha images are converted to RGB
    (alpha composited on white). Raises :class:`ImageLoadError` with a one-line reason for
    anything that is not a complete, supported image of at most ``max_pixels`` pixels.
    """
    return decode_photo(path, max_pixels=max_pixels).image


def decode_photo(
    source: str | os.PathLike[str] | bytes,
    *,
    label: str | os.PathLike[str] | None = None,
    max_pixels: int = MAX_PIXELS,
) -> DecodedPhoto:
    """Decode a photo from a path or from its bytes (``label`` names it in errors).

    Same rules as :func:`open_image`; also returns the format and the EXIF capture time.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = str(label) if label is not None else "image"
        if len(source) == 0:
            raise ImageLoadError(name, "is an empty file (0 bytes)")
        return _decode(io.BytesIO(source), name, max_pixels)
    p = Path(source)
    name = str(label) if label is not None else str(p)
    if p.is_dir():
        raise ImageLoadError(name, "is a folder, not an image file")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise ImageLoadError(name, f"cannot be read ({exc.strerror or exc})") from exc
    if size == 0:
        raise ImageLoadError(name, "is an empty file (0 bytes)")
    try:
        fh = open(p, "rb")  # noqa: SIM115 - closed below; open errors get their own reason
    except OSError as exc:
        raise ImageLoadError(name, f"cannot be read ({exc.strerror or exc})") from exc
    with fh:
        return _decode(fh, name, max_pixels)


def _decode(fh: BinaryIO, name: str, max_pixels: int) -> DecodedPhoto:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", message="Corrupt EXIF data")
            with Image.open(fh) as im:
                fmt = (im.format or "").upper()
                if fmt not in SUPPORTED_FORMATS:
                    raise ImageLoadError(name, f"unsupported image format {fmt or 'unknown'}")
                w, h = im.size
                if w * h > max_pixels:
                    raise ImageLoadError(
                        name,
                        f"is too large ({w}x{h} = {w * h / 1e6:.0f} megapixels; limit "
                        f"{max_pixels / 1e6:.0f}) and was refused as a possible decompression bomb",
                    )
                # Image.open leaves the first frame (for HEIF: the primary image) selected.
                im.load()
                exif = _safe_exif(im)
                orientation = int(exif.get(0x0112) or 1) if exif is not None else 1
                upright = ImageOps.exif_transpose(im)
                return DecodedPhoto(
                    image=to_rgb(upright, copy=upright is im),
                    format=fmt,
                    taken_at=exif_taken_at(exif),
                    orientation=orientation if 1 <= orientation <= 8 else 1,
                )
    except ImageLoadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(
            name, "is too large and was refused as a possible decompression bomb"
        ) from exc
    except UnidentifiedImageError as exc:
        raise ImageLoadError(name, "is not an image or is corrupt (format not recognised)") from exc
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "truncated" in msg.lower() or isinstance(exc, EOFError):
            raise ImageLoadError(name, f"is truncated or damaged ({msg})") from exc
        raise ImageLoadError(name, f"is corrupt or unreadable ({msg})") from exc


def _safe_exif(im: Image.Image) -> Image.Exif | None:
    """The image's EXIF, or None when it is absent or too broken to parse."""
    try:
        return im.getexif()
    except Exception:  # noqa: BLE001 - malformed EXIF must never refuse an otherwise good photo
        return None


def exif_taken_at(exif: Image.Exif | None) -> str | None:
    """EXIF DateTimeOriginal (+ OffsetTimeOriginal) as ISO-8601, or None when absent/invalid."""
    if exif is None:
        return None
    try:
        sub = exif.get_ifd(_EXIF_IFD)
    except Exception:  # noqa: BLE001 - broken sub-IFD: treat as no date
        return None
    raw = sub.get(_DATETIME_ORIGINAL)
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    if not isinstance(raw, str):
        return None
    m = _EXIF_DATE.match(raw.replace("\x00", ""))
    if not m:
        return None
    try:
        when = datetime(*(int(g) for g in m.groups()))
    except ValueError:  # "0000:00:00 00:00:00" and friends
        return None
    text = when.isoformat(timespec="seconds")
    offset = sub.get(_OFFSET_TIME_ORIGINAL)
    if isinstance(offset, bytes):
        offset = offset.decode("ascii", "replace")
    if isinstance(offset, str):
        om = _EXIF_OFFSET.match(offset.replace("\x00", ""))
        if om and int(om.group(2)) <= 14 and int(om.group(3)) < 60:
            text += f"{om.group(1)}{om.group(2)}:{om.group(3)}"
    return text


def to_rgb(im: Image.Image, *, copy: bool = True) -> Image.Image:
    """Convert any Pillow mode (CMYK, L, I;16, RGBA, P, ...) to 8-bit RGB.

    An RGB image is returned as a copy, or as itself with ``copy=False``.
    """
    if im.mode == "RGB":
        return im.copy() if copy else im
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if arr.max() > 255 else 255.0
        arr8 = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(arr8, mode="L").convert("RGB")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return im.convert("RGB")


def load_mask(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a mask image as a boolean array (H, W): lesion = any non-zero pixel."""
    try:
        with Image.open(path) as im:
            im.load()
            arr = np.asarray(im.convert("L") if im.mode not in ("L", "1", "I", "I;16") else im)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise ImageLoadError(path, f"is not a readable mask image ({exc})") from exc
    return arr > 0


def mask_to_image(mask: np.ndarray) -> Image.Image:
    """A boolean (H, W) mask as a lossless 8-bit PNG-ready image (0 or 255)."""
    return Image.fromarray(
        np.where(np.asarray(mask, dtype=bool), 255, 0).astype(np.uint8), mode="L"
    )


def mask_png_bytes(mask: np.ndarray) -> bytes:
    """A boolean (H, W) mask encoded as a lossless PNG (deterministic bytes for equal masks)."""
    arr = np.asarray(mask)
    if arr.ndim != 2:
        raise ValueError(f"a mask must be 2-D (H, W), got shape {arr.shape}")
    buf = io.BytesIO()
    mask_to_image(arr).save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def thumbnail(image: Image.Image, size: int = 256) -> Image.Image:
    """A new image: ``image`` (upright RGB) shrunk to fit ``size`` x ``size``, aspect kept."""
    w, h = image.size
    scale = min(1.0, size / max(w, h))
    target = (max(1, round(w * scale)), max(1, round(h * scale)))
    if target == (w, h):
        return image.copy()
    return image.resize(target, Image.Resampling.LANCZOS, reducing_gap=2.0)


def is_image_name(path: str | os.PathLike[str]) -> bool:
    """True if the file name has a photo suffix we try to import."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES
