"""Free disk space before a model download: refuse in one sentence when the cache lacks room.

No Qt, no network: the caller lists the hub files (name, size) and asks here first.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from eczema_tracker.ml.checkpoint_files import ModelSourceError

#: Room left free beyond the files themselves (huggingface_hub writes each file whole first).
DOWNLOAD_SPARE_BYTES = 100 * 1024 * 1024


def check_free_space(cache: Path, needed_bytes: int, spec: str) -> None:
    """Refuse in one sentence when ``cache`` lacks room for ``needed_bytes`` (plus a spare)."""
    free = shutil.disk_usage(cache).free
    if needed_bytes and free < needed_bytes + DOWNLOAD_SPARE_BYTES:
        raise ModelSourceError(
            f"Not enough free disk space to download '{spec}': it needs about "
            f"{_gb(needed_bytes + DOWNLOAD_SPARE_BYTES)} in {cache} and only {_gb(free)} is free; "
            "free some space there or choose model folders on this computer."
        )


def _gb(size: int) -> str:
    return f"{size / 1e9:.1f} GB" if size >= 1e8 else f"{size / 1e6:.0f} MB"


def missing_bytes(cache: Path, repo_id: str, commit: str, files: list[tuple[str, int]]) -> int:
    """Bytes of ``files`` not yet complete in the cached snapshot of ``commit``."""
    snapshot = cache / f"models--{repo_id.replace('/', '--')}" / "snapshots" / commit
    missing = 0
    for name, size in files:
        local = snapshot / name
        if not (local.is_file() and local.stat().st_size == size):
            missing += size
    return missing
