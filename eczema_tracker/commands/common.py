"""Small pieces every command module shares: opening the store with store problems turned into
one-line CLI errors, and the help of a command group given without its action."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from eczema_tracker.cli import CliError
from eczema_tracker.store import Store, StoreError

#: Exit code of bad input and of a store that cannot be used.
INPUT_ERROR_CODE = 2


def print_help(parser: argparse.ArgumentParser) -> int:
    """Print a command group's help (``eczema-tracker prompts`` with no action); exit code 0."""
    parser.print_help()
    return 0


@contextmanager
def open_store(
    data_dir: str | None,
    *,
    readonly: bool = False,
    describe: Callable[[Exception], str] = str,
) -> Iterator[Store]:
    """The store, with a :class:`StoreError` (opening it or raised inside the block) turned
    into a one-line :class:`CliError` (exit code 2); ``describe`` words the sentence."""
    try:
        with Store.open(data_dir, readonly=readonly) as store:
            yield store
    except StoreError as exc:
        raise CliError(describe(exc), INPUT_ERROR_CODE) from exc
