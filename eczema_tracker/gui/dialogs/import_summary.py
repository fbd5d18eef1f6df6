"""Plain-words summary of an import: imported, duplicates, refused with each reason, and how
many dates were guessed from the files (the window offers to set one date for them)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from eczema_tracker.gui.formatting import GUESSED_DATE_MARK
from eczema_tracker.store.records import ImportResult


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


def guessed_date_ids(results: Sequence[ImportResult]) -> list[int]:
    """The photos just imported whose date is the file's, not the camera's."""
    return [
        r.photo_id
        for r in results
        if r.status == "imported" and r.date_guessed and r.photo_id is not None
    ]


def summarise_import(results: Sequence[ImportResult]) -> tuple[str, str]:
    """(headline, details) for a list of ``ImportResult``; details list every file not imported."""
    imported = [r for r in results if r.status == "imported"]
    duplicates = [r for r in results if r.status == "duplicate"]
    refused = [r for r in results if r.status == "refused"]
    headline = f"{len(imported)} imported, {len(duplicates)} already in the library, {len(refused)} refused."
    guessed = guessed_date_ids(results)
    if guessed:
        n = len(guessed)
        headline += (
            f" {n} date{'s were' if n != 1 else ' was'} guessed from the files (no camera date "
            f"in {'them' if n != 1 else 'it'}): marked {GUESSED_DATE_MARK} in the library."
        )
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
