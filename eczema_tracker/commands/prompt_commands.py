"""``prompts set|clear|list|check``: prompt masks for scripts, and whether they agree.

``prompts check`` tells, per site, how well the examples agree (each segmented with the others by
the app's SegGPT, :func:`eczema_tracker.app.trust.seggpt_agreement`) and which unannotated photo
to paint next (:func:`eczema_tracker.app.trust.next_to_paint`).

The model options, the model choice and the Ctrl+C-aware runner (:func:`stoppable`) are shared
with ``analyse-store`` (:mod:`eczema_tracker.commands.analyse_store_command`).

Exit codes: 0 done; 2 bad input or a store problem; 3 a model problem; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from eczema_tracker.cli import CliError
from eczema_tracker.commands.common import (
    INPUT_ERROR_CODE,
    INTERRUPTED_CODE,
    CtrlC,
    ProgressBar,
    escape_control_characters,
    open_store,
    print_help,
)
from eczema_tracker.commands.model_commands import MODEL_ERROR_CODE, add_source_options
from eczema_tracker.store import Store, normalise_site

T = TypeVar("T")

if TYPE_CHECKING:
    import numpy as np

    from eczema_tracker.app.analysis_models import ModelChoice
    from eczema_tracker.app.trust.agreement import SiteAgreement
    from eczema_tracker.app.trust.examples import PhotoToPaint
    from eczema_tracker.store import PhotoRecord


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``prompts set|clear|list|check``."""
    prompts = subparsers.add_parser(
        "prompts",
        parents=[common],
        help="set, clear or list the prompt masks each body site is analysed with",
        description="A prompt is a photo with a lesion mask; a body site's photos are segmented "
        "from the prompts of that site (at least 2 are needed). Setting a new mask on a prompt "
        "keeps the older versions, and marks the site's earlier analyses as out of date.",
    )
    actions = prompts.add_subparsers(dest="prompts_command", metavar="ACTION")
    p = actions.add_parser(
        "set",
        parents=[common],
        help="make a photo a prompt with this lesion mask (a new version if it has one)",
    )
    p.add_argument("photo_id", type=int, metavar="PHOTO_ID", help="the photo (see `photos`)")
    p.add_argument(
        "mask",
        metavar="MASK.png",
        help="mask PNG the size of the upright photo: 128 = healthy skin, any other non-zero "
        "pixel = lesion, 0 = neither",
    )
    p.set_defaults(func=run_prompts_set)
    p = actions.add_parser(
        "clear", parents=[common], help="stop using a photo as a prompt (its masks are kept)"
    )
    p.add_argument("photo_id", type=int, metavar="PHOTO_ID")
    p.set_defaults(func=run_prompts_clear)
    p = actions.add_parser("list", parents=[common], help="list the prompts of each body site")
    p.add_argument("--site", default=None, help="only this body site")
    p.add_argument("--json", action="store_true", help="print one JSON object per prompt")
    p.set_defaults(func=run_prompts_list)
    p = actions.add_parser(
        "check",
        parents=[common],
        help="how well each site's examples agree, and which photo to paint next",
        description="Segment each prompt photo of a site with the other prompts (SegGPT, as "
        "the app does; K=1 when the site has only 2) and compare with the mask painted on it: "
        "the mean overlap (IoU) and the weakest example. Also suggests the site's unannotated "
        "photo least like its examples (DINO retrieval features), the most useful one to paint "
        "next. Model sources, K and the device default to the app's settings; nothing is "
        "downloaded. A result kept from an earlier check of the same examples and models is "
        "reused (--recheck runs it again). Ctrl+C stops after the current photo (exit 130).",
    )
    p.add_argument("--site", default=None, help="only this body site (default: every site)")
    p.add_argument("--json", action="store_true", help="print one JSON object per site")
    p.add_argument("--recheck", action="store_true", help="check again even when a result is kept")
    add_model_options(p)
    p.set_defaults(func=run_prompts_check)
    prompts.set_defaults(func=lambda _args: print_help(prompts))


def add_model_options(p: argparse.ArgumentParser) -> None:
    """--dino/--seggpt/--k/--device, each defaulting to the app's settings (None here)."""
    add_source_options(p)
    for action in p._actions:  # None: the app's settings decide (default: the paper's models)
        if action.dest in ("dino", "seggpt"):
            action.default = None
            action.help = (
                f"{(action.help or '').split(' (default')[0]} (default: the app's settings)"
            )
    p.add_argument(
        "--k", type=int, default=None, metavar="N", help="prompts per photo (default: settings)"
    )
    p.add_argument(
        "--device", choices=("cpu", "cuda", "auto"), default=None, help="(default: settings)"
    )


def model_choice_from_args(args: argparse.Namespace, store: Store) -> ModelChoice:
    """The app's model choice (settings and the active severity model), with this command's
    --dino/--seggpt/--k/--device instead where given."""
    from eczema_tracker.app import analysis_models
    from eczema_tracker.app.settings import Settings

    if args.k is not None and args.k < 1:
        raise CliError(f"--k must be at least 1 (got {args.k})", INPUT_ERROR_CODE)
    overrides = {
        "dino_source": args.dino,
        "seggpt_source": args.seggpt,
        "k": args.k,
        "device": args.device,
    }
    loaded = Settings.load()
    if loaded.load_problem:
        print(f"eczema-tracker: warning: {loaded.load_problem}", file=sys.stderr)
    settings = replace(loaded, **{k: v for k, v in overrides.items() if v is not None})
    return analysis_models.model_choice(settings, store)


# -- helpers --------------------------------------------------------------------------------------
def _photo(store: Store, photo_id: int) -> PhotoRecord:
    try:
        return store.photo(photo_id)
    except KeyError:
        raise CliError(
            f"there is no photo {photo_id} in the store (see `eczema-tracker photos`)",
            INPUT_ERROR_CODE,
        ) from None


def _read_mask(path: Path, photo: PhotoRecord) -> np.ndarray:
    """The mask in ``path`` for ``photo`` (uint8: 0, 128 healthy skin, 255 lesion; see
    ``core.mask_labels``); CliError unless readable and the photo's size."""
    from PIL import Image, UnidentifiedImageError

    from eczema_tracker.core.imaging import ImageLoadError, load_labelled_mask

    if not path.is_file():
        raise CliError(f"{path}: mask file not found", INPUT_ERROR_CODE)
    try:
        with Image.open(path) as im:  # the header only: refuse a wrong size before decoding
            width, height = im.size
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        raise CliError(f"{path}: not a readable mask image ({exc})", INPUT_ERROR_CODE) from exc
    if (width, height) != (photo.width, photo.height):
        raise CliError(
            f"{path}: the mask is {width}x{height} but photo {photo.id} is "
            f"{photo.width}x{photo.height} (width x height, as shown upright)",
            INPUT_ERROR_CODE,
        )
    try:
        return load_labelled_mask(path)
    except (ImageLoadError, Image.DecompressionBombError) as exc:
        raise CliError(str(exc), INPUT_ERROR_CODE) from exc


def _site_count_text(store: Store, site: str) -> str:
    from eczema_tracker.app.services import MIN_PROMPTS
    from eczema_tracker.core.mask_labels import has_skin

    prompts = store.prompts(site)
    n = len(prompts)
    need = "" if n >= MIN_PROMPTS else f"; paint {MIN_PROMPTS - n} more to analyse its photos"
    with_skin = sum(has_skin(store.load_labelled_mask(p.mask)) for p in prompts)
    if with_skin == n:
        skin = "; all mark healthy skin: the lesion is measured as a share of the skin"
    elif with_skin:
        skin = (
            f"; {with_skin} of {n} mark healthy skin: mark it on all to measure the lesion "
            "as a share of the skin (until then, of the photo)"
        )
    else:
        skin = ""
    return f"'{site}' has {n} prompt mask(s){need}{skin}"


def _skin_text(mask: np.ndarray) -> str:
    """ ", healthy skin N% of the photo" when the mask marks skin, else ""."""
    from eczema_tracker.core.mask_labels import skin_of

    skin = skin_of(mask)
    return f", healthy skin {100 * skin.mean():.1f}% of the photo" if skin.any() else ""


# -- prompts --------------------------------------------------------------------------------------
def run_prompts_set(args: argparse.Namespace) -> int:
    """``eczema-tracker prompts set PHOTO_ID MASK.png``."""
    path = Path(args.mask)
    with open_store(args.data_dir) as store:
        from eczema_tracker.core.mask_labels import lesion_of

        photo = _photo(store, args.photo_id)
        mask = _read_mask(path, photo)
        if not lesion_of(mask).any():
            print(
                f"eczema-tracker: warning: {path} marks no lesion pixel "
                f"({'only healthy skin' if mask.any() else 'all zero'})",
                file=sys.stderr,
            )
        store.set_prompt_mask(photo.id, mask)
        prompt = store.prompt(photo.id)
        assert prompt is not None
        counts = _site_count_text(store, photo.site)
    print(
        f"photo {photo.id} is a prompt of '{escape_control_characters(photo.site)}' (mask version {prompt.version}, "
        f"lesion {100 * prompt.mask.area_fraction:.1f}% of the photo{_skin_text(mask)}); "
        f"{counts}"
    )
    return 0


def run_prompts_clear(args: argparse.Namespace) -> int:
    """``eczema-tracker prompts clear PHOTO_ID``."""
    with open_store(args.data_dir) as store:
        photo = _photo(store, args.photo_id)
        if not photo.is_prompt:
            print(f"photo {photo.id} is not a prompt; nothing changed")
            return 0
        store.unset_prompt(photo.id)
        counts = _site_count_text(store, photo.site)
    print(
        f"photo {photo.id} is no longer a prompt of '{escape_control_characters(photo.site)}' (its mask versions are "
        f"kept); {counts}"
    )
    return 0


def run_prompts_list(args: argparse.Namespace) -> int:
    """``eczema-tracker prompts list [--site S] [--json]``."""
    from eczema_tracker.app.services import MIN_PROMPTS

    rows: list[dict[str, Any]] = []
    with open_store(args.data_dir, readonly=True) as store:
        sites = [normalise_site(args.site)] if args.site is not None else store.sites()
        counts = {}
        for site in sites:
            prompts = store.prompts(site)
            counts[site] = len(prompts)
            for prompt in prompts:
                photo = store.photo(prompt.photo_id)
                rows.append(
                    {
                        "photo_id": prompt.photo_id,
                        "site": prompt.site,
                        "version": prompt.version,
                        "mask": str(prompt.mask.path),
                        "mask_sha256": prompt.mask.sha256,
                        "lesion_area_fraction": prompt.mask.area_fraction,
                        "since": prompt.since,
                        "updated_at": prompt.updated_at,
                        "taken_at": photo.taken_at,
                        "original_name": photo.original_name,
                    }
                )
    for row in rows:
        if args.json:
            print(json.dumps(row))
        else:
            line = (
                f"{row['photo_id']:>6} {row['site'][:20]:<20} v{row['version']:<3} "
                f"lesion {100 * row['lesion_area_fraction']:5.1f}%  "
                f"updated {row['updated_at'][:19]}  {row['original_name']}"
            )
            print(escape_control_characters(line))
    if not args.json:
        for site, n in counts.items():
            state = "ready" if n >= MIN_PROMPTS else f"paint {MIN_PROMPTS - n} more"
            print(
                f"{escape_control_characters(site)}: {n} prompt mask(s) ({state})", file=sys.stderr
            )
    return 0


def known_site(store: Store, name: str) -> str:
    """``name`` normalised; CliError unless some photo has that body site."""
    site = normalise_site(name)
    if site not in store.sites():
        known = ", ".join(f"'{s}'" for s in store.sites()) or "none yet"
        raise CliError(
            f"no photo has the body site '{site}' (sites in the store: {known})",
            INPUT_ERROR_CODE,
        )
    return site


# -- prompts check --------------------------------------------------------------------------------
def run_prompts_check(args: argparse.Namespace) -> int:
    """``eczema-tracker prompts check [--site S] [--json] [models...]``: per site, how well its
    examples agree (the app's SegGPT) and the photo to paint next."""
    from eczema_tracker.app import analysis_models
    from eczema_tracker.app.trust import agreement as trust
    from eczema_tracker.app.trust import examples as trust_examples

    with open_store(args.data_dir) as store:
        sites = [known_site(store, args.site)] if args.site is not None else store.sites()
        if not sites:
            print("eczema-tracker: no photos in the store yet", file=sys.stderr)
            return 0
        # severity plays no part: the active severity model is neither loaded nor checked
        choice = replace(
            model_choice_from_args(args, store), severity_model_path=None, severity_model_id=None
        )
        pipelines = analysis_models.PipelineCache()

        def check(ctrl_c: CtrlC, bar: ProgressBar) -> None:
            # The only writes are retrieval features kept for later: Ctrl+C never cuts one
            # short, it stops the check at the next photo (Cancelled).
            with ctrl_c.writing():
                for site in sites:
                    agreement = trust.seggpt_agreement(
                        store,
                        site,
                        pipelines,
                        choice,
                        progress=bar,
                        cancel=ctrl_c.cancel,
                        reuse=not args.recheck,
                    )
                    encoder = pipelines.get(choice, progress=bar, cancel=ctrl_c.cancel).encoder
                    pick = trust_examples.next_to_paint(
                        store, site, encoder=encoder, cancel=ctrl_c.cancel
                    )
                    row = agreement.to_json()
                    row["paint_next"] = None if pick is None else pick.to_json()
                    bar.print(json.dumps(row) if args.json else _check_text(agreement, pick))

        finished, _ = stoppable(check, stopped=lambda: "interrupted", counted=("checking",))
    return 0 if finished else INTERRUPTED_CODE


def _check_text(agreement: SiteAgreement, pick: PhotoToPaint | None) -> str:
    """E.g. "back of knee: your examples agree: 78 % overlap on average; weakest: photo of
    12 March 2026 (id 4, 41 %). Paint next: photo 9 (3 April 2026)"."""
    result = agreement.agreement
    if result is None:
        text = f"{agreement.site}: {agreement.note}."
    else:
        from eczema_tracker.app.trust import agreement as trust

        reliability = trust.reliability_of(agreement)
        verb = "agree" if reliability.reliable else "disagree"
        text = (
            f"{agreement.site}: your examples {verb}: {100 * result.mean:.0f} % overlap on "
            f"average; weakest: photo of {_day(agreement.weakest_taken_at)} "
            f"(id {agreement.weakest_photo_id}, {100 * min(result.ious):.0f} %)."
        )
        if not reliability.reliable:
            reason = reliability.reason
            text += f" {trust.UNRELIABLE_MARK} {reason[0].upper()}{reason[1:]}."
        if result.k_used < 2:
            text += f" ({result.note[0].upper()}{result.note[1:]}.)"
    if pick is None:
        return f"{text} Nothing to paint next: every photo of the site is an example."
    first = "" if pick.distance is not None else ", the most typical photo, as a first example"
    return f"{text} Paint next: photo {pick.photo_id} ({_day(pick.taken_at)}){first}"


def _day(taken_at: str | None) -> str:
    """'12 March 2026' of an ISO date-time (the text itself when it is not one)."""
    try:
        when = datetime.fromisoformat((taken_at or "").strip())
    except ValueError:
        return taken_at or "an unknown day"
    return f"{when.day} {when:%B %Y}"


def stoppable(
    work: Callable[[CtrlC, ProgressBar], T],
    *,
    stopped: Callable[[], str],
    counted: tuple[str, ...] = ("photo", "preparing"),
) -> tuple[bool, T | None]:
    """``(True, work(ctrl_c, bar))`` with Ctrl+C handled (:class:`CtrlC`) and a progress bar;
    ``(False, None)`` when stopped by Ctrl+C or a cancel, after printing ``stopped()`` on
    stderr. A model loading problem becomes a one-line CLI error (exit code 3)."""
    from eczema_tracker.core.jobs import Cancelled

    bar = ProgressBar(counted)
    try:
        with CtrlC() as ctrl_c:
            result = work(ctrl_c, bar)
    except (KeyboardInterrupt, Cancelled):
        bar.close()
        print(f"eczema-tracker: {stopped()}", file=sys.stderr)
        return False, None
    except Exception as exc:
        bar.close()
        _raise_model_problem(exc)
        raise
    bar.close()
    return True, result


def _raise_model_problem(exc: Exception) -> None:
    """Re-raise a model loading problem as a one-line CLI error (exit code 3)."""
    from eczema_tracker.app.personal_severity import ServiceError
    from eczema_tracker.ml.checkpoint_files import ModelSourceError
    from eczema_tracker.ml.severity import SeverityModelError, SeverityModelMismatch

    if isinstance(
        exc, ModelSourceError | SeverityModelError | SeverityModelMismatch | ServiceError
    ):
        raise CliError(str(exc), MODEL_ERROR_CODE) from exc
