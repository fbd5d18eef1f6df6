"""Model weights loaded in a fraction of a second: memory-mapped safetensors.

``from_pretrained`` spends most of a start on bookkeeping, and where the fast path computes in
bfloat16 it also converted 1.4 GB of float32 SegGPT weights on every start. Here instead:

* When the checkpoint already holds the model's own tensors in the wanted dtype (the usual
  float32 case), the model is built empty (``meta`` device) and its tensors are the
  checkpoint's own bytes, memory-mapped: nothing is copied until a layer first reads it.
* Otherwise (another dtype, or names transformers renames while loading) the model is loaded
  once by transformers, converted, and its state dict written to the user's cache
  (``models_dir()/converted``), one tensor at a time, atomically; later starts memory-map that
  copy. The cache file is keyed by the source revision, the full SHA-256 of every weight file
  (:func:`weights_content_hash`), the config, the model class and the dtype, so new weights
  never meet an old copy, even a retrained layer of the same shape dropped into the same
  folder. Each file is hashed once: its hash is remembered in
  ``converted/hashes.json`` by (size, mtime_ns, ctime_ns, inode, device), so a later start
  only reads the files' ``stat``.

Safety: only safetensors are read (never pickle). Every header is checked before a byte of
data is used: known dtypes, sizes that agree with shapes, spans that tile the data exactly to
the end of the file, and the cache's own metadata. A file that fails (truncated, lying header,
another key) is ignored and rebuilt; any surprise falls back to plain ``from_pretrained``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eczema_tracker.core import paths
from eczema_tracker.core.atomic import atomic_path
from eczema_tracker.core.imaging import ImageLoadError, read_regular_file
from eczema_tracker.ml.checkpoint_files import (
    MAX_CONFIG_BYTES,
    ModelSourceError,
    read_config,
    read_header_block,
    weight_files,
)
from eczema_tracker.ml.loading import load_pretrained, quiet_transformers

log = logging.getLogger(__name__)

#: Written into every cache file; a file of another format is rebuilt.
FORMAT = "eczema-tracker-converted-weights/2"
#: Largest header accepted (the JSON table of tensors; SegGPT's is ~40 KB).
MAX_HEADER_BYTES = 16 * 1024 * 1024
#: Room left free on the disk beyond a cache file before one is written.
SPARE_BYTES = 200 * 1024 * 1024

_DTYPE_SIZES = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
}


@dataclass(frozen=True)
class LoadReport:
    """How a model's weights came in.

    ``how``: "checkpoint" (the checkpoint itself, memory-mapped), "cache" (the converted copy,
    memory-mapped), "built" (converted now and written to the cache), "transformers" (plain
    ``from_pretrained``: nothing faster applied, ``reason`` says why).
    """

    how: str
    seconds: float
    file: Path | None = None
    reason: str = ""


def converted_dir() -> Path:
    """Folder of the converted copies (inside the user's model cache)."""
    return paths.models_dir() / "converted"


def _torch_dtypes() -> dict[str, Any]:
    import torch

    return {
        "F64": torch.float64,
        "F32": torch.float32,
        "F16": torch.float16,
        "BF16": torch.bfloat16,
        "I64": torch.int64,
        "I32": torch.int32,
        "I16": torch.int16,
        "I8": torch.int8,
        "U8": torch.uint8,
        "BOOL": torch.bool,
    }


def _dtype_code(dtype: Any) -> str:
    for code, value in _torch_dtypes().items():
        if value == dtype:
            return code
    raise ValueError(f"unsupported tensor dtype {dtype}")


# --- headers ---------------------------------------------------------------------------------


def validate_header(file: Path) -> dict[str, Any]:
    """The header of a safetensors ``file``, checked strictly; ValueError when anything is off.

    Checked: header size within the file and :data:`MAX_HEADER_BYTES`; every entry has a known
    dtype, a shape of non-negative integers and byte offsets whose length is the shape's size;
    the spans tile the data section with no gap or overlap and end exactly at the end of the
    file (so a truncated or padded file fails). ``__metadata__`` must map strings to strings.
    """
    header, header_len, size = read_header_block(file, MAX_HEADER_BYTES)
    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise ValueError("bad __metadata__")
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(f"{name}: bad entry")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in _DTYPE_SIZES:
            raise ValueError(f"{name}: unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(
            type(d) is int and d >= 0 for d in shape
        ):  # bool is not an int here
            raise ValueError(f"{name}: bad shape")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(type(o) is int for o in offsets)
            or not 0 <= offsets[0] <= offsets[1]
        ):
            raise ValueError(f"{name}: bad data offsets")
        if offsets[1] - offsets[0] != math.prod(shape) * _DTYPE_SIZES[dtype]:
            raise ValueError(f"{name}: {offsets[1] - offsets[0]} bytes do not hold shape {shape}")
        spans.append((offsets[0], offsets[1]))
    end = 0
    for begin, stop in sorted(spans):
        if begin != end:
            raise ValueError("tensor data has gaps or overlaps")
        end = stop
    if 8 + header_len + end != size:
        raise ValueError(f"data ends at {8 + header_len + end} bytes but the file has {size}")
    return header


def write_safetensors(file: Path, tensors: dict[str, Any], metadata: dict[str, str]) -> None:
    """Write ``tensors`` (CPU) to ``file`` atomically, one tensor at a time (no second copy)."""
    entries: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    for name, tensor in tensors.items():
        nbytes = tensor.numel() * tensor.element_size()
        entries[name] = {
            "dtype": _dtype_code(tensor.dtype),
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + nbytes],
        }
        offset += nbytes
    header = json.dumps(entries, separators=(",", ":")).encode("utf-8")
    header += b" " * (-len(header) % 8)  # data section 8-byte aligned, as the format allows
    import torch

    with atomic_path(file) as tmp, open(tmp, "wb") as fh:
        fh.write(struct.pack("<Q", len(header)))
        fh.write(header)
        for tensor in tensors.values():
            flat = tensor.detach().to("cpu").contiguous().reshape(-1)
            if flat.numel():
                fh.write(flat.view(torch.uint8).numpy().data)


# --- keys ------------------------------------------------------------------------------------


def source_revision(folder: Path) -> str:
    """The hub commit of a cached snapshot folder, else "local" (the fingerprint decides)."""
    folder = Path(folder)
    return folder.name if folder.parent.name == "snapshots" else "local"


#: The remembered full hashes of weight files (see :func:`weights_content_hash`).
HASHES_NAME = "hashes.json"
#: A hashes file larger than this is ignored (each entry is ~250 bytes).
MAX_HASHES_BYTES = 4 * 1024 * 1024


def _identity(info: os.stat_result) -> list[int]:
    """What says a file is unchanged since it was hashed (a rewrite changes ctime at least)."""
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev]


def _remembered_hashes(file: Path) -> dict[str, Any]:
    try:
        data, _info = read_regular_file(file, max_bytes=MAX_HASHES_BYTES)
        remembered = json.loads(data.decode("utf-8"))
    except (ImageLoadError, ValueError, RecursionError):  # absent, damaged: hash again
        return {}
    return remembered if isinstance(remembered, dict) else {}


def file_sha256(file: Path) -> str:
    """SHA-256 of the whole ``file``, streamed."""
    with open(file, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def weights_content_hash(folder: Path) -> str:
    """Hash of the full content of every weight file of ``folder`` (names and SHA-256s).

    A file's SHA-256 is computed once and remembered in ``converted_dir()/hashes.json`` with
    its identity (size, mtime_ns, ctime_ns, inode, device); while that identity holds, a later
    call only reads its ``stat``. The remembered list is a cache: when it cannot be written,
    the hashes are simply computed again next time.
    """
    store = converted_dir() / HASHES_NAME
    remembered = _remembered_hashes(store)
    digest = hashlib.sha256()
    changed = False
    for file in weight_files(Path(folder)):
        key = str(file.resolve())
        identity = _identity(file.stat())
        entry = remembered.get(key)
        if (
            isinstance(entry, dict)
            and entry.get("identity") == identity
            and isinstance(entry.get("sha256"), str)
        ):
            sha = entry["sha256"]
        else:
            sha = file_sha256(file)
            if _identity(file.stat()) != identity:  # changed while being read
                raise OSError(f"{file} changed while it was read")
            remembered[key] = {"identity": identity, "sha256": sha}
            changed = True
        digest.update(f"{file.name}:{sha}\n".encode())
    if changed:
        remembered = {k: v for k, v in remembered.items() if os.path.exists(k)}  # files gone
        try:
            paths.ensure_private_dir(store.parent)
            with atomic_path(store, sync=False) as tmp:
                tmp.write_text(json.dumps(remembered, indent=1, sort_keys=True), encoding="utf-8")
        except OSError as exc:  # read-only cache: hash again next start
            log.warning("could not remember the weights' hashes in %s: %s", store, exc)
    return digest.hexdigest()


def cache_key(folder: Path, model_class: Any, dtype: Any) -> str:
    """Hex key of a converted copy: revision, full weights hash, config, class and dtype."""
    try:
        config, _info = read_regular_file(Path(folder) / "config.json", max_bytes=MAX_CONFIG_BYTES)
    except ImageLoadError as exc:
        raise ValueError(exc.message) from exc
    parts = {
        "format": FORMAT,
        "revision": source_revision(folder),
        "weights_sha256": weights_content_hash(Path(folder)),
        "config": hashlib.sha256(config).hexdigest(),
        "class": getattr(model_class, "__name__", str(model_class)),
        "dtype": _dtype_code(dtype),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def cache_file(folder: Path, model_class: Any, dtype: Any) -> Path:
    """Where the converted copy of ``folder`` for ``model_class`` in ``dtype`` lives."""
    model_type = str(read_config(Path(folder)).get("model_type") or "model")
    safe_type = "".join(c for c in model_type if c.isalnum() or c in "-_") or "model"
    key = cache_key(folder, model_class, dtype)
    return converted_dir() / f"{safe_type}-{_dtype_code(dtype).lower()}-{key}.safetensors"


# --- loading ---------------------------------------------------------------------------------


def _empty_model(model_class: Any, folder: Path, dtype: Any, kwargs: dict[str, Any]) -> Any:
    """The model built on the ``meta`` device (no memory, no random init)."""
    import torch
    from transformers import AutoConfig

    with quiet_transformers():
        config = AutoConfig.from_pretrained(folder, local_files_only=True)
        config.dtype = dtype
        with torch.device("meta"):
            if hasattr(model_class, "_from_config"):
                return model_class._from_config(config, **kwargs)
            return model_class.from_config(config, **kwargs)


def _mapped_tensors(files: list[Path]) -> dict[str, Any]:
    """Every tensor of ``files``, memory-mapped (safetensors' own mmap loader)."""
    from safetensors import safe_open

    tensors: dict[str, Any] = {}
    for file in files:
        with safe_open(str(file), framework="pt", device="cpu") as handle:
            for name in handle.keys():  # noqa: SIM118 - safe_open is not a mapping
                if name in tensors:
                    raise ValueError(f"tensor {name} appears twice")
                tensors[name] = handle.get_tensor(name)
    return tensors


def _plan(model: Any, headers: list[dict[str, Any]], dtype: Any) -> str | None:
    """None when the headers hold exactly the model's tensors (floats in ``dtype``), else why not.

    Extra tensors (e.g. an unused pooler) are allowed; missing ones or other shapes are not.
    """
    wanted = model.state_dict(keep_vars=True)
    found: dict[str, dict[str, Any]] = {}
    for header in headers:
        found.update({k: v for k, v in header.items() if k != "__metadata__"})
    codes = _torch_dtypes()
    for name, tensor in wanted.items():
        entry = found.get(name)
        if entry is None:
            return f"checkpoint lacks {name}"
        if list(entry["shape"]) != list(tensor.shape):
            return f"{name} has another shape"
        stored = codes[entry["dtype"]]
        expected = dtype if tensor.is_floating_point() else tensor.dtype
        if stored != expected:
            return f"{name} is {entry['dtype']}"
    return None


def _assign(model: Any, tensors: dict[str, Any]) -> Any:
    wanted = model.state_dict(keep_vars=True)
    model.load_state_dict({k: tensors[k] for k in wanted}, strict=True, assign=True)
    if any(t.is_meta for t in list(model.parameters()) + list(model.buffers())):
        raise ValueError("tensors left unset")
    return model.eval()


def _mapped_model(
    model_class: Any,
    folder: Path,
    files: list[Path],
    dtype: Any,
    kwargs: dict[str, Any],
    metadata: dict[str, Any] | None = None,
) -> tuple[Any, str]:
    """(model, "") with ``files`` memory-mapped in, or (None, why not)."""
    try:
        headers = [validate_header(file) for file in files]
    except (OSError, ValueError) as exc:
        return None, f"header refused: {exc}"
    if metadata is not None and (len(headers) != 1 or headers[0].get("__metadata__") != metadata):
        return None, "cache metadata does not match"
    try:
        model = _empty_model(model_class, folder, dtype, kwargs)
    except Exception as exc:  # noqa: BLE001 - any transformers refusal: use from_pretrained
        return None, f"cannot build the model empty: {exc}"
    why = _plan(model, headers, dtype)
    if why:
        return None, why
    try:
        return _assign(model, _mapped_tensors(files)), ""
    except Exception as exc:  # noqa: BLE001 - safetensors' own checks, assignment failures
        return None, f"mapping failed: {exc}"


def _needs_conversion(files: list[Path], dtype: Any) -> bool:
    """True unless every floating tensor of the checkpoint is already stored in ``dtype``."""
    code = _dtype_code(dtype)
    try:
        headers = [validate_header(file) for file in files]
    except (OSError, ValueError):
        return False  # from_pretrained gives the clear error
    return any(
        entry["dtype"] in {"F64", "F32", "F16", "BF16"} and entry["dtype"] != code
        for header in headers
        for name, entry in header.items()
        if name != "__metadata__"
    )


def _cacheable(model: Any) -> str:
    """ "" when the loaded model's state dict can be written as one safetensors file."""
    state = model.state_dict()
    if any(t.device.type != "cpu" for t in state.values()):
        return "weights not on the CPU"
    pointers = [t.untyped_storage().data_ptr() for t in state.values() if t.numel()]
    if len(set(pointers)) != len(pointers):
        return "tied weights"
    return ""


def load_model(
    model_class: Any, folder: Path, *, source: str, dtype: Any = None, **kwargs: Any
) -> tuple[Any, LoadReport]:
    """``model_class`` with the weights of ``folder`` in ``dtype`` (default float32), eval mode.

    Fastest way that applies (see the module docstring); returns the model and how it loaded.
    Errors of the checkpoint itself come as ``ModelSourceError`` (from ``from_pretrained``).
    """
    import torch

    dtype = dtype or torch.float32
    start = time.perf_counter()
    folder = Path(folder)
    files = weight_files(folder)
    model, why = _mapped_model(model_class, folder, files, dtype, kwargs)
    if model is not None:
        return model, LoadReport("checkpoint", time.perf_counter() - start, files[0])
    if not _needs_conversion(files, dtype):
        # Same dtype, other tensor names (transformers renames some while loading): a copy
        # would only duplicate the weights on disk for no gain (from_pretrained maps them too).
        model = load_pretrained(model_class, folder, source=source, dtype=dtype, **kwargs)
        return model.eval(), LoadReport("transformers", time.perf_counter() - start, reason=why)
    try:
        target = cache_file(folder, model_class, dtype)
        metadata = {"format": FORMAT, "key": target.stem.rsplit("-", 1)[-1]}
    except (OSError, ValueError, ModelSourceError) as exc:
        target, metadata = None, {}
        why = f"{why}; no cache key ({exc})"
    if target is not None and target.is_file():
        model, cache_why = _mapped_model(model_class, folder, [target], dtype, kwargs, metadata)
        if model is not None:
            return model, LoadReport("cache", time.perf_counter() - start, target)
        log.warning("converted weights %s ignored (%s); rebuilding", target, cache_why)
        target.unlink(missing_ok=True)
    model = load_pretrained(model_class, folder, source=source, dtype=dtype, **kwargs).eval()
    if target is None:
        return model, LoadReport("transformers", time.perf_counter() - start, reason=why)
    refused = _cacheable(model)
    if refused:
        return model, LoadReport("transformers", time.perf_counter() - start, reason=refused)
    try:
        paths.ensure_private_dir(target.parent)
        needed = sum(t.numel() * t.element_size() for t in model.state_dict().values())
        if shutil.disk_usage(target.parent).free < needed + SPARE_BYTES:
            reason = "not enough free disk space for the converted copy"
            return model, LoadReport("transformers", time.perf_counter() - start, reason=reason)
        write_safetensors(target, model.state_dict(), metadata)
    except OSError as exc:  # read-only cache, disk full...: run without the copy
        reason = f"converted copy not written ({exc})"
        return model, LoadReport("transformers", time.perf_counter() - start, reason=reason)
    return model, LoadReport("built", time.perf_counter() - start, target, why)
