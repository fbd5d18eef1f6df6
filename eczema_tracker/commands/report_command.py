"""``report``: the report for the doctor, a PDF of a date range.

``eczema-tracker report --from DATE --to DATE [--site SITE ...] [--name TEXT] [--paper a4|letter]
--out FILE.pdf [--force]``. The store is opened read-only (the app may have it open meanwhile).
``--out`` follows the rules of every output (:func:`~eczema_tracker.core.output_files.
check_output_target`): never inside the store, never a device, pipe, folder or link, an existing
file only with ``--force``. The PDF is written atomically: after a refusal or a failure nothing
is written and an older file of that name is left as it was.

Exit codes: 0 written; 2 bad input (a date that does not parse, a range that ends before it
starts, an unknown body site, a refused --out), a store problem or a write failure.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from eczema_tracker.cli import CliError
from eczema_tracker.commands.common import INPUT_ERROR_CODE, open_store
from eczema_tracker.core import paths
from eczema_tracker.core.output_files import OutputFileError, check_output_target

PAPERS = ("a4", "letter")


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``report``."""
    p = subparsers.add_parser(
        "report",
        parents=[common],
        help="write the report for the doctor (a PDF of a date range)",
        description="Write a PDF for an appointment: POEM, itch and sleep, lesion area "
        "and predicted severity per body site, the timeline, photos with their lesion outline, "
        "treatments, flares and notes, from --from to --to (both included). Made on this "
        "computer; not a diagnosis.",
    )
    p.add_argument(
        "--from",
        dest="from_day",
        default=None,
        metavar="YYYY-MM-DD",
        help="first day of the range (default: the record's first day, at most a year back)",
    )
    p.add_argument(
        "--to",
        dest="to_day",
        default=None,
        metavar="YYYY-MM-DD",
        help="last day of the range (default: today)",
    )
    p.add_argument(
        "--site",
        action="append",
        default=[],
        metavar="SITE",
        help="a body site to include (repeat for several; default: every site with "
        "photos in the range)",
    )
    p.add_argument("--name", default="", metavar="TEXT", help="the name to print in the header")
    p.add_argument(
        "--paper",
        default=None,
        type=str.lower,
        choices=PAPERS,
        help="paper size (default: letter for US and Canadian locales, else a4)",
    )
    p.add_argument("--out", required=True, metavar="FILE.pdf", help="where to write the PDF")
    p.add_argument(
        "--force", action="store_true", help="replace --out when a file of that name exists"
    )
    p.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    """``eczema-tracker report [--from D] [--to D] [--site S ...] [--name T] --out FILE.pdf``."""
    from eczema_tracker.app.report.data import gather_report
    from eczema_tracker.app.report.pdf import write_report
    from eczema_tracker.app.report.request import ReportInputError, check_request, default_range

    today = date.today()
    try:  # before the store opens (a missing end stands in for the default it will get)
        check_request(args.from_day or today, args.to_day or today, paper=args.paper)
    except ReportInputError as exc:
        raise CliError(exc.message, INPUT_ERROR_CODE) from None
    try:  # before the store opens, and again when writing
        out = check_output_target(
            args.out, store_root=paths.data_dir(args.data_dir), overwrite=args.force
        )
    except OutputFileError as exc:
        raise CliError(f"--out: {exc.message}", INPUT_ERROR_CODE) from None
    with open_store(args.data_dir, readonly=True) as store:
        try:
            default_from, default_to = default_range(store.first_recorded_day(), today)
            request = check_request(
                args.from_day or default_from,
                args.to_day or default_to,
                sites=args.site,
                name=args.name,
                paper=args.paper,
                known_sites=store.sites(),
            )
            data = gather_report(store, request)
            written = write_report(data, out, overwrite=args.force)
        except ReportInputError as exc:
            raise CliError(exc.message, INPUT_ERROR_CODE) from None
    what = (
        "nothing recorded in the range"
        if data.is_empty
        else (f"{data.photo_count} photo(s), {len(data.poem.totals)} POEM check-in(s)")
    )
    print(
        f"wrote {written.path} ({written.pages} page{'s' if written.pages != 1 else ''}, "
        f"{request.paper.upper() if request.paper == 'a4' else 'Letter'}; "
        f"{request.from_day.isoformat()} to {request.to_day.isoformat()}: {what})"
    )
    if written.left_out:
        print(
            f"eczema-tracker: note: {written.left_out} item(s) did not fit and are counted on "
            "the report; the CSV export (export --csv DIR) has all of them",
            file=sys.stderr,
        )
    return 0
