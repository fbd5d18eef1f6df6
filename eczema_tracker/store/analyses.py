"""Analyses and the person's corrections of their masks.

An analysis is what the app found in a photo: a mask, its lesion area, features and (with a
severity model) probabilities and a score. The newest analysis of a photo is its current one.
It remembers the store-wide prompt-change counter when it was made and is *stale* when its site's
prompts changed later (or the photo moved to another site). The person may save a corrected mask
on an analysis; it carries over to the photo's next analysis.

Features are stored as raw little-endian bytes with their dtype and shape, never pickled.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from eczema_tracker.store.masks import MasksMixin
from eczema_tracker.store.records import (
    AnalysisRecord,
    MaskRecord,
    TrainingExample,
    normalise_site,
    now_iso,
)
from eczema_tracker.store.rows import fetch_all, fetch_one, last_id, mask_columns, mask_from_row

#: Columns of an analysis row (``a`` = analysis); its masks' (``m`` = its mask, ``cm`` = the
#: correction) and ``features`` are left to :func:`_analysis_select`.
_ANALYSIS_COLUMNS = (
    "a.id AS id, a.photo_id AS photo_id, a.created_at AS created_at, a.site AS site, "
    "a.corrected_mask_id AS corrected_mask_id, a.lesion_area_fraction AS lesion_area_fraction, "
    "a.probabilities AS probabilities, a.score AS score, a.severity_class AS severity_class, "
    "a.features_dtype AS features_dtype, a.features_shape AS features_shape, "
    "a.feature_source AS feature_source, a.model_sources AS model_sources, a.k AS k, "
    "a.prompt_photo_ids AS prompt_photo_ids, a.severity_model_id AS severity_model_id, "
    "a.site != p.site OR COALESCE(s.seq, 0) > a.prompt_seq AS stale"
)
_ANALYSIS_FROM = (
    "FROM analysis a JOIN photo p ON p.id = a.photo_id "
    "JOIN mask_file m ON m.id = a.mask_id "
    "LEFT JOIN mask_file cm ON cm.id = a.corrected_mask_id "
    "LEFT JOIN site_prompt_change s ON s.site = p.site "
)


#: The schema-4 familiarity columns (NULL on a database still at an older schema, which only the
#: migration tests hold open: the app migrates every store it opens).
_FAMILIARITY_COLUMNS = (
    "a.nearest_prompt_distance AS nearest_prompt_distance, "
    "a.prompt_distance_scale AS prompt_distance_scale, a.familiar AS familiar"
)
_NO_FAMILIARITY = "NULL AS nearest_prompt_distance, NULL AS prompt_distance_scale, NULL AS familiar"


def _analysis_select(
    *, with_features: bool = True, familiarity: bool = True, skin_share: bool = True
) -> str:
    """``SELECT ... FROM`` of analyses; without features their blob is not read (NULL).
    ``familiarity`` / ``skin_share``: whether the schema-4 / schema-6 columns exist."""
    masks = (
        f"{mask_columns('m', 'm_', skin=skin_share)}, {mask_columns('cm', 'cm_', skin=skin_share)}"
    )
    features = "a.features" if with_features else "NULL"
    extra = _FAMILIARITY_COLUMNS if familiarity else _NO_FAMILIARITY
    share = "a.lesion_share_of_skin" if skin_share else "NULL"
    return (
        f"SELECT {_ANALYSIS_COLUMNS}, {masks}, {extra}, {share} AS lesion_share_of_skin, "
        f"{features} AS features {_ANALYSIS_FROM}"
    )


class AnalysesMixin(MasksMixin):
    """Analysis and correction methods of the Store (see the module docstring)."""

    def _analysis_column_names(self) -> frozenset[str]:
        """The columns of the database's ``analysis`` table (asked once)."""
        known = self.__dict__.get("_analysis_columns")
        if known is None:
            with self._lock:
                names = {row[1] for row in self._db.execute("PRAGMA table_info(analysis)")}
            known = self.__dict__["_analysis_columns"] = frozenset(names)
        return frozenset(known)

    def _has_familiarity(self) -> bool:
        """Whether the database has the schema-4 familiarity columns."""
        return "familiar" in self._analysis_column_names()

    def _has_skin_share(self) -> bool:
        """Whether the database has the schema-6 ``lesion_share_of_skin`` column."""
        return "lesion_share_of_skin" in self._analysis_column_names()

    def _select_analyses(self, *, with_features: bool = True) -> str:
        """:func:`_analysis_select` for this database's schema."""
        return _analysis_select(
            with_features=with_features,
            familiarity=self._has_familiarity(),
            skin_share=self._has_skin_share(),
        )

    # ----------------------------------------------------------------- writes
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
        model_sources: Mapping[str, Any],
        k: int,
        severity_model_id: int | None = None,
        severity_class: int | None = None,
        prompt_photo_ids: Sequence[int] = (),
        nearest_prompt_distance: float | None = None,
        prompt_distance_scale: float | None = None,
        familiar: bool | None = None,
        lesion_share_of_skin: float | None = None,
    ) -> int:
        """Store a new analysis of a photo (it becomes the current one); return its id.

        ``mask`` is in the format of :mod:`core.mask_labels` (a bool array is a lesion mask; a
        mask with healthy skin keeps it). ``lesion_share_of_skin``: lesion / (lesion + healthy
        skin), None when the prompts carried no skin. ``features`` is any numeric array (float32 expected), stored with dtype and shape;
        ``severity_class`` defaults to the argmax of ``probabilities`` when those are given.
        ``nearest_prompt_distance``, ``prompt_distance_scale`` and ``familiar`` are the photo's
        familiarity (``ml.familiarity.Familiarity``; None: not measured / one prompt / undecided).
        A correction the person saved on the photo's previous current analysis carries over to
        the new one: their mask stays the photo's mask until they change it.
        """
        frac = float(lesion_area_fraction)
        if not 0.0 <= frac <= 1.0:
            raise ValueError(f"lesion_area_fraction must be within [0, 1], got {frac}")
        probs = None if probabilities is None else [float(p) for p in np.ravel(probabilities)]
        if severity_class is None and probs:
            severity_class = int(np.argmax(probs))
        feat = encode_features(features)
        sources = json.dumps(dict(model_sources), sort_keys=True, default=str)
        prompt_ids = json.dumps([int(i) for i in prompt_photo_ids])
        distance = _optional_float(nearest_prompt_distance, "nearest_prompt_distance", 0.0)
        scale = _optional_float(prompt_distance_scale, "prompt_distance_scale", None)
        verdict = None if familiar is None else int(bool(familiar))
        share = _optional_float(lesion_share_of_skin, "lesion_share_of_skin", 0.0)
        if share is not None and share > 1.0:
            raise ValueError(f"lesion_share_of_skin must be within [0, 1], got {share}")
        with self._lock:
            self._require_writable()
            photo = self._photo_row(photo_id)

            def then(conn: sqlite3.Connection, mask_id: int) -> int:
                seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM site_prompt_change")
                kept = conn.execute(
                    "SELECT a.corrected_mask_id FROM photo p JOIN analysis a "
                    "ON a.id = p.current_analysis_id WHERE p.id = ?",
                    (photo.id,),
                ).fetchone()
                columns = [
                    "photo_id", "created_at", "site", "prompt_seq", "mask_id",
                    "corrected_mask_id", "lesion_area_fraction", "probabilities", "score",
                    "severity_class", "features", "features_dtype", "features_shape",
                    "feature_source", "model_sources", "k", "prompt_photo_ids",
                    "severity_model_id",
                ]  # fmt: skip
                values = [
                    photo.id,
                    now_iso(),
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
                ]
                if (distance, scale, verdict) != (None, None, None):  # schema 4 columns
                    columns += ["nearest_prompt_distance", "prompt_distance_scale", "familiar"]
                    values += [distance, scale, verdict]
                if share is not None:  # schema 6 column
                    columns.append("lesion_share_of_skin")
                    values.append(share)
                cur = conn.execute(
                    f"INSERT INTO analysis ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' * len(values))})",
                    values,
                )
                analysis_id = last_id(cur)
                conn.execute(
                    "UPDATE photo SET current_analysis_id = ? WHERE id = ?", (analysis_id, photo.id)
                )
                return analysis_id

            return self._put_mask(mask, photo, then)

    def save_corrected_mask(self, analysis_id: int, mask: np.ndarray) -> MaskRecord:
        """Keep the person's correction of an analysis' mask (the original mask is kept too);
        ``mask`` in the format of :mod:`core.mask_labels` (healthy skin, if marked, is kept)."""
        with self._lock:
            self._require_writable()
            analysis = self.analysis(analysis_id)
            photo = self._photo_row(analysis.photo_id)

            def then(conn: sqlite3.Connection, mask_id: int) -> int:
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

    def keep_retrieval_features(
        self, features_by_photo: Mapping[int, np.ndarray], feature_source: str
    ) -> None:
        """Keep each photo's whole-image retrieval features of backbone ``feature_source``
        (replacing any kept before); photos no longer in the store are left out."""
        rows = []
        for photo_id, features in features_by_photo.items():
            blob, dtype, shape = encode_features(features)
            rows.append((int(photo_id), str(feature_source), blob, dtype, shape, now_iso()))
        if not rows:
            return
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO retrieval_features (photo_id, feature_source, features, "
                "features_dtype, features_shape, created_at) "
                "SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM photo WHERE id = ?)",
                [(*row, row[0]) for row in rows],
            )

    # ----------------------------------------------------------------- reads
    def kept_retrieval_features(
        self, photo_ids: Sequence[int], feature_source: str
    ) -> dict[int, np.ndarray]:
        """The kept retrieval features of those of ``photo_ids`` that have some for
        ``feature_source``: photo id -> (D,) array (see :meth:`keep_retrieval_features`)."""
        wanted = sorted({int(i) for i in photo_ids})
        out: dict[int, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):  # keep under SQLite's variable limit
                chunk = wanted[start : start + 500]
                rows = fetch_all(
                    self._db,
                    "SELECT photo_id, features, features_dtype, features_shape "
                    "FROM retrieval_features WHERE feature_source = ? "
                    f"AND photo_id IN ({', '.join('?' * len(chunk))})",
                    (str(feature_source), *chunk),
                )
                for row in rows:
                    arr = decode_features(
                        row["features"], row["features_dtype"], row["features_shape"]
                    )
                    if arr is not None:
                        out[row["photo_id"]] = arr
        return out

    def retrieval_feature_sources(self, photo_ids: Sequence[int]) -> list[str]:
        """The backbones (``feature_source``) with kept retrieval features of any of
        ``photo_ids``, the most recently kept first."""
        wanted = sorted({int(i) for i in photo_ids})[:500]
        if not wanted:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT feature_source FROM retrieval_features "
                f"WHERE photo_id IN ({', '.join('?' * len(wanted))}) "
                "GROUP BY feature_source ORDER BY MAX(created_at) DESC, feature_source",
                wanted,
            ).fetchall()
        return [str(row[0]) for row in rows]

    def analysis(self, analysis_id: int) -> AnalysisRecord:
        """One analysis; ``KeyError`` if absent."""
        with self._lock:
            row = fetch_one(
                self._db,
                f"{self._select_analyses()} WHERE a.id = ?",
                (int(analysis_id),),
            )
            if row is None:
                raise KeyError(f"no analysis with id {analysis_id}")
            return self._analysis_from_row(row)

    def current_analysis(self, photo_id: int) -> AnalysisRecord | None:
        """The photo's newest analysis, or None if it was never analysed."""
        with self._lock:
            row = fetch_one(
                self._db,
                f"{self._select_analyses()} "
                "WHERE a.id = (SELECT current_analysis_id FROM photo WHERE id = ?)",
                (int(photo_id),),
            )
            return None if row is None else self._analysis_from_row(row)

    def current_analyses(
        self, site: str | None = None, *, with_features: bool = False
    ) -> dict[int, AnalysisRecord]:
        """Every library photo's current analysis (of one site if given; the bin left out) in
        one query: photo id -> record.

        Use this to fill a list of many photos instead of calling :meth:`current_analysis` for
        each. Features are large, so unless ``with_features`` their ``features`` is None.
        """
        sql = (
            f"{self._select_analyses(with_features=with_features)} "
            "WHERE a.id = p.current_analysis_id AND p.deleted_at IS NULL"
        )
        args: tuple[str, ...] = ()
        if site is not None:
            sql += " AND p.site = ?"
            args = (normalise_site(site),)
        with self._lock:
            rows = fetch_all(self._db, sql, args)
            return {row["photo_id"]: self._analysis_from_row(row) for row in rows}

    def analyses(self, photo_id: int) -> list[AnalysisRecord]:
        """Every analysis of the photo, oldest first."""
        with self._lock:
            rows = fetch_all(
                self._db,
                f"{self._select_analyses()} WHERE a.photo_id = ? ORDER BY a.id",
                (int(photo_id),),
            )
            return [self._analysis_from_row(row) for row in rows]

    def analyses_for_training(
        self, site: str | None = None, *, feature_source: str | None = None
    ) -> list[TrainingExample]:
        """(photo_id, features, rating) of every rated photo with stored features.

        Features come from the photo's newest analysis that has features (of
        ``feature_source`` when given: features of different backbones do not mix).
        """
        sql = (
            "SELECT p.id AS photo_id, r.rating AS rating, a.features AS features, "
            "a.features_dtype AS features_dtype, a.features_shape AS features_shape "
            "FROM photo p JOIN rating r ON r.id = "
            "(SELECT MAX(id) FROM rating WHERE photo_id = p.id) "
            "JOIN analysis a ON a.id = "
            "(SELECT b.id FROM analysis b WHERE b.photo_id = p.id AND b.features IS NOT NULL "
            "AND (? IS NULL OR b.feature_source = ?) ORDER BY b.id DESC LIMIT 1) "
            "WHERE r.rating IS NOT NULL AND p.deleted_at IS NULL "
        )
        args: list[Any] = [feature_source, feature_source]
        if site is not None:
            sql += "AND p.site = ? "
            args.append(normalise_site(site))
        with self._lock:
            rows = fetch_all(self._db, sql + "ORDER BY p.taken_at, p.id", args)
        out = []
        for row in rows:
            features = decode_features(
                row["features"], row["features_dtype"], row["features_shape"]
            )
            assert features is not None  # the query keeps analyses with features only
            out.append(TrainingExample(row["photo_id"], features, int(row["rating"])))
        return out

    def _analysis_from_row(self, row: sqlite3.Row) -> AnalysisRecord:
        """The analysis of a row selected by :func:`_analysis_select`."""
        probabilities = row["probabilities"]
        return AnalysisRecord(
            id=row["id"],
            photo_id=row["photo_id"],
            created_at=row["created_at"],
            site=row["site"],
            mask=mask_from_row(row, self.data_dir, "m_"),
            corrected_mask=None
            if row["corrected_mask_id"] is None
            else mask_from_row(row, self.data_dir, "cm_"),
            lesion_area_fraction=row["lesion_area_fraction"],
            probabilities=None if probabilities is None else tuple(json.loads(probabilities)),
            score=row["score"],
            severity_class=row["severity_class"],
            features=decode_features(row["features"], row["features_dtype"], row["features_shape"]),
            feature_source=row["feature_source"],
            model_sources=json.loads(row["model_sources"]),
            k=row["k"],
            prompt_photo_ids=tuple(json.loads(row["prompt_photo_ids"])),
            severity_model_id=row["severity_model_id"],
            stale=bool(row["stale"]),
            nearest_prompt_distance=row["nearest_prompt_distance"],
            prompt_distance_scale=row["prompt_distance_scale"],
            familiar=None if row["familiar"] is None else bool(row["familiar"]),
            lesion_share_of_skin=row["lesion_share_of_skin"],
        )


def _optional_float(value: float | None, name: str, low: float | None) -> float | None:
    """``value`` as a finite float (None stays None); ``low``: its least allowed value (None:
    it must be positive)."""
    if value is None:
        return None
    number = float(value)
    if not np.isfinite(number) or (number <= 0 if low is None else number < low):
        raise ValueError(
            f"{name} must be a finite {'positive' if low is None else 'non-negative'} number, got {value}"
        )
    return number


def encode_features(features: np.ndarray | None) -> tuple[bytes | None, str | None, str | None]:
    """(blob, dtype, shape) of a numeric feature array as stored; all None for no features."""
    if features is None:
        return None, None, None
    arr = np.asarray(features)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"features must be a numeric array, got dtype {arr.dtype}")
    little = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return np.ascontiguousarray(little).tobytes(), little.dtype.str, json.dumps(list(arr.shape))


def decode_features(blob: bytes | None, dtype: str | None, shape: str | None) -> np.ndarray | None:
    """The array :func:`encode_features` stored (native byte order, writable), or None."""
    if blob is None or dtype is None or shape is None:
        return None
    arr = np.frombuffer(blob, dtype=np.dtype(dtype)).reshape(json.loads(shape))
    return arr.astype(arr.dtype.newbyteorder("="), copy=True)  # writable (torch wants that)
