"""Model load times: plain fp32 ``from_pretrained`` against the app's memory-mapped loads, and
bf16 weights converted at every start against their converted copy in the cache.

    python benchmarks/bench_load.py [--cache DIR]   # the models bench_analyze.py builds

Used by ``bench_analyze.py`` (its ``load`` section).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_setup import DEFAULT_CACHE, cpu_description, ensure_models  # noqa: E402


def bench_load(folders: dict) -> dict:
    """Seconds to load each model: plain ``from_pretrained`` fp32 (the reference), the app's
    fast path on this machine, and the bf16 weights of a bf16 machine: converted at every start
    (what the fast path did before the cache), converted once into the cache, from the cache.

    Runs in a throwaway cache folder; every file is in the page cache by then (both sides warm).
    """
    import shutil

    import torch
    from transformers import AutoModel, SegGptForImageSegmentation

    from eczema_tracker.ml import acceleration, converted_cache
    from eczema_tracker.ml.loading import load_pretrained

    out: dict = {}
    cache = Path(tempfile.mkdtemp(prefix="bench-converted-"))
    previous = os.environ.get("ECZEMA_TRACKER_CACHE_DIR")
    os.environ["ECZEMA_TRACKER_CACHE_DIR"] = str(cache)
    path = acceleration.choose_path("cpu", fast=True)
    models = {
        "seggpt": (SegGptForImageSegmentation, folders["seggpt"], {}),
        "dino": (AutoModel, folders["dino"], {"add_pooling_layer": False}),
    }
    try:
        for name, (cls, folder, kwargs) in models.items():

            def clock(fn) -> float:
                start = time.perf_counter()
                model = fn()
                seconds = time.perf_counter() - start
                del model
                return seconds

            out[f"{name}_fp32_from_pretrained_s"] = clock(
                lambda c=cls, f=folder, k=kwargs: load_pretrained(c, f, source="bench", **k)
            )
            out[f"{name}_fast_path_s"] = clock(
                lambda c=cls, f=folder, k=kwargs: acceleration.load_weights(
                    c, f, source="bench", path=path, **k
                )
            )
            out[f"{name}_fast_path_how"] = acceleration.load_weights(
                cls, folder, source="bench", path=path, **kwargs
            )[1].how
            out[f"{name}_bf16_converted_each_start_s"] = clock(
                lambda c=cls, f=folder, k=kwargs: load_pretrained(c, f, source="bench", **k).to(
                    torch.bfloat16
                )
            )
            reports = []
            for label in ("bf16_cache_build", "bf16_from_cache"):
                start = time.perf_counter()
                model, report = converted_cache.load_model(
                    cls, folder, source="bench", dtype=torch.bfloat16, **kwargs
                )
                out[f"{name}_{label}_s"] = time.perf_counter() - start
                reports.append(report.how)
                del model
            out[f"{name}_bf16_hows"] = reports
    finally:
        if previous is None:
            os.environ.pop("ECZEMA_TRACKER_CACHE_DIR", None)
        else:
            os.environ["ECZEMA_TRACKER_CACHE_DIR"] = previous
        shutil.rmtree(cache, ignore_errors=True)
    for label in (
        "fp32_from_pretrained",
        "fast_path",
        "bf16_converted_each_start",
        "bf16_from_cache",
    ):
        out[f"both_{label}_s"] = out[f"seggpt_{label}_s"] + out[f"dino_{label}_s"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="model cache folder")
    args = parser.parse_args()
    print(json.dumps({"cpu": cpu_description(), **bench_load(ensure_models(args.cache))}, indent=2))


if __name__ == "__main__":
    main()
