"""Every location the app uses, from platformdirs, in one place.

Overrides, strongest first: an explicit argument (``--data-dir``), the environment
(``ECZEMA_TRACKER_DATA_DIR``, ``ECZEMA_TRACKER_CACHE_DIR``, ``ECZEMA_TRACKER_CONFIG_DIR``),
then the platform's usual user folders.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "eczema-tracker"
APP_AUTHOR = "eczema-tracker"

DATA_DIR_ENV = "ECZEMA_TRACKER_DATA_DIR"
CACHE_DIR_ENV = "ECZEMA_TRACKER_CACHE_DIR"
CONFIG_DIR_ENV = "ECZEMA_TRACKER_CONFIG_DIR"


def _pick(override: str | os.PathLike[str] | None, env: str, default: str) -> Path:
    if override:
        return Path(override).expanduser()
    if os.environ.get(env):
        return Path(os.environ[env]).expanduser()
    return Path(default)


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Folder of the photo store (database, photos, masks, models the user trained)."""
    return _pick(override, DATA_DIR_ENV, platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Folder of things that can be rebuilt: downloaded weights, converted checkpoints, feature caches."""
    return _pick(override, CACHE_DIR_ENV, platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR))


def models_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Where downloaded and converted model checkpoints live (inside the cache folder)."""
    return cache_dir(override) / "models"


def config_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Folder of the settings file."""
    return _pick(override, CONFIG_DIR_ENV, platformdirs.user_config_dir(APP_NAME, APP_AUTHOR))


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the owner only (0700); return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(path, 0o700)
    except OSError:  # e.g. a folder the user owns on a filesystem without modes
        pass
    return path


def make_private_dirs(folder: Path) -> None:
    """``mkdir -p`` where every folder it creates is owner-only (0700, whatever the umask)."""
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            pass
        if os.name == "posix":
            os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask
