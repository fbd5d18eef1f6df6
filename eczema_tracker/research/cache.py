"""On-disk cache of per-image research work: features (.npy), masks (PNG), retrievals (JSON).

Entries are addressed by a SHA-256 of everything that decides their content (image hash,
model fingerprints, settings, prompt set), so a stale entry is never read: a change makes a
new key. Only safe formats are read back (``np.load(allow_pickle=False)``, PNG, JSON).
Writes are atomic (temp file + fsync + ``os.replace``); a damaged entry is treated as a miss.
The cache holds features and masks of people's photos, so it is owner-only: folders 0700, files
0600 (the temp files are created 0600 and keep that mode when renamed into place).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from eczema_tracker.core import imaging, paths
from eczema_tracker.core.atomic import atomic_write_bytes, atomic_write_text


def cache_key(*parts: Any) -> str:
    """A stable hex key for JSON-able ``parts``."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def mask_digest(mask: np.ndarray) -> str:
    """Content hash of a boolean mask (shape included)."""
    mask = np.asarray(mask, dtype=bool)
    return hashlib.sha256(repr(mask.shape).encode() + np.packbits(mask).tobytes()).hexdigest()


class ResearchCache:
    """Folder of cached research work (default ``paths.cache_dir()/research``)."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else paths.cache_dir() / "research"
        self.hits = 0
        self.misses = 0
        self._root_checked = False

    def _path(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / key[:2] / f"{key}{suffix}"

    def _writable_path(self, kind: str, key: str, suffix: str) -> Path:
        path = self._path(kind, key, suffix)
        paths.make_private_dirs(path.parent)
        if not self._root_checked:  # a cache an older version made 0755 is tightened once
            self._root_checked = True
            if os.name == "posix" and self.root.stat().st_mode & 0o077:
                os.chmod(self.root, 0o700)
        return path

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
        atomic_write_bytes(self._writable_path(kind, key, ".npy"), buffer.getvalue())

    def get_mask(self, kind: str, key: str) -> np.ndarray | None:
        return self._read(self._path(kind, key, ".png"), imaging.load_mask)

    def put_mask(self, kind: str, key: str, mask: np.ndarray) -> None:
        buffer = io.BytesIO()
        imaging.mask_to_image(mask).save(buffer, format="PNG")
        atomic_write_bytes(self._writable_path(kind, key, ".png"), buffer.getvalue())

    def get_json(self, kind: str, key: str) -> Any | None:
        return self._read(
            self._path(kind, key, ".json"), lambda p: json.loads(p.read_text("utf-8"))
        )

    def put_json(self, kind: str, key: str, value: Any) -> None:
        atomic_write_text(
            self._writable_path(kind, key, ".json"), json.dumps(value, sort_keys=True)
        )
