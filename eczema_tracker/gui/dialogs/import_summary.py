"""Plain-words summary of an import: imported, duplicates, refused with each reason."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from eczema_tracker.app.store_api import ImportResult


def plain_reason(reason: str | None) -> str:
    """A refusal reason in a person's words (no "decompression bomb": say it is too large)."""
    if not reason:
        return "not a usable photo"
    if "decompression bomb" in reason:
        size = re.search(r"= (\d+) megapixels; limit (\d+)", reason)
        if size:
            return (
                f"this photo is too large ({size.group(1)} megapixels; the app opens photos of "
                f"up to {size.group(2)} megapixels)"
            )
        return "this photo is too large to open safely"
    return reason


def summarise_import(results: Sequence[ImportResult]) -> tuple[str, str]:
    """(headline, details) for a list of ``ImportResult``; details list every file not imported."""
    imported = [r for r in results if r.status == "imported"]
    duplicates = [r for r in results if r.status == "duplicate"]
    refused = [r for r in results if r.status == "refused"]
    headline = f"{len(imported)} imported, {len(duplicates)} already in the library, {len(refused)} refused."
    lines = []
    if refused:
        lines.append("Refused:")
        lines += [f"  {Path(r.path).name}: {plain_reason(r.reason)}" for r in refused]
    if duplicates:
        lines.append("Already in the library (skipped):")
        lines += [f"  {Path(r.path).name}" for r in duplicates]
    if imported:
        lines.append("Imported:")
        lines += [f"  {Path(r.path).name}" for r in imported]
    return headline, "\n".join(lines)
