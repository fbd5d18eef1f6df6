"""Reading a checkpoint folder's files without loading a model: ``config.json``, the
safetensors weights (header checked, never pickles), and a cheap fingerprint of the weights.
Also the one error type of model sources."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Any, Literal

from eczema_tracker.core.errors import UserError
from eczema_tracker.core.imaging import ImageLoadError, read_regular_file

#: Why a model folder cannot be used, for code that must tell the kinds apart (the words are
#: the message's): not there, a damaged or incomplete weights file, another model family or
#: architecture than the role needs, or anything else that cannot be read.
ModelProblem = Literal["missing", "corrupt", "wrong_model", "unreadable"]


class ModelSourceError(UserError):
    """A model source that cannot be used; the message names it and says what to do, and
    ``problem`` says which kind of problem it is."""

    def __init__(self, message: str, problem: ModelProblem = "unreadable") -> None:
        super().__init__(message)
        self.problem: ModelProblem = problem


#: Larger ``config.json`` / ``preprocessor_config.json`` files are refused unread (real ones
#: are a few KiB).
MAX_CONFIG_BYTES = 4 * 1024 * 1024


def read_json_file(file: Path) -> Any:
    """The JSON in a checkpoint's small ``file``; ModelSourceError (one sentence) otherwise.

    Read through :func:`~eczema_tracker.core.imaging.read_regular_file`: a regular file only
    (a FIFO or a link to a device is refused without blocking), at most
    :data:`MAX_CONFIG_BYTES`; JSON nested too deeply for the parser is refused too.
    """
    try:
        data, _info = read_regular_file(file, max_bytes=MAX_CONFIG_BYTES)
        return json.loads(data.decode("utf-8"))
    except ImageLoadError as exc:
        raise ModelSourceError(f"{file} {exc.reason}") from exc
    except RecursionError as exc:
        raise ModelSourceError(f"{file} is not valid JSON (nested too deeply)") from exc
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError too
        raise ModelSourceError(f"{file} is not valid JSON ({exc})") from exc


def read_config(folder: Path) -> dict[str, Any]:
    """``config.json`` of a checkpoint folder as a dict (clear error when absent or broken)."""
    config_file = folder / "config.json"
    if not config_file.exists() and not config_file.is_symlink():
        raise ModelSourceError(f"{folder} has no config.json", "missing")
    config = read_json_file(config_file)
    if not isinstance(config, dict):
        raise ModelSourceError(f"{config_file} is not valid JSON (not an object)")
    return config


def weight_files(folder: Path) -> list[Path]:
    """The ``*.safetensors`` files of a checkpoint folder, sorted."""
    return sorted(folder.glob("*.safetensors"))


def read_header_block(
    file: Path, max_header_bytes: int = 100_000_000
) -> tuple[dict[str, Any], int, int]:
    """The JSON header of a safetensors ``file``, its length and the file's size.

    Checks only the framing (8-byte length within the file and ``max_header_bytes``, a JSON
    object); ValueError otherwise. Callers check the entries as strictly as they need.
    """
    size = file.stat().st_size
    with open(file, "rb") as fh:
        raw = fh.read(8)
        if len(raw) < 8:
            raise ValueError("file too short for a safetensors header")
        (header_len,) = struct.unpack("<Q", raw)
        if header_len < 2 or header_len > min(size - 8, max_header_bytes):
            raise ValueError("invalid header length")
        try:
            header = json.loads(fh.read(header_len))
        except ValueError as exc:
            raise ValueError("unreadable header") from exc
    if not isinstance(header, dict):
        raise ValueError("unreadable header")
    return header, header_len, size


def read_safetensors_header(file: Path) -> dict[str, Any]:
    """Parse the JSON header of a safetensors file and check the data section is complete."""
    header, header_len, size = read_header_block(file)
    end = max(
        (int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"), default=0
    )
    if 8 + header_len + end > size:
        raise ValueError(f"truncated: data ends at {8 + header_len + end} bytes, file has {size}")
    return header


def weights_fingerprint(folder: Path) -> str:
    """A short stable hash of a checkpoint's weights: headers plus sampled bytes of each file.

    Cheap (reads a few hundred KiB) yet different for different weights of the same shape.
    """
    digest = hashlib.sha256()
    for file in weight_files(folder):
        size = file.stat().st_size
        digest.update(f"{file.name}:{size}".encode())
        with open(file, "rb") as fh:
            (header_len,) = struct.unpack("<Q", fh.read(8))
            digest.update(fh.read(header_len))
            data_start, chunk = 8 + header_len, 65536
            for pos in (data_start, (data_start + size) // 2, max(data_start, size - chunk)):
                fh.seek(pos)
                digest.update(fh.read(chunk))
    return digest.hexdigest()[:16]
