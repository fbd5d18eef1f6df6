"""Speed levers for SegGPT K=2 on the CPU at hand, each interleaved with the app's current path.

    python benchmarks/bench_levers.py threads  --runs 3   # torch threads 2 vs 1 (same process)
    python benchmarks/bench_levers.py kernels  --runs 2   # fp32 attention: eager / matmul / sdpa
    python benchmarks/bench_levers.py dtype    --runs 2   # fp32 (choose_path here) vs bf16 weights
    python benchmarks/bench_levers.py compile  --runs 3   # torch.compile (inductor) of the forward
    python benchmarks/bench_levers.py affinity --runs 2   # OMP_PROC_BIND in child processes

Models are the random-init real-size ones ``bench_analyze.ensure_models`` builds in ``--cache``
(reused when there). Inputs are built as ``SegGptSegmenter.segment`` builds them (one real query
photo over K=2 real prompt photos, 896x448 canvases). Each round times every variant once, in
turn, so the other processes on a shared machine slow them alike; the JSON line printed last
holds every run and the medians. The accuracy gate is ``bench_analyze.segmentation_gate``
against the app's current fp32 path (the same arithmetic as transformers' eager fp32, which
``bench_analyze`` gates against plain transformers): IoU >= 0.98.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_analyze import (  # noqa: E402 - after the path set-up
    IOU_GATE,
    N_PROMPTS,
    _seggpt_app_forward,
    open_photo,
    photo_paths,
    seggpt_inputs,
    segmentation_gate,
)
from bench_setup import DEFAULT_CACHE, cpu_description, ensure_models  # noqa: E402


def load_segmenter(folder: Path, path=None):
    """``SegGptSegmenter`` on the app's fast path (or on ``path``) with a tiny DINO stand-in."""
    from eczema_tracker.ml import acceleration
    from eczema_tracker.ml.seggpt import SegGptSegmenter

    if path is not None:
        original = acceleration.choose_path
        acceleration.choose_path = lambda *_a, **_k: path
    try:
        return SegGptSegmenter(str(folder), encoder=None, k=2, fast=True)  # type: ignore[arg-type]
    finally:
        if path is not None:
            acceleration.choose_path = original


def k2_inputs(processor) -> dict:
    photos = photo_paths()
    prompts = [open_photo(p) for p in photos[:2]]
    return seggpt_inputs(processor, open_photo(photos[N_PROMPTS]), prompts)


def interleave(variants: dict[str, Callable[[], np.ndarray]], runs: int) -> dict:
    """One untimed call of each, then ``runs`` rounds timing each variant once in turn."""
    out: dict = {"runs": {name: [] for name in variants}, "first_s": {}}
    predictions = {}
    for name, fn in variants.items():
        start = time.perf_counter()
        predictions[name] = fn()
        out["first_s"][name] = time.perf_counter() - start
    for _ in range(runs):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            out["runs"][name].append(time.perf_counter() - start)
    out["median_s"] = {name: statistics.median(t) for name, t in out["runs"].items()}
    out["predictions"] = predictions
    return out


def gates(result: dict, reference: str, processor) -> dict:
    ref = result["predictions"][reference]
    return {
        name: segmentation_gate(ref, pred, processor)
        for name, pred in result.pop("predictions").items()
        if name != reference
    }


def lever_threads(folders: dict, runs: int) -> dict:
    import torch

    segmenter = load_segmenter(folders["seggpt"])
    inputs = k2_inputs(segmenter.processor)

    def with_threads(count: int) -> Callable[[], np.ndarray]:
        def run() -> np.ndarray:
            torch.set_num_threads(count)
            return _seggpt_app_forward(segmenter, inputs)

        return run

    result = interleave({"threads_2": with_threads(2), "threads_1": with_threads(1)}, runs)
    result["gates"] = gates(result, "threads_2", segmenter.processor)
    result["path"] = segmenter.path.describe()
    return result


def lever_kernels(folders: dict, runs: int) -> dict:
    from eczema_tracker.ml.seggpt_sdpa_attention import FastSegGptAttention

    segmenter = load_segmenter(folders["seggpt"])
    inputs = k2_inputs(segmenter.processor)
    modules = [m for m in segmenter.model.modules() if isinstance(m, FastSegGptAttention)]

    def with_kernel(kernel: str) -> Callable[[], np.ndarray]:
        def run() -> np.ndarray:
            for module in modules:
                module.kernel = kernel
            return _seggpt_app_forward(segmenter, inputs)

        return run

    result = interleave({k: with_kernel(k) for k in ("eager", "matmul", "sdpa")}, runs)
    result["gates"] = gates(result, "eager", segmenter.processor)
    return result


def lever_dtype(folders: dict, runs: int) -> dict:
    from eczema_tracker.ml.acceleration import AccelerationPath, choose_path

    fp32 = load_segmenter(folders["seggpt"])
    bf16_path = AccelerationPath(
        device="cpu",
        dtype="bfloat16",
        seggpt_attention="matmul",
        seggpt_shared_query=True,
        cast_weights=True,
        malloc_tuned=True,
        reason="forced bf16 (no native bf16 here)",
    )
    bf16 = load_segmenter(folders["seggpt"], bf16_path)
    inputs = k2_inputs(fp32.processor)
    result = interleave(
        {
            "fp32_app_path": lambda: _seggpt_app_forward(fp32, inputs),
            "bf16_weights_matmul": lambda: _seggpt_app_forward(bf16, inputs),
        },
        runs,
    )
    result["gates"] = gates(result, "fp32_app_path", fp32.processor)
    result["choose_path_fast"] = choose_path("cpu", fast=True).describe()
    return result


def lever_compile(folders: dict, runs: int, freezing: bool) -> dict:
    import torch

    from eczema_tracker.ml.seggpt_shared_query import query_prediction

    segmenter = load_segmenter(folders["seggpt"])
    inputs = k2_inputs(segmenter.processor)
    if freezing:
        torch._inductor.config.freezing = True
    model = segmenter.model
    compiled = torch.compile(
        lambda pv, ppv, pm: query_prediction(model, pv, ppv, pm, True), dynamic=False
    )
    args = (inputs["pixel_values"], inputs["prompt_pixel_values"], inputs["prompt_masks"])

    def run_compiled() -> np.ndarray:
        with torch.inference_mode():
            half = compiled(*args)
        return torch.cat([torch.zeros_like(half), half], dim=2).numpy()

    start = time.perf_counter()
    run_compiled()
    compile_s = time.perf_counter() - start
    result = interleave(
        {
            "eager_app_path": lambda: _seggpt_app_forward(segmenter, inputs),
            "compiled": run_compiled,
        },
        runs,
    )
    result["compile_s"] = compile_s  # first call: tracing + inductor codegen + C++ build
    result["freezing"] = freezing
    result["gates"] = gates(result, "eager_app_path", segmenter.processor)
    return result


def lever_affinity(folders: dict, runs: int) -> dict:
    """Child processes alternating: default OpenMP placement vs threads bound to cores."""
    envs = {
        "default": {},
        "bound_close_cores": {"OMP_PROC_BIND": "close", "OMP_PLACES": "cores"},
    }
    out: dict = {"runs": {name: [] for name in envs}}
    for _ in range(runs):
        for name, extra in envs.items():
            env = {**os.environ, **extra}
            command = [sys.executable, __file__, "one", "--seggpt-dir", str(folders["seggpt"])]
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
            out["runs"][name] += json.loads(done.stdout.strip().splitlines()[-1])["runs"]
    out["median_s"] = {name: statistics.median(t) for name, t in out["runs"].items()}
    return out


def one_child(seggpt_dir: str) -> dict:
    """(child of ``affinity``) two timed forwards after one untimed one."""
    segmenter = load_segmenter(Path(seggpt_dir))
    inputs = k2_inputs(segmenter.processor)
    _seggpt_app_forward(segmenter, inputs)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        _seggpt_app_forward(segmenter, inputs)
        times.append(time.perf_counter() - start)
    return {"runs": times}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "lever", choices=["threads", "kernels", "dtype", "compile", "affinity", "one"]
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--freezing", action="store_true", help="compile: inductor freezing")
    parser.add_argument("--seggpt-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.lever == "one":
        print(json.dumps(one_child(args.seggpt_dir)))
        return 0
    folders = ensure_models(args.cache)
    started = time.time()
    load_start = os.getloadavg()
    if args.lever == "compile":
        result = lever_compile(folders, args.runs, args.freezing)
    else:
        result = {
            "threads": lever_threads,
            "kernels": lever_kernels,
            "dtype": lever_dtype,
            "affinity": lever_affinity,
        }[args.lever](folders, args.runs)
    import torch

    result.update(
        lever=args.lever,
        cpu=cpu_description(),
        torch=torch.__version__,
        torch_threads=torch.get_num_threads(),
        load_average=[load_start, os.getloadavg()],
        wall_s=time.time() - started,
        iou_gate=IOU_GATE,
    )
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
