"""Safe image loading: every phone format, EXIF rotation, size limits, clear refusals.

All photo decoding in the app goes through :func:`open_image` (or :func:`decode_photo`, which
also reads the capture time); neither ever modifies the file.

Multi-image files (MPO stereo pairs, HEIC bursts, GIF animations, multi-page TIFF) give their
first image, which for HEIF is the primary image. A file cut short is refused even when its
first image happens to be complete (``pillow_heif__truncated.heic``): it is a damaged copy,
and the person is better off copying it again than storing it.

Only regular files are read (a device, FIFO or socket is refused before it is opened for more
than a non-blocking look), never more than :data:`MAX_FILE_BYTES`, counted while reading. A file
a decoder would silently patch up (a JPEG cut short with an end marker appended, a HEIC whose
data lies past the end of the file, a header claiming far more pixels than the data can hold)
is refused with a reason: see :mod:`eczema_tracker.core.image_integrity`. Callers that need only a
reduced image (analysis, thumbnails) pass ``max_side``: JPEGs are then decoded reduced by the
decoder itself (DCT scaling), which bounds memory by the size asked for, not the file's claim.
"""

from __future__ import annotations

import io
import math
import os
import re
import stat
import struct
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from eczema_tracker.core import image_integrity, mask_labels
from eczema_tracker.core.errors import UserError

try:  # HEIC/HEIF from phones
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a hard dependency
    pass

#: Larger images are refused as likely decompression bombs (a 200-MP HEIC, say).
MAX_PIXELS = 100_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
#: Files larger than this are never read (no phone photo or mask comes close).
MAX_FILE_BYTES = 512 * 1024 * 1024

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
#: EXIF orientation -> the transpose that makes the image upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
#: Errors a damaged or hostile file can make Pillow and its plugins raise while decoding.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, MemoryError, RuntimeError)


class ImageLoadError(UserError, ValueError):
    """A file that cannot be used as a photo; ``reason`` is one plain sentence."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason

    @property
    def message(self) -> str:
        """The reason alone (the path is shown beside it by whoever shows the message)."""
        return self.reason


@dataclass(frozen=True)
class DecodedPhoto:
    """A fully decoded photo: the upright RGB image plus what the file says about itself.

    ``width``/``height`` are the photo's own upright size; ``image`` has that size too unless
    a ``max_side`` was asked for, in which case it may be smaller (same aspect).
    """

    image: Image.Image  # upright (EXIF orientation applied), 8-bit RGB
    format: str  # Pillow format name, one of SUPPORTED_FORMATS
    taken_at: str | None  # EXIF DateTimeOriginal as ISO-8601 (with offset when the file has one)
    orientation: int  # EXIF orientation tag of the file (1 when absent)
    width: int  # upright width of the photo in the file
    height: int  # upright height of the photo in the file


def open_image(
    path: str | os.PathLike[str], *, max_pixels: int = MAX_PIXELS, max_side: int | None = None
) -> Image.Image:
    """Decode ``path`` into an upright 8-bit RGB image (first/primary image of multi-image files).

    EXIF orientation is applied; CMYK, greyscale, 16-bit and alpha images are converted to RGB
    (alpha composited on white). Raises :class:`ImageLoadError` with a one-line reason for
    anything that is not a complete, supported image of at most ``max_pixels`` pixels.
    With ``max_side``, the image is shrunk (aspect kept, never enlarged) so that its longer
    side is at most ``max_side``; JPEGs are then decoded reduced, using far less memory.
    """
    return decode_photo(path, max_pixels=max_pixels, max_side=max_side).image


def decode_photo(
    source: str | os.PathLike[str] | bytes,
    *,
    label: str | os.PathLike[str] | None = None,
    max_pixels: int = MAX_PIXELS,
    max_side: int | None = None,
) -> DecodedPhoto:
    """Decode a photo from a path or from its bytes (``label`` names it in errors).

    Same rules as :func:`open_image`; also returns the format and the EXIF capture time.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = str(label) if label is not None else "image"
        data = bytes(source)
    else:
        name = str(label) if label is not None else str(source)
        data, _ = read_regular_file(source, label=name)
    if len(data) == 0:
        raise ImageLoadError(name, "is an empty file (0 bytes)")
    return _decode(data, name, max_pixels, max_side)


def read_regular_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = MAX_FILE_BYTES,
    label: str | os.PathLike[str] | None = None,
) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file (symlinks followed) and its ``stat``; else ImageLoadError.

    Devices, FIFOs and sockets are refused without blocking (opened non-blocking, the type
    checked again on the open descriptor); more than ``max_bytes`` is refused, counted while
    reading, since ``st_size`` says 0 for devices and for /proc files.
    """
    name = str(label) if label is not None else str(path)
    try:
        info = os.stat(path)
        _require_regular(name, info)
        if info.st_size > max_bytes:
            raise ImageLoadError(name, f"is too large a file ({info.st_size} bytes)")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except ImageLoadError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        raise ImageLoadError(name, f"cannot be read ({_os_reason(exc)})") from exc
    try:
        info = os.fstat(fd)
        _require_regular(name, info)  # swapped for something else since the stat above
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise ImageLoadError(name, f"is too large a file (over {max_bytes} bytes)")
    except ImageLoadError:
        raise
    except OSError as exc:
        raise ImageLoadError(name, f"cannot be read ({_os_reason(exc)})") from exc
    finally:
        os.close(fd)
    return b"".join(chunks), info


def _os_reason(exc: BaseException) -> str:
    return str(getattr(exc, "strerror", None) or exc).splitlines()[0]


def _require_regular(name: str, info: os.stat_result) -> None:
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise ImageLoadError(name, "is a folder, not an image file")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISFIFO(mode):
        kind = "a FIFO (named pipe)"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "a special file"
    raise ImageLoadError(name, f"is not a regular file ({kind}); only files are read")


def _too_large(name: str, w: int, h: int, max_pixels: int, what: str = "") -> ImageLoadError:
    return ImageLoadError(
        name,
        f"is too large{what} ({w}x{h} = {w * h / 1e6:.0f} megapixels; limit "
        f"{max_pixels / 1e6:.0f}) and was refused as a possible decompression bomb",
    )


def _structure_problem(data: bytes) -> str | None:
    """A reason found in the file's structure before decoding (see image_integrity)."""
    try:
        if data[:2] == b"\xff\xd8":
            return image_integrity.jpeg_problem(data)
        if data[4:8] == b"ftyp":
            return image_integrity.heif_problem(data)
    except (struct.error, IndexError, ValueError):
        return None  # unreadable structure: the decoder gives the reason
    return None


def _decode(data: bytes, name: str, max_pixels: int, max_side: int | None) -> DecodedPhoto:
    problem = _structure_problem(data)
    if problem is not None:
        raise ImageLoadError(name, problem)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", message="Corrupt EXIF data")
            with Image.open(io.BytesIO(data)) as im:
                fmt = (im.format or "").upper()
                if fmt not in SUPPORTED_FORMATS:
                    raise ImageLoadError(name, f"unsupported image format {fmt or 'unknown'}")
                w, h = im.size
                if w * h > max_pixels:
                    raise _too_large(name, w, h, max_pixels)
                if max_side is not None and fmt in ("JPEG", "MPO") and max(w, h) > max_side:
                    scale = max_side / max(w, h)  # the decoder picks a scale >= this size
                    im.draft(None, (math.ceil(w * scale), math.ceil(h * scale)))
                # Image.open leaves the first frame (for HEIF: the primary image) selected.
                im.load()
                problem = image_integrity.decoded_problem(im, fmt)
                if problem is not None:
                    raise ImageLoadError(name, problem)
                exif = _safe_exif(im)
                orientation = _orientation(exif)
                image = to_rgb(im)
    except ImageLoadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(
            name, "is too large and was refused as a possible decompression bomb"
        ) from exc
    except UnidentifiedImageError as exc:
        raise ImageLoadError(name, "is not an image or is corrupt (format not recognised)") from exc
    except _DECODE_ERRORS as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "truncated" in msg.lower() or isinstance(exc, EOFError):
            raise ImageLoadError(name, f"is truncated or damaged ({msg})") from exc
        raise ImageLoadError(name, f"is corrupt or unreadable ({msg})") from exc
    if max_side is not None and max(image.size) > max_side:
        image = thumbnail(image, max_side)
    if orientation in _UPRIGHT:
        image = image.transpose(_UPRIGHT[orientation])
    upright = (h, w) if orientation >= 5 else (w, h)
    return DecodedPhoto(
        image=image,
        format=fmt,
        taken_at=exif_taken_at(exif),
        orientation=orientation,
        width=upright[0],
        height=upright[1],
    )


def _orientation(exif: Image.Exif | None) -> int:
    """The EXIF orientation tag (1-8), 1 when absent or invalid."""
    try:
        value = int(exif.get(0x0112) or 1) if exif is not None else 1
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


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
        year, month, day, hour, minute, second = (int(g) for g in m.groups())
        when = datetime(year, month, day, hour, minute, second)
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


def load_mask(path: str | os.PathLike[str], *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read a mask image's lesion as a boolean array (H, W).

    Lesion = any non-zero pixel but healthy skin (128; see :mod:`core.mask_labels`). Same
    refusals as :func:`load_labelled_mask`.
    """
    return mask_labels.lesion_of(_read_mask_array(path, max_pixels))


def load_labelled_mask(path: str | os.PathLike[str], *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read a mask image as the uint8 (H, W) mask of :mod:`core.mask_labels` (0/128/255).

    Same refusals as photos (only regular files, the pixel limit checked before decoding);
    every problem is an :class:`ImageLoadError` with a one-line reason.
    """
    return mask_labels.canonical_mask(_read_mask_array(path, max_pixels))


def _read_mask_array(path: str | os.PathLike[str], max_pixels: int) -> np.ndarray:
    """A mask file's one channel as it is stored (bool for 1-bit files)."""
    name = str(path)
    data, _ = read_regular_file(path, label=name)
    if not data:
        raise ImageLoadError(name, "is an empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
                if w * h > max_pixels:
                    raise _too_large(name, w, h, max_pixels, " for a mask")
                im.load()
                arr = np.asarray(im.convert("L") if im.mode not in ("L", "1", "I", "I;16") else im)
    except ImageLoadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(
            name, "is too large for a mask and was refused as a possible decompression bomb"
        ) from exc
    except (UnidentifiedImageError, *_DECODE_ERRORS) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImageLoadError(name, f"is not a readable mask image ({msg})") from exc
    if arr.ndim != 2:
        raise ImageLoadError(name, f"is not a readable mask image (shape {arr.shape})")
    return arr


def mask_to_image(mask: np.ndarray) -> Image.Image:
    """A mask (bool lesion, or any mask of :mod:`core.mask_labels`) as a lossless 8-bit image:
    0, 128 (healthy skin) or 255 (lesion)."""
    return Image.fromarray(mask_labels.canonical_mask(mask), mode="L")


def mask_png_bytes(mask: np.ndarray) -> bytes:
    """A mask encoded as a lossless PNG (deterministic bytes for equal masks; a mask without
    skin gives the same 0/255 bytes as before skin could be marked)."""
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


def mask_outline(mask: np.ndarray, width: int = 2) -> np.ndarray:
    """The outline of ``mask`` (bool H x W): the pixels its one-pixel erosion loses, thickened
    to ``width`` pixels inward and down-right (visible on a reduced or printed photo)."""
    mask = np.asarray(mask, dtype=bool)
    inner = mask.copy()  # the mask shrunk by one pixel: the outline is what it lost
    inner[1:, :] &= mask[:-1, :]
    inner[:-1, :] &= mask[1:, :]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    edge: np.ndarray = mask & ~inner
    thick = edge.copy()
    for _ in range(max(0, width - 1)):
        grown = thick.copy()
        grown[1:, :] |= thick[:-1, :]
        grown[:, 1:] |= thick[:, :-1]
        thick = grown
    return np.asarray(thick, dtype=bool)
