"""Which warm-up makes the first analysis run at steady speed, for the least CPU.

    python benchmarks/bench_warm_up.py --rounds 2 --runs 2 [--threads 1] [--json OUT.json]

Each round runs one fresh ``bench_analyze.py`` child per warm-up ("none", "light" = weights
paged in + DINO, "full" = also one SegGPT pass), in turn, so a busy shared machine slows them
alike. A child loads the pipeline (K=2, the random-init real-size models of
``bench_analyze.ensure_models``), sets 6 prompts, warms up, then times its first analysis and
``--runs`` more. ``--threads`` sets torch's thread count in the children (the app leaves one
core for the window: ``leave_a_core_for_the_window``).

Reported per warm-up: ``first_analysis_over_steady`` (goal <= 1.1), the warm-up's wall and CPU
seconds (what it burns while the person has not asked for anything yet), the first analysis,
the steady one, and the peak RSS. "light" helps a run that nobody warmed up (the CLI) only if
``warm_up_s + first_analyze_s`` of "light" is below ``first_analyze_s`` of "none".
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_analyze import run_child  # noqa: E402
from bench_setup import DEFAULT_CACHE, cpu_description, ensure_models  # noqa: E402

KEYS = (
    "first_analysis_over_steady",
    "warm_up_s",
    "warm_up_cpu_s",
    "first_analyze_s",
    "analyze_s",
    "load_s",
    "peak_rss_mb",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--runs", type=int, default=2, help="steady analyses per child")
    parser.add_argument("--threads", type=int, help="torch threads in the children")
    parser.add_argument("--variants", default="none,light,full")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.threads:
        os.environ["BENCH_TORCH_THREADS"] = str(args.threads)
    folders = ensure_models(args.cache)
    variants = args.variants.split(",")
    started, load_start = time.time(), os.getloadavg()
    children: dict[str, list[dict]] = {v: [] for v in variants}
    for _ in range(args.rounds):
        for variant in variants:
            children[variant].append(run_child("fast", folders, args.runs, warm_up=variant))
            print(variant, {k: round(children[variant][-1][k], 3) for k in KEYS}, flush=True)
    summary = {
        v: {k: statistics.median(c[k] for c in runs) for k in KEYS} for v, runs in children.items()
    }
    for values in summary.values():
        values["warm_up_plus_first_s"] = values["warm_up_s"] + values["first_analyze_s"]
    result = {
        "cpu": cpu_description(),
        "threads": children[variants[0]][0]["torch_threads"],
        "path": children[variants[0]][0]["path"],
        "rounds": args.rounds,
        "runs": args.runs,
        "median": summary,
        "children": children,
        "load_average": [load_start, os.getloadavg()],
        "wall_s": time.time() - started,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "children"}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
