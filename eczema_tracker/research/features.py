"""Per-image research work with a cache: DINO features, SegGPT prompt retrieval and masks.

Models load lazily (a fully cached run loads none). Cache keys hold everything that decides a
result: the image's content hash, the model weights' fingerprints, device/precision settings,
the app version and, for masks, the K prompts actually used (their image and mask hashes), so
the same image segmented with the same prompts in two splits is segmented once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from eczema_tracker import __version__
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled, report
from eczema_tracker.research.cache import ResearchCache, cache_key, mask_digest
from eczema_tracker.research.dataset import ResearchDataset

#: Images per model call when features are computed in bulk.
BATCH = 8


@dataclass
class WorkCounts:
    """Work actually computed (not read from the cache) - what a second run should skip."""

    retrievals: int = 0
    segmentations: int = 0
    image_features: int = 0
    region_features: int = 0
    baseline_features: int = 0
    cache_hits: dict[str, int] = field(default_factory=dict)

    def hit(self, kind: str) -> None:
        self.cache_hits[kind] = self.cache_hits.get(kind, 0) + 1

    @property
    def computed(self) -> int:
        """Total model forward passes that had to run."""
        return (
            self.retrievals
            + self.segmentations
            + self.image_features
            + self.region_features
            + self.baseline_features
        )


@dataclass(frozen=True)
class ModelSettings:
    """Which models and how they run (every field goes into cache keys and the run config)."""

    dino: str
    seggpt: str
    k: int = 2
    device: str = "cpu"
    fast: bool = True
    variant: str = "cls"


def source_fingerprint(spec: str, role: str | None) -> str:
    """Cheap fingerprint of a model source's weights (resolves the source; loads nothing)."""
    from eczema_tracker.ml.checkpoint_files import weights_fingerprint
    from eczema_tracker.ml.sources import resolve_source

    return weights_fingerprint(resolve_source(spec, role=role))


class FeatureBuilder:
    """Computes (or reads from the cache) the features each research method needs."""

    def __init__(
        self,
        dataset: ResearchDataset,
        settings: ModelSettings,
        cache: ResearchCache,
        counts: WorkCounts | None = None,
    ) -> None:
        self.dataset = dataset
        self.settings = settings
        self.cache = cache
        self.counts = counts or WorkCounts()
        self._encoder = None
        self._segmenter = None
        self._segmenter_pool: tuple[int, ...] | None = None
        self._dino_fp: str | None = None
        self._seggpt_fp: str | None = None
        self._acceleration: str | None = None

    # --- keys ----------------------------------------------------------------------------

    def _dino_key(self) -> list:
        if self._dino_fp is None:
            self._dino_fp = source_fingerprint(self.settings.dino, "dino")
        s = self.settings
        return ["dino", self._dino_fp, s.variant, self.acceleration, __version__]

    def _seggpt_key(self) -> list:
        if self._seggpt_fp is None:
            self._seggpt_fp = source_fingerprint(self.settings.seggpt, "seggpt")
        s = self.settings
        return ["seggpt", self._seggpt_fp, s.k, self.acceleration, __version__] + self._dino_key()

    @property
    def acceleration(self) -> str:
        """How the models run (device, dtype, attention): numerics differ between paths."""
        if self._acceleration is None:
            from eczema_tracker.ml.acceleration import choose_path

            s = self.settings
            self._acceleration = choose_path(s.device, fast=s.fast).describe()
        return self._acceleration

    def _prompt_id(self, index: int) -> list[str]:
        item = self.dataset.items[index]
        return [item.key, item.sha256, item.mask_sha256 or ""]

    # --- models (lazy) -------------------------------------------------------------------

    @property
    def encoder(self):
        if self._encoder is None:
            from eczema_tracker.ml.dino import DinoEncoder

            s = self.settings
            self._encoder = DinoEncoder(s.dino, device=s.device, variant=s.variant, fast=s.fast)
        return self._encoder

    def _segmenter_for(self, pool: tuple[int, ...]):
        """A SegGPT segmenter whose prompts are the dataset images ``pool`` (loaded once)."""
        from eczema_tracker.ml.seggpt import Prompt, SegGptSegmenter

        s = self.settings
        if self._segmenter is None:
            self._segmenter = SegGptSegmenter(
                s.seggpt, encoder=self.encoder, k=s.k, device=s.device, fast=s.fast
            )
        if self._segmenter_pool != pool:
            prompts = [
                Prompt(
                    self.dataset.load_image(i),
                    self.dataset.load_mask(i),
                    key=self.dataset.items[i].key,
                )
                for i in pool
            ]
            self._segmenter.set_prompts(prompts)
            self._segmenter_pool = pool
        return self._segmenter

    # --- features ------------------------------------------------------------------------

    def _batched(
        self,
        kind: str,
        indices: Sequence[int],
        compute,
        *,
        message: str,
        progress: ProgressCallback | None,
        cancel: CancelCheck | None,
    ) -> np.ndarray:
        """Rows of ``kind`` for ``indices``: cached ones read, the rest computed ``BATCH`` at a time.

        ``compute(images) -> (n, D)`` runs the model on a list of images.
        """
        rows: list[np.ndarray | None] = []
        for start in range(0, len(indices), BATCH):
            raise_if_cancelled(cancel)
            report(progress, start, len(indices), message)
            chunk = list(indices[start : start + BATCH])
            keys = [cache_key(self._dino_key(), kind, self.dataset.items[i].sha256) for i in chunk]
            found = [self.cache.get_array(kind, key) for key in keys]
            missing = [j for j, row in enumerate(found) if row is None]
            if missing:
                computed = compute([self.dataset.load_image(chunk[j]) for j in missing])
                for j, row in zip(missing, computed, strict=True):
                    self.cache.put_array(kind, keys[j], row)
                    found[j] = row
                self.counts.image_features += len(missing)
            for _ in range(len(chunk) - len(missing)):
                self.counts.hit(kind)
            rows.extend(found)
        report(progress, len(indices), len(indices), message)
        return np.stack(rows).astype(np.float32)

    def image_features(
        self,
        indices: Sequence[int],
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> np.ndarray:
        """Whole-image DINO features (N, D) of dataset ``indices`` ("dino-full")."""
        return self._batched(
            "image_features",
            indices,
            lambda images: self.encoder.image_features(images),
            message="DINO features of whole images",
            progress=progress,
            cancel=cancel,
        )

    def retrieval_features(
        self,
        indices: Sequence[int],
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> np.ndarray:
        """Whole-image DINO [CLS] (N, hidden), as the segmenter's prompt retrieval uses it."""
        return self._batched(
            "retrieval_features",
            indices,
            lambda images: self.encoder.retrieval_features(images),
            message="DINO [CLS] for prompt retrieval",
            progress=progress,
            cancel=cancel,
        )

    def segmented_features(
        self,
        indices: Sequence[int],
        pool: Sequence[int],
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """DINO features of the SegGPT-segmented region of each image ("dino-seg").

        Prompts are the K nearest of the masked images ``pool`` (never the image itself).
        Returns features (N, D) and the masks used.
        """
        pool = tuple(sorted(pool))
        if len(pool) < self.settings.k + 1 and any(i in pool for i in indices):
            raise ValueError(
                f"{len(pool)} masked images are too few: each is segmented with "
                f"K={self.settings.k} other masked images as prompts"
            )
        if len(pool) < self.settings.k:
            raise ValueError(f"{len(pool)} masked images are fewer than K={self.settings.k}")
        pool_id = cache_key([self._prompt_id(i) for i in pool])
        query = dict(zip(indices, self.retrieval_features(indices, cancel=cancel), strict=True))
        rows, masks = [], []
        for done, i in enumerate(indices):
            raise_if_cancelled(cancel)
            report(progress, done, len(indices), "segmenting and DINO region features")
            mask, _ = self._mask(i, pool, pool_id, query[i])
            key = cache_key(
                self._dino_key(), "region", self.dataset.items[i].sha256, mask_digest(mask)
            )
            feature = self.cache.get_array("region_features", key)
            if feature is None:
                feature = self.encoder.region_features([self.dataset.load_image(i)], [mask])[0]
                self.cache.put_array("region_features", key, feature)
                self.counts.region_features += 1
            else:
                self.counts.hit("region_features")
            rows.append(feature)
            masks.append(mask)
        report(progress, len(indices), len(indices), "segmenting and DINO region features")
        return np.stack(rows).astype(np.float32), masks

    def retrieved_mask(self, index: int, pool: Sequence[int]) -> tuple[np.ndarray, list[str]]:
        """``index`` segmented as dino-seg does it: K nearest of ``pool`` (never itself).

        Returns the mask and the prompt keys used; shares dino-seg's cache entries.
        """
        pool = tuple(sorted(pool))
        pool_id = cache_key([self._prompt_id(i) for i in pool])
        query = self.retrieval_features([index])[0]
        return self._mask(index, pool, pool_id, query)

    def mask_with_prompts(
        self, index: int, pool: Sequence[int], chosen: Sequence[int]
    ) -> tuple[np.ndarray, list[str]]:
        """``index`` segmented with exactly the prompts ``chosen`` (dataset indices in ``pool``).

        The segmenter's pool stays ``pool``; every other prompt (and the image itself) is
        excluded and K set to ``len(chosen)`` for this call. Cached by the *set* of prompts.
        Returns the mask and the prompt keys in the order the segmenter used them.
        """
        pool = tuple(sorted(pool))
        chosen = sorted(set(chosen))
        item = self.dataset.items[index]
        if index in chosen or not chosen or not set(chosen) <= set(pool):
            raise ValueError(f"{item.key}: prompts must be other images of the pool")
        mask_key = cache_key(
            self._seggpt_key(), "chosen", item.sha256, [self._prompt_id(j) for j in chosen]
        )
        mask = self.cache.get_mask("masks", mask_key)
        keys = self.cache.get_json("chosen_prompts", mask_key)
        if mask is not None and keys is not None:
            self.counts.hit("masks")
            return mask, list(keys)
        segmenter = self._segmenter_for(pool)
        wanted = {self.dataset.items[j].key for j in chosen}
        excluded = [item.key] + [self.dataset.items[j].key for j in pool if j not in chosen]
        k = segmenter.k
        segmenter.k = len(chosen)  # hook wanted in ml: segment(image, prompt_indices=...)
        try:
            segmentation = segmenter.segment(self.dataset.load_image(index), exclude_keys=excluded)
        finally:
            segmenter.k = k
        if set(segmentation.prompt_keys) != wanted:
            raise RuntimeError(
                f"{item.key}: segmenter used prompts {segmentation.prompt_keys}, wanted {wanted}"
            )
        mask = np.asarray(segmentation.mask, dtype=bool)
        self.cache.put_mask("masks", mask_key, mask)
        self.cache.put_json("chosen_prompts", mask_key, list(segmentation.prompt_keys))
        self.counts.segmentations += 1
        return mask, list(segmentation.prompt_keys)

    def _mask(
        self, index: int, pool: tuple[int, ...], pool_id: str, query_feature: np.ndarray
    ) -> tuple[np.ndarray, list[str]]:
        item = self.dataset.items[index]
        retrieval_key = cache_key(
            self._dino_key(), "retrieval", self.settings.k, item.sha256, item.key, pool_id
        )
        chosen = self.cache.get_json("retrievals", retrieval_key)
        if chosen is None:
            segmenter = self._segmenter_for(pool)
            nearest = segmenter.nearest_prompts(
                None, exclude_keys=(item.key,), query_features=query_feature
            )
            chosen = [self.dataset.items[pool[j]].key for j in nearest]
            self.cache.put_json("retrievals", retrieval_key, chosen)
            self.counts.retrievals += 1
        else:
            self.counts.hit("retrievals")
        by_key = {self.dataset.items[i].key: i for i in pool}
        prompts = [self._prompt_id(by_key[key]) for key in chosen]
        mask_key = cache_key(self._seggpt_key(), item.sha256, prompts)
        mask = self.cache.get_mask("masks", mask_key)
        if mask is None:
            segmentation = self._segmenter_for(pool).segment(
                self.dataset.load_image(index), exclude_keys=(item.key,)
            )
            if list(segmentation.prompt_keys) != list(chosen):  # retrieval must agree
                raise RuntimeError(
                    f"{item.key}: segmenter used prompts {segmentation.prompt_keys}, "
                    f"retrieval chose {chosen}"
                )
            mask = np.asarray(segmentation.mask, dtype=bool)
            self.cache.put_mask("masks", mask_key, mask)
            self.counts.segmentations += 1
        else:
            self.counts.hit("masks")
        return mask, list(chosen)
