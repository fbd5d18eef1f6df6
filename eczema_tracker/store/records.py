"""Typed, frozen records the store hands out (the GUI and CLI never see SQL rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np

ImportStatus = Literal["imported", "duplicate", "restored", "refused"]
#: Where a photo's ``taken_at`` came from: the camera (EXIF), the file's modification time
#: (a guess), or the person.
TAKEN_AT_SOURCES: tuple[str, ...] = ("exif", "file", "user")

#: Suggestions for the free-text body site (any other text is fine too).
COMMON_SITES: tuple[str, ...] = (
    "unspecified",
    "face",
    "eyelids",
    "scalp",
    "neck",
    "chest",
    "abdomen",
    "back",
    "left arm",
    "right arm",
    "left elbow crease",
    "right elbow crease",
    "left wrist",
    "right wrist",
    "left hand",
    "right hand",
    "left leg",
    "right leg",
    "left knee crease",
    "right knee crease",
    "left ankle",
    "right ankle",
    "left foot",
    "right foot",
)
DEFAULT_SITE = "unspecified"


def normalise_site(site: str | None) -> str:
    """Trim, collapse spaces and lower-case a body site; empty means ``unspecified``."""
    text = " ".join((site or "").split()).lower()
    return text or DEFAULT_SITE


def now_iso() -> str:
    """The current local time as ISO-8601 with offset and microseconds."""
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    """``datetime`` of a stored ISO-8601 text (naive when the store has no offset for it)."""
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class ImportResult:
    """What happened to one file of an import: exactly one result per file."""

    path: str
    status: ImportStatus
    reason: str | None = None  # one line, only when refused
    photo_id: int | None = None  # the new or the existing photo; None when refused
    #: imported with a date guessed from the file's modification time (no camera date in it)
    date_guessed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "reason": self.reason,
            "photo_id": self.photo_id,
            "date_guessed": self.date_guessed,
        }


@dataclass(frozen=True, slots=True)
class PhotoRecord:
    """One stored photo. ``width``/``height`` are upright (EXIF orientation applied)."""

    id: int
    sha256: str
    original_name: str
    format: str
    byte_size: int
    width: int
    height: int
    taken_at: str  # ISO-8601; local wall-clock time, with offset when known
    taken_at_source: str  # 'exif', 'file' (modification time) or 'user'
    imported_at: str
    site: str
    note: str
    stored_name: str  # relative to the store folder
    is_prompt: bool = False
    deleted_at: str | None = None  # ISO-8601 when moved to the bin; None: in the library

    @property
    def in_bin(self) -> bool:
        return self.deleted_at is not None

    @property
    def taken_datetime(self) -> datetime:
        return parse_iso(self.taken_at)

    @property
    def date_guessed(self) -> bool:
        """Whether ``taken_at`` is the file's modification time, not a camera (or the
        person's) date: copied files often all carry the day they were copied."""
        return self.taken_at_source == "file"


@dataclass(frozen=True, slots=True)
class MaskRecord:
    """A stored lossless mask PNG; ``path`` is absolute."""

    id: int
    sha256: str
    path: Path
    width: int
    height: int
    area_fraction: float  # the lesion's share of the photo
    created_at: str
    #: the share of the photo marked healthy skin (0 in a mask without skin)
    skin_fraction: float = 0.0

    @property
    def lesion_share_of_skin(self) -> float | None:
        """lesion / (lesion + healthy skin), 0..1; None when the mask marks no skin (the
        lesion is then only a share of the photo, :attr:`area_fraction`)."""
        if self.skin_fraction <= 0.0:
            return None
        return float(self.area_fraction / (self.area_fraction + self.skin_fraction))


@dataclass(frozen=True)
class PromptRecord:
    """A photo used as a prompt for its body site, with its current mask version."""

    photo_id: int
    site: str
    version: int
    mask: MaskRecord
    since: str  # when the photo became a prompt
    updated_at: str  # when this mask version was saved


@dataclass(frozen=True, eq=False)
class AnalysisRecord:
    """One analysis of a photo. The newest analysis of a photo is its current one.

    ``stale`` is True when a prompt of the photo's site changed (set, unset or edited) after the
    analysis was made, or when the photo moved to another site since.
    """

    id: int
    photo_id: int
    created_at: str
    site: str
    mask: MaskRecord
    corrected_mask: MaskRecord | None
    lesion_area_fraction: float
    probabilities: tuple[float, ...] | None
    score: float | None
    severity_class: int | None
    features: np.ndarray | None
    feature_source: str | None
    model_sources: dict[str, Any]
    k: int
    prompt_photo_ids: tuple[int, ...]
    severity_model_id: int | None
    stale: bool
    #: How far the photo was from its nearest prompt (retrieval [CLS]; None: not measured, e.g.
    #: an analysis made before schema 4), the prompts' own spread it was compared with (None:
    #: one prompt) and the verdict (True like the examples, False unlike, None undecided).
    nearest_prompt_distance: float | None = None
    prompt_distance_scale: float | None = None
    familiar: bool | None = None
    #: lesion / (lesion + healthy skin) of the app's mask, 0..1; None when the site's prompts
    #: carried no skin (the area is then only a share of the photo) or before schema 6
    lesion_share_of_skin: float | None = None

    @property
    def effective_mask(self) -> MaskRecord:
        """The corrected mask when the person saved one, else the segmenter's."""
        return self.corrected_mask or self.mask


@dataclass(frozen=True)
class RatingRecord:
    """A self-rating 0-3 (None: cleared) and when it was given."""

    photo_id: int
    rating: int | None
    rated_at: str


@dataclass(frozen=True)
class SeverityModelRecord:
    """A severity model file copied into the store, with its metadata."""

    id: int
    sha256: str
    path: Path
    file_name: str
    metadata: dict[str, Any] = field(hash=False)
    created_at: str
    active: bool


@dataclass(frozen=True, slots=True)
class TimelinePoint:
    """One photo on a site's timeline with its current analysis (if any) and rating."""

    taken_at: str
    photo_id: int
    score: float | None
    severity_class: int | None
    #: the area of the current analysis' own mask (the model's), None when not analysed
    lesion_area_fraction: float | None
    rating: int | None
    stale: bool
    analysis_id: int | None
    #: whose mask the photo shows: "prompt" (the person's prompt mask), "corrected" (their
    #: correction of a result), "analysis" (the app's) or None (no mask)
    mask_origin: str | None = None
    #: the current analysis' verdict: False when the photo looked unlike the site's example
    #: photos (the timeline draws it hollow), True like them, None undecided or not analysed
    familiar: bool | None = None
    #: the area of the mask the person painted (prompt mask, else correction), None when none
    painted_area_fraction: float | None = None
    #: the current analysis' lesion / (lesion + healthy skin), None when its prompts mark no skin
    lesion_share_of_skin: float | None = None
    #: the same share of the mask the person painted, None when it marks no healthy skin
    painted_share_of_skin: float | None = None


@dataclass(frozen=True)
class ShownMask:
    """The mask that is the truth for a photo, and whose it is.

    The person's own mask wins over the app's: a prompt photo's current prompt mask, else the
    correction of its current analysis (kept across re-analysis), else the analysis' mask.
    """

    mask: MaskRecord
    origin: Literal["prompt", "corrected", "analysis"]

    @property
    def area_fraction(self) -> float:
        return float(self.mask.area_fraction)

    @property
    def lesion_share_of_skin(self) -> float | None:
        """The mask's lesion / (lesion + healthy skin); None when it marks no skin."""
        return self.mask.lesion_share_of_skin

    @property
    def is_persons(self) -> bool:
        """True when the person painted or corrected it themselves."""
        return self.origin != "analysis"


class TrainingExample(NamedTuple):
    """A rated photo's features, for fitting a severity model."""

    photo_id: int
    features: np.ndarray
    rating: int


@dataclass(frozen=True)
class StoreCheck:
    """What the quick check on open found and did."""

    missing_files: tuple[str, ...] = ()  # stored names referenced by rows but absent
    removed_orphans: tuple[str, ...] = ()  # half-written files of an interrupted write, removed
    unknown_files: tuple[str, ...] = ()  # files no row or pending write knows; kept untouched
    removed_temp_files: int = 0

    @property
    def ok(self) -> bool:
        return not self.missing_files
