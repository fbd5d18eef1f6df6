"""Versioned user settings, saved atomically as JSON in the config folder.

A settings file from an older version is migrated step by step; one from a newer version
is read for the keys this version knows and never overwritten with less.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from eczema_tracker.core import paths
from eczema_tracker.core.atomic import atomic_write_text

SETTINGS_VERSION = 1
SETTINGS_FILE = "settings.json"


@dataclass
class Settings:
    """What the user chose; defaults are the paper's."""

    dino_source: str = "facebook/dino-vitb16"
    seggpt_source: str = "BAAI/seggpt-vit-large"
    k: int = 2
    device: str = "auto"  # "auto", "cpu" or "cuda"
    last_site: str = "unspecified"
    allow_downloads: bool = True
    extra: dict[str, object] = field(default_factory=dict)  # keys from newer versions, untouched
    #: The version of the file these settings were read from: a file a newer app wrote keeps
    #: its version when saved again, so that app still recognises its own keys in ``extra``.
    file_version: int = field(default=SETTINGS_VERSION, repr=False, compare=False)

    @classmethod
    def load(cls, config_dir: Path | None = None) -> Settings:
        """Read the settings file; a missing or unreadable one gives the defaults."""
        path = (config_dir or paths.config_dir()) / SETTINGS_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        raw, version = _migrate(raw)
        defaults = cls()
        known = {f.name for f in fields(cls)} - {"extra", "file_version"}
        # A value of the wrong type (hand-edited or damaged file) falls back to its default.
        values = {
            k: v
            for k, v in raw.items()
            if k in known and type(v) is type(getattr(defaults, k))  # noqa: E721 (bool is not int)
        }
        k = values.get("k")
        if isinstance(k, int) and not 1 <= k <= 8:
            del values["k"]
        if "device" in values and values["device"] not in ("auto", "cpu", "cuda"):
            del values["device"]
        extra = {k: v for k, v in raw.items() if k not in known and k != "version"}
        settings = cls(extra=extra, file_version=version)
        for name, value in values.items():  # each of the type of its default (checked above)
            setattr(settings, name, value)
        return settings

    def save(self, config_dir: Path | None = None) -> Path:
        """Write the settings atomically (temp file, fsync, ``os.replace``)."""
        folder = paths.ensure_private_dir(config_dir or paths.config_dir())
        data = asdict(self)
        extra = data.pop("extra")
        version = max(SETTINGS_VERSION, data.pop("file_version"))
        payload = {**extra, **data, "version": version}
        return atomic_write_text(
            folder / SETTINGS_FILE, json.dumps(payload, indent=2, sort_keys=True)
        )


def _migrate(raw: dict[str, object]) -> tuple[dict[str, object], int]:
    """Bring an older settings dict up to :data:`SETTINGS_VERSION` (no steps yet).

    Returns the dict and the version of the file it came from (1 when missing or invalid).
    """
    found = raw.get("version", 1)
    version = found if type(found) is int and found >= 1 else 1
    # Future: `if version == 1: raw = _v1_to_v2(raw); version = 2`
    return {**raw, "version": version}, version
