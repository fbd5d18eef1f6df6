"""Command line: ``eczema-tracker`` with no arguments opens the app; subcommands run the CLI.

Each command group lives in its own module under :mod:`eczema_tracker.commands` and exposes
``register(subparsers, common)``: it adds its sub-parsers (with ``parents=[common]`` so every
command takes ``--data-dir``) and sets ``func`` to a callable ``(args) -> int`` exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence

from eczema_tracker import __version__
from eczema_tracker.core.errors import UserError

#: Command modules, in the order their commands are listed in ``--help``.
COMMAND_MODULES = (
    "eczema_tracker.commands.store_commands",  # import, export, restore, photos
    "eczema_tracker.commands.model_commands",  # models status|download
    "eczema_tracker.commands.analyze_command",  # analyze
    "eczema_tracker.commands.research_commands",  # train, evaluate
    "eczema_tracker.commands.prompt_commands",  # prompts set|clear|list|check
    "eczema_tracker.commands.analyse_store_command",  # analyse-store
    "eczema_tracker.commands.check_command",  # check [--repair]
    "eczema_tracker.commands.record_commands",  # checkin, treatments add|list|course|end|edit|delete
    "eczema_tracker.commands.report_command",  # report (the PDF for the doctor)
    "eczema_tracker.commands.personal_model_commands",  # personal-model status|train|use|off
)


class CliError(UserError):
    """A usage or input problem to print as one line (exit code ``code``)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def common_options(*, suppress_defaults: bool = False) -> argparse.ArgumentParser:
    """Options every command accepts, before or after the command's name.

    The sub-commands get a copy whose defaults are *suppressed*: argparse copies a sub-parser's
    defaults over the main parser's values, so with ordinary defaults ``--data-dir D`` given
    before the command would be silently replaced by the sub-parser's ``None``.
    """
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        metavar="DIR",
        default=argparse.SUPPRESS if suppress_defaults else None,
        help="photo store folder (default: the app's user data folder, or $ECZEMA_TRACKER_DATA_DIR)",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every available command group registered."""
    parser = argparse.ArgumentParser(
        prog="eczema-tracker",
        description="Track eczema from your own photos. Run without a command to open the app.",
        parents=[common_options()],
    )
    common = common_options(suppress_defaults=True)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``eczema-tracker`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return _run_app(parser, args.data_dir)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        with _termination_as_exit():
            return int(args.func(args) or 0)
    except CliError as exc:
        print(f"eczema-tracker: error: {exc.message}", file=sys.stderr)
        return exc.code
    except UserError as exc:  # any error written for a person, from whichever layer
        print(f"eczema-tracker: error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("eczema-tracker: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `eczema-tracker photos | head`: the reader left early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


@contextlib.contextmanager
def _termination_as_exit() -> Iterator[None]:
    """SIGTERM and SIGHUP end a command through ``SystemExit`` (128 + the signal), so that its
    ``finally`` blocks run: a report or backup being written removes its temp file."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    before = {sig: signal.getsignal(sig) for sig in wanted}

    def leave(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig, handler in before.items():
        if handler is signal.SIG_DFL:
            signal.signal(sig, leave)
    try:
        yield
    finally:
        for sig, handler in before.items():
            if handler is signal.SIG_DFL:
                signal.signal(sig, handler)


def _run_app(parser: argparse.ArgumentParser, data_dir: str | None) -> int:
    """Open the desktop app (``eczema_tracker.gui.app.main(data_dir)``)."""
    try:
        from eczema_tracker.gui.app import main as gui_main
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("eczema_tracker.gui"):
            parser.print_help()
            return 0
        raise
    return int(gui_main(data_dir) or 0)
