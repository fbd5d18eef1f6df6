"""Prompts: the photos whose masks the person painted (or chose) to show the segmenter a site.

A prompt mask edit writes a new *version* (every older version stays), so nothing the person
painted is lost. Each change of a site's prompt set (set, edit, unset, a prompt photo moved)
takes the next value of a store-wide counter (:meth:`StoreBase._bump_prompt_change`): the site's
analyses made before it become stale. A photo in the bin is no prompt.

Which mask is the truth for a photo (:meth:`PromptsMixin.shown_mask`) lives here too: the
person's prompt mask wins over any analysis.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import numpy as np

from eczema_tracker.store import db
from eczema_tracker.store.analyses import AnalysesMixin
from eczema_tracker.store.records import (
    MaskRecord,
    PhotoRecord,
    PromptRecord,
    ShownMask,
    normalise_site,
    now_iso,
)
from eczema_tracker.store.rows import fetch_all, mask_columns, mask_from_row


class PromptsMixin(AnalysesMixin):
    """Prompt methods of the Store (see the module docstring)."""

    # ----------------------------------------------------------------- writes
    def _add_prompt_version(
        self, conn: sqlite3.Connection, photo: PhotoRecord, mask_id: int, origin: str
    ) -> None:
        """The photo's next prompt mask version (it becomes a prompt if it was not one)."""
        version = conn.execute(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM prompt_mask_version WHERE photo_id = ?",
            (photo.id,),
        ).fetchone()[0]
        now = now_iso()
        conn.execute(
            "INSERT INTO prompt_mask_version (photo_id, version, mask_id, origin, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (photo.id, version, mask_id, origin, now),
        )
        conn.execute(
            "INSERT OR IGNORE INTO prompt (photo_id, since) VALUES (?, ?)", (photo.id, now)
        )
        self._bump_prompt_change(photo.site)

    def set_prompt_mask(self, photo_id: int, mask: np.ndarray) -> MaskRecord:
        """Make the photo a prompt of its site with this mask (a new version if it had one);
        ``mask`` in the format of :mod:`core.mask_labels` (healthy skin, if marked, is kept)."""
        with self._lock:
            self._require_writable()
            photo = self._photo_row(photo_id)

            def then(conn: sqlite3.Connection, mask_id: int) -> int:
                self._add_prompt_version(conn, photo, mask_id, "painted")
                return mask_id

            return self.mask(self._put_mask(mask, photo, then))

    def set_prompt_mask_id(self, photo_id: int, mask_id: int) -> None:
        """Make an already stored mask the photo's prompt mask again (a new version; used to
        undo a prompt mask edit without encoding the mask again)."""
        with self._write() as conn:
            photo = self._photo_row(photo_id)
            self.mask(mask_id)  # KeyError when absent
            self._add_prompt_version(conn, photo, int(mask_id), "restored")

    def promote_to_prompt(self, photo_id: int, analysis_id: int | None = None) -> PromptRecord:
        """Make the photo a prompt using an analysis' mask (corrected one if saved; default: the
        current analysis)."""
        with self._lock:
            self._require_writable()
            photo = self._photo_row(photo_id)
            analysis = (
                self.analysis(analysis_id)
                if analysis_id is not None
                else self.current_analysis(photo_id)
            )
            if analysis is None or analysis.photo_id != photo.id:
                raise ValueError(f"photo {photo_id} has no such analysis to promote")
            with db.transaction(self._db) as conn:
                self._add_prompt_version(
                    conn, photo, analysis.effective_mask.id, f"analysis:{analysis.id}"
                )
            prompt = self.prompt(photo.id)
            assert prompt is not None
            return prompt

    def unset_prompt(self, photo_id: int) -> None:
        """Stop using the photo as a prompt (its mask versions are kept)."""
        with self._write() as conn:
            photo = self._photo_row(photo_id)
            if conn.execute("DELETE FROM prompt WHERE photo_id = ?", (photo.id,)).rowcount:
                self._bump_prompt_change(photo.site)

    # ----------------------------------------------------------------- reads
    def prompt(self, photo_id: int) -> PromptRecord | None:
        """The photo's prompt record with its current mask, or None if it is not a prompt (a
        photo in the bin is no prompt)."""
        with self._lock:
            found = self._prompts("WHERE q.photo_id = ?", (int(photo_id),))
            return found[0] if found else None

    def prompts(self, site: str) -> list[PromptRecord]:
        """The prompts of a body site (current mask versions), oldest photo first."""
        with self._lock:
            return self._prompts("WHERE p.site = ?", (normalise_site(site),))

    def _prompts(self, where: str, args: tuple[Any, ...]) -> list[PromptRecord]:
        rows = fetch_all(
            self._db,
            "SELECT q.photo_id AS photo_id, p.site AS site, v.version AS version, "
            "q.since AS since, v.created_at AS updated_at, "
            f"{mask_columns('m', 'm_', skin=self._has_mask_skin())} "
            "FROM prompt q JOIN photo p ON p.id = q.photo_id "
            "JOIN prompt_mask_version v ON v.photo_id = q.photo_id AND v.version = "
            "(SELECT MAX(version) FROM prompt_mask_version WHERE photo_id = q.photo_id) "
            f"JOIN mask_file m ON m.id = v.mask_id {where} AND p.deleted_at IS NULL "
            "ORDER BY p.taken_at, p.id",
            args,
        )
        return [
            PromptRecord(
                photo_id=row["photo_id"],
                site=row["site"],
                version=row["version"],
                since=row["since"],
                updated_at=row["updated_at"],
                mask=mask_from_row(row, self.data_dir, "m_"),
            )
            for row in rows
        ]

    def prompt_mask_versions(self, photo_id: int) -> list[MaskRecord]:
        """Every prompt mask version saved for the photo, oldest first."""
        with self._lock:
            rows = fetch_all(
                self._db,
                f"SELECT {mask_columns('m', skin=self._has_mask_skin())} "
                "FROM prompt_mask_version v JOIN mask_file m ON m.id = v.mask_id "
                "WHERE v.photo_id = ? ORDER BY v.version",
                (int(photo_id),),
            )
            return [mask_from_row(row, self.data_dir) for row in rows]

    def shown_mask(self, photo_id: int) -> ShownMask | None:
        """The mask that is the truth for the photo: its prompt mask when it is a prompt (the
        person painted or chose it), else the person's correction of the current analysis, else
        the analysis' own mask; None when it has none of these."""
        with self._lock:
            prompt = self.prompt(photo_id)
            if prompt is not None:
                return ShownMask(prompt.mask, "prompt")
            analysis = self.current_analysis(photo_id)
            if analysis is None:
                return None
            if analysis.corrected_mask is not None:
                return ShownMask(analysis.corrected_mask, "corrected")
            return ShownMask(analysis.mask, "analysis")
