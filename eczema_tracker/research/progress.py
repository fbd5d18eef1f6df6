"""tqdm progress bars (with ETA) for the research commands' ``progress(done, total, message)``."""

from __future__ import annotations

import sys
from typing import TextIO


class TqdmProgress:
    """A ``ProgressCallback`` drawing tqdm bars with ETA.

    With a ``name`` there is one bar per stage (messages show as its postfix); without, each
    new message starts a new bar. ``done`` going backwards starts a new bar too.
    """

    def __init__(
        self, name: str = "", *, file: TextIO | None = None, disable: bool = False
    ) -> None:
        self.name = name
        self.file = file if file is not None else sys.stderr
        self.disable = disable
        self._bar = None
        self._message: str | None = None

    def __call__(self, done: int, total: int, message: str = "") -> None:
        from tqdm import tqdm

        label = self.name or message
        restarted = self._bar is not None and done < self._bar.n
        if self._bar is None or restarted or (not self.name and message != self._message):
            self.close()
            self._bar = tqdm(
                total=total or None,
                desc=label,
                file=self.file,
                disable=self.disable,
                unit="step",
                dynamic_ncols=True,
                leave=True,
            )
            self._message = message
        if self.name and message and message != self.name:
            self._bar.set_postfix_str(message, refresh=False)
        if total and self._bar.total != total:
            self._bar.total = total
        if done > self._bar.n:
            self._bar.update(done - self._bar.n)  # update() keeps tqdm's rate/ETA estimate
        if total and done >= total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def tqdm_factory(*, disable: bool = False):
    """A ``ProgressFactory``: one :class:`TqdmProgress` named after each stage."""
    return lambda name: TqdmProgress(name, disable=disable)
