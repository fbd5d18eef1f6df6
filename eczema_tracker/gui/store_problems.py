"""What the quick check on opening the store found, said in plain words for the status bar."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QMainWindow

from eczema_tracker.core.jobs import CancelCheck, ProgressCallback
from eczema_tracker.gui.tasks import BackgroundTask
from eczema_tracker.store import Store
from eczema_tracker.store.check.checker import StoreCheckResult, quick_check_store
from eczema_tracker.store.records import StoreCheck

log = logging.getLogger(__name__)

_KINDS = {"photos": "photo", "masks": "mask", "models": "severity model"}


def describe_store_check(check: StoreCheck, data_dir: Path) -> str:
    """One or two sentences about missing and unknown files ("" when all is well)."""
    parts = []
    if check.missing_files:
        kinds: dict[str, int] = {}
        for name in check.missing_files:
            kind = _KINDS.get(name.split("/", 1)[0], "other")
            kinds[kind] = kinds.get(kind, 0) + 1
        listed = ", ".join(
            f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(kinds.items())
        )
        verb = "files are" if len(check.missing_files) != 1 else "file is"
        parts.append(
            f"{listed} {verb} missing from the library folder {data_dir}; they cannot be "
            "shown. Restore a backup (File menu) to get them back."
        )
    if check.unknown_files:
        parts.append(
            f"{len(check.unknown_files)} file(s) the library does not know were moved to the "
            f"'orphans' folder inside {data_dir} (nothing was deleted)."
        )
    return " ".join(parts)


def open_check_text(store: Store) -> str:
    """What the check ``Store.open`` ran found, in plain words ("" when all is well)."""
    check = getattr(store, "check", None)
    return "" if check is None else describe_store_check(check, store.data_dir)


def tell_store_problems(window: QMainWindow, store_of: Callable[[], Store]) -> BackgroundTask:
    """Say in the status bar what the open-time check found, then check every file's size in
    the background (:func:`~eczema_tracker.store.check.quick_check_store`: read-only, safe while
    the app writes) and say what that finds. ``store_of()`` is the store open now (a restore
    replaces it). Returns the background check's task."""
    status = window.statusBar()
    text = open_check_text(store_of())
    if text:
        log.warning("store check: %s", text)
        status.showMessage(f"Library check: {text}")
        status.setToolTip(text)
    data_dir = store_of().data_dir

    def op(_progress: ProgressCallback, _cancel: CancelCheck) -> StoreCheckResult:
        return quick_check_store(data_dir)

    def done(result: StoreCheckResult) -> None:
        if result.healthy or result.could_not_run or data_dir != store_of().data_dir:
            return
        found = result.outstanding
        log.warning("quick store check on open: %s", result.plain_summary())
        more = f" (and {len(found) - 1} more; hover for details)" if len(found) > 1 else ""
        status.showMessage(f"Library check: {found[0].message}{more}")
        status.setToolTip(result.plain_summary())  # the CLI repair command stays in the tooltip

    return BackgroundTask(window, op, done).failure(lambda _m: None).run()
