"""Safe image loading: every phone format, EXIF rotation, size limits, clear refusals.

All photo decoding in the app goes through :func:`open_image`; it never modifies the file.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

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
    {".jpg", ".jpeg", ".jpe", ".png", ".heic", ".heif", ".hif", ".webp", ".tif", ".tiff",
     ".mpo", ".bmp", ".gif"}
)


class ImageLoadError(ValueError):
    """A file that cannot be used as a photo; ``reason`` is one plain sentence."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def open_image(path: str | os.PathLike[str], *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode ``path`` into an upright 8-bit RGB image (first frame of multi-image files).

    EXIF orientation is applied; CMYK, greyscale, 16-bit and alpha images are converted to RGB
    (alpha composited on white). Raises :class:`ImageLoadError` with a one-line reason for
    anything that is not a complete, supported image of at most ``max_pixels`` pixels.
    """
    p = Path(path)
    if p.is_dir():
        raise ImageLoadError(p, "is a folder, not an image file")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise ImageLoadError(p, f"cannot be read ({exc.strerror or exc})") from exc
    if size == 0:
        raise ImageLoadError(p, "is an empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                fmt = (im.format or "").upper()
                if fmt not in SUPPORTED_FORMATS:
                    raise ImageLoadError(p, f"unsupported image format {fmt or 'unknown'}")
                w, h = im.size
                if w * h > max_pixels:
                    raise ImageLoadError(
                        p, f"is too large ({w}x{h} = {w * h / 1e6:.0f} megapixels; limit "
                        f"{max_pixels / 1e6:.0f}) and was refused as a possible decompression bomb"
                    )
                im.seek(0)
                im.load()
                upright = ImageOps.exif_transpose(im)
                return to_rgb(upright)
    except ImageLoadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(p, "is too large and was refused as a possible decompression bomb") from exc
    except UnidentifiedImageError as exc:
        raise ImageLoadError(p, "is not an image or is corrupt (format not recognised)") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "truncated" in msg.lower() or isinstance(exc, EOFError):
            raise ImageLoadError(p, f"is truncated or damaged ({msg})") from exc
        raise ImageLoadError(p, f"is corrupt or unreadable ({msg})") from exc


def to_rgb(im: Image.Image) -> Image.Image:
    """Convert any Pillow mode (CMYK, L, I;16, RGBA, P, ...) to 8-bit RGB."""
    if im.mode == "RGB":
        return im.copy()
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
    except (OSError, UnidentifiedImageError) as exc:
        raise ImageLoadError(path, f"is not a readable mask image ({exc})") from exc
    return arr > 0


def mask_to_image(mask: np.ndarray) -> Image.Image:
    """A boolean (H, W) mask as a lossless 8-bit PNG-ready image (0 or 255)."""
    return Image.fromarray(np.where(np.asarray(mask, dtype=bool), 255, 0).astype(np.uint8), mode="L")


def is_image_name(path: str | os.PathLike[str]) -> bool:
    """True if the file name has a photo suffix we try to import."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES
