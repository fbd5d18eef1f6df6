"""``eczema-tracker check [--repair] [--quick] [--json]``: is the photo store whole?

Exit codes: 0 the store is healthy (after the repair, with ``--repair``); 1 problems were found
(or are left that ``--repair`` cannot fix); 2 the check could not run (no store, the database is
not SQLite, a newer app wrote it, or, for ``--repair``, another window has it open). Without
``--repair`` nothing is written, and the check works while the app has the store open.
"""

from __future__ import annotations

import argparse
import json

from eczema_tracker.cli import CliError


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add the ``check`` command."""
    p = subparsers.add_parser(
        "check",
        parents=[common],
        help="check the photo store (database, every file's SHA-256, orphans, thumbnails)",
        description="Check the photo store: SQLite integrity and foreign keys, the schema, "
        "every photo, mask and model file against its record (full SHA-256), files no record "
        "refers to, and thumbnails. Read-only unless --repair. Exit code 0 healthy, 1 problems "
        "found, 2 the check could not run.",
    )
    p.add_argument(
        "--repair",
        action="store_true",
        help="fix what is safe: move orphans to orphans/, remake thumbnails, put back files "
        "found in orphans/; rows are never deleted (missing files are listed)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="compare sizes instead of SHA-256 (what the app does when it opens)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    """``eczema-tracker check``."""
    from eczema_tracker.store.check.checker import check_store

    progress, done = _progress(not args.json)
    try:
        result = check_store(
            args.data_dir, full=not args.quick, repair=args.repair, progress=progress
        )
    finally:
        done()
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    if result.could_not_run:
        raise CliError(result.could_not_run, 2)
    if not args.json:
        for line in result.lines():
            print(line)
    return result.exit_code


def _progress(enabled: bool):
    """A progress bar over the files on a terminal (the store commands' own)."""
    from eczema_tracker.commands.store_commands import _progress_bar

    return _progress_bar(enabled, "file")
