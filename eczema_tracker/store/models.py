"""Severity models kept in the store: the file is copied in (content-addressed), with metadata."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path
from typing import Any

from eczema_tracker.store import db, files
from eczema_tracker.store.base import StoreBase
from eczema_tracker.store.records import SeverityModelRecord, now_iso
from eczema_tracker.store.rows import fetch_all, last_id


class SeverityModelsMixin(StoreBase):
    """Severity model methods of the Store."""

    def add_severity_model(
        self, file: str | os.PathLike[str], metadata: dict[str, Any], *, activate: bool = True
    ) -> int:
        """Copy a trained severity model file into the store; return its id."""
        source = Path(file)
        if not source.is_file():
            raise ValueError(f"{source}: a severity model must be an existing file")
        meta_text = json.dumps(metadata, sort_keys=True, default=str)
        data = source.read_bytes()
        sha = files.sha256_bytes(data)
        suffix = source.suffix.lower()
        if not re.fullmatch(r"\.[a-z0-9_-]{1,15}", suffix):
            suffix = ""
        name = files.content_name(files.MODELS, sha, suffix)
        with self._lock:
            self._require_writable()
            self._begin_file(name, data)
            try:
                with db.transaction(self._db) as conn:
                    if activate:
                        conn.execute("UPDATE severity_model SET active = 0 WHERE active = 1")
                    cur = conn.execute(
                        "INSERT INTO severity_model (sha256, stored_name, file_name, metadata, "
                        "created_at, active) VALUES (?, ?, ?, ?, ?, ?)",
                        (sha, name, source.name, meta_text, now_iso(), int(activate)),
                    )
                    conn.execute("DELETE FROM pending_file WHERE stored_name = ?", (name,))
                    return last_id(cur)
            except BaseException:
                self._abandon_file(name)
                raise

    def severity_models(self) -> list[SeverityModelRecord]:
        """Every stored severity model, newest first."""
        with self._lock:
            rows = fetch_all(
                self._db,
                "SELECT id, sha256, stored_name, file_name, metadata, created_at, active "
                "FROM severity_model ORDER BY id DESC",
            )
            return [self._model_from_row(row) for row in rows]

    def severity_model(self, model_id: int) -> SeverityModelRecord:
        """One stored severity model; ``KeyError`` if absent."""
        for record in self.severity_models():
            if record.id == model_id:
                return record
        raise KeyError(f"no severity model with id {model_id}")

    def active_severity_model(self) -> SeverityModelRecord | None:
        """The model used to score new analyses, if one is active."""
        return next((m for m in self.severity_models() if m.active), None)

    def activate_severity_model(self, model_id: int | None, *, by_person: bool = False) -> None:
        """Make ``model_id`` the active model (None: no model is active).

        ``by_person``: the person chose it (e.g. a personal model that did not beat the majority
        guess, used anyway); recorded in its metadata (``activated_by``, ``activated_at``) in the
        same transaction.
        """
        with self._write() as conn:
            record = self.severity_model(model_id) if model_id is not None else None
            conn.execute("UPDATE severity_model SET active = 0 WHERE active = 1")
            if record is not None:
                conn.execute("UPDATE severity_model SET active = 1 WHERE id = ?", (model_id,))
                if by_person:
                    meta = {**record.metadata, "activated_by": "person", "activated_at": now_iso()}
                    conn.execute(
                        "UPDATE severity_model SET metadata = ? WHERE id = ?",
                        (json.dumps(meta, sort_keys=True, default=str), model_id),
                    )

    def _model_from_row(self, row: sqlite3.Row) -> SeverityModelRecord:
        return SeverityModelRecord(
            id=row["id"],
            sha256=row["sha256"],
            path=self.data_dir / row["stored_name"],
            file_name=row["file_name"],
            metadata=json.loads(row["metadata"]),
            created_at=row["created_at"],
            active=bool(row["active"]),
        )
