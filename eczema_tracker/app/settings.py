"""Versioned user settings, saved atomically as JSON in the config folder.

A settings file from an older version is migrated step by step; one from a newer version
is read for the keys this version knows and never overwritten with less.

A settings file that cannot be read as settings (not a regular file, over
:data:`MAX_SETTINGS_BYTES`, not JSON, nested too deeply for the parser, not an object) is set
aside as ``settings.json.broken-<time>`` (nothing is deleted), the defaults are used, and
:attr:`Settings.load_problem` says so in one sentence for the shells to show once (the next
start finds no file). A value of the wrong type only falls back to its own default.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from eczema_tracker.core import paths
from eczema_tracker.core.atomic import atomic_write_text
from eczema_tracker.core.imaging import ImageLoadError, read_regular_file

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1
SETTINGS_FILE = "settings.json"
#: Larger settings files are refused unread (the real one is well under 1 KiB).
MAX_SETTINGS_BYTES = 1024 * 1024


@dataclass
class Settings:
    """What the user chose; defaults are the paper's."""

    dino_source: str = "facebook/dino-vitb16"
    seggpt_source: str = "BAAI/seggpt-vit-large"
    k: int = 2
    device: str = "auto"  # "auto", "cpu" or "cuda"
    last_site: str = "unspecified"
    allow_downloads: bool = True
    #: The folder of the last backup saved or restored from the app ("" until one is): the
    #: backup file dialogs open there.
    last_backup_folder: str = ""
    extra: dict[str, object] = field(default_factory=dict)  # keys from newer versions, untouched
    #: The version of the file these settings were read from: a file a newer app wrote keeps
    #: its version when saved again, so that app still recognises its own keys in ``extra``.
    file_version: int = field(default=SETTINGS_VERSION, repr=False, compare=False)
    #: Set by :meth:`load` when the file was broken and set aside: one sentence to show the
    #: person (the CLI on stderr, the app at start); "" otherwise. Never saved.
    load_problem: str = field(default="", repr=False, compare=False)

    @classmethod
    def load(cls, config_dir: Path | None = None) -> Settings:
        """Read the settings file; a missing one gives the defaults, a broken one is set
        aside and gives the defaults with :attr:`load_problem` set (see the module doc)."""
        path = (config_dir or paths.config_dir()) / SETTINGS_FILE
        if not os.path.lexists(path):
            return cls()
        try:
            data, _info = read_regular_file(path, max_bytes=MAX_SETTINGS_BYTES)
            raw = json.loads(data.decode("utf-8"))
            if not isinstance(raw, dict):
                raise ValueError("not a JSON object")
        except ImageLoadError as exc:
            if isinstance(exc.__cause__, OSError) and not path.is_dir():
                # A read error (permissions, I/O), not a broken file: it may be fine, so it is
                # left where it is; the defaults serve this time.
                return cls(
                    load_problem=f"Your settings file {path} {exc.reason}; it was left as it is "
                    "and the default settings are used this time."
                )
            reason = "it is a folder" if path.is_dir() else exc.reason
            return cls(load_problem=_set_aside(path, reason))
        except RecursionError:
            return cls(load_problem=_set_aside(path, "nested too deeply"))
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError too
            return cls(load_problem=_set_aside(path, f"not valid settings: {exc}"))
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
        data.pop("load_problem")
        payload = {**extra, **data, "version": version}
        return atomic_write_text(
            folder / SETTINGS_FILE, json.dumps(payload, indent=2, sort_keys=True)
        )


def _set_aside(path: Path, reason: str) -> str:
    """Rename the broken settings file aside; the sentence that tells the person."""
    reason = reason.splitlines()[0][:200]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{SETTINGS_FILE}.broken-{stamp}")
    number = 1
    while os.path.lexists(aside):
        number += 1
        aside = path.with_name(f"{SETTINGS_FILE}.broken-{stamp}-{number}")
    try:
        os.rename(path, aside)
    except OSError as exc:
        log.warning("could not set %s aside: %s", path, exc)
        return (
            f"The settings file {path} could not be read ({reason}) and could not be set aside "
            f"({exc.strerror or exc}); the default settings are used."
        )
    log.warning("settings file %s set aside as %s: %s", path, aside, reason)
    return (
        f"The settings file {path} could not be read ({reason}); it was set aside as "
        f"{aside.name} and the default settings are used."
    )


def _migrate(raw: dict[str, object]) -> tuple[dict[str, object], int]:
    """Bring an older settings dict up to :data:`SETTINGS_VERSION` (no steps yet).

    Returns the dict and the version of the file it came from (1 when missing or invalid).
    """
    found = raw.get("version", 1)
    version = found if type(found) is int and found >= 1 else 1
    # Future: `if version == 1: raw = _v1_to_v2(raw); version = 2`
    return {**raw, "version": version}, version
