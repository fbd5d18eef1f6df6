"""Records of the store check (:mod:`.check`): one problem, one unusable file, a file hasher."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from eczema_tracker.store import files

ProblemKind = Literal[
    "database", "schema", "outside", "missing", "damaged", "orphan", "leftover", "thumbnail"
]
#: Table, what one row is called, its content folder, the columns read.
FILE_TABLES = (
    ("photo", "Photo", files.PHOTOS, "id, sha256, stored_name, byte_size, original_name"),
    ("mask_file", "Mask", files.MASKS, "id, sha256, stored_name, width, height, created_at"),
    ("severity_model", "Severity model", files.MODELS, "id, sha256, stored_name, file_name"),
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the store, said in one plain line."""

    kind: ProblemKind
    message: str
    repairable: bool = False
    stored_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "repairable": self.repairable,
            "stored_name": self.stored_name,
        }


@dataclass(frozen=True)
class UnusableFile:
    """A row whose file is missing or damaged. The row is kept; ``keeps`` says what it holds."""

    table: str  # photo, mask_file or severity_model
    row_id: int
    stored_name: str
    state: Literal["missing", "damaged"]
    detail: str
    keeps: tuple[str, ...] = ()  # e.g. "2 ratings", "the painted prompt mask of photo 3"

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "id": self.row_id,
            "stored_name": self.stored_name,
            "state": self.state,
            "detail": self.detail,
            "keeps": list(self.keeps),
        }


class FileHasher:
    """SHA-256 of files, remembered by (path, size, mtime, inode) so a re-check is cheap."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, int, int, int], str] = {}
        self.files = 0
        self.bytes = 0

    def __call__(self, path: Path) -> str:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
        if key not in self._known:
            self._known[key] = files.sha256_file(path)
            self.files += 1
            self.bytes += st.st_size
        return self._known[key]
