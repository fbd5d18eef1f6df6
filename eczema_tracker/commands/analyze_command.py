"""``eczema-tracker analyze PHOTO... --prompt IMAGE MASK ...``: segment and grade photos.

Every input is checked before any model loads, so a bad photo or mask fails in a second with
one line. Severity follows :mod:`eczema_tracker.core.severity_scale`: ``severity_class`` is the band
the expected ``score`` falls in (never contradicting it), ``shown`` is what the app shows, and a
lesion mask below the graded minimum is "no eczema found" (``shown_class`` null).

Each photo is also judged against the prompts (:class:`eczema_tracker.ml.familiarity.ExampleSpace`,
on the encoder's intermediate-layer [CLS]): ``nearest_prompt_distance``, the bound it is read
against (``prompt_distance_scale``: measured for the backbone, else calibrated from the photos
given - each goes through DINO once more first - and the prompts), ``familiar`` (true, false, or
null when it cannot be judged yet: too few photos to calibrate with) and
``familiarity_reason``; a prompt photo itself is familiar at distance 0. An unfamiliar photo gets
a second line in the plain output.

Exit codes: 2 bad input (photo, mask, prompts), 3 model problem (missing, corrupt,
incompatible severity model).
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from eczema_tracker.cli import CliError
from eczema_tracker.commands.common import UNFAMILIAR_TEXT
from eczema_tracker.commands.model_commands import MODEL_ERROR_CODE, add_source_options
from eczema_tracker.core.atomic import atomic_path

if TYPE_CHECKING:
    from eczema_tracker.core.imaging import ImageLoadError

T = TypeVar("T")
R = TypeVar("R")

INPUT_ERROR_CODE = 2
DEFAULT_MASK_DIR = "eczema-masks"


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the ``analyze`` command."""
    parser = subparsers.add_parser(
        "analyze",
        parents=[common],
        help="segment the lesion in photos and grade its severity",
        description="Segment eczema in each PHOTO with SegGPT, prompted by the K example "
        "photos (with lesion masks) nearest in DINO feature space, then describe the lesion "
        "with DINO features and grade it with a severity model if one is given.",
    )
    parser.add_argument("photos", nargs="+", metavar="PHOTO", help="photos to analyse")
    parser.add_argument(
        "--prompt",
        nargs=2,
        action="append",
        metavar=("IMAGE", "MASK"),
        default=[],
        help="an example photo and its mask (PNG: 128 = healthy skin, other non-zero = lesion); "
        "repeat for more",
    )
    parser.add_argument(
        "--severity-model", metavar="FILE", help="severity model (.safetensors) to grade with"
    )
    add_source_options(parser)
    parser.add_argument(
        "--k", type=int, default=2, metavar="N", help="prompts per photo (default 2)"
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=DEFAULT_MASK_DIR,
        help=f"folder for the mask PNGs (default ./{DEFAULT_MASK_DIR}/)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per photo per line")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu")
    parser.add_argument(
        "--reference", action="store_true", help="plain fp32 reference path (no acceleration)"
    )
    parser.set_defaults(func=run_analyze)


#: Longest side photos are decoded at for the fail-fast check (every byte is still decoded).
CHECK_MAX_SIDE = 256


def _load_inputs(args: argparse.Namespace):
    """Check every photo and load the prompts up front; raise CliError on the first problem.

    Prompt photos are decoded reduced to the analysis size; their masks (0 / 128 healthy skin /
    other non-zero lesion) must have the photo's full upright size and are shrunk with it."""
    from eczema_tracker.core.imaging import (
        ImageLoadError,
        decode_photo,
        load_labelled_mask,
        open_image,
    )
    from eczema_tracker.ml.pipeline import ANALYSIS_MAX_SIDE, resize_labelled_mask
    from eczema_tracker.ml.seggpt import Prompt

    if not args.prompt:
        raise CliError(
            "at least one --prompt IMAGE MASK is needed (an example photo with its lesion mask)",
            INPUT_ERROR_CODE,
        )
    if args.k < 1:
        raise CliError(f"--k must be at least 1 (got {args.k})", INPUT_ERROR_CODE)
    prompts = []
    try:
        for image_path, mask_path in args.prompt:
            decoded = decode_photo(image_path, max_side=ANALYSIS_MAX_SIDE)
            if not Path(mask_path).is_file():
                raise CliError(f"{mask_path}: mask file not found", INPUT_ERROR_CODE)
            mask = load_labelled_mask(mask_path)
            if mask.shape != (decoded.height, decoded.width):
                raise CliError(
                    f"{mask_path}: mask is {mask.shape[1]}x{mask.shape[0]} but its image "
                    f"{image_path} is {decoded.width}x{decoded.height}",
                    INPUT_ERROR_CODE,
                )
            image = decoded.image
            key = str(image_path)  # the same photo twice (two masks): keys stay unique
            if any(prompt.key == key for prompt in prompts):
                key = f"{image_path}#{sum(p.key.startswith(key) for p in prompts) + 1}"
            prompts.append(Prompt(image, resize_labelled_mask(mask, image.size), key=key))
        for path in args.photos:  # fail fast on a bad photo; decoded again when analysed
            open_image(path, max_side=CHECK_MAX_SIDE)
    except ImageLoadError as exc:
        raise CliError(str(exc), INPUT_ERROR_CODE) from exc
    return prompts


@dataclass
class PreparedPhoto:
    """A photo decoded for analysis, with its DINO retrieval features (from the prefetch)."""

    image: Any
    mask_size: tuple[int, int]
    features: Any
    familiarity_features: Any = None


#: The familiarity fields of a photo an encoder without familiarity features cannot judge.
NOT_JUDGED: dict[str, Any] = {
    "nearest_prompt_distance": None,
    "prompt_distance_scale": None,
    "familiar": None,
    "familiarity_ratio": None,
    "familiarity_metric": None,
    "familiarity_threshold": None,
    "familiarity_measure": None,
    "familiarity_reason": "this model gives no familiarity features",
}


def prefetched(
    items: Sequence[T], prepare: Callable[[T], R]
) -> Iterator[tuple[T, R | ImageLoadError]]:
    """``(item, prepare(item))`` in order, preparing the next item while the caller works on
    the current one (a one-slot prefetch thread).

    An ``ImageLoadError`` of ``prepare`` is yielded in its item's place (the caller decides);
    any other error is raised at that item. Leaving the loop early stops the thread.
    """
    from eczema_tracker.core.imaging import ImageLoadError

    slot: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def work() -> None:
        for item in items:
            try:
                result: Any = ("ok", prepare(item))
            except ImageLoadError as exc:
                result = ("ok", exc)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                result = ("error", exc)
            while not stop.is_set():
                try:
                    slot.put(result, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if stop.is_set() or result[0] == "error":
                return

    worker = threading.Thread(target=work, name="analyze-prefetch", daemon=True)
    worker.start()
    try:
        for item in items:
            kind, value = slot.get()
            if kind == "error":
                raise value
            yield item, value
    finally:
        stop.set()
        worker.join()


def _mask_path(out_dir: Path, photo: str, used: set[Path]) -> Path:
    stem = Path(photo).stem or "photo"
    candidate, n = out_dir / f"{stem}.mask.png", 1
    while candidate in used:
        n += 1
        candidate = out_dir / f"{stem}-{n}.mask.png"
    used.add(candidate)
    return candidate


def _write_mask(mask, path: Path) -> None:
    """Write a mask PNG atomically (temp file, fsync, replace)."""
    from eczema_tracker.core.imaging import mask_to_image

    with atomic_path(path) as tmp:
        mask_to_image(mask).save(tmp, format="PNG")


def run_analyze(args: argparse.Namespace) -> int:
    """Analyse each photo; print a line (or a JSON object) per photo."""
    prompts = _load_inputs(args)

    import numpy as np

    from eczema_tracker.core.imaging import ImageLoadError, decode_photo
    from eczema_tracker.core.severity_scale import CLASS_NAMES, band_of_score, shown_grade
    from eczema_tracker.ml.checkpoint_files import ModelSourceError
    from eczema_tracker.ml.pipeline import ANALYSIS_MAX_SIDE, AnalysisPipeline
    from eczema_tracker.ml.severity import SeverityModelError, SeverityModelMismatch

    if args.severity_model and not Path(args.severity_model).is_file():
        raise CliError(f"{args.severity_model}: severity model file not found", MODEL_ERROR_CODE)
    try:
        pipeline = AnalysisPipeline.from_sources(
            dino=args.dino,
            seggpt=args.seggpt,
            k=args.k,
            severity_model=args.severity_model,
            device=args.device,
            fast=not args.reference,
        )
    except (ModelSourceError, SeverityModelError, SeverityModelMismatch) as exc:
        raise CliError(str(exc), MODEL_ERROR_CODE) from exc
    if pipeline.severity is None:
        print(
            "eczema-tracker: severity fields are null: no --severity-model given (train one "
            "with 'eczema-tracker train' or in the app)",
            file=sys.stderr,
        )
    from eczema_tracker.ml.familiarity import ExampleSpace, known_bound
    from eczema_tracker.ml.threads import use_analysis_threads

    use_analysis_threads()
    pipeline.set_prompts(prompts)
    encoder = pipeline.encoder
    judges = callable(getattr(encoder, "familiarity_features", None))
    # Familiarity features one photo a batch, prompts and queries alike, so a prompt photo
    # analysed comes out at distance 0 exactly.
    space = None
    if judges:
        own = {}
        bound = known_bound(getattr(encoder, "backbone_id", None))
        if bound is None:  # calibrate from the photos given (one more decode + DINO pass each)
            for index, photo_path in enumerate(args.photos):
                try:
                    decoded = decode_photo(photo_path, max_side=ANALYSIS_MAX_SIDE)
                except ImageLoadError:
                    continue  # changed since the check: its turn below says so
                own[index] = encoder.familiarity_features([decoded.image])[0]
        space = ExampleSpace(
            np.stack([encoder.familiarity_features([p.image])[0] for p in prompts]),
            bound=bound,
            own_features=own,
        )
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    used: set[Path] = set()

    def prepare(item: tuple[int, str]) -> PreparedPhoto:
        decoded = decode_photo(item[1], max_side=ANALYSIS_MAX_SIDE)
        features = encoder.retrieval_features([decoded.image])[0]
        familiar = encoder.familiarity_features([decoded.image])[0] if judges else None
        return PreparedPhoto(decoded.image, (decoded.width, decoded.height), features, familiar)

    for (index, photo_path), prepared in prefetched(list(enumerate(args.photos)), prepare):
        if isinstance(prepared, ImageLoadError):  # changed since the check above
            raise CliError(str(prepared), INPUT_ERROR_CODE) from prepared
        analysis = pipeline.analyze(
            prepared.image, mask_size=prepared.mask_size, query_features=prepared.features
        )
        mask_file = _mask_path(out_dir, photo_path, used)
        _write_mask(analysis.labelled_mask, mask_file)
        familiarity = (
            NOT_JUDGED
            if space is None
            else space.judge(prepared.familiarity_features, key=index).to_json()
        )
        grade = shown_grade(
            lesion_area_fraction=analysis.lesion_area_fraction,
            score=analysis.score,
            probabilities=analysis.probabilities,
            doubtful=familiarity["familiar"] is False,  # unlike the prompts: never "no eczema"
        )
        band = None if analysis.score is None else band_of_score(analysis.score)
        if args.json:
            record = {
                "file": str(photo_path),
                "lesion_area_fraction": round(analysis.lesion_area_fraction, 6),
                "lesion_share_of_skin": None
                if analysis.lesion_share_of_skin is None
                else round(analysis.lesion_share_of_skin, 6),
                "severity_class": band,  # the band of score: class and score agree
                "most_likely_class": None
                if analysis.probabilities is None
                else int(np.argmax(analysis.probabilities)),
                "shown_class": None
                if grade is None or not grade.graded
                else CLASS_NAMES[grade.label],
                "shown": None if grade is None else grade.text,
                "probabilities": None
                if analysis.probabilities is None
                else [round(float(p), 6) for p in analysis.probabilities],
                "score": None if analysis.score is None else round(analysis.score, 6),
                "mask": str(mask_file),
                "timings": {k: round(v, 4) for k, v in analysis.timings.items()},
                "prompt_keys": analysis.prompt_keys,
                **familiarity,  # nearest_prompt_distance, prompt_distance_scale, familiar, ...
            }
            print(json.dumps(record), flush=True)
        else:
            if grade is None:
                severity = "severity not graded"
            elif not grade.graded:
                severity = grade.text
            else:
                severity = f"severity {grade.text}"
            skin = (
                ""
                if analysis.lesion_share_of_skin is None
                else f"{100 * analysis.lesion_share_of_skin:.1f}% of the skin, "
            )
            print(
                f"{photo_path}: lesion {skin}{100 * analysis.lesion_area_fraction:.1f}% of the "
                f"photo, {severity}; mask {mask_file} ({analysis.timings['total']:.1f} s)",
                flush=True,
            )
            if familiarity["familiar"] is False:  # None (not judged) is not marked
                print(f"  {photo_path}: {UNFAMILIAR_TEXT}", flush=True)
    return 0
