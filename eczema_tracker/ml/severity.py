"""The paper's severity classifier: an MLP on DINO region features (no Qt).

``Linear(d, 128) -> ReLU -> Dropout(0.3) -> Linear(128, 4)``, trained with Adam (lr 1e-4),
cross-entropy, 50 epochs, batch 16, seeded. Classes: 0 none, 1 mild, 2 moderate, 3 severe;
the score is the expected class ``sum p * class`` in [0, 3].

A trained model is one ``.safetensors`` file whose metadata records the backbone it was
trained on (source and a weights fingerprint), the feature variant, class names, training-set
size and class counts. Loading never unpickles; a model is refused (with a clear message) by
an encoder whose backbone or feature variant differ.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard

import numpy as np

from eczema_tracker.core.atomic import atomic_path
from eczema_tracker.core.errors import UserError
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled, report
from eczema_tracker.core.severity_scale import CLASS_NAMES
from eczema_tracker.ml.threads import torch_threads

if TYPE_CHECKING:
    from torch import nn

FORMAT_NAME = "eczema-tracker-severity-mlp"
FORMAT_VERSION = 1
HIDDEN_UNITS = 128
DROPOUT = 0.3


class SeverityModelMismatch(UserError, ValueError):
    """The severity model was trained on other features than the encoder in use gives."""


class SeverityModelError(UserError, ValueError):
    """A severity model file that cannot be read (missing, corrupt, not ours, too new)."""


class FeatureSource(Protocol):
    """What a severity model needs to know of the encoder whose features it reads."""

    feature_dim: int
    source: str
    variant: str
    backbone_id: str


def _build_network(feature_dim: int) -> nn.Sequential:
    from torch import nn

    return nn.Sequential(
        nn.Linear(feature_dim, HIDDEN_UNITS),
        nn.ReLU(),
        nn.Dropout(DROPOUT),
        nn.Linear(HIDDEN_UNITS, len(CLASS_NAMES)),
    )


class SeverityModel:
    """4-class eczema severity MLP over fixed-size features."""

    def __init__(
        self,
        feature_dim: int,
        *,
        backbone_source: str,
        feature_variant: str = "cls",
        seed: int = 0,
        device: str = "cpu",
        backbone_id: str | None = None,
    ) -> None:
        import torch

        if isinstance(feature_dim, bool) or not 1 <= feature_dim <= MAX_FEATURE_DIM:
            raise ValueError(f"feature_dim must be 1..{MAX_FEATURE_DIM} (got {feature_dim})")
        self.feature_dim = int(feature_dim)
        self.seed = int(seed)
        self.device = device
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.network = _build_network(self.feature_dim).to(device)
        self.network.eval()
        self.metadata: dict[str, Any] = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "backbone_source": str(backbone_source),
            "backbone_id": backbone_id,
            "feature_variant": feature_variant,
            "feature_dim": self.feature_dim,
            "class_names": list(CLASS_NAMES),
            "n_train": 0,
            "class_counts": [0] * len(CLASS_NAMES),
            "seed": self.seed,
            "created": None,
        }

    @classmethod
    def for_encoder(
        cls, encoder: FeatureSource, *, seed: int = 0, device: str = "cpu"
    ) -> SeverityModel:
        """An untrained model matching ``encoder``'s features (source, fingerprint, variant)."""
        return cls(
            encoder.feature_dim,
            backbone_source=encoder.source,
            feature_variant=encoder.variant,
            seed=seed,
            device=device,
            backbone_id=encoder.backbone_id,
        )

    @property
    def is_trained(self) -> bool:
        """True once :meth:`fit` ran or the model came from a file."""
        return int(self.metadata.get("n_train") or 0) > 0

    # --- training and prediction -----------------------------------------------------------

    def fit(
        self,
        features: np.ndarray,
        labels: np.ndarray,
        *,
        epochs: int = 50,
        batch_size: int = 16,
        lr: float = 1e-4,
        progress: ProgressCallback | None = None,
        cancel: CancelCheck | None = None,
    ) -> SeverityModel:
        """Train from scratch on (N, d) features and (N,) labels in 0..3; returns self."""

        x = self._as_features(features)
        y = np.asarray(labels).reshape(-1)
        if len(y) != len(x):
            raise ValueError(f"{len(x)} feature rows but {len(y)} labels")
        if len(y) == 0:
            raise ValueError("no training examples")
        if not np.all(np.isin(y, np.arange(len(CLASS_NAMES)))):
            raise ValueError("labels must be integers 0 (none) .. 3 (severe)")
        y = y.astype(np.int64)
        # The network is tiny: thread hand-offs cost more than they save (10x slower on 2 cores).
        # torch's thread count is process-wide: torch_threads changes it only while no model
        # runs (an analysis in another thread waits, and is never slowed mid-run).
        with torch_threads(1):
            self._train(
                x, y, epochs=epochs, batch_size=batch_size, lr=lr, progress=progress, cancel=cancel
            )
        counts = np.bincount(y, minlength=len(CLASS_NAMES))
        self.metadata.update(
            n_train=int(len(y)),
            class_counts=[int(c) for c in counts],
            epochs=int(epochs),
            batch_size=int(batch_size),
            lr=float(lr),
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        return self

    def _train(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        epochs: int,
        batch_size: int,
        lr: float,
        progress: ProgressCallback | None,
        cancel: CancelCheck | None,
    ) -> None:
        import torch
        from torch import nn

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            generator = torch.Generator().manual_seed(self.seed)
            self.network = _build_network(self.feature_dim).to(self.device)
            optimizer = torch.optim.Adam(self.network.parameters(), lr=lr)
            loss_fn = nn.CrossEntropyLoss()
            xt = torch.from_numpy(x).to(self.device)
            yt = torch.from_numpy(y).to(self.device)
            self.network.train()
            for epoch in range(epochs):
                raise_if_cancelled(cancel)
                order = torch.randperm(len(xt), generator=generator).to(self.device)
                for start in range(0, len(order), batch_size):
                    idx = order[start : start + batch_size]
                    optimizer.zero_grad()
                    loss = loss_fn(self.network(xt[idx]), yt[idx])
                    loss.backward()
                    optimizer.step()
                report(progress, epoch + 1, epochs, f"epoch {epoch + 1}/{epochs}")
            self.network.eval()

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities (N, 4) float32, columns in CLASS_NAMES order."""
        import torch

        x = torch.from_numpy(self._as_features(features)).to(self.device)
        with torch.inference_mode():
            logits = self.network(x)
        return torch.softmax(logits.float(), dim=1).cpu().numpy().astype(np.float32)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Most likely class (N,) int."""
        return self.predict_proba(features).argmax(axis=1)

    def score(self, features: np.ndarray) -> np.ndarray:
        """Expected class (N,) in [0, 3]: sum over classes of p * class."""
        return expected_score(self.predict_proba(features))

    def _as_features(self, features: np.ndarray) -> np.ndarray:
        x = np.asarray(features, dtype=np.float32)
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.feature_dim:
            raise ValueError(f"features must be (N, {self.feature_dim}); got {x.shape}")
        return np.ascontiguousarray(x)

    # --- compatibility -------------------------------------------------------------------

    def check_compatible(self, encoder: FeatureSource) -> None:
        """Raise :class:`SeverityModelMismatch` unless ``encoder`` gives the features we know."""
        meta = self.metadata
        trained_on = meta.get("backbone_source")
        if meta.get("feature_variant") != encoder.variant:
            raise SeverityModelMismatch(
                f"This severity model was trained on '{meta.get('feature_variant')}' features, but "
                f"the encoder gives '{encoder.variant}'; use the same feature variant or retrain."
            )
        same_backbone = (
            meta.get("backbone_id") == encoder.backbone_id
            if meta.get("backbone_id")
            else trained_on == encoder.source
        )
        if not same_backbone or encoder.feature_dim != self.feature_dim:
            raise SeverityModelMismatch(
                f"This severity model was trained on features of '{trained_on}', but the DINO "
                f"backbone in use is '{encoder.source}' (different weights); use --dino "
                f"{trained_on} or retrain the model with this backbone."
            )

    # --- file ------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write one ``.safetensors`` file atomically (temp file, fsync, replace)."""
        from safetensors.torch import save_file

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.metadata.get("created"):
            self.metadata["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.network.state_dict().items()}
        metadata = {key: json.dumps(value) for key, value in self.metadata.items()}
        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp), metadata=metadata)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, device: str = "cpu") -> SeverityModel:
        """Read a model written by :meth:`save` (safetensors only; nothing is unpickled).

        The metadata is checked against the tensors' shapes (read from the file header)
        before any network is built or any tensor is read, so a hostile or damaged file is
        refused with :class:`SeverityModelError` instead of allocating what it claims.
        """
        from safetensors import SafetensorError, safe_open

        path = Path(path)
        if not path.is_file():
            raise SeverityModelError(f"Severity model {path} does not exist.")
        try:
            with safe_open(str(path), framework="pt") as fh:
                raw_meta = fh.metadata() or {}
                shapes = {key: tuple(fh.get_slice(key).get_shape()) for key in fh.keys()}
                dtypes = {key: str(fh.get_slice(key).get_dtype()) for key in fh.keys()}
                meta = _parse_metadata(path, raw_meta)
                _check_metadata(path, meta, shapes, dtypes)
                tensors = {key: fh.get_tensor(key) for key in shapes}
        except (SafetensorError, OSError) as exc:
            raise SeverityModelError(
                f"Severity model {path} is corrupt or not a safetensors file ({exc})."
            ) from exc
        model = cls(
            meta["feature_dim"],
            backbone_source=meta.get("backbone_source", ""),
            feature_variant=meta.get("feature_variant", "cls"),
            seed=meta.get("seed", 0),
            device=device,
            backbone_id=meta.get("backbone_id"),
        )
        try:
            model.network.load_state_dict(tensors, strict=True)
        except RuntimeError as exc:
            raise SeverityModelError(
                f"Severity model {path} has the wrong tensors ({exc})."
            ) from exc
        model.network.to(device).eval()
        model.metadata.update(meta)
        return model


#: Largest feature size a model file may claim (DINO ViT-B cls+patchmean is 1536).
MAX_FEATURE_DIM = 1 << 16
_FLOAT_DTYPES = frozenset({"F16", "BF16", "F32", "F64"})


def _expected_shapes(feature_dim: int) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes of :func:`_build_network`'s state dict for ``feature_dim``."""
    n_classes = len(CLASS_NAMES)
    return {
        "0.weight": (HIDDEN_UNITS, feature_dim),
        "0.bias": (HIDDEN_UNITS,),
        "3.weight": (n_classes, HIDDEN_UNITS),
        "3.bias": (n_classes,),
    }


def _is_count(value: object) -> TypeGuard[int]:
    """True for a non-negative int (not a bool, not a float)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _parse_metadata(path: Path, raw_meta: dict[str, str]) -> dict[str, Any]:
    """Decode the JSON values of a model file's metadata; refuse anything that is not ours."""
    try:
        meta = {key: json.loads(value) for key, value in raw_meta.items()}
    except ValueError as exc:
        raise SeverityModelError(f"Severity model {path} has unreadable metadata.") from exc
    if meta.get("format") != FORMAT_NAME:
        raise SeverityModelError(f"{path} is not an eczema-tracker severity model.")
    version = meta.get("format_version", 0)
    if not _is_count(version):
        raise SeverityModelError(
            f"Severity model {path} has an unreadable format version ({version!r})."
        )
    if version > FORMAT_VERSION:
        raise SeverityModelError(
            f"Severity model {path} was written by a newer eczema-tracker (format "
            f"{version}); update the app to use it."
        )
    return meta


def _check_metadata(
    path: Path,
    meta: dict[str, Any],
    shapes: dict[str, tuple[int, ...]],
    dtypes: dict[str, str],
) -> None:
    """Refuse metadata that does not describe exactly the tensors in the file."""
    from eczema_tracker.ml.dino import FEATURE_VARIANTS

    def refuse(what: str) -> SeverityModelError:
        return SeverityModelError(f"Severity model {path} is damaged or not ours: {what}.")

    dim = meta.get("feature_dim")
    if "feature_dim" not in meta:
        raise refuse("its metadata has no feature_dim")
    if not _is_count(dim) or not 1 <= dim <= MAX_FEATURE_DIM:
        raise refuse(f"feature_dim must be a whole number from 1 to {MAX_FEATURE_DIM}, not {dim!r}")
    expected = _expected_shapes(dim)
    if set(shapes) != set(expected):
        raise refuse(f"it holds tensors {sorted(shapes)}, not {sorted(expected)}")
    for key, shape in expected.items():
        if shapes[key] != shape:
            raise refuse(
                f"tensor {key} is {list(shapes[key])} but feature_dim {dim} needs {list(shape)}"
            )
        if dtypes[key] not in _FLOAT_DTYPES:
            raise refuse(f"tensor {key} holds {dtypes[key]} values, not floating point")
    variant = meta.get("feature_variant", "cls")
    if variant not in FEATURE_VARIANTS:
        raise refuse(f"unknown feature_variant {variant!r} (known: {', '.join(FEATURE_VARIANTS)})")
    if meta.get("class_names") != list(CLASS_NAMES):
        raise refuse(f"class_names are {meta.get('class_names')!r}, not {list(CLASS_NAMES)!r}")
    if not _is_count(meta.get("seed", 0)):
        raise refuse(f"seed must be a non-negative whole number, not {meta.get('seed')!r}")
    if not _is_count(meta.get("n_train", 0)):
        raise refuse(f"n_train must be a non-negative whole number, not {meta.get('n_train')!r}")
    counts = meta.get("class_counts", [0] * len(CLASS_NAMES))
    if not (
        isinstance(counts, list)
        and len(counts) == len(CLASS_NAMES)
        and all(_is_count(c) for c in counts)
    ):
        raise refuse(f"class_counts must be {len(CLASS_NAMES)} whole numbers, not {counts!r}")
    for key in ("backbone_source", "backbone_id"):
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            raise refuse(f"{key} must be text, not {value!r}")


def expected_score(probabilities: np.ndarray) -> np.ndarray:
    """``sum_c p_c * c`` for each row of (N, 4) probabilities: a score in [0, 3]."""
    p = np.asarray(probabilities, dtype=np.float64)
    return (p @ np.arange(p.shape[1], dtype=np.float64)).astype(np.float32)
