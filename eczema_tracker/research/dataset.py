"""A labelled research dataset on disk: ``images/``, ``labels.csv`` and optional ``masks/``.

Layout::

    DATASET/
      images/            photos, any format :func:`eczema_tracker.core.imaging.open_image` reads
                         (sub-folders allowed)
      labels.csv         header ``file,label``; ``file`` is relative to ``images/``;
                         ``label`` is 0-3 or none/mild/moderate/severe (other columns ignored)
      masks/             optional; ``masks/<same relative path, suffix .png>``,
                         lesion = any non-zero pixel, same size as the upright photo

Everything is checked on load; all problems are gathered into one :class:`DatasetError`.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from eczema_tracker.core import imaging
from eczema_tracker.core.errors import UserError
from eczema_tracker.core.jobs import CancelCheck, ProgressCallback, raise_if_cancelled, report
from eczema_tracker.core.severity_scale import CLASS_NAMES, NUM_CLASSES

LABEL_HELP = "use 0-3 or none/mild/moderate/severe"
#: At most this many problems are spelled out in one error message.
MAX_LISTED_PROBLEMS = 5
#: Longer side photos are decoded to when a dataset is checked (JPEGs decode reduced).
CHECK_SIDE = 256
#: A labels.csv larger than this is refused before reading (a million rows is ~40 MB).
MAX_LABELS_BYTES = 64 * 1024 * 1024


class DatasetError(UserError, ValueError):
    """The dataset folder cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class LabelledImage:
    """One row of ``labels.csv``.

    ``key`` is the ``file`` entry (POSIX, relative to ``images/``): it names the image in
    prompts (``exclude_keys``) and reports. ``sha256`` is the file's content hash (cache key).
    """

    key: str
    path: Path
    label: int
    sha256: str
    mask_path: Path | None = None
    mask_sha256: str | None = None

    @property
    def has_mask(self) -> bool:
        return self.mask_path is not None


@dataclass
class ResearchDataset:
    """A validated dataset; images and masks are read on demand (never all held in memory)."""

    root: Path
    items: list[LabelledImage]
    ignored_images: list[str] = field(default_factory=list)  # in images/ but not in labels.csv
    orphan_masks: list[str] = field(default_factory=list)  # in masks/ with no labelled image

    def __len__(self) -> int:
        return len(self.items)

    @property
    def labels(self) -> np.ndarray:
        """(N,) int64 labels in item order."""
        return np.array([item.label for item in self.items], dtype=np.int64)

    @property
    def masked_indices(self) -> list[int]:
        """Indices of the images that have a mask (possible SegGPT prompts)."""
        return [i for i, item in enumerate(self.items) if item.has_mask]

    def class_counts(self) -> list[int]:
        """How many images carry each of the four labels."""
        return np.bincount(self.labels, minlength=NUM_CLASSES).tolist()

    def load_image(self, index: int) -> Image.Image:
        """The upright RGB photo of item ``index``."""
        return imaging.open_image(self.items[index].path)

    def load_mask(self, index: int) -> np.ndarray:
        """The boolean (H, W) lesion mask of item ``index`` (which must have one)."""
        item = self.items[index]
        if item.mask_path is None:
            raise DatasetError(f"{item.key} has no mask")
        return imaging.load_mask(item.mask_path)


def parse_label(text: str) -> int:
    """``"2"``, ``"moderate"`` or ``" Moderate "`` -> 2; raises ValueError otherwise."""
    value = text.strip().lower()
    if value in CLASS_NAMES:
        return CLASS_NAMES.index(value)
    if value.isascii() and value.isdigit() and int(value) < NUM_CLASSES:
        return int(value)
    raise ValueError(f"unknown label {text.strip()!r} ({LABEL_HELP})")


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def mask_path_for(root: Path, key: str) -> Path:
    """Where the mask of image ``key`` lives: ``masks/<key with suffix .png>``."""
    return root / "masks" / PurePosixPath(key).with_suffix(".png")


def _read_rows(labels_csv: Path) -> list[tuple[int, str, str]]:
    """(line number, file, label) for every data row; raises DatasetError on a bad header."""
    try:
        size = labels_csv.stat().st_size
    except OSError as exc:
        raise DatasetError(f"{labels_csv}: cannot be read ({exc.strerror or exc})") from exc
    if size > MAX_LABELS_BYTES:
        raise DatasetError(
            f"{labels_csv}: is too large ({size} bytes; a labels file is at most "
            f"{MAX_LABELS_BYTES // (1024 * 1024)} MB)"
        )
    try:
        with open(labels_csv, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            fields = [name.strip().lower() for name in (reader.fieldnames or [])]
            if "file" not in fields or "label" not in fields:
                raise DatasetError(
                    f"{labels_csv}: the first line must be the header 'file,label' "
                    f"(found {','.join(reader.fieldnames or []) or 'nothing'})"
                )
            reader.fieldnames = fields
            return [
                (reader.line_num, (row.get("file") or "").strip(), row.get("label") or "")
                for row in reader
                if any((value or "").strip() for value in row.values() if isinstance(value, str))
            ]
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{labels_csv}: is not UTF-8 text ({exc.reason})") from exc
    except csv.Error as exc:
        raise DatasetError(f"{labels_csv}: is not valid CSV ({exc})") from exc
    except OSError as exc:
        raise DatasetError(f"{labels_csv}: cannot be read ({exc.strerror or exc})") from exc


def _shown(text: str) -> str:
    """``text`` for a one-line message: control characters (a newline in a quoted CSV cell,
    say) written as escapes."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _safe_key(file: str) -> str | None:
    """The POSIX relative path of a ``file`` entry, or None if it points outside images/."""
    posix = PurePosixPath(file.replace("\\", "/"))
    if not file or posix.is_absolute() or ".." in posix.parts:
        return None
    return posix.as_posix()


def load_dataset(
    folder: str | os.PathLike[str],
    *,
    min_masked: int = 0,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
) -> ResearchDataset:
    """Read and validate the dataset in ``folder``.

    Every labelled image is decoded once (so a broken photo fails now, not an hour into a
    run) and hashed; each mask must decode and match its upright image's size. ``min_masked``
    is the number of masked images the caller needs (e.g. K+1 for SegGPT prompts).
    Raises :class:`DatasetError` listing the problems found.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise DatasetError(f"dataset folder {root} does not exist")
    images_dir, labels_csv = root / "images", root / "labels.csv"
    if not images_dir.is_dir():
        raise DatasetError(f"{root} has no images/ folder")
    if not labels_csv.is_file():
        raise DatasetError(f"{root} has no labels.csv (header 'file,label')")
    rows = _read_rows(labels_csv)
    if not rows:
        raise DatasetError(f"{labels_csv} lists no images")

    problems: list[str] = []
    items: list[LabelledImage] = []
    seen: dict[str, int] = {}
    for done, (line, file, label_text) in enumerate(rows):
        raise_if_cancelled(cancel)
        report(progress, done, len(rows), "checking dataset")
        key = _safe_key(file)
        where = f"labels.csv line {line}"
        if key is None:
            problems.append(f"{where}: file {file!r} must be a path inside images/")
            continue
        if key in seen:
            problems.append(f"{where}: {_shown(key)} is listed twice (first on line {seen[key]})")
            continue
        seen[key] = line
        try:
            label = parse_label(label_text)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        path = images_dir / key
        if not path.is_file():
            problems.append(f"{where}: images/{_shown(key)} not found")
            continue
        try:  # decoded in full (every byte checked) but kept small: only the size is needed
            decoded = imaging.decode_photo(path, max_side=CHECK_SIDE)
            size = (decoded.width, decoded.height)
        except imaging.ImageLoadError as exc:
            problems.append(f"{where}: images/{_shown(key)} {exc.reason}")
            continue
        mask_path = mask_path_for(root, key)
        mask_sha = None
        if mask_path.is_file():
            try:
                mask = imaging.load_mask(mask_path)
            except imaging.ImageLoadError as exc:
                problems.append(f"{where}: masks/{_shown(key)} {exc.reason}")
                continue
            mask_size = (mask.shape[1], mask.shape[0])
            if mask_size != size:
                problems.append(
                    f"{where}: mask {_shown(mask_path.relative_to(root).as_posix())} is "
                    f"{mask_size[0]}x{mask_size[1]} but the upright image is {size[0]}x{size[1]}"
                )
                continue
            mask_sha = file_sha256(mask_path)
        else:
            mask_path = None
        items.append(LabelledImage(key, path, label, file_sha256(path), mask_path, mask_sha))
    report(progress, len(rows), len(rows), "checking dataset")

    if problems:
        listed = "; ".join(problems[:MAX_LISTED_PROBLEMS])
        more = len(problems) - MAX_LISTED_PROBLEMS
        raise DatasetError(
            f"{len(problems)} problem(s) in {root}: {listed}"
            + (f" (and {more} more)" if more > 0 else "")
        )
    masked = sum(item.has_mask for item in items)
    if masked < min_masked:
        raise DatasetError(
            f"{root} has {masked} masked image(s) but needs at least {min_masked}: put lesion "
            f"masks (PNG, same name as the photo) in masks/ for more photos"
        )
    labelled = {item.path.resolve() for item in items}
    ignored = sorted(
        p.relative_to(images_dir).as_posix()
        for p in images_dir.rglob("*")
        if imaging.is_image_name(p) and p.resolve() not in labelled
    )
    wanted_masks = {mask_path_for(root, item.key).resolve() for item in items}
    masks_dir = root / "masks"
    orphans = sorted(
        p.relative_to(masks_dir).as_posix()
        for p in (masks_dir.rglob("*.png") if masks_dir.is_dir() else [])
        if p.resolve() not in wanted_masks
    )
    return ResearchDataset(root, items, ignored, orphans)
