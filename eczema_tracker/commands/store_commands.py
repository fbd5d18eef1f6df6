"""``import``, ``photos``, ``export`` and ``restore``: the photo store from the command line.

Exit codes: 0 success; 1 some files were refused (import), could not be exported, or were
missing from the backup (restore: their records are kept without the file); 2 a usage
or store problem (store locked by another process, written by a newer version, bad backup...).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from eczema_tracker.app.photo_result import PhotoResult, point_result
from eczema_tracker.app.trust.agreement import result_in_doubt, site_reliability
from eczema_tracker.app.trust.familiarity_text import point_is_unfamiliar
from eczema_tracker.cli import CliError
from eczema_tracker.commands.common import escape_control_characters
from eczema_tracker.core.jobs import ProgressCallback
from eczema_tracker.store import COMMON_SITES, Store, StoreError
from eczema_tracker.store.records import normalise_site


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the store commands to the ``eczema-tracker`` parser."""
    p = subparsers.add_parser(
        "import",
        parents=[common],
        help="import photos (files or folders, recursively) into the store",
        description="Import photos into the store. Folders are searched recursively for photo "
        "files (other files there are skipped); files named explicitly are always tried. "
        "A photo already in the store but in the bin is brought back from the bin "
        "(reported as restored). Exit code 0 if every file was imported, restored or already "
        "there, 1 if any was refused.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="photo files or folders")
    p.add_argument(
        "--site",
        default="unspecified",
        help=f"body site of these photos (free text; e.g. {', '.join(COMMON_SITES[1:6])})",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object per file")
    p.set_defaults(func=run_import)

    p = subparsers.add_parser(
        "photos", parents=[common], help="list the stored photos, newest first"
    )
    p.add_argument("--site", default=None, help="only photos of this body site")
    p.add_argument(
        "--bin",
        action="store_true",
        help="list the photos in the bin instead, most recently deleted first (import a "
        "photo's file again to bring it back)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object per photo")
    p.set_defaults(func=run_photos)

    p = subparsers.add_parser(
        "export",
        parents=[common],
        help="back up the whole store (database, photos, masks, models) to one zip file",
    )
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--out", metavar="FILE.zip", help="the backup file to write")
    out.add_argument(
        "--csv",
        metavar="DIR",
        help="write every record (photos, analyses, ratings, check-ins, daily numbers, "
        "treatments, courses, flares and notes) as CSV files and a README.txt into a new "
        "folder DIR/eczema-record-YYYY-MM-DD (nothing in DIR is overwritten)",
    )
    p.add_argument(
        "--force", action="store_true", help="replace --out when a file of that name exists"
    )
    p.set_defaults(func=run_export)

    p = subparsers.add_parser(
        "restore",
        parents=[common],
        help="restore the store from a backup zip (verifies every file first)",
    )
    p.add_argument("backup", metavar="FILE.zip", help="a zip written by `eczema-tracker export`")
    p.add_argument("--force", action="store_true", help="replace a store that already holds data")
    p.set_defaults(func=run_restore)


@contextmanager
def _store_errors():
    """Turn store problems into one-line CLI errors (exit code 2)."""
    try:
        yield
    except StoreError as exc:
        raise CliError(str(exc), 2) from exc


def _warn_about_check(store: Store) -> None:
    """Tell the user (stderr) what the quick check on open found, if anything."""
    check = store.check
    if check.missing_files:
        print(
            f"eczema-tracker: warning: {len(check.missing_files)} stored file(s) are missing "
            f"from {store.data_dir}, e.g. {check.missing_files[0]}",
            file=sys.stderr,
        )
    if check.unknown_files:
        where = (
            "are kept as they are"
            if store.readonly
            else f"were moved to {store.data_dir / 'orphans'}"
        )
        print(
            f"eczema-tracker: note: {len(check.unknown_files)} file(s) no record refers to {where}",
            file=sys.stderr,
        )


def _progress_bar(enabled: bool, unit: str) -> tuple[ProgressCallback | None, Callable[[], None]]:
    """A tqdm progress callback on stderr when it is a terminal (else none)."""
    if not enabled or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=0, unit=unit, file=sys.stderr, leave=False)

    def progress(done: int, total: int, message: str) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(message[-40:], refresh=False)
        bar.refresh()

    return progress, bar.close


def _say(line: str, *, file=None) -> None:
    """Print one line; control characters and characters the terminal's encoding lacks are
    written as escapes.

    Names are already readable text (see ``store.files.readable_name``) but may hold control
    characters (a terminal escape in a file name or site), shown escaped
    (:func:`~eczema_tracker.commands.common.escape_control_characters`); the encoding fallback
    keeps a line from failing under a narrow encoding (``PYTHONIOENCODING=ascii``, say).
    """
    stream = file or sys.stdout
    line = escape_control_characters(line)
    try:
        print(line, file=stream)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        print(line.encode(encoding, "backslashreplace").decode(encoding), file=stream)


def run_import(args: argparse.Namespace) -> int:
    """``eczema-tracker import PATH... [--site NAME] [--json]``."""
    progress, done = _progress_bar(not args.json, "file")
    with _store_errors(), Store.open(args.data_dir) as store:
        _warn_about_check(store)
        try:
            results = store.import_paths(
                args.paths, args.site, progress=progress, restore_binned=True
            )
        finally:
            done()
    counts = {"imported": 0, "restored": 0, "duplicate": 0, "refused": 0}
    for r in results:
        counts[r.status] += 1
        if args.json:
            _say(json.dumps(r.to_json()))
        elif r.status == "refused":
            _say(f"refused    {r.path}: {r.reason}")
        elif r.status == "restored":
            _say(f"restored   {r.path} (photo {r.photo_id}): restored from the bin")
        else:
            guessed = ", date from the file, not the camera" if r.date_guessed else ""
            _say(f"{r.status:<10} {r.path} (photo {r.photo_id}{guessed})")
    if not args.json:
        restored = f"{counts['restored']} restored from the bin, " if counts["restored"] else ""
        print(
            f"{counts['imported']} imported, {restored}{counts['duplicate']} already in the "
            f"store, {counts['refused']} refused",
            file=sys.stderr,
        )
    return 1 if counts["refused"] else 0


def run_photos(args: argparse.Namespace) -> int:
    """``eczema-tracker photos [--site NAME] [--bin] [--json]``."""
    in_bin = bool(getattr(args, "bin", False))
    with _store_errors(), Store.open(args.data_dir, readonly=True) as store:
        _warn_about_check(store)
        if in_bin:
            site = None if args.site is None else normalise_site(args.site)
            photos = [p for p in store.binned_photos() if site is None or p.site == site]
            ratings = {p.id: store.rating(p.id) for p in photos}
            timeline = {}
        else:
            photos = store.photos(args.site)
            timeline = {p.photo_id: p for p in store.timeline(args.site)}
        # whether each site's examples agree enough (trust.site_reliability)
        reliability = {s: site_reliability(store, s) for s in {p.site for p in photos}}

    for photo in photos:
        point = timeline.get(photo.id)
        rating = ratings.get(photo.id) if in_bin else (point.rating if point else None)
        result = None
        if point is not None:  # in doubt: an empty mask must not read "no eczema found"
            doubt = result_in_doubt(
                unfamiliar=point_is_unfamiliar(point),
                site=reliability[photo.site],
                mask_origin=point.mask_origin,
            )
            result = point_result(point, doubtful=doubt)
        row: dict[str, Any] = {
            "photo_id": photo.id,
            "taken_at": photo.taken_at,
            "date_guessed": photo.date_guessed,
            "site": photo.site,
            "width": photo.width,
            "height": photo.height,
            "original_name": photo.original_name,
            "prompt": photo.is_prompt,
            "rating": rating,
            # what the app shows (app.photo_result): the same grade and area as the GUI, the
            # timeline and the report; "score" is None when the photo is not graded
            "score": None if result is None else result.graded_score,
            "grade": None if result is None else result.grade_text,
            "area_fraction": None if result is None else result.area_fraction,
            "area_kind": None if result is None else result.area_kind,
            "painted_area_fraction": None if result is None else result.painted_area_fraction,
            "stale": point.stale if point else False,
            "site_reliable": reliability[photo.site].reliable,
        }
        if in_bin:
            row["deleted_at"] = photo.deleted_at
        if args.json:
            _say(json.dumps(row))
        else:
            rating = "-" if row["rating"] is None else str(row["rating"])
            flags = ("P" if photo.is_prompt else " ") + ("*" if row["stale"] else " ")
            flags += "!" if not row["site_reliable"] else " "
            flags += "~" if photo.date_guessed else " "
            deleted = f" deleted {photo.deleted_at[:19]}" if in_bin and photo.deleted_at else ""
            _say(
                f"{photo.id:>6} {photo.taken_at[:19]:<19} {photo.site[:20]:<20} "
                f"{photo.width:>5}x{photo.height:<5} rating {rating} {flags} "
                f"{photo.original_name}{deleted}{_result_text(result)}"
            )
    if not args.json:
        if in_bin:
            print(
                f"{len(photos)} photo(s) in the bin  (import a photo's file again to bring it "
                "back)",
                file=sys.stderr,
            )
        else:
            print(
                f"{len(photos)} photo(s)  (P: prompt, *: analysis out of date, !: results not "
                "reliable yet, the site's examples disagree: paint another example, ~: date from "
                "the file, not the camera)",
                file=sys.stderr,
            )
    return 0


def _result_text(result: PhotoResult | None) -> str:
    """`` — area 2.3 %, moderate (score 2.04 of 3)``: the area and grade a photo shows (the
    GUI's, the timeline's and the report's), empty when it has neither."""
    if result is None or result.area_fraction is None:
        return ""
    if result.area_kind == "painted":
        return f" \u2014 painted {100 * result.area_fraction:.1f} % (not analysed yet)"
    text = f" \u2014 area {100 * result.area_fraction:.1f} %"
    if result.painted_area_fraction is not None:
        text += f" (painted {100 * result.painted_area_fraction:.1f} %)"
    return text + ("" if result.grade_text is None else f", {result.grade_text}")


def run_export(args: argparse.Namespace) -> int:
    """``eczema-tracker export --out FILE.zip`` or ``export --csv DIR``."""
    if getattr(args, "csv", None):
        from eczema_tracker.commands.record_commands import run_export_csv

        return run_export_csv(args)
    from eczema_tracker.store.backup.export import export_store

    progress, done = _progress_bar(True, "file")
    with _store_errors():
        try:
            summary = export_store(args.data_dir, args.out, overwrite=args.force, progress=progress)
        finally:
            done()
    print(f"wrote {summary.path}: {summary.files} file(s), {summary.bytes / 1e6:.1f} MB")
    for name in summary.missing:
        print(
            f"eczema-tracker: warning: {name} was missing and is not in the backup", file=sys.stderr
        )
    return 1 if summary.missing else 0


def run_restore(args: argparse.Namespace) -> int:
    """``eczema-tracker restore FILE.zip [--force]``."""
    from eczema_tracker.store.backup.restore import restore_store

    progress, done = _progress_bar(True, "file")
    with _store_errors():
        try:
            summary = restore_store(args.backup, args.data_dir, force=args.force, progress=progress)
        finally:
            done()
    binned = summary.binned
    in_bin = f" and {binned} in the bin" if binned else ""
    print(
        f"restored {summary.photos} photo(s){in_bin} ({summary.files} file(s)) into "
        f"{summary.data_dir}"
    )
    if summary.replaced is not None:
        print(
            f"the store it replaced is kept in {summary.replaced} (restore it from there, or "
            "delete it when you no longer need it)"
        )
    for name in summary.missing:
        print(
            f"eczema-tracker: warning: {name} was missing from the backup; its records are kept "
            "without the file",
            file=sys.stderr,
        )
    return 1 if summary.missing else 0
