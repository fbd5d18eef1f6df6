"""Content-addressed files written atomically (temp file, fsync, ``os.replace``, fsync folder).

Layout inside the store folder: ``photos/ab/<sha256><suffix>``, ``masks/ab/<sha256>.png``,
``models/ab/<sha256><suffix>``, ``thumbnails/ab/<sha256>.jpg`` (a cache), ``tmp/`` (temp files,
emptied whenever the store is opened for writing).

File names from outside (a photo's original name) are kept with :func:`readable_name`: a name
that is not valid UTF-8 (POSIX names are bytes; Python hands undecodable ones over as lone
surrogates, which SQLite, JSON and terminals refuse) is stored with those bytes written as
``\\xNN`` and backslashes doubled, so it reads well anywhere and :func:`name_bytes` gives back
the exact original bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from eczema_tracker.core.atomic import atomic_path, fsync_dir
from eczema_tracker.core.paths import make_private_dirs

PHOTOS = "photos"
MASKS = "masks"
MODELS = "models"
THUMBNAILS = "thumbnails"
TMP = "tmp"
#: Folders whose files are referenced by database rows (exported, checked, cleaned).
CONTENT_FOLDERS = (PHOTOS, MASKS, MODELS)
_CHUNK = 1 << 20
_ESCAPE = re.compile(r"\\\\|\\x([0-9a-fA-F]{2})")


def _raw_bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # surrogates outside the escape range (Windows names)
        return text.encode("utf-8", "surrogatepass")


def readable_name(text: str) -> str:
    """``text`` (a file name, maybe with undecodable bytes) as valid text, losslessly.

    Valid UTF-8 without a backslash comes back unchanged; otherwise backslashes are doubled and
    undecodable bytes written ``\\xNN`` (``b"IMG\\xff.jpg"`` -> ``"IMG\\\\xff.jpg"``).
    """
    raw = _raw_bytes(text)
    if b"\\" not in raw:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return raw.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")


def name_bytes(shown: str) -> bytes:
    """The original bytes of a name made by :func:`readable_name` (its exact inverse)."""
    out = bytearray()
    last = 0
    for match in _ESCAPE.finditer(shown):
        out += shown[last : match.start()].encode("utf-8", "surrogatepass")
        out += bytes([int(match.group(1), 16)]) if match.group(1) else b"\\"
        last = match.end()
    out += shown[last:].encode("utf-8", "surrogatepass")
    return bytes(out)


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def content_name(folder: str, sha256: str, suffix: str) -> str:
    """Relative stored name of a content-addressed file: ``folder/ab/<sha><suffix>``."""
    return f"{folder}/{sha256[:2]}/{sha256}{suffix.lower()}"


def atomic_write_bytes(root: Path, stored_name: str, data: bytes) -> Path:
    """Write ``data`` to ``root/stored_name`` atomically; the folder ``root/tmp`` holds the temp.

    The target either keeps its old content or has all of ``data``; never a partial file.
    """
    target = write_file_durably(root, stored_name, data)
    fsync_dir(target.parent)
    return target


def write_file_durably(root: Path, stored_name: str, data: bytes, *, sync: bool = True) -> Path:
    """Like :func:`atomic_write_bytes` but leaves the folder fsync to the caller (batching)."""
    target = root / stored_name
    make_private_dirs(target.parent)
    tmp_dir = root / TMP  # temp files here are swept after a crash (see clear_tmp)
    make_private_dirs(tmp_dir)
    with atomic_path(target, sync=sync, tmp_dir=tmp_dir) as tmp:
        tmp.write_bytes(data)
    return target


def write_cache_file(root: Path, stored_name: str, data: bytes) -> Path:
    """Atomic (never partial) but not fsynced: for caches such as thumbnails."""
    return write_file_durably(root, stored_name, data, sync=False)


def atomic_copy_file(root: Path, stored_name: str, source: Path) -> Path:
    """Copy ``source`` to ``root/stored_name`` atomically (same guarantees as atomic_write_bytes)."""
    return atomic_write_bytes(root, stored_name, source.read_bytes())


def iter_content_files(root: Path) -> Iterator[str]:
    """Stored names (``photos/ab/...``) of every file in the content folders."""
    for folder in CONTENT_FOLDERS:
        try:
            subs = list(os.scandir(root / folder))
        except (FileNotFoundError, NotADirectoryError):  # none yet, or moved by a restore
            continue
        for sub in subs:
            if not sub.is_dir(follow_symlinks=False):
                yield f"{folder}/{sub.name}"
                continue
            try:
                entries = list(os.scandir(sub.path))
            except FileNotFoundError:
                continue
            for entry in entries:
                yield f"{folder}/{sub.name}/{entry.name}"


def clear_tmp(root: Path) -> int:
    """Delete leftover temp files (only call while holding the writer lock); return how many."""
    tmp_dir = root / TMP
    removed = 0
    if tmp_dir.is_dir():
        for entry in os.scandir(tmp_dir):
            try:
                os.unlink(entry.path)
                removed += 1
            except IsADirectoryError:  # pragma: no cover - we never create folders there
                pass
            except FileNotFoundError:
                pass
    return removed
