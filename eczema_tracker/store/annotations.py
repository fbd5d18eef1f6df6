"""Masks, prompts and analyses: the part of :class:`~eczema_tracker.store.Store` the ML results use.

Masks are lossless PNG files, content-addressed by the sha256 of their bytes. A prompt mask
edit writes a new *version* (every older version stays), so nothing the person painted is lost.
Each change of a site's prompt set (set, edit, unset, a prompt photo moved) takes the next value
of a store-wide counter; an analysis remembers the counter when it was made, and is *stale* when
its site changed later.

Features are stored as raw little-endian bytes with their dtype and shape, never pickled.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from eczema_tracker.core import imaging
from eczema_tracker.store import db, files
from eczema_tracker.store.records import (
    AnalysisRecord,
    MaskRecord,
    PromptRecord,
    ShownMask,
    TrainingExample,
    normalise_site,
)
from eczema_tracker.store.records import now_iso as _now

_MASK_COLUMNS = "id, sha256, stored_name, width, height, area_fraction, created_at"
_ANALYSIS_COLUMNS = (
    "a.id, a.photo_id, a.created_at, a.site, a.mask_id, a.corrected_mask_id, "
    "a.lesion_area_fraction, a.probabilities, a.score, a.severity_class, a.features, "
    "a.features_dtype, a.features_shape, a.feature_source, a.model_sources, a.k, "
    "a.prompt_photo_ids, a.severity_model_id, "
    "a.site != p.site OR COALESCE(s.seq, 0) > a.prompt_seq, "
    "m.id, m.sha256, m.stored_name, m.width, m.height, m.area_fraction, m.created_at, "
    "cm.id, cm.sha256, cm.stored_name, cm.width, cm.height, cm.area_fraction, cm.created_at"
)
_ANALYSIS_FROM = (
    "FROM analysis a JOIN photo p ON p.id = a.photo_id "
    "JOIN mask_file m ON m.id = a.mask_id "
    "LEFT JOIN mask_file cm ON cm.id = a.corrected_mask_id "
    "LEFT JOIN site_prompt_change s ON s.site = p.site "
)


class AnnotationsMixin:
    """Mask, prompt and analysis methods of the Store (see the module docstring)."""

    # ----------------------------------------------------------------- masks
    def load_mask(self, mask: MaskRecord | str | os.PathLike[str]) -> np.ndarray:
        """A stored mask as a boolean (H, W) array."""
        path = mask.path if isinstance(mask, MaskRecord) else mask
        return imaging.load_mask(path)

    def mask(self, mask_id: int) -> MaskRecord:
        """One stored mask; ``KeyError`` if absent."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_MASK_COLUMNS} FROM mask_file WHERE id = ?", (int(mask_id),)
            ).fetchone()
            if row is None:
                raise KeyError(f"no mask with id {mask_id}")
            return self._mask(row)

    def _mask(self, r: Sequence[Any]) -> MaskRecord:
        return MaskRecord(
            id=r[0],
            sha256=r[1],
            path=self.data_dir / r[2],
            width=r[3],
            height=r[4],
            area_fraction=r[5],
            created_at=r[6],
        )

    def _save_mask_file(self, mask: np.ndarray, photo) -> tuple[str, str, bytes, float]:
        """Validate a mask against its photo and encode it; returns (sha, name, png, area)."""
        arr = np.asarray(mask)
        if arr.ndim != 2 or arr.shape != (photo.height, photo.width):
            raise ValueError(
                f"the mask is {arr.shape[::-1] if arr.ndim == 2 else arr.shape} but photo "
                f"{photo.id} is {photo.width}x{photo.height} (width x height, upright)"
            )
        boolean = arr.astype(bool)
        png = imaging.mask_png_bytes(boolean)
        sha = files.sha256_bytes(png)
        return sha, files.content_name(files.MASKS, sha, ".png"), png, float(boolean.mean())

    def _put_mask(self, mask: np.ndarray, photo, then) -> Any:
        """Store a mask file (if new) and, in the same transaction as its row, run ``then(conn,
        mask_id)``. Hold ``_lock``."""
        sha, name, png, area = self._save_mask_file(mask, photo)
        existing = self._db.execute("SELECT id FROM mask_file WHERE sha256 = ?", (sha,)).fetchone()
        wrote = False
        if existing is None or not (self.data_dir / name).exists():
            self._begin_file(name, png)
            wrote = True
        try:
            with db.transaction(self._db) as conn:
                if existing is None:
                    cur = conn.execute(
                        "INSERT INTO mask_file (sha256, stored_name, width, height, area_fraction,"
                        " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                        (sha, name, photo.width, photo.height, area, _now()),
                    )
                    mask_id = int(cur.lastrowid)
                else:
                    mask_id = int(existing[0])
                conn.execute("DELETE FROM pending_file WHERE stored_name = ?", (name,))
                return then(conn, mask_id)
        except BaseException:
            if wrote:
                self._abandon_file(name)
            raise

    # ----------------------------------------------------------------- prompts
    def _bump_prompt_change(self, site: str) -> int:
        """Record a change of ``site``'s prompt set (call inside a write transaction)."""
        seq = self._db.execute(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM site_prompt_change"
        ).fetchone()[0]
        self._db.execute(
            "INSERT INTO site_prompt_change (site, seq, changed_at) VALUES (?, ?, ?) "
            "ON CONFLICT (site) DO UPDATE SET seq = excluded.seq, changed_at = excluded.changed_at",
            (site, seq, _now()),
        )
        return int(seq)

    def _add_prompt_version(self, conn, photo, mask_id: int, origin: str) -> None:
        version = conn.execute(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM prompt_mask_version WHERE photo_id = ?",
            (photo.id,),
        ).fetchone()[0]
        now = _now()
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
        """Make the photo a prompt of its site with this mask (a new version if it had one)."""
        with self._lock:
            self._require_writable()
            photo = self._photo_row(photo_id)

            def then(conn, mask_id: int) -> int:
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

    def _prompts(self, where: str, args: tuple) -> list[PromptRecord]:
        rows = self._db.execute(
            "SELECT q.photo_id, p.site, v.version, q.since, v.created_at, "
            "m.id, m.sha256, m.stored_name, m.width, m.height, m.area_fraction, m.created_at "
            "FROM prompt q JOIN photo p ON p.id = q.photo_id "
            "JOIN prompt_mask_version v ON v.photo_id = q.photo_id AND v.version = "
            "(SELECT MAX(version) FROM prompt_mask_version WHERE photo_id = q.photo_id) "
            f"JOIN mask_file m ON m.id = v.mask_id {where} AND p.deleted_at IS NULL "
            "ORDER BY p.taken_at, p.id",
            args,
        )
        return [
            PromptRecord(
                photo_id=r[0],
                site=r[1],
                version=r[2],
                since=r[3],
                updated_at=r[4],
                mask=self._mask(r[5:]),
            )
            for r in rows
        ]

    def prompt_mask_versions(self, photo_id: int) -> list[MaskRecord]:
        """Every prompt mask version saved for the photo, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join('m.' + c.strip() for c in _MASK_COLUMNS.split(','))} "
                "FROM prompt_mask_version v JOIN mask_file m ON m.id = v.mask_id "
                "WHERE v.photo_id = ? ORDER BY v.version",
                (int(photo_id),),
            )
            return [self._mask(r) for r in rows]

    # ----------------------------------------------------------------- analyses
    def record_analysis(
        self,
        photo_id: int,
        *,
        mask: np.ndarray,
        lesion_area_fraction: float,
        features: np.ndarray | None,
        feature_source: str | None,
        probabilities: Sequence[float] | np.ndarray | None,
        score: float | None,
        model_sources: dict[str, Any],
        k: int,
        severity_model_id: int | None = None,
        severity_class: int | None = None,
        prompt_photo_ids: Sequence[int] = (),
    ) -> int:
        """Store a new analysis of a photo (it becomes the current one); return its id.

        ``features`` is any numeric array (float32 expected), stored with dtype and shape;
        ``severity_class`` defaults to the argmax of ``probabilities`` when those are given.
        A correction the person saved on the photo's previous current analysis carries over to
        the new one: their mask stays the photo's mask until they change it.
        """
        frac = float(lesion_area_fraction)
        if not 0.0 <= frac <= 1.0:
            raise ValueError(f"lesion_area_fraction must be within [0, 1], got {frac}")
        probs = None if probabilities is None else [float(p) for p in np.ravel(probabilities)]
        if severity_class is None and probs:
            severity_class = int(np.argmax(probs))
        feat = _encode_features(features)
        sources = json.dumps(dict(model_sources), sort_keys=True, default=str)
        prompt_ids = json.dumps([int(i) for i in prompt_photo_ids])
        with self._lock:
            self._require_writable()
            photo = self._photo_row(photo_id)

            def then(conn, mask_id: int) -> int:
                seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM site_prompt_change")
                kept = conn.execute(
                    "SELECT a.corrected_mask_id FROM photo p JOIN analysis a "
                    "ON a.id = p.current_analysis_id WHERE p.id = ?",
                    (photo.id,),
                ).fetchone()
                cur = conn.execute(
                    "INSERT INTO analysis (photo_id, created_at, site, prompt_seq, mask_id, "
                    "corrected_mask_id, lesion_area_fraction, probabilities, score, "
                    "severity_class, features, features_dtype, features_shape, feature_source, "
                    "model_sources, k, prompt_photo_ids, severity_model_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        photo.id,
                        _now(),
                        photo.site,
                        seq.fetchone()[0],
                        mask_id,
                        None if kept is None else kept[0],
                        frac,
                        None if probs is None else json.dumps(probs),
                        None if score is None else float(score),
                        None if severity_class is None else int(severity_class),
                        *feat,
                        feature_source,
                        sources,
                        int(k),
                        prompt_ids,
                        severity_model_id,
                    ),
                )
                analysis_id = int(cur.lastrowid)
                conn.execute(
                    "UPDATE photo SET current_analysis_id = ? WHERE id = ?", (analysis_id, photo.id)
                )
                return analysis_id

            return self._put_mask(mask, photo, then)

    def save_corrected_mask(self, analysis_id: int, mask: np.ndarray) -> MaskRecord:
        """Keep the person's correction of an analysis' mask (the original mask is kept too)."""
        with self._lock:
            self._require_writable()
            analysis = self.analysis(analysis_id)
            photo = self._photo_row(analysis.photo_id)

            def then(conn, mask_id: int) -> int:
                conn.execute(
                    "UPDATE analysis SET corrected_mask_id = ? WHERE id = ?", (mask_id, analysis.id)
                )
                return mask_id

            return self.mask(self._put_mask(mask, photo, then))

    def set_corrected_mask(self, analysis_id: int, mask_id: int | None) -> None:
        """Point an analysis at an already stored mask as its correction (None: drop the
        correction, the app's mask is used again). Used to undo a correction."""
        with self._write() as conn:
            analysis = self.analysis(analysis_id)
            if mask_id is not None:
                self.mask(mask_id)  # KeyError when absent
            conn.execute(
                "UPDATE analysis SET corrected_mask_id = ? WHERE id = ?", (mask_id, analysis.id)
            )

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

    def analysis(self, analysis_id: int) -> AnalysisRecord:
        """One analysis; ``KeyError`` if absent."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_ANALYSIS_COLUMNS} {_ANALYSIS_FROM} WHERE a.id = ?", (int(analysis_id),)
            ).fetchone()
            if row is None:
                raise KeyError(f"no analysis with id {analysis_id}")
            return self._analysis(row)

    def current_analysis(self, photo_id: int) -> AnalysisRecord | None:
        """The photo's newest analysis, or None if it was never analysed."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_ANALYSIS_COLUMNS} {_ANALYSIS_FROM} "
                "WHERE a.id = (SELECT current_analysis_id FROM photo WHERE id = ?)",
                (int(photo_id),),
            ).fetchone()
            return None if row is None else self._analysis(row)

    def current_analyses(
        self, site: str | None = None, *, with_features: bool = False
    ) -> dict[int, AnalysisRecord]:
        """Every library photo's current analysis (of one site if given; the bin left out) in
        one query: photo id -> record.

        Use this to fill a list of many photos instead of calling :meth:`current_analysis` for
        each. Features are large, so unless ``with_features`` their ``features`` is None.
        """
        columns = (
            _ANALYSIS_COLUMNS
            if with_features
            else _ANALYSIS_COLUMNS.replace("a.features,", "NULL,", 1)
        )
        sql = f"SELECT {columns} {_ANALYSIS_FROM} WHERE a.id = p.current_analysis_id"
        with self._lock:
            sql += " AND p.deleted_at IS NULL"
            if site is None:
                rows = self._db.execute(sql)
            else:
                rows = self._db.execute(sql + " AND p.site = ?", (normalise_site(site),))
            return {r[1]: self._analysis(r) for r in rows}

    def analyses(self, photo_id: int) -> list[AnalysisRecord]:
        """Every analysis of the photo, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_ANALYSIS_COLUMNS} {_ANALYSIS_FROM} WHERE a.photo_id = ? ORDER BY a.id",
                (int(photo_id),),
            )
            return [self._analysis(r) for r in rows]

    def analyses_for_training(
        self, site: str | None = None, *, feature_source: str | None = None
    ) -> list[TrainingExample]:
        """(photo_id, features, rating) of every rated photo with stored features.

        Features come from the photo's newest analysis that has features (of
        ``feature_source`` when given: features of different backbones do not mix).
        """
        sql = (
            "SELECT p.id, r.rating, "
            "(SELECT a.id FROM analysis a WHERE a.photo_id = p.id AND a.features IS NOT NULL "
            "AND (? IS NULL OR a.feature_source = ?) ORDER BY a.id DESC LIMIT 1) "
            "FROM photo p JOIN rating r ON r.id = "
            "(SELECT MAX(id) FROM rating WHERE photo_id = p.id) WHERE r.rating IS NOT NULL "
            "AND p.deleted_at IS NULL "
        )
        args: list[Any] = [feature_source, feature_source]
        if site is not None:
            sql += "AND p.site = ? "
            args.append(normalise_site(site))
        with self._lock:
            rows = self._db.execute(sql + "ORDER BY p.taken_at, p.id", args).fetchall()
            out = []
            for photo_id, rating, analysis_id in rows:
                if analysis_id is None:
                    continue
                feat = self._db.execute(
                    "SELECT features, features_dtype, features_shape FROM analysis WHERE id = ?",
                    (analysis_id,),
                ).fetchone()
                out.append(TrainingExample(photo_id, _decode_features(*feat), int(rating)))
            return out

    def _analysis(self, r: Sequence[Any]) -> AnalysisRecord:
        return AnalysisRecord(
            id=r[0],
            photo_id=r[1],
            created_at=r[2],
            site=r[3],
            mask=self._mask(r[19:26]),
            corrected_mask=None if r[5] is None else self._mask(r[26:33]),
            lesion_area_fraction=r[6],
            probabilities=None if r[7] is None else tuple(json.loads(r[7])),
            score=r[8],
            severity_class=r[9],
            features=_decode_features(r[10], r[11], r[12]),
            feature_source=r[13],
            model_sources=json.loads(r[14]),
            k=r[15],
            prompt_photo_ids=tuple(json.loads(r[16])),
            severity_model_id=r[17],
            stale=bool(r[18]),
        )


def _encode_features(features: np.ndarray | None) -> tuple[bytes | None, str | None, str | None]:
    if features is None:
        return None, None, None
    arr = np.asarray(features)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"features must be a numeric array, got dtype {arr.dtype}")
    little = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return np.ascontiguousarray(little).tobytes(), little.dtype.str, json.dumps(list(arr.shape))


def _decode_features(blob: bytes | None, dtype: str | None, shape: str | None) -> np.ndarray | None:
    if blob is None:
        return None
    arr = np.frombuffer(blob, dtype=np.dtype(dtype)).reshape(json.loads(shape))
    return arr.astype(arr.dtype.newbyteorder("="), copy=True)  # writable (torch wants that)
