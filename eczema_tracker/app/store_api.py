"""What the GUI may use of the store: the store itself, its record types and its errors.

The GUI imports the store only through here (an import-linter contract checks it), so this file
lists the store's surface the app depends on; anything else of ``eczema_tracker.store`` is an
internal of the store.
"""

from __future__ import annotations

from eczema_tracker.store import Store
from eczema_tracker.store.errors import StoreError

__all__ = ["Store", "StoreError"]
