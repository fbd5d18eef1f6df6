"""On-disk cache of per-image research work: features (.npy), masks (PNG), retrievals (JSON).

Entries are addressed by a SHA-256 of everything that decides their content (image hash,
model fingerprints, settings, prompt set), so a stale entry is never read: a change makes a
new key. Only safe formats are read back (``np.load(allow_pickle=False)``, PNG, JSON).
Writes are atomic (temp file + fsync + ``os.replace``); a damaged entry is treated as a miss.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from eczema_tracker import imaging, paths


def cache_key(*parts: Any) -> str:
    """A stable hex key for JSON-able ``parts``."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def mask_digest(mask: np.ndarray) -> str:
    """Content hash of a boolean mask (shape included)."""
    mask = np.asarray(mask, dtype=bool)
    return hashlib.sha256(repr(mask.shape).encode() + np.packbits(mask).tobytes()).hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder, fsync and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """UTF-8 text variant of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


class ResearchCache:
    """Folder of cached research work (default ``paths.cache_dir()/research``)."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else paths.cache_dir() / "research"
        self.hits = 0
        self.misses = 0

    def _path(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / key[:2] / f"{key}{suffix}"

    def _read(self, path: Path, reader: Callable[[Path], Any]) -> Any | None:
        if not path.is_file():
            self.misses += 1
            return None
        try:
            value = reader(path)
        except (OSError, ValueError, json.JSONDecodeError):
            self.misses += 1  # a damaged entry is rebuilt
            return None
        self.hits += 1
        return value

    def get_array(self, kind: str, key: str) -> np.ndarray | None:
        return self._read(self._path(kind, key, ".npy"), lambda p: np.load(p, allow_pickle=False))

    def put_array(self, kind: str, key: str, array: np.ndarray) -> None:
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(array), allow_pickle=False)
        atomic_write_bytes(self._path(kind, key, ".npy"), buffer.getvalue())

    def get_mask(self, kind: str, key: str) -> np.ndarray | None:
        return self._read(self._path(kind, key, ".png"), imaging.load_mask)

    def put_mask(self, kind: str, key: str, mask: np.ndarray) -> None:
        buffer = io.BytesIO()
        imaging.mask_to_image(mask).save(buffer, format="PNG")
        atomic_write_bytes(self._path(kind, key, ".png"), buffer.getvalue())

    def get_json(self, kind: str, key: str) -> Any | None:
        return self._read(
            self._path(kind, key, ".json"), lambda p: json.loads(p.read_text("utf-8"))
        )

    def put_json(self, kind: str, key: str, value: Any) -> None:
        atomic_write_text(self._path(kind, key, ".json"), json.dumps(value, sort_keys=True))
