"""What the quick check on opening the store found, said in plain words for the status bar."""

from __future__ import annotations

from pathlib import Path

from eczema_tracker.store.records import StoreCheck

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
