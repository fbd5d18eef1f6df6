"""How models run fast on the machine at hand.

Contract used by ``dino.py`` / ``seggpt.py``::

    path = choose_path(device)            # decided once from what the CPU/GPU offers
    model = prepare_seggpt(model, path)   # may patch attention, cast weights...
    model = prepare_dino(model, path)
    with inference_context(path):         # no_grad (+ autocast where the path says so)
        out = model(...)

Callers pass float32 tensors and get float32 outputs whatever the path: a prepared model casts
its floating inputs to its own dtype and its floating outputs back to float32.

What the fast path does (each lever measured in ``benchmarks/bench_analyze.py``, and kept only
because it passes the accuracy gates there: SegGPT mask IoU >= 0.98, DINO cosine >= 0.999):

* bfloat16 weights where the CPU computes bf16 natively (AVX512-BF16 or AMX; detected from the
  CPU flags) and on CUDA (fp16 where bf16 is missing). Halves weight memory as well.
* SegGPT attention without transformers' eager code (:mod:`.seggpt_sdpa_attention`): the
  decomposed relative positions folded into one GEMM on CPU, SDPA with a bias on CUDA.
* K prompts share one query (:mod:`.seggpt_shared_query`): the query half of the canvases is
  computed once instead of K times (exact; a quarter less linear-layer work at K=2).
* glibc malloc kept from returning big blocks to the OS (``mallopt``), so the ~80 MB score
  matrices of each layer reuse pages instead of faulting fresh ones in (Linux/glibc only).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import platform
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

if TYPE_CHECKING:
    from eczema_tracker.ml.converted_cache import LoadReport

# glibc mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
# Keep up to 2 GiB of freed heap instead of trimming it back to the OS.
_TRIM_THRESHOLD_BYTES = 2**31 - 1


@dataclass(frozen=True)
class AccelerationPath:
    """What the fast path chose; ``describe()`` is shown by ``eczema-tracker models status``."""

    device: str = "cpu"
    dtype: str = "float32"  # compute dtype inside the models
    seggpt_attention: str = "eager"  # "eager" (transformers' arithmetic), "matmul" or "sdpa"
    autocast: bool = False  # autocast instead of casting the weights (unused by the fast path)
    cast_weights: bool = False  # weights themselves stored in ``dtype``
    malloc_tuned: bool = False  # glibc keeps freed big blocks (see module docstring)
    seggpt_shared_query: bool = False  # K prompts: the query half computed once (exact)
    reason: str = "reference fp32 path"

    @property
    def torch_dtype(self) -> torch.dtype:
        """``dtype`` as a ``torch.dtype``."""
        return getattr(torch, self.dtype)

    @property
    def is_reference(self) -> bool:
        """True when this path is plain transformers in float32."""
        return (
            self.dtype == "float32"
            and self.seggpt_attention == "eager"
            and not self.autocast
            and not self.cast_weights
            and not self.seggpt_shared_query
        )

    def describe(self) -> str:
        """One line: device, dtype, attention and the other levers, with the reason."""
        parts = [f"device={self.device}", f"dtype={self.dtype}"]
        if self.cast_weights:
            parts.append("weights")
        if self.autocast:
            parts.append("autocast")
        parts.append(f"seggpt_attention={self.seggpt_attention}")
        if self.seggpt_shared_query:
            parts.append("shared_query")
        if self.malloc_tuned:
            parts.append("malloc=tuned")
        return " ".join(parts) + f" ({self.reason})"


REFERENCE_PATH = AccelerationPath()


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags from /proc/cpuinfo (empty where there is no such file)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_bf16_support() -> str | None:
    """Why this CPU computes bfloat16 fast ("amx_bf16", "avx512_bf16"), or None if it does not.

    Without native bf16 instructions PyTorch emulates bf16 and it is slower than float32, so the
    fast path then stays in float32. macOS on Apple silicon is left in float32 too.
    """
    flags = cpu_flags()
    for flag in ("amx_bf16", "avx512_bf16"):
        if flag in flags:
            return flag
    return None


def glibc_malloc_available() -> bool:
    """True on Linux with glibc, where ``mallopt`` exists."""
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def choose_path(device: str = "cpu", *, fast: bool = True) -> AccelerationPath:
    """The best path for ``device`` ("cpu" or "cuda"); ``fast=False`` gives the fp32 reference.

    Setting the environment variable ``ECZEMA_TRACKER_REFERENCE_PATH=1`` also forces the
    reference path (for comparing results, or if the fast path misbehaves on some machine).
    """
    device = "cuda" if str(device).startswith("cuda") else "cpu"
    if not fast or os.environ.get("ECZEMA_TRACKER_REFERENCE_PATH", "") not in ("", "0"):
        return AccelerationPath(device=device)
    if device == "cuda":
        bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
        return AccelerationPath(
            device="cuda",
            dtype="bfloat16" if bf16 else "float16",
            seggpt_attention="sdpa",
            seggpt_shared_query=True,
            cast_weights=True,
            reason="GPU half precision with SDPA",
        )
    malloc = glibc_malloc_available()
    bf16_flag = cpu_bf16_support()
    if bf16_flag is None:
        return AccelerationPath(
            device="cpu",
            seggpt_attention="eager",  # quickest in fp32 (see seggpt_sdpa_attention)
            seggpt_shared_query=True,
            malloc_tuned=malloc,
            reason="CPU has no native bf16: float32",
        )
    return AccelerationPath(
        device="cpu",
        dtype="bfloat16",
        seggpt_attention="matmul",
        seggpt_shared_query=True,
        cast_weights=True,
        malloc_tuned=malloc,
        reason=f"CPU has {bf16_flag}",
    )


_malloc_tuned = False


def tune_malloc() -> bool:
    """Stop glibc from unmapping freed big blocks (process-wide, idempotent).

    Each SegGPT layer allocates and frees tensors of ~80 MB; by default glibc serves each from
    a fresh ``mmap`` and unmaps it on free, so every run page-faults gigabytes back in. With
    ``M_MMAP_MAX=0`` they come from the heap, and a large ``M_TRIM_THRESHOLD`` keeps the freed
    heap for reuse. Costs: the heap stays at its high-water mark (measured in the benchmark's
    peak RSS). Returns True if applied (now or before).
    """
    global _malloc_tuned
    if _malloc_tuned:
        return True
    if not glibc_malloc_available():
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = libc.mallopt(_M_MMAP_MAX, 0) == 1
        ok = libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES) == 1 and ok
    except (OSError, AttributeError):
        return False
    _malloc_tuned = ok
    return ok


def weights_dtype(path: AccelerationPath) -> torch.dtype:
    """The dtype a model's weights are stored in on ``path`` (what the loader should deliver)."""
    return path.torch_dtype if path.cast_weights else torch.float32


def load_weights(
    model_class: Any, folder: Path, *, source: str, path: AccelerationPath, **kwargs: Any
) -> tuple[Any, LoadReport]:
    """``(model, LoadReport)``: the checkpoint in ``folder`` loaded for ``path``.

    The reference path loads with plain ``from_pretrained`` (it is what the fast path is
    compared with); the fast path memory-maps the checkpoint or its converted copy in the
    user's cache (:mod:`.converted_cache`), so bf16 weights are converted once, not per start.
    """
    import time

    from .converted_cache import LoadReport, load_model  # noqa: F811 - at run time
    from .loading import load_pretrained

    if path.is_reference:
        start = time.perf_counter()
        model = load_pretrained(model_class, folder, source=source, **kwargs)
        return model, LoadReport("transformers", time.perf_counter() - start, reason="reference")
    return load_model(model_class, folder, source=source, dtype=weights_dtype(path), **kwargs)


def _cast_floats(value: Any, dtype: torch.dtype) -> Any:
    if isinstance(value, torch.Tensor) and value.is_floating_point() and value.dtype != dtype:
        return value.to(dtype)
    return value


def _install_dtype_hooks(model: nn.Module, dtype: torch.dtype) -> None:
    """Cast floating inputs to ``dtype`` and floating outputs back to float32 (once per model)."""
    if getattr(model, "_eczema_dtype_hooks", False):
        return

    def cast_inputs(_module, args, kwargs):
        args = tuple(_cast_floats(value, dtype) for value in args)
        kwargs = {name: _cast_floats(value, dtype) for name, value in kwargs.items()}
        return args, kwargs

    def cast_outputs(_module, _args, _kwargs, output):
        if isinstance(output, torch.Tensor):
            return _cast_floats(output, torch.float32)
        if isinstance(output, dict):  # transformers ModelOutput is an OrderedDict
            for name, value in list(output.items()):
                if isinstance(value, torch.Tensor):
                    output[name] = _cast_floats(value, torch.float32)
            return output
        if isinstance(output, tuple):
            return tuple(_cast_floats(value, torch.float32) for value in output)
        return output

    model.register_forward_pre_hook(cast_inputs, with_kwargs=True)
    model.register_forward_hook(cast_outputs, with_kwargs=True)
    model._eczema_dtype_hooks = True


def _prepare_common(model: nn.Module, path: AccelerationPath) -> nn.Module:
    model = model.to(path.device).eval()
    if path.cast_weights and path.dtype != "float32":
        model = model.to(path.torch_dtype)
        _install_dtype_hooks(model, path.torch_dtype)
    if path.malloc_tuned:
        tune_malloc()
    return model


def prepare_seggpt(model: nn.Module, path: AccelerationPath) -> nn.Module:
    """Return ``model`` (a transformers SegGPT) ready to run on ``path`` (eval, on its device)."""
    if path.seggpt_attention != "eager" or path.seggpt_shared_query:
        from .seggpt_sdpa_attention import use_fast_attention

        use_fast_attention(model, path.seggpt_attention)
        if path.seggpt_shared_query:
            from .seggpt_shared_query import use_shared_query_encoder

            use_shared_query_encoder(model)
    return _prepare_common(model, path)


def prepare_dino(model: nn.Module, path: AccelerationPath) -> nn.Module:
    """Return ``model`` (a transformers ViT/DINOv2) ready to run on ``path`` (eval, on its device).

    The fast path asks transformers for its SDPA attention where the model offers it.
    """
    if not path.is_reference and hasattr(model, "set_attn_implementation"):
        with contextlib.suppress(ValueError, ImportError):
            model.set_attn_implementation("sdpa")
    return _prepare_common(model, path)


@contextlib.contextmanager
def inference_context(path: AccelerationPath) -> Iterator[None]:
    """``torch.inference_mode`` plus autocast when the path uses it.

    Holds :func:`.threads.steady_threads`, so no other task changes torch's thread count while
    the model runs.
    """
    from .threads import steady_threads

    with steady_threads(), torch.inference_mode():
        if path.autocast:
            with torch.autocast(device_type=path.device, dtype=path.torch_dtype):
                yield
        else:
            yield
