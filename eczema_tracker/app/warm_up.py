"""Loading the models ahead of the person's first analysis, and warming them up (no Qt).

The app calls :func:`warm_up_pipeline` after start-up when :func:`preload_allowed` (memory to
spare) and the models are on this computer; :func:`full_warm_up_pays` picks the warm-up's kind
from the path the models took. Re-exported by :mod:`eczema_tracker.app.services`.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from eczema_tracker.core.jobs import CancelCheck, held, raise_if_cancelled

if TYPE_CHECKING:
    from eczema_tracker.app.analysis_models import ModelChoice, PipelineCache
    from eczema_tracker.ml.pipeline import AnalysisPipeline

#: Memory that must be available before the app loads the models at start-up unasked. The
#: fp32 pipeline then holds 3.0-3.7 GB peak RSS (measured, ``bench_warm_up.py``); 8 GB leaves
#: the person's other programs more than 4 GB. Below it the models load when asked, as before.
PRELOAD_MIN_AVAILABLE_BYTES = 8 * 2**30


def available_memory_bytes() -> int | None:
    """Memory available to a new allocation without swapping, or None where unknown.

    Linux: ``MemAvailable`` of /proc/meminfo (free plus reclaimable page cache); elsewhere the
    free pages from ``sysconf`` where it has them (a lower bound).
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def preload_allowed(available: int | None = None) -> bool:
    """True when the machine has memory to spare for models nobody asked for yet
    (:data:`PRELOAD_MIN_AVAILABLE_BYTES`; unknown memory: no)."""
    available = available_memory_bytes() if available is None else available
    return available is not None and available >= PRELOAD_MIN_AVAILABLE_BYTES


def full_warm_up_pays(pipeline: AnalysisPipeline) -> bool:
    """Whether a whole SegGPT pass is worth running ahead of the first analysis.

    On the float32 CPU path the first analysis already runs at steady speed without one
    (2-core AMD EPYC, AVX2: first/steady 0.70-1.05 with no warm-up; the full pass burns ~51 CPU
    seconds and 0.6 GB more peak RSS; ``benchmarks/bench_warm_up.py``), so the light warm-up
    (weights read in from disk, DINO run once) does. Half-precision paths (bf16 on AMX or
    AVX512-BF16, CUDA) set up their kernels on the first pass (4.2 s vs 3.0 s steady on AMX),
    and a pass costs one analysis there: they get the full one.
    """
    return pipeline.segmenter.path.dtype != "float32"


def warm_up_pipeline(
    pipelines: PipelineCache,
    choice: ModelChoice,
    *,
    full: bool | None = None,
    cancel: CancelCheck | None = None,
) -> dict[str, float]:
    """Load the pipeline of ``choice`` (never downloading) and warm it up, so the person's first
    analysis runs at steady speed; returns seconds per part (``load``, and the warm-up's).
    ``full``: the warm-up's kind (default: :func:`full_warm_up_pays`).

    Holds :attr:`PipelineCache.pool_lock` throughout: an analysis asked for meanwhile waits for
    it (cancellably, see :func:`analyse_photos`). ``cancel`` stops it between layers.
    """
    from eczema_tracker.app.analysis_models import load_pipeline

    with held(pipelines.pool_lock, cancel):
        start = time.perf_counter()
        pipeline, _note = load_pipeline(pipelines, choice, cancel=cancel)
        timings = {"load": time.perf_counter() - start}
        raise_if_cancelled(cancel)
        if not pipeline.warmed_up:
            full = full_warm_up_pays(pipeline) if full is None else full
            timings.update(pipeline.warm_up(full=full, cancel=cancel))
        return timings
