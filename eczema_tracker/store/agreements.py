"""Kept prompt-agreement results (schema 5): a site's examples checked once, read back later.

A prompt-agreement check segments every prompt photo of a site with the others (seconds of
model time per photo); its result depends only on the site's prompt set and the models used,
so it is kept under two opaque keys the app builds (``prompt_set_key``, ``model_key``) and read
back when both match. The store does not know what the keys mean; it checks the shape of what
it keeps and of what it reads (a row that does not parse, e.g. edited by hand or cut short, is
no kept result: None, and the app checks again).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from eczema_tracker.store.base import StoreBase
from eczema_tracker.store.records import normalise_site, now_iso

#: Results kept per site (the newest); older prompt sets rarely come back (removing the prompt
#: added last does bring back the set before it, hence more than one).
KEPT_PER_SITE = 8
#: Longest note kept (the check's own sentence is well under it).
MAX_NOTE_CHARS = 500
#: Longest key accepted (the app's keys are short hashes).
MAX_KEY_CHARS = 1000


@dataclass(frozen=True)
class KeptAgreement:
    """A kept prompt-agreement result of ``site``.

    ``ious[i]`` is prompt photo ``photo_ids[i]``'s IoU with its painted mask when segmented
    with the prompts ``used[i]`` (indices into ``photo_ids``, never ``i``); ``k_used`` is how
    many each had; ``note`` the check's own words about it.
    """

    site: str
    prompt_set_key: str
    model_key: str
    photo_ids: tuple[int, ...]
    ious: tuple[float, ...]
    used: tuple[tuple[int, ...], ...]
    k_used: int
    note: str
    computed_at: str
    #: each photo's IoU of the healthy skin it marks (a site whose examples mark skin), else None
    skin_ious: tuple[float, ...] | None = None


class AgreementsMixin(StoreBase):
    """Kept prompt-agreement methods of the Store (see the module docstring)."""

    def keep_prompt_agreement(
        self,
        site: str,
        prompt_set_key: str,
        model_key: str,
        *,
        photo_ids: Sequence[int],
        ious: Sequence[float],
        used: Sequence[Sequence[int]],
        k_used: int,
        note: str = "",
        skin_ious: Sequence[float] | None = None,
    ) -> None:
        """Keep a prompt-agreement result of ``site`` under ``prompt_set_key`` and ``model_key``
        (replacing one kept under the same keys); only the newest :data:`KEPT_PER_SITE` of a
        site stay. ``ValueError`` when the result is not one (see :class:`KeptAgreement`)."""
        result = {
            "photo_ids": [int(i) for i in photo_ids],
            "ious": [float(v) for v in ious],
            "used": [[int(j) for j in u] for u in used],
            "k_used": int(k_used),
            "note": str(note),
        }
        if skin_ious is not None:
            result["skin_ious"] = [float(v) for v in skin_ious]
        name = normalise_site(site)
        problem = _problem(result) or _key_problem(prompt_set_key) or _key_problem(model_key)
        if problem:
            raise ValueError(f"not a prompt agreement result: {problem}")
        text = json.dumps(result, separators=(",", ":"), allow_nan=False)
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO prompt_agreement "
                "(site, prompt_set_key, model_key, result, computed_at) VALUES (?, ?, ?, ?, ?)",
                (name, prompt_set_key, model_key, text, now_iso()),
            )
            conn.execute(
                "DELETE FROM prompt_agreement WHERE site = ? AND rowid NOT IN (SELECT rowid "
                "FROM prompt_agreement WHERE site = ? ORDER BY computed_at DESC, rowid DESC "
                "LIMIT ?)",
                (name, name, KEPT_PER_SITE),
            )

    def kept_prompt_agreement(
        self, site: str, prompt_set_key: str, model_key: str
    ) -> KeptAgreement | None:
        """The result kept for ``site`` under exactly these keys; None when there is none or
        the row does not hold a well-formed result."""
        name = normalise_site(site)
        with self._lock:
            row = self._db.execute(
                "SELECT result, computed_at, model_key FROM prompt_agreement "
                "WHERE site = ? AND prompt_set_key = ? AND model_key = ?",
                (name, str(prompt_set_key), str(model_key)),
            ).fetchone()
        return _kept(name, str(prompt_set_key), row)

    def newest_prompt_agreement(self, site: str, prompt_set_key: str) -> KeptAgreement | None:
        """The newest result kept for ``site`` under ``prompt_set_key``, whatever models it was
        computed with (how far the views trust the site's results); None when there is none or
        the newest row does not hold a well-formed result."""
        name = normalise_site(site)
        with self._lock:
            row = self._db.execute(
                "SELECT result, computed_at, model_key FROM prompt_agreement "
                "WHERE site = ? AND prompt_set_key = ? ORDER BY computed_at DESC, rowid DESC "
                "LIMIT 1",
                (name, str(prompt_set_key)),
            ).fetchone()
        return _kept(name, str(prompt_set_key), row)

    def forget_prompt_agreements(self, site: str | None = None) -> int:
        """Drop the kept results of ``site`` (None: of every site); returns how many."""
        with self._write() as conn:
            if site is None:
                cursor = conn.execute("DELETE FROM prompt_agreement")
            else:
                cursor = conn.execute(
                    "DELETE FROM prompt_agreement WHERE site = ?", (normalise_site(site),)
                )
            return int(cursor.rowcount)


def _kept(site: str, prompt_set_key: str, row: Any) -> KeptAgreement | None:
    """A row ``(result, computed_at, model_key)`` read back; None when it is none or malformed."""
    if row is None:
        return None
    text, computed_at, model_key = row
    try:
        result = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(result, dict) or _problem(result) or not isinstance(computed_at, str):
        return None
    return KeptAgreement(
        site=site,
        prompt_set_key=prompt_set_key,
        model_key=str(model_key),
        photo_ids=tuple(result["photo_ids"]),
        ious=tuple(float(v) for v in result["ious"]),
        used=tuple(tuple(u) for u in result["used"]),
        k_used=result["k_used"],
        note=result["note"],
        computed_at=computed_at,
        skin_ious=None
        if result.get("skin_ious") is None
        else tuple(float(v) for v in result["skin_ious"]),
    )


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _key_problem(key: Any) -> str:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_CHARS:
        return "a key must be non-empty text"
    return ""


def _problem(result: Any) -> str:
    """What is wrong with a result's JSON object ("" when nothing)."""
    if not isinstance(result, dict):
        return "not an object"
    ids, ious, used = result.get("photo_ids"), result.get("ious"), result.get("used")
    k_used, note = result.get("k_used"), result.get("note")
    if not isinstance(ids, list) or len(ids) < 2 or not all(_is_int(i) for i in ids):
        return "photo_ids must list at least 2 photo ids"
    n = len(ids)
    if len(set(ids)) != n:
        return "a photo id is listed twice"
    if not _is_int(k_used) or not 1 <= k_used <= n - 1:
        return f"k_used must be 1 to {n - 1}"
    skin = result.get("skin_ious")
    for values in [ious] if skin is None else [ious, skin]:
        if not isinstance(values, list) or len(values) != n:
            return "ious (and skin_ious) must have one value per photo"
        for value in values:
            if not isinstance(value, int | float) or isinstance(value, bool):
                return "an IoU is not a number"
            if not math.isfinite(value) or not 0.0 <= value <= 1.0:
                return "an IoU is outside [0, 1]"
    if not isinstance(used, list) or len(used) != n:
        return "used must have one list per photo"
    for i, others in enumerate(used):
        if not isinstance(others, list) or len(others) != k_used:
            return "each photo must have been checked with k_used others"
        if not all(_is_int(j) and 0 <= j < n and j != i for j in others):
            return "a photo was checked with itself or with one not listed"
        if len(set(others)) != len(others):
            return "a photo was checked with the same other twice"
    if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
        return "note must be short text"
    return ""
