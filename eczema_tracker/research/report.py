"""Write an evaluation's results: ``results.json``, ``results.md`` and ``fraction_curve.png``.

``results.md`` lays out Table I (method comparison) and Table II (effect of segmentation) as
in the paper, the Fig. 2 numbers, then per method the per-split F1, per-class F1 and the
confusion matrix pooled over the validation folds. With ``seg``: the segmentation table, a box
plot (``segmentation_iou.png``) and the per-image CSV (:mod:`.seg_report`); with dino-seg, the
familiarity set-aside. Every file is written atomically.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from eczema_tracker.core.atomic import atomic_write_bytes, atomic_write_text
from eczema_tracker.research.dataset import CLASS_NAMES
from eczema_tracker.research.seg_report import (
    SEGMENTATION_PLOT,
    segmentation_markdown,
    set_aside_markdown,
    write_segmentation_files,
)

#: Row titles, in the paper's words.
METHOD_TITLES = {
    "dino-seg": "DINO (segmented region + MLP)",
    "dino-full": "DINO without segmentation (whole image + MLP)",
    "resnet18": "Resnet-18 (head fine-tuned)",
    "vit-b": "ViT-B (head fine-tuned)",
}
TABLE_I = ("dino-seg", "resnet18", "vit-b")
TABLE_II = (("dino-seg", "DINO with segmentation"), ("dino-full", "DINO without segmentation"))


def _pm(mean: float, std: float) -> str:
    return f"{mean:.2f} ± {std:.2f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def render_markdown(results: dict[str, Any]) -> str:
    """The human-readable report of ``results`` (the results.json structure)."""
    config, methods = results["config"], results["methods"]
    names = list(config.get("class_names") or CLASS_NAMES)  # display only
    lines = [f"# {config['title']}", ""]
    if config.get("note"):
        lines += [f"> **{config['note']}**", ""]
    ds = results["dataset"]
    counts = ", ".join(f"{names[c]} ({c}): {n}" for c, n in enumerate(ds["class_counts"]) if n)
    std_note = "sample std, ddof=1" if config["n_splits"] > 1 else "one split: no spread"
    lines += [
        f"Dataset `{ds['root']}`: {ds['n_images']} images ({counts}); {ds['n_masked']} with masks.",
        f"Protocol: {config['n_splits']} random {1 - config['validation_fraction']:.0%}/"
        f"{config['validation_fraction']:.0%} train/validation splits (seed {config['seed']}, "
        f"stratified by {results['splits'][0]['stratified_by']}); weighted F1 on each validation "
        f"fold, mean ± std over folds ({std_note}).",
        "",
    ]
    table_one = [m for m in TABLE_I if m in methods]
    if table_one:
        lines += ["## Table I. Comparison for eczema severity measurement", ""]
        lines += _table(
            ["Method", "Weighted F1 Score"],
            [
                [
                    METHOD_TITLES[m],
                    _pm(methods[m]["weighted_f1_mean"], methods[m]["weighted_f1_std"]),
                ]
                for m in table_one
            ],
        )
    table_two = [(m, title) for m, title in TABLE_II if m in methods]
    if table_two:
        lines += ["## Table II. Effect of segmentation on performance", ""]
        lines += _table(
            ["Method", "Weighted F1 Score"],
            [
                [title, _pm(methods[m]["weighted_f1_mean"], methods[m]["weighted_f1_std"])]
                for m, title in table_two
            ],
        )
    if results.get("fractions"):
        lines += [
            "## Fig. 2. Training with limited data (dino-seg)",
            "",
            "Validation folds fixed; the MLP trains on a class-balanced fraction of each "
            "training fold. ![fraction curve](fraction_curve.png)",
            "",
        ]
        lines += _table(
            ["Training data used", "Weighted F1 Score"],
            [
                [f"{float(f):.0%}", _pm(v["mean"], v["std"])]
                for f, v in results["fractions"].items()
            ],
        )
    if results.get("segmentation"):
        lines += segmentation_markdown(results["segmentation"], SEGMENTATION_PLOT)
    if results.get("familiarity_set_aside"):
        lines += set_aside_markdown(results["familiarity_set_aside"])
    for name, result in methods.items():
        lines += [f"## {METHOD_TITLES.get(name, name)} - details", ""]
        lines += _table(
            ["Split", *[str(i) for i in range(len(result["per_split"]))]],
            [["Weighted F1", *[f"{v:.3f}" for v in result["per_split"]]]],
        )
        present = [c for c, n in enumerate(ds["class_counts"]) if n]
        lines += ["Per-class F1 (confusion matrix pooled over the validation folds):", ""]
        lines += _table(
            ["Class", *[f"{names[c]} ({c})" for c in present]],
            [["F1", *[f"{result['per_class_f1'][CLASS_NAMES[c]]:.3f}" for c in present]]],
        )
        matrix = result["confusion_matrix"]
        lines += ["Confusion matrix (rows: true class, columns: predicted class):", ""]
        lines += _table(
            ["true \\ predicted", *[names[c] for c in present]],
            [[names[r], *[str(matrix[r][c]) for c in present]] for r in present],
        )
    lines += ["## Run configuration", "", "```json", json.dumps(config, indent=2), "```", ""]
    if results.get("timing"):
        lines += [f"Wall time: {results['timing']['seconds']:.1f} s.", ""]
    return "\n".join(lines)


def fraction_curve_png(fractions: dict[str, dict[str, float]], title: str) -> bytes:
    """Fig. 2: mean weighted F1 against training fraction with red ± std bars, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    xs = [float(f) * 100 for f in fractions]
    means = [v["mean"] for v in fractions.values()]
    stds = [v["std"] for v in fractions.values()]
    figure = Figure(figsize=(5, 3.5), dpi=120)
    axes = figure.add_subplot()
    axes.errorbar(xs, means, yerr=stds, fmt="o-", color="tab:blue", ecolor="red", capsize=4)
    axes.set_xlabel("training data used (%)")
    axes.set_ylabel("weighted F1 (validation)")
    axes.set_ylim(0, 1)
    axes.set_xticks(xs)
    axes.set_title(title, fontsize=9)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def write_report(results: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """Write results.json, results.md and (with fractions) fraction_curve.png; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if results.get("fractions"):
        png = out / "fraction_curve.png"
        atomic_write_bytes(
            png, fraction_curve_png(results["fractions"], results["config"]["title"])
        )
        written.append(png)
    if results.get("segmentation"):
        written += write_segmentation_files(results["segmentation"], out, SEGMENTATION_PLOT)
    json_path, md_path = out / "results.json", out / "results.md"
    atomic_write_text(json_path, json.dumps(results, indent=2, allow_nan=False) + "\n")
    atomic_write_text(md_path, render_markdown(results))
    return [json_path, md_path, *written]
