"""How models run fast on the machine at hand (owner: performance work, issue 6).

Contract used by ``dino.py`` / ``seggpt.py``::

    path = choose_path(device)            # decided once from what the CPU/GPU offers
    model = prepare_seggpt(model, path)   # may patch attention, cast weights...
    model = prepare_dino(model, path)
    with inference_context(path):         # no_grad + autocast as the path says
        out = model(...)

Initial version: the plain fp32 reference path; the performance work replaces the bodies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class AccelerationPath:
    """What the fast path chose; ``describe()`` is shown by ``eczema-tracker models status``."""

    device: str = "cpu"
    dtype: str = "float32"  # compute dtype inside the models
    seggpt_attention: str = "eager"  # "eager" (transformers) or "sdpa" (our rewrite)
    autocast: bool = False

    def describe(self) -> str:
        return (
            f"device={self.device} dtype={self.dtype} seggpt_attention={self.seggpt_attention}"
            f"{' autocast' if self.autocast else ''}"
        )


REFERENCE_PATH = AccelerationPath()


def choose_path(device: str = "cpu", *, fast: bool = True) -> AccelerationPath:
    """The best path for ``device`` ("cpu" or "cuda"); ``fast=False`` gives the fp32 reference."""
    return AccelerationPath(device=device)


def prepare_seggpt(model: torch.nn.Module, path: AccelerationPath) -> torch.nn.Module:
    """Return ``model`` ready to run on ``path`` (eval mode, on its device)."""
    return model.to(path.device).eval()


def prepare_dino(model: torch.nn.Module, path: AccelerationPath) -> torch.nn.Module:
    """Return ``model`` ready to run on ``path`` (eval mode, on its device)."""
    return model.to(path.device).eval()


@contextlib.contextmanager
def inference_context(path: AccelerationPath) -> Iterator[None]:
    """``torch.inference_mode`` plus autocast when the path uses it."""
    with torch.inference_mode():
        if path.autocast:
            dtype = getattr(torch, path.dtype)
            with torch.autocast(device_type=path.device, dtype=dtype):
                yield
        else:
            yield
