"""The segmentation and familiarity sections of ``results.md``, the box plot and the CSV."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from eczema_tracker.core.atomic import atomic_write_bytes, atomic_write_text
from eczema_tracker.research.seg_eval import PER_IMAGE_CSV, SUBSETS, per_image_csv

SEGMENTATION_PLOT = "segmentation_iou.png"


def _pm(summary: dict[str, Any], key: str) -> str:
    mean, std = summary[f"{key}_mean"], summary[f"{key}_std"]
    return "-" if mean is None else f"{mean:.3f} ± {std:.3f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows] + [""]


def segmentation_markdown(section: dict[str, Any], plot_name: str) -> list[str]:
    """The ``seg`` section: one row per (K, prompt choice), validation and training columns."""
    rows = []
    for name, by_subset in section["settings"].items():
        title = f"**{name}** (as dino-seg)" if name == section["main"] else name
        row = [title]
        for subset in SUBSETS:
            summary = by_subset[subset]
            row += [_pm(summary, "iou"), _pm(summary, "dice"), str(summary["n_scored"])]
        rows.append(row)
    header = ["Prompts (K / choice)"]
    for subset in SUBSETS:
        label = "validation" if subset == "validation" else "training (leave-one-out)"
        header += [f"{label} IoU", f"{label} Dice", "n"]
    lines = [
        "## Segmentation quality (seg)",
        "",
        "Each masked image segmented by SegGPT with K prompts from the other masked images of "
        "its split's training fold (never itself), scored against its painted mask. "
        "Mean ± std over splits of the per-split mean; n = image-splits scored. "
        f"Per image: `{section['per_image_csv']}`.",
        "",
    ]
    lines += _table(header, rows)
    if section.get("skipped"):
        lines += [
            f"{section['skipped']} image-settings skipped (K above the prompts available).",
            "",
        ]
    lines += [f"![IoU per image and setting]({plot_name})", ""]
    return lines


def set_aside_markdown(section: dict[str, Any]) -> list[str]:
    """Does setting aside the least familiar validation images raise dino-seg's F1?"""

    def pm(key: str) -> str:
        value = section[key]
        return "-" if value["mean"] is None else f"{value['mean']:.3f} ± {value['std']:.3f}"

    lines = [
        "## Setting aside photos unlike the examples (dino-seg)",
        "",
        f"The least familiar {section['fraction_set_aside']:.0%} of each validation fold "
        f"({section['measure']}) set aside; baseline: {section['random_baseline']}.",
        "",
    ]
    lines += _table(
        ["", "mean ± std over splits"],
        [
            ["weighted F1, all validation images", pm("f1_all")],
            ["weighted F1, least familiar set aside", pm("f1_kept")],
            ["weighted F1, as many set aside at random", pm("f1_kept_random")],
            ["change (set aside - all)", pm("f1_change")],
            ["error rate of the set-aside images", pm("error_rate_set_aside")],
            ["error rate of the kept images", pm("error_rate_kept")],
        ],
    )
    return lines


def segmentation_plot_png(section: dict[str, Any]) -> bytes:
    """Box plot of per-image IoU for each setting (validation and training side by side)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    names = list(section["settings"])
    figure = Figure(figsize=(max(5, 1.1 * len(names) + 2), 3.8), dpi=120)
    axes = figure.add_subplot()
    colours = {"validation": "tab:blue", "training": "tab:orange"}
    for offset, subset in ((-0.18, "validation"), (0.18, "training")):
        data = [
            [r["iou"] for r in section["per_image"] if r["subset"] == subset
             and f"k={r['k']}/{r['choice']}" == name] or [float("nan")]
            for name in names
        ]  # fmt: skip
        boxes = axes.boxplot(
            data,
            positions=[i + offset for i in range(len(names))],
            widths=0.3,
            patch_artist=True,
            manage_ticks=False,
        )
        for patch in boxes["boxes"]:
            patch.set_facecolor(colours[subset])
            patch.set_alpha(0.5)
        axes.plot([], [], color=colours[subset], linewidth=6, alpha=0.5, label=subset)
    axes.set_xticks(range(len(names)))
    axes.set_xticklabels(names, rotation=20, fontsize=8)
    axes.set_ylabel("IoU with the painted mask")
    axes.set_ylim(0, 1)
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3, axis="y")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def write_segmentation_files(section: dict[str, Any], out: Path, plot_name: str) -> list[Path]:
    """Write the per-image CSV and the box plot into ``out``; return their paths."""
    csv_path, png_path = out / PER_IMAGE_CSV, out / plot_name
    atomic_write_text(csv_path, per_image_csv(section))
    atomic_write_bytes(png_path, segmentation_plot_png(section))
    return [csv_path, png_path]
