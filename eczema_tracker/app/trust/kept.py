"""Prompt-agreement results kept in the store, so a check is not run again for the same thing.

A site's result is kept under :func:`prompt_set_key` (its prompt photos and their current
masks) and :func:`model_key` (the models and K it was computed with); :func:`kept_agreement`
reads it back without loading any model, :func:`keep_agreement` keeps a new one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from typing import TYPE_CHECKING

from eczema_tracker.app.trust.agreement import SiteAgreement
from eczema_tracker.store.errors import StoreError

if TYPE_CHECKING:
    from eczema_tracker.app.services import ModelChoice
    from eczema_tracker.store import Store

log = logging.getLogger(__name__)

#: The photo size the agreement check decodes at: ``ml.pipeline.ANALYSIS_MAX_SIDE`` (a test
#: keeps them equal; repeated here so building a model key imports no torch).
AGREEMENT_SIDE = 1024
#: Bumped when the check itself changes (what it measures, how it picks the others): every kept
#: result of an older check is then checked again.
AGREEMENT_METHOD = 1


def prompt_set_key(store: Store, site: str) -> str:
    """Names ``site``'s current prompt set: each prompt's photo (id and bytes) and its current
    mask (version and bytes). Another prompt, a repainted mask or a removed prompt changes it;
    the order of the prompts does not."""
    parts = sorted(
        (r.photo_id, store.photo(r.photo_id).sha256, r.version, r.mask.sha256)
        for r in store.prompts(site)
    )
    return "prompts-v1:" + _digest(parts)


def model_key(choice: ModelChoice) -> str:
    """Names what an agreement check of ``choice`` computes with: the SegGPT and DINO sources
    (DINO picks the nearest others), K, the size photos are decoded at and the check's own
    version. The device, precision and severity model play no part."""
    parts = {
        "seggpt": str(choice.seggpt),
        "dino": str(choice.dino),
        "k": int(choice.k),
        "side": AGREEMENT_SIDE,
        "method": AGREEMENT_METHOD,
    }
    return "models-v1:" + _digest(parts)


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def kept_agreement(
    store: Store, site: str, choice: ModelChoice, *, prompts_key: str | None = None
) -> SiteAgreement | None:
    """The agreement kept for ``site``'s current prompts and ``choice``'s models, or None (none
    kept, or what is kept does not fit them). Reads the store only: quick, and no model is
    loaded. ``prompts_key``: :func:`prompt_set_key` when the caller has it already."""
    from eczema_tracker.ml.familiarity import PromptAgreement

    key = prompt_set_key(store, site) if prompts_key is None else prompts_key
    kept = store.kept_prompt_agreement(site, key, model_key(choice))
    if kept is None:
        return None
    ids = tuple(r.photo_id for r in store.prompts(site))
    if sorted(ids) != sorted(kept.photo_ids) or kept.k_used != min(choice.k, len(ids) - 1):
        return None  # not of these prompts or this K (a row under the wrong key): check again
    where = {pid: i for i, pid in enumerate(kept.photo_ids)}
    order = [where[pid] for pid in ids]  # the prompts' current order (by when taken)
    position = {old: new for new, old in enumerate(order)}
    agreement = PromptAgreement(
        ious=tuple(kept.ious[i] for i in order),
        keys=tuple(str(pid) for pid in ids),
        used=tuple(tuple(position[j] for j in kept.used[i]) for i in order),
        k_used=kept.k_used,
        note=kept.note,
    )
    taken = tuple(store.photo(pid).taken_at for pid in ids)
    return SiteAgreement(site, ids, taken, agreement, computed_at=kept.computed_at)


def keep_agreement(store: Store, result: SiteAgreement, prompts_key: str, models: str) -> bool:
    """Keep ``result`` (of the prompt set ``prompts_key``, the models ``models``) when it can
    be: a checked result, a writable store, and the site's prompts still those it was computed
    with. A store that cannot take it is logged, never raised: the result stands. True if kept.
    """
    agreement = result.agreement
    if agreement is None or store.readonly:
        return False
    try:
        if prompt_set_key(store, result.site) != prompts_key:
            return False  # the prompts changed while it ran: it is of neither set
        store.keep_prompt_agreement(
            result.site,
            prompts_key,
            models,
            photo_ids=result.photo_ids,
            ious=agreement.ious,
            used=agreement.used,
            k_used=agreement.k_used,
            note=agreement.note,
        )
    except (StoreError, sqlite3.Error, OSError, ValueError) as exc:
        log.warning("prompt agreement of %s not kept: %s", result.site, exc)
        return False
    return True
