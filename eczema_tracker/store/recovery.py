"""Finishing or rolling back an interrupted store swap (restore) before the store is opened.

Placeholder owned by the backup/restore work: :func:`finish_interrupted_swap` is called by
``Store.open`` before anything else touches the folder.
"""

from __future__ import annotations

from pathlib import Path


def finish_interrupted_swap(folder: Path) -> None:
    """Complete or undo a restore that was killed between its renames (nothing to do yet)."""
    return None
