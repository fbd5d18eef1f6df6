"""What the GUI may use of the store: the store itself, its record types, its errors, its
backup/restore and its checks.

The GUI imports the store only through here (an import-linter contract checks it), so this file
lists the store's surface the app depends on; anything else of ``eczema_tracker.store`` is an
internal of the store. Nothing here imports Qt, torch or the ML package.
"""

from __future__ import annotations

from pathlib import Path

from eczema_tracker.store import Store
from eczema_tracker.store.backup.export import ExportSummary, export_store
from eczema_tracker.store.backup.restore import RestoreSummary, restore_store
from eczema_tracker.store.check.checker import StoreCheckResult, quick_check_store
from eczema_tracker.store.errors import StoreError
from eczema_tracker.store.records import (
    COMMON_SITES,
    AnalysisRecord,
    ImportResult,
    MaskRecord,
    PhotoRecord,
    PromptRecord,
    SeverityModelRecord,
    ShownMask,
    StoreCheck,
    TimelinePoint,
    parse_iso,
)

__all__ = [
    "COMMON_SITES",
    "AnalysisRecord",
    "ExportSummary",
    "ImportResult",
    "MaskRecord",
    "PhotoRecord",
    "PromptRecord",
    "RestoreSummary",
    "SeverityModelRecord",
    "ShownMask",
    "Store",
    "StoreCheck",
    "StoreCheckResult",
    "StoreError",
    "TimelinePoint",
    "export_store",
    "open_store",
    "parse_iso",
    "quick_check_store",
    "restore_store",
]


def open_store(data_dir: Path | str | None = None) -> Store:
    """Open (creating if needed) the store in ``data_dir`` (the default data folder if None)."""
    return Store.open(data_dir)
