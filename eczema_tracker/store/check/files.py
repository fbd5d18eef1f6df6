"""The store check's look at every row's file: inside the store, present, with the right bytes.

The full check compares each file's SHA-256 with its row (every file is content-addressed);
the quick one, for when the app opens, reads only sizes and ends: a photo's byte size, a mask
PNG's header and end chunk, a safetensors model's declared length.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from eczema_tracker.core.jobs import ProgressCallback, report
from eczema_tracker.store.check.records import FILE_TABLES, FileHasher, Problem, UnusableFile
from eczema_tracker.store.maintenance import ORPHANS
from eczema_tracker.store.rows import fetch_all

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


@dataclass
class RowFiles:
    problems: list[Problem]
    missing: tuple[UnusableFile, ...]
    photo_files: dict[int, tuple[str, str]]
    recoverable: dict[str, str]


def check_row_files(
    root: Path,
    conn: sqlite3.Connection,
    rows: dict[str, list[sqlite3.Row]],
    full: bool,
    hasher: FileHasher,
    progress: ProgressCallback | None,
) -> RowFiles:
    """Every row's file: inside the store, present, with the right bytes."""
    state = RowFiles([], (), {}, {})
    missing: list[UnusableFile] = []
    total = sum(len(r) for r in rows.values())
    done = 0
    for table, label, folder, _ in FILE_TABLES:
        for row in rows[table]:
            row_id, sha, name = row["id"], str(row["sha256"]).lower(), row["stored_name"]
            done += 1
            report(progress, done, total, str(name))
            shown_name = _shown_name(table, row)
            what = f"{label} {row_id}" + (f" ({shown_name})" if shown_name is not None else "")
            path = _safe_path(root, name, folder)
            if path is None:
                state.problems.append(
                    Problem(
                        "outside",
                        f"{what}: its record names {name!r}, which is not a file of this store; it was not touched.",
                    )
                )
                continue
            verdict = _file_verdict(path, table, row, sha, full, hasher)
            if verdict is None:
                if table == "photo":
                    state.photo_files[row_id] = (sha, name)
                continue
            kind, detail = verdict
            keeps = _keeps(conn, table, row_id)
            copy = root / ORPHANS / name
            recoverable = copy.is_file() and not copy.is_symlink() and hasher(copy) == sha
            if recoverable:
                state.recoverable[name] = sha
            kept = (
                f" The record is kept: it holds {', '.join(keeps)}."
                if keeps
                else " The record is kept."
            )
            fix = (
                f" --repair puts back the matching copy found in {ORPHANS}/."
                if recoverable
                else " Restore it from a backup"
                + (" or import the photo again." if table == "photo" else ".")
            )
            state.problems.append(
                Problem(kind, f"{what}: its file {name} {detail}.{kept}{fix}", recoverable, name)
            )
            missing.append(UnusableFile(table, row_id, name, kind, detail, keeps))
    state.missing = tuple(missing)
    return state


def read_file_rows(conn: sqlite3.Connection) -> dict[str, list[sqlite3.Row]]:
    """Every row of each table with files (:data:`FILE_TABLES`), its columns by name."""
    return {t: fetch_all(conn, f"SELECT {cols} FROM {t}") for t, _, _, cols in FILE_TABLES}


def _shown_name(table: str, row: sqlite3.Row) -> str | None:
    """The name the person knows the row's file by (a photo's or model's file name)."""
    if table == "photo":
        return str(row["original_name"])
    if table == "severity_model":
        return str(row["file_name"])
    return None


def _safe_path(root: Path, name: object, folder: str) -> Path | None:
    """``root / name`` if ``name`` is a relative name in ``folder`` resolving inside the store."""
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        return None
    parts = PurePosixPath(name).parts
    if PurePosixPath(name).is_absolute() or ".." in parts or len(parts) < 2 or parts[0] != folder:
        return None
    path = root / name
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # e.g. a symlink loop
        return None
    return path if inside else None


def _file_verdict(
    path: Path, table: str, row: sqlite3.Row, sha: str, full: bool, hasher: FileHasher
) -> tuple[Literal["missing", "damaged"], str] | None:
    """None when the file is right; else ("missing" | "damaged", what is wrong)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return "missing", "is missing"
    except OSError as exc:
        return "damaged", f"cannot be read ({exc.strerror or exc})"
    if not path.is_file() or path.is_symlink():
        return "damaged", "is not a regular file"
    expected_size = row["byte_size"] if table == "photo" else None
    if expected_size is not None and st.st_size != expected_size:
        return "damaged", f"is {st.st_size} bytes instead of {expected_size} (cut short or changed)"
    try:
        if full and hasher(path) == sha:
            return None
        if table == "mask_file":
            problem = _png_problem(path, st.st_size, row["width"], row["height"])
        elif table == "severity_model" and path.suffix == ".safetensors":
            problem = _safetensors_problem(path, st.st_size)
        else:
            problem = "is empty" if st.st_size == 0 else None
    except OSError as exc:
        return "damaged", f"cannot be read ({exc.strerror or exc})"
    if problem is None and full:  # the structure looks whole, but the bytes changed
        problem = "has changed: its SHA-256 no longer matches the record"
    return None if problem is None else ("damaged", problem)


def _png_problem(path: Path, size: int, width: int, height: int) -> str | None:
    """Quick form for masks: PNG signature, IHDR size as recorded, the IEND chunk at the end."""
    with open(path, "rb") as fh:
        head = fh.read(24)
        if len(head) < 24 or not head.startswith(_PNG_MAGIC) or head[12:16] != b"IHDR":
            return "is not a whole PNG file"
        w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        if (w, h) != (width, height):
            return f"is {w}x{h} instead of {width}x{height}"
        if size < len(head) + len(_PNG_END):
            return "is cut short (no PNG end chunk)"
        fh.seek(-len(_PNG_END), os.SEEK_END)
        return None if fh.read() == _PNG_END else "is cut short (no PNG end chunk)"


def _safetensors_problem(path: Path, size: int) -> str | None:
    """Quick form for models: the length the safetensors header declares is the file's."""
    with open(path, "rb") as fh:
        prefix = fh.read(8)
        n = int.from_bytes(prefix, "little") if len(prefix) == 8 else -1
        if n < 2 or n > min(size - 8, 100 << 20):
            return "is cut short or not a safetensors file"
        try:
            header = json.loads(fh.read(n))
            end = max(
                (int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"),
                default=0,
            )
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            return "has an unreadable safetensors header"
    expected = 8 + n + end
    return (
        None
        if size == expected
        else f"is {size} bytes instead of {expected} (cut short or changed)"
    )


def _keeps(conn: sqlite3.Connection, table: str, row_id: int) -> tuple[str, ...]:
    """What a row holds that would be lost with it (the person's own work first)."""

    def count(sql: str) -> int:
        return int(conn.execute(sql, (row_id,)).fetchone()[0])

    out: list[str] = []
    if table == "photo":
        for n, what in (
            (
                count("SELECT count(*) FROM rating WHERE photo_id = ? AND rating IS NOT NULL"),
                "rating(s)",
            ),
            (
                count(
                    "SELECT count(*) FROM prompt_mask_version WHERE photo_id = ? AND origin = 'painted'"
                ),
                "painted prompt mask version(s)",
            ),
            (
                count(
                    "SELECT count(*) FROM analysis WHERE photo_id = ? AND corrected_mask_id IS NOT NULL"
                ),
                "corrected mask(s)",
            ),
            (count("SELECT count(*) FROM analysis WHERE photo_id = ?"), "analysis result(s)"),
        ):
            if n:
                out.append(f"{n} {what}")
        if count("SELECT count(*) FROM prompt WHERE photo_id = ?"):
            out.append("its place as a prompt")
    elif table == "mask_file":
        for photo, version, origin in conn.execute(
            "SELECT photo_id, version, origin FROM prompt_mask_version WHERE mask_id = ?", (row_id,)
        ):
            kind = "painted " if origin == "painted" else ""
            out.append(f"the {kind}prompt mask of photo {photo} (version {version})")
        for analysis, photo in conn.execute(
            "SELECT id, photo_id FROM analysis WHERE corrected_mask_id = ?", (row_id,)
        ):
            out.append(f"the person's correction of analysis {analysis} of photo {photo}")
        n = count("SELECT count(*) FROM analysis WHERE mask_id = ?")
        if n:
            out.append(f"the segmentation of {n} analysis result(s)")
    else:
        if count("SELECT count(*) FROM severity_model WHERE id = ? AND active = 1"):
            out.append("the active severity model")
        n = count("SELECT count(*) FROM analysis WHERE severity_model_id = ?")
        if n:
            out.append(f"the scores of {n} analysis result(s)")
    return tuple(out)
