"""``eczema-tracker train`` and ``eczema-tracker evaluate``: the paper's experiments on your data.

Dataset folder: ``images/``, ``labels.csv`` (``file,label``; 0-3 or none/mild/moderate/severe)
and ``masks/`` (PNG, same relative name as the photo, lesion = non-zero) for the photos that
serve as SegGPT prompts. torch and the models are imported only when a command runs.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from eczema_tracker.cli import CliError
from eczema_tracker.commands.model_commands import add_source_options

DEFAULT_K = 2
#: Bounds of the numeric options (checked by argparse, so a bad value is a one-line usage error).
MAX_SEED = 2**31 - 1  # numpy, torch and scikit-learn all accept it, also as seed + split index
MAX_SPLITS = 100
MAX_K = 32
MAX_EPOCHS = 10_000


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type`` accepting whole numbers from ``low`` to ``high`` only."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from {low} to {high}, not {text!r}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from {low} to {high}, not {text}"
            )
        return value

    parse.__name__ = f"whole number {low}..{high}"
    return parse


def _add_model_options(parser: argparse.ArgumentParser) -> None:

    parser.add_argument(
        "dataset",
        metavar="DATASET",
        help="folder with images/, labels.csv (file,label) and optional masks/ (PNG per photo)",
    )
    add_source_options(parser)  # --dino, --seggpt: the same options as every command
    parser.add_argument(
        "--epochs",
        type=bounded_int(1, MAX_EPOCHS),
        default=50,
        metavar="N",
        help="training epochs of the MLP (and of the baselines' heads) (default 50)",
    )
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu")
    parser.add_argument(
        "--k",
        type=bounded_int(1, MAX_K),
        default=DEFAULT_K,
        metavar="N",
        help="SegGPT prompts per image, retrieved by DINO distance (default 2)",
    )
    parser.add_argument(
        "--no-fast",
        dest="fast",
        action="store_false",
        help="use the fp32 reference path instead of the fast one",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the ``train`` and ``evaluate`` commands."""
    train = subparsers.add_parser(
        "train",
        parents=[common],
        help="fit a severity model on a labelled dataset",
        description="Segment every photo (K prompts from the other masked photos), take DINO "
        "features of the lesion region and fit the paper's MLP; the model file "
        "loads in the app and in 'analyze --severity-model'.",
    )
    _add_model_options(train)
    train.add_argument(
        "--out", required=True, metavar="MODEL.safetensors", help="model file to write"
    )
    train.add_argument(
        "--seed",
        type=bounded_int(0, MAX_SEED),
        default=0,
        help="MLP initialisation seed (default 0)",
    )
    train.set_defaults(func=run_train)

    evaluate = subparsers.add_parser(
        "evaluate",
        parents=[common],
        help="re-run the paper's Table I, Table II and Fig. 2",
        description="Seeded 80/20 splits, weighted F1 mean ± std over folds for each method; "
        "writes results.md, results.json and fraction_curve.png to --out.",
    )
    _add_model_options(evaluate)
    from eczema_tracker.research.baselines import DEFAULT_RESNET, DEFAULT_VIT
    from eczema_tracker.research.evaluate import ALL_METHODS, DEFAULT_METHODS

    evaluate.add_argument("--out", required=True, metavar="DIR", help="folder for the results")
    evaluate.add_argument(
        "--methods",
        default=",".join(DEFAULT_METHODS),
        metavar="LIST",
        help=f"comma-separated subset of {','.join(ALL_METHODS)} (default: the paper's "
        f"{','.join(DEFAULT_METHODS)}; 'seg' adds segmentation quality, IoU/Dice with K and "
        "nearest-vs-random ablations, several SegGPT passes per masked image)",
    )
    evaluate.add_argument(
        "--splits",
        type=bounded_int(1, MAX_SPLITS),
        default=5,
        metavar="N",
        help=f"random splits, 1 to {MAX_SPLITS} (default 5)",
    )
    evaluate.add_argument(
        "--seed",
        type=bounded_int(0, MAX_SEED),
        default=0,
        help="seed of the splits and models (default 0)",
    )
    evaluate.add_argument(
        "--resnet",
        metavar="SOURCE",
        default=DEFAULT_RESNET,
        help=f"ResNet-18 ImageNet classifier (default {DEFAULT_RESNET})",
    )
    evaluate.add_argument(
        "--vit",
        metavar="SOURCE",
        default=DEFAULT_VIT,
        help=f"ViT-B ImageNet classifier (default {DEFAULT_VIT})",
    )
    evaluate.add_argument("--title", default=None, help="heading of results.md")
    evaluate.add_argument(
        "--note", default="", help="a note shown under the heading (e.g. 'PROXY task: ...')"
    )
    evaluate.add_argument(
        "--class-names",
        default=None,
        metavar="LIST",
        help="four comma-separated display names for labels 0-3 in results.md "
        "(default none,mild,moderate,severe)",
    )
    evaluate.set_defaults(func=run_evaluate)


def _checked_out(check: Callable[[str], Path], out: str) -> Path:
    """Run an output-path check before any model runs; its refusal is a one-line error."""
    from eczema_tracker.research.evaluate import OutputPathError

    try:
        return check(out)
    except OutputPathError as exc:
        raise CliError(f"--out: {exc}") from exc


def _settings(args: argparse.Namespace):
    from eczema_tracker.ml.checkpoint_files import ModelSourceError
    from eczema_tracker.ml.loading import resolve_device
    from eczema_tracker.research.features import ModelSettings

    try:
        device = resolve_device(args.device)
    except ModelSourceError as exc:
        raise CliError(str(exc)) from exc
    return ModelSettings(
        dino=args.dino, seggpt=args.seggpt, k=args.k, device=device, fast=args.fast
    )


def _load(args: argparse.Namespace, *, min_masked: int):
    from eczema_tracker.research.dataset import DatasetError, load_dataset
    from eczema_tracker.research.progress import TqdmProgress

    bar = TqdmProgress("checking dataset", disable=args.quiet)
    try:
        return load_dataset(args.dataset, min_masked=min_masked, progress=bar)
    except DatasetError as exc:
        raise CliError(str(exc)) from exc
    finally:
        bar.close()


def _run_guarded(work):
    """Run ``work()`` turning expected failures into one-line CLI errors."""
    from eczema_tracker.core.jobs import Cancelled
    from eczema_tracker.ml.checkpoint_files import ModelSourceError
    from eczema_tracker.research.dataset import DatasetError

    try:
        return work()
    except (ModelSourceError, DatasetError) as exc:
        raise CliError(str(exc)) from exc
    except Cancelled as exc:
        raise CliError("cancelled", 130) from exc


def run_train(args: argparse.Namespace) -> int:
    """``eczema-tracker train``."""
    from eczema_tracker.research.train import check_model_output

    out = _checked_out(check_model_output, args.out)
    settings = _settings(args)
    dataset = _load(args, min_masked=settings.k + 1)
    from eczema_tracker.research.progress import tqdm_factory
    from eczema_tracker.research.train import train_severity_model

    summary = _run_guarded(
        lambda: train_severity_model(
            dataset,
            settings,
            out,
            epochs=args.epochs,
            seed=args.seed,
            progress_for=tqdm_factory(disable=args.quiet),
        )
    )
    for line in summary.lines():
        print(line)
    print(f"wrote {out}")
    return 0


def _print_extras(results: dict) -> None:
    """One line each for the segmentation quality and the familiarity set-aside."""
    segmentation = results.get("segmentation")
    if segmentation:
        main = segmentation["settings"][segmentation["main"]]["validation"]
        if main["iou_mean"] is not None:
            print(
                f"segmentation ({segmentation['main']}, validation): IoU "
                f"{main['iou_mean']:.3f} ± {main['iou_std']:.3f}, Dice "
                f"{main['dice_mean']:.3f} ± {main['dice_std']:.3f}"
            )
    aside = results.get("familiarity_set_aside")
    if aside and aside["f1_kept"]["mean"] is not None:
        print(
            f"dino-seg with the {aside['fraction_set_aside']:.0%} least familiar set aside: "
            f"weighted F1 {aside['f1_all']['mean']:.3f} -> {aside['f1_kept']['mean']:.3f} "
            f"(at random: {aside['f1_kept_random']['mean']:.3f})"
        )


def run_evaluate(args: argparse.Namespace) -> int:
    """``eczema-tracker evaluate``."""
    from eczema_tracker.research.evaluate import (
        SEGMENTING_METHODS,
        EvaluationConfig,
        check_methods,
        check_results_folder,
    )

    out = _checked_out(check_results_folder, args.out)
    from eczema_tracker.research.progress import tqdm_factory
    from eczema_tracker.research.report import METHOD_TITLES, write_report

    try:
        methods = check_methods([m.strip() for m in args.methods.split(",") if m.strip()])
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    names = None
    if args.class_names:
        names = tuple(n.strip() for n in args.class_names.split(","))
        if len(names) != 4 or not all(names):
            raise CliError("--class-names needs four non-empty names, for labels 0,1,2,3")
    settings = _settings(args)
    needs_masks = bool(SEGMENTING_METHODS & set(methods))
    dataset = _load(args, min_masked=settings.k + 1 if needs_masks else 0)
    config = EvaluationConfig(
        models=settings,
        methods=methods,
        n_splits=args.splits,
        seed=args.seed,
        epochs=args.epochs,
        resnet=args.resnet,
        vit=args.vit,
        note=args.note,
        **({"title": args.title} if args.title else {}),
        **({"class_names": names} if names else {}),
    )
    from eczema_tracker.research.evaluate import run_evaluation

    started = time.perf_counter()
    results = _run_guarded(
        lambda: run_evaluation(dataset, config, progress_for=tqdm_factory(disable=args.quiet))
    )
    written = write_report(results, out)
    for name, result in results["methods"].items():
        print(
            f"{METHOD_TITLES.get(name, name)}: weighted F1 "
            f"{result['weighted_f1_mean']:.3f} ± {result['weighted_f1_std']:.3f}"
        )
    for fraction, value in results["fractions"].items():
        print(
            f"dino-seg on {float(fraction):.0%} of training: {value['mean']:.3f} ± {value['std']:.3f}"
        )
    _print_extras(results)
    print(
        "work computed (not cached): "
        + json.dumps({k: v for k, v in results["work"].items() if k != "cache_hits"})
    )
    print(
        f"evaluate took {time.perf_counter() - started:.1f} s; wrote "
        + ", ".join(str(p) for p in written)
    )
    return 0
