"""What export and restore share: the backup's format, its limits and message helpers."""

from __future__ import annotations

#: The zip member that lists every other member's sha256 and size.
MANIFEST = "manifest.json"
BACKUP_FORMAT = "eczema-tracker-backup"
BACKUP_FORMAT_VERSION = 1
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
#: Largest photo or mask member accepted (the importer's own limit for a photo).
MAX_IMAGE_MEMBER_BYTES = 512 * 1024 * 1024
#: Largest severity-model member accepted (the app's models are a few MB).
MAX_MODEL_MEMBER_BYTES = 1024 * 1024 * 1024
#: Bytes copied at a time.
CHUNK = 1 << 20


def human_size(n: int) -> str:
    """``n`` bytes as "1.2 GB" or "3.4 MB"."""
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def os_error_text(exc: OSError) -> str:
    """An OS error as a short clause: its reason and, when known, the file."""
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"
