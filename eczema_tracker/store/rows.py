"""Reading the store's rows by column name: one mapper per record type.

Every query that builds a record names its columns (``AS``) and is read through
:func:`fetch_all`/:func:`fetch_one`, which hand out :class:`sqlite3.Row` (columns by name), so
adding or reordering a column cannot shift another one. The connection itself keeps plain tuples
(other readers of it, such as the check and the backup, rely on that).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eczema_tracker.store.records import MaskRecord, PhotoRecord

#: Query arguments, as :meth:`sqlite3.Connection.execute` takes them.
Args = Sequence[Any]

#: Columns of ``mask_file``, in the order :class:`MaskRecord` lists them.
MASK_FIELDS = ("id", "sha256", "stored_name", "width", "height", "area_fraction", "created_at")

#: A photo with whether it is a prompt (``p`` = photo, ``q`` = prompt).
PHOTO_COLUMNS = (
    "p.id AS id, p.sha256 AS sha256, p.original_name AS original_name, p.format AS format, "
    "p.byte_size AS byte_size, p.width AS width, p.height AS height, p.taken_at AS taken_at, "
    "p.taken_at_source AS taken_at_source, p.imported_at AS imported_at, p.site AS site, "
    "p.note AS note, p.stored_name AS stored_name, q.photo_id IS NOT NULL AS is_prompt, "
    "p.deleted_at AS deleted_at"
)
PHOTO_FROM = "FROM photo p LEFT JOIN prompt q ON q.photo_id = p.id"
IN_LIBRARY = "p.deleted_at IS NULL"  # not in the bin


def fetch_all(conn: sqlite3.Connection, sql: str, args: Args = ()) -> list[sqlite3.Row]:
    """Every row of ``sql``, each readable by column name."""
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor.execute(sql, args).fetchall()


def fetch_one(conn: sqlite3.Connection, sql: str, args: Args = ()) -> sqlite3.Row | None:
    """The first row of ``sql`` (readable by column name), or None."""
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    row: sqlite3.Row | None = cursor.execute(sql, args).fetchone()
    return row


def last_id(cursor: sqlite3.Cursor) -> int:
    """The rowid the INSERT just run on ``cursor`` made."""
    rowid = cursor.lastrowid
    if rowid is None:  # pragma: no cover - set after every successful INSERT
        raise RuntimeError("the INSERT made no row")
    return int(rowid)


def mask_columns(table: str, prefix: str = "", *, skin: bool = True) -> str:
    """``table``'s mask columns named ``<prefix><field>`` (read back by :func:`mask_from_row`).

    ``skin``: whether the database has the schema-6 ``skin_fraction`` column (else 0 is read).
    """
    columns = [f"{table}.{name} AS {prefix}{name}" for name in MASK_FIELDS]
    columns.append(f"{table}.skin_fraction AS {prefix}skin_fraction" if skin else
                   f"0.0 AS {prefix}skin_fraction")  # fmt: skip
    return ", ".join(columns)


def mask_from_row(row: sqlite3.Row, data_dir: Path, prefix: str = "") -> MaskRecord:
    """The mask whose columns :func:`mask_columns` named with ``prefix``."""
    return MaskRecord(
        id=row[f"{prefix}id"],
        sha256=row[f"{prefix}sha256"],
        path=data_dir / row[f"{prefix}stored_name"],
        width=row[f"{prefix}width"],
        height=row[f"{prefix}height"],
        area_fraction=row[f"{prefix}area_fraction"],
        created_at=row[f"{prefix}created_at"],
        skin_fraction=row[f"{prefix}skin_fraction"],
    )


def photo_from_row(row: sqlite3.Row) -> PhotoRecord:
    """The photo of a row selecting :data:`PHOTO_COLUMNS`."""
    return PhotoRecord(
        id=row["id"],
        sha256=row["sha256"],
        original_name=row["original_name"],
        format=row["format"],
        byte_size=row["byte_size"],
        width=row["width"],
        height=row["height"],
        taken_at=row["taken_at"],
        taken_at_source=row["taken_at_source"],
        imported_at=row["imported_at"],
        site=row["site"],
        note=row["note"],
        stored_name=row["stored_name"],
        is_prompt=bool(row["is_prompt"]),
        deleted_at=row["deleted_at"],
    )
