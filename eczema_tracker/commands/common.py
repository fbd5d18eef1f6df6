"""Small pieces every command module shares: opening the store with store problems turned into
one-line CLI errors, the help of a command group given without its action, and for long store
jobs (``analyse-store``, ``prompts check``) Ctrl+C that lets a store write finish and a progress
bar on stderr."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from eczema_tracker.cli import CliError
from eczema_tracker.store import Store, StoreError

#: Exit code of bad input and of a store that cannot be used.
INPUT_ERROR_CODE = 2
#: Exit code of a command stopped with Ctrl+C.
INTERRUPTED_CODE = 130
#: What a person is told of a result whose photo is unlike the example photos.
UNFAMILIAR_TEXT = (
    "this photo looks unlike your example photos — check the mask, or paint this one as an example"
)


def escape_control_characters(text: str) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\n``, ``\\u202e``).

    For every line the CLI prints with text a person entered or a file name (notes, treatment
    names, sites, photo names): a note holding a terminal escape sequence would otherwise
    retitle, clear or recolour the terminal, and a newline would make one entry look like two.
    Format characters (Unicode category Cf: bidi overrides, zero-width joiners) are escaped too,
    so a name cannot reorder the line it is printed on. Other text is kept as it is.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() or char == " " else _escaped(char) for char in text)


def _escaped(char: str) -> str:
    if unicodedata.category(char) not in ("Cc", "Cf", "Zl", "Zp"):
        return char  # e.g. a non-breaking or other space: harmless, keep it readable
    return repr(char)[1:-1] if ord(char) < 0x80 else f"\\u{ord(char):04x}"


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


class CtrlC:
    """Ctrl+C stops at once, except during a store write, which is finished first.

    Inside :meth:`writing` the signal only sets :attr:`stop`; the analysis loop then sees
    ``cancel()`` true before the next photo and raises ``Cancelled``.
    """

    def __init__(self) -> None:
        self.stop = False
        self._writes = 0
        self._previous: Any = None
        self._installed = False

    def cancel(self) -> bool:
        """True once Ctrl+C was pressed (a ``core.jobs`` cancel check)."""
        return self.stop

    @contextmanager
    def writing(self) -> Iterator[None]:
        """A store write: Ctrl+C meanwhile waits for it to finish."""
        self._writes += 1
        try:
            yield
        finally:
            self._writes -= 1

    def _handle(self, _signum: int, _frame: Any) -> None:
        self.stop = True
        if not self._writes:
            raise KeyboardInterrupt

    def __enter__(self) -> CtrlC:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)


class ProgressBar:
    """A tqdm bar in photos on stderr (shown only when stderr is a terminal).

    A ``core.jobs`` progress callback: messages starting with one of ``counted`` move the bar
    (others, e.g. "loading DINO", are only shown beside it)."""

    def __init__(self, counted: tuple[str, ...] = ("photo", "preparing")) -> None:
        from tqdm import tqdm

        self.counted = counted
        self.bar = tqdm(total=0, unit="photo", file=sys.stderr, disable=None, leave=False)

    def __call__(self, done: int, total: int, message: str) -> None:
        if message.startswith(self.counted):
            self.bar.total = total
            self.bar.n = done
        self.bar.set_postfix_str(message[-40:], refresh=False)
        self.bar.refresh()

    def print(self, line: str) -> None:
        """Print a line to stdout without breaking the bar."""
        if self.bar.disable:
            print(line, flush=True)
        else:
            self.bar.write(line, file=sys.stdout)
            sys.stdout.flush()

    def close(self) -> None:
        """Take the bar off the terminal."""
        self.bar.close()
