"""The features of a site's photos that trust is judged on, kept in the store (no Qt).

- :func:`photo_features`: the whole-image retrieval [CLS] (or, ``familiarity=True``, the
  familiarity features) of stored photos, kept in the store (``retrieval_features``) so each
  photo goes through DINO for this once;
- :func:`site_examples`: the :class:`~eczema_tracker.ml.familiarity.ExampleSpace` that judges a
  site's photos "unlike your examples", with the bound measured for the backbone or calibrated
  from the site's own photos;
- :func:`next_to_paint`: the unannotated photo of a site least like its prompts (greedy
  k-center), the most useful one to paint as a new example.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from eczema_tracker.core.jobs import (
    CancelCheck,
    raise_if_cancelled,
)

if TYPE_CHECKING:
    from PIL import Image

    from eczema_tracker.ml.familiarity import ExampleSpace, Familiarity
    from eczema_tracker.store import Store

log = logging.getLogger(__name__)


#: Photos decoded and sent to DINO at once by :func:`photo_features` (memory stays bounded;
#: a cancel is seen between batches).
FEATURE_BATCH = 8


# -- retrieval features -----------------------------------------------------------------------
class RetrievalEncoder(Protocol):
    """What :func:`photo_features` needs of an encoder (``ml.dino.DinoEncoder`` is one)."""

    def retrieval_features(self, images: Sequence[Image.Image]) -> np.ndarray: ...


#: Own photos of a site a backbone without a measured bound is calibrated from, at most (those
#: whose features are kept always count; more are computed only up to this many).
CALIBRATION_PHOTOS = 40
#: Appended to :func:`feature_source_of` for the familiarity features kept beside the [CLS].
FAMILIARITY_FEATURES = "#familiarity"


def feature_source_of(encoder: Any) -> str:
    """The name features of ``encoder`` are kept under: its backbone and the analysis size
    (features of another backbone or of a photo decoded at another size never mix)."""
    from eczema_tracker.ml.pipeline import ANALYSIS_MAX_SIDE

    backbone = getattr(encoder, "backbone_id", None) or type(encoder).__name__
    return f"{backbone}@{ANALYSIS_MAX_SIDE}"


def photo_features(
    store: Store,
    photo_ids: Sequence[int],
    encoder: RetrievalEncoder,
    *,
    images: dict[int, Image.Image] | None = None,
    keep: bool = True,
    cancel: CancelCheck | None = None,
    familiarity: bool = False,
) -> np.ndarray:
    """(N, D) whole-image retrieval [CLS] of ``photo_ids`` (in order; ``familiarity``: the
    encoder's ``familiarity_features`` instead), from the store when kept, else computed (each photo decoded at the analysis size; ``images`` may hold them already)
    and kept when ``keep`` and the store is writable.

    Missing photos go through DINO :data:`FEATURE_BATCH` at a time: only one batch of decoded
    photos is held, each batch is kept as soon as it is computed, and ``cancel`` is checked
    before every photo is decoded and between batches (what was kept stays kept).
    """
    from eczema_tracker.ml.pipeline import ANALYSIS_MAX_SIDE

    source = feature_source_of(encoder) + (FAMILIARITY_FEATURES if familiarity else "")
    compute = (
        getattr(encoder, "familiarity_features")  # noqa: B009 - not in RetrievalEncoder
        if familiarity
        else encoder.retrieval_features
    )
    ids = [int(i) for i in photo_ids]
    found = store.kept_retrieval_features(ids, source)
    missing = list(dict.fromkeys(i for i in ids if i not in found))
    for start in range(0, len(missing), FEATURE_BATCH):
        batch = missing[start : start + FEATURE_BATCH]
        pictures = []
        for pid in batch:
            raise_if_cancelled(cancel)
            given = None if images is None else images.get(pid)
            pictures.append(given or store.load_image(pid, max_side=ANALYSIS_MAX_SIDE))
        raise_if_cancelled(cancel)
        computed = np.asarray(compute(pictures), dtype=np.float32)
        del pictures  # one batch of decoded photos at a time
        new = dict(zip(batch, computed, strict=True))
        if keep and not store.readonly:
            store.keep_retrieval_features(new, source)
        found.update(new)
    if not ids:
        return np.zeros((0, 0), dtype=np.float32)
    return np.stack([np.asarray(found[i], dtype=np.float32) for i in ids])


@dataclass
class SiteExamples:
    """A site's :class:`ExampleSpace` and the familiarity features of its photos at hand
    (``kept``: the ids whose features the store already keeps under ``source``)."""

    space: ExampleSpace
    features: dict[int, np.ndarray]
    source: str
    kept: set[int]

    def judge(self, photo_id: int, feature: np.ndarray) -> Familiarity:
        """The ``Familiarity`` of a photo of the site (left out of its own calibration); its
        feature is remembered (and kept by the next :meth:`keep`)."""
        self.features[photo_id] = np.asarray(feature, dtype=np.float32)
        return self.space.judge(feature, key=photo_id)

    def keep(self, store: Store) -> None:
        """Keep the features computed since (a read-only store keeps nothing)."""
        new = {pid: f for pid, f in self.features.items() if pid not in self.kept}
        if new and not store.readonly:
            store.keep_retrieval_features(new, self.source)
        self.kept.update(new)


def site_examples(
    store: Store,
    site: str,
    encoder: Any,
    *,
    photo_ids: Sequence[int] = (),
    cancel: CancelCheck | None = None,
) -> SiteExamples | None:
    """The site's prompts' :class:`ExampleSpace`; None without prompts or with an encoder that
    has no ``familiarity_features``. Features are read back where kept, else computed; nothing
    is written here (:meth:`SiteExamples.keep` does, so a caller can guard the write).

    With the backbone's measured bound (``familiarity.known_bound``) that is all. Without one
    the bound is calibrated from the site's other photos: every one whose features are kept,
    and more - ``photo_ids`` (about to be analysed) first, then the site's newest - computed
    one at a time until there are :data:`CALIBRATION_PHOTOS` (a photo that cannot be read is
    skipped: its own analysis reports it). A new backbone so costs one DINO pass per photo,
    once.
    """
    from eczema_tracker.ml.familiarity import ExampleSpace, known_bound

    ids = [record.photo_id for record in store.prompts(site)]
    if not ids or not callable(getattr(encoder, "familiarity_features", None)):
        return None
    source = feature_source_of(encoder) + FAMILIARITY_FEATURES
    kept = set(store.kept_retrieval_features(ids, source))
    prompts = photo_features(store, ids, encoder, keep=False, cancel=cancel, familiarity=True)
    features = dict(zip(ids, prompts, strict=True))
    bound = known_bound(getattr(encoder, "backbone_id", None))
    own: dict[int, np.ndarray] = {}
    if bound is None:
        others = [p.id for p in store.photos(site) if p.id not in features]
        own.update(store.kept_retrieval_features(others, source))
        kept.update(own)
        for pid in dict.fromkeys([*photo_ids, *others]):
            if len(own) >= CALIBRATION_PHOTOS:
                break
            if pid in own or pid in features:
                continue
            try:
                own[pid] = photo_features(
                    store, [pid], encoder, keep=False, cancel=cancel, familiarity=True
                )[0]
            except (ValueError, OSError):
                continue
    space = ExampleSpace(prompts, bound=bound, own_features=own)
    return SiteExamples(space, own | features, source, kept)


# -- what to paint next -----------------------------------------------------------------------
@dataclass(frozen=True)
class PhotoToPaint:
    """The photo to paint next and its nearest-prompt distance (None: the site has no prompts,
    the photo most like the others is suggested as a first example)."""

    site: str
    photo_id: int
    taken_at: str
    distance: float | None
    candidates: int  #: unannotated photos with features, among which it was chosen

    def to_json(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "photo_id": self.photo_id,
            "taken_at": self.taken_at,
            "nearest_prompt_distance": self.distance,
            "candidates": self.candidates,
        }


def next_to_paint(
    store: Store,
    site: str,
    *,
    encoder: RetrievalEncoder | None = None,
    feature_source: str | None = None,
    cancel: CancelCheck | None = None,
) -> PhotoToPaint | None:
    """The unannotated photo of ``site`` farthest from its nearest prompt (greedy k-center).

    With ``encoder`` every photo takes part (missing features are computed and kept); without,
    only photos whose retrieval features the store keeps for ``feature_source`` (None: the
    backbone most recently kept for the site), i.e. those analysed since schema 4, and no model
    is loaded. None when no unannotated photo has features.
    """
    from eczema_tracker.ml.familiarity import next_to_paint as farthest

    photos = store.photos(site)
    prompt_ids = [p.id for p in photos if p.is_prompt]
    candidates = [p for p in photos if not p.is_prompt]
    if not candidates:
        return None
    if encoder is not None:
        ids = [p.id for p in candidates]
        cand = photo_features(store, ids, encoder, cancel=cancel)
        prompts = photo_features(store, prompt_ids, encoder, cancel=cancel) if prompt_ids else None
    else:
        source = feature_source
        if source is None:
            sources = [  # the [CLS] kept for retrieval, not the familiarity features beside it
                s
                for s in store.retrieval_feature_sources([p.id for p in photos])
                if not s.endswith(FAMILIARITY_FEATURES)
            ]
            if not sources:
                return None
            source = sources[0]
        kept = store.kept_retrieval_features([p.id for p in photos], source)
        candidates = [p for p in candidates if p.id in kept]
        if not candidates:
            return None
        cand = np.stack([kept[p.id] for p in candidates])
        known = [kept[i] for i in prompt_ids if i in kept]
        if prompt_ids and not known:
            return None  # prompts without features: the farthest cannot be told
        prompts = np.stack(known) if known else None
    pick = farthest(cand, prompts)
    if pick is None:
        return None
    chosen = candidates[pick.index]
    return PhotoToPaint(site, chosen.id, chosen.taken_at, pick.distance, len(candidates))
