"""``analyse-store``: the app's own analysis of the store's photos, from the command line.

It runs :func:`eczema_tracker.app.services.analyse_photos` with the app's settings (overridable
here) and the store's active severity model, so what it records is exactly what the app records;
each result row carries its familiarity (``nearest_prompt_distance``, ``prompt_distance_scale``,
``familiar``). Ctrl+C stops cleanly: a result being written is finished first, every finished
photo stays recorded, and the exit code is 130.

Exit codes: 0 done; 1 some photos were skipped (too few prompt masks) or failed; 2 bad input or
a store problem; 3 a model problem; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from eczema_tracker.app.photo_result import photo_result
from eczema_tracker.app.trust.agreement import result_in_doubt, site_reliability
from eczema_tracker.commands.common import (
    INTERRUPTED_CODE,
    UNFAMILIAR_TEXT,
    CtrlC,
    ProgressBar,
    escape_control_characters,
    open_store,
)
from eczema_tracker.commands.prompt_commands import (
    add_model_options,
    known_site,
    model_choice_from_args,
    stoppable,
)

if TYPE_CHECKING:
    from eczema_tracker.app.services import PhotoOutcome
    from eczema_tracker.store import Store


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``analyse-store``."""
    p = subparsers.add_parser(
        "analyse-store",
        parents=[common],
        help="analyse the store's photos with their site's prompts and record the results",
        description="Segment the store's photos with the prompt masks of their body site and "
        "grade them with the active severity model, recording each result as the app does. "
        "By default only photos never analysed; --stale adds those whose site's prompts "
        "changed since; --all analyses every photo again. Model sources, K and the device "
        "default to the app's settings (File > Settings). Ctrl+C stops after the result being "
        "written; finished photos stay recorded (exit code 130).",
    )
    p.add_argument("--site", default=None, help="only photos of this body site")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every photo, analysed or not")
    which.add_argument(
        "--stale", action="store_true", help="also photos whose analysis is out of date"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object per photo")
    add_model_options(p)
    p.set_defaults(func=run_analyse_store)


# -- analyse-store --------------------------------------------------------------------------------
def _selected_photos(store: Store, args: argparse.Namespace) -> list[int]:
    from eczema_tracker.app.services import photos_to_analyse

    site = None if args.site is None else known_site(store, args.site)
    if args.all:
        return [photo.id for photo in store.photos(site)]
    return photos_to_analyse(store, site, include_stale=args.stale)


def _outcome_row(store: Store, outcome: PhotoOutcome) -> dict[str, Any]:
    photo = store.photo(outcome.photo_id)
    row: dict[str, Any] = {
        "photo_id": photo.id,
        "site": photo.site,
        "status": outcome.status,
        "reason": outcome.reason,
    }
    if outcome.analysis_id is not None:
        analysis = store.analysis(outcome.analysis_id)
        reliability = site_reliability(store, photo.site)
        grade = photo_result(
            model_area_fraction=analysis.lesion_area_fraction,
            score=analysis.score,
            probabilities=analysis.probabilities,
            is_prompt=bool(photo.is_prompt),
            doubtful=result_in_doubt(
                unfamiliar=analysis.familiar is False, site=reliability, mask_origin="analysis"
            ),
        ).grade
        row.update(
            analysis_id=analysis.id,
            lesion_area_fraction=analysis.lesion_area_fraction,
            lesion_share_of_skin=analysis.lesion_share_of_skin,
            severity_class=analysis.severity_class,
            score=analysis.score,
            probabilities=None if analysis.probabilities is None else list(analysis.probabilities),
            grade=None if grade is None else grade.text,
            site_reliable=reliability.reliable,
            severity_model_id=analysis.severity_model_id,
            prompt_photo_ids=list(analysis.prompt_photo_ids),
            mask=str(analysis.mask.path),
            nearest_prompt_distance=analysis.nearest_prompt_distance,
            prompt_distance_scale=analysis.prompt_distance_scale,
            familiar=analysis.familiar,
        )
    return row


def _outcome_text(row: dict[str, Any]) -> str:
    where = f"photo {row['photo_id']} ({escape_control_characters(row['site'])})"
    if row["status"] != "analysed":
        return f"{where}: {row['status']}: {escape_control_characters(str(row['reason']))}"
    grade = row["grade"] or "severity not graded (no active severity model)"
    share = row["lesion_share_of_skin"]
    skin = "" if share is None else f"{100 * share:.1f}% of the skin, "
    text = f"{where}: lesion {skin}{100 * row['lesion_area_fraction']:.1f}% of the photo, {grade}"
    if row["familiar"] is False:  # None (not judged) is not marked
        text += f"\n  photo {row['photo_id']}: {UNFAMILIAR_TEXT}"
    return text


def run_analyse_store(args: argparse.Namespace) -> int:
    """``eczema-tracker analyse-store [--site S] [--all | --stale] [--json] [models...]``."""
    from eczema_tracker.app import analysis_models, services

    counts = {"analysed": 0, "skipped": 0, "failed": 0}
    with open_store(args.data_dir) as store:
        choice = model_choice_from_args(args, store)
        photo_ids = _selected_photos(store, args)
        if not photo_ids:
            print("eczema-tracker: nothing to analyse (see --stale and --all)", file=sys.stderr)
            return 0

        def analyse(ctrl_c: CtrlC, bar: ProgressBar) -> services.AnalysisRunSummary:
            def on_photo(outcome: PhotoOutcome) -> None:
                counts[outcome.status] += 1
                row = _outcome_row(store, outcome)
                bar.print(json.dumps(row) if args.json else _outcome_text(row))

            return services.analyse_photos(
                store,
                analysis_models.PipelineCache(),
                choice,
                photo_ids,
                progress=bar,
                cancel=ctrl_c.cancel,
                on_photo=on_photo,
                write_guard=ctrl_c.writing,
            )

        finished, summary = stoppable(
            analyse,
            stopped=lambda: (
                f"interrupted; {counts['analysed']} photo(s) analysed and recorded before the stop"
            ),
        )
    if not finished or summary is None:
        return INTERRUPTED_CODE
    for note in summary.notes:
        print(f"eczema-tracker: note: {note}", file=sys.stderr)
    print(
        f"{counts['analysed']} analysed, {counts['skipped']} skipped, {counts['failed']} failed",
        file=sys.stderr,
    )
    return 1 if counts["skipped"] or counts["failed"] else 0
