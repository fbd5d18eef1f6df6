"""What the store's folder holds: the entries the app makes there, and nothing it may touch besides.

A person may point the data folder anywhere (``--data-dir ~/Documents``), so the app never
assumes a folder is its own: :data:`REPLACED_BY_RESTORE` is everything a restore replaces and
:data:`OWN_ENTRIES` everything the app ever makes in the folder. A folder without a store that
holds anything else is refused at the first write (:func:`refuse_a_folder_not_ours`), and a
restore over an existing store moves only its own entries, so a person's files beside the store
stay where they are.
"""

from __future__ import annotations

import os
from pathlib import Path

from eczema_tracker.store import db, files
from eczema_tracker.store.errors import StoreError
from eczema_tracker.store.lock import LOCK_NAME
from eczema_tracker.store.maintenance import ORPHANS

#: A marker an older version's restore left in the store folder during its cleanup.
LEGACY_RESTORE_MARKER = ".restore-complete"
#: What a restore replaces, the database last: the new database appears only once every file
#: it refers to is in place (and the old one goes first), so a reader sees one whole store.
REPLACED_BY_RESTORE = (
    files.PHOTOS,
    files.MASKS,
    files.MODELS,
    files.THUMBNAILS,
    files.TMP,
    *reversed(db.DB_FILES),
)
#: Every entry the app makes in the store folder. ``orphans/`` (files no record referred to)
#: is kept across a restore: backups never hold it, and it is never deleted.
OWN_ENTRIES = frozenset((*REPLACED_BY_RESTORE, ORPHANS, LOCK_NAME, LEGACY_RESTORE_MARKER))
#: Files a desktop puts into any folder it shows; harmless, never a reason to refuse one.
_DESKTOP_LITTER = frozenset((".DS_Store", "Thumbs.db", "desktop.ini"))
_LISTED = 3


def has_database(folder: Path) -> bool:
    """True when ``folder`` holds the store's database file (whatever its state)."""
    return (folder / db.DB_NAME).is_file()


def foreign_entries(folder: Path) -> list[str]:
    """Names in ``folder`` the app did not make (folders with a trailing ``/``), sorted."""
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(
        e.name + ("/" if e.is_dir(follow_symlinks=False) else "")
        for e in entries
        if e.name not in OWN_ENTRIES and e.name not in _DESKTOP_LITTER
    )


def refuse_a_folder_not_ours(folder: Path, error: type[StoreError] = StoreError) -> None:
    """Raise ``error`` (one sentence) when ``folder`` has no store yet but holds other files.

    Call before the first write into ``folder``: nothing is created or changed when refused.
    A folder with the store's database is the app's own, whatever else a person put there.
    """
    if has_database(folder):
        return
    foreign = foreign_entries(folder)
    if not foreign:
        return
    shown = ", ".join(foreign[:_LISTED])
    more = f" and {len(foreign) - _LISTED} more" if len(foreign) > _LISTED else ""
    raise error(
        f"{folder} holds files Eczema Tracker did not make ({shown}{more}); "
        "choose an empty folder or the app's own."
    )
