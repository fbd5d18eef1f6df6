"""Two dates of one body site side by side: which photos, what changed between them in words,
and the box around the lesion a picture is cropped to (no Qt).

Used by the Compare view (``gui/dialogs/compare_dialog.py``) and by the report's "then and now"
pair (:mod:`eczema_tracker.app.report.then_and_now`). A photo counts as *analysed* when it has a mask shown (the
person's own or the app's) and so a lesion area; the default pair is a site's first and latest
analysed photo. The area shown goes through :func:`lesion_area`, the one place that decides which
share a comparison speaks of.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from eczema_tracker.app import personal_severity
from eczema_tracker.app.photo_result import graded_by, point_result
from eczema_tracker.app.timeline.data import to_local_naive
from eczema_tracker.app.trust.agreement import (
    UNRELIABLE_MARK,
    UNRELIABLE_TEXT,
    result_in_doubt,
    site_reliability,
)
from eczema_tracker.app.trust.familiarity_text import point_is_unfamiliar
from eczema_tracker.core.imaging import mask_outline
from eczema_tracker.core.severity_scale import CLASS_NAMES, NO_ECZEMA_FOUND, NO_LESION_CHECK_PHOTO

if TYPE_CHECKING:
    from eczema_tracker.store import Store
    from eczema_tracker.store.records import TimelinePoint

#: What the lesion area of a comparison is a share of: the photo ...
SHARE_OF_PHOTO = "share of the photo"
#: ... or of the skin shown, when the site's examples mark healthy skin.
SHARE_OF_SKIN = "share of the skin shown"
#: Margin added on each side of the lesion's bounding box, as a share of the box's side.
CROP_MARGIN = 0.25
#: A crop is at least this share of the photo's width and height (a few-pixel lesion is not
#: blown up into a blur: the doctor sees it with some skin around it).
MIN_CROP_SHARE = 0.2
#: Where the app writes what it made into its PNG files (``tEXt`` chunk ``Software``).
PNG_SOFTWARE_KEY = "Software"
PNG_SOFTWARE = "Eczema Tracker (comparison of two dates)"
#: The longest side a photo of a comparison is decoded at.
COMPARE_DECODE_SIDE = 2048


def lesion_area(point: TimelinePoint) -> tuple[float | None, str]:
    """The lesion area a comparison shows for ``point`` and what it is a share of.

    Returns ``(fraction, kind)``: ``fraction`` in [0, 1] (None: the photo has no mask) and
    ``kind`` in words, e.g. ``"share of the photo"``.
    """
    result = point_result(point)
    if result.share_of_skin is not None:
        return result.share_of_skin, SHARE_OF_SKIN
    return result.area_fraction, SHARE_OF_PHOTO


@dataclass(frozen=True)
class ComparePhoto:
    """One photo of a site as a comparison shows it."""

    photo_id: int
    site: str
    taken: datetime  #: local time, naive
    area: float | None  #: lesion area (see ``area_kind``); None: no mask
    area_kind: str  #: what ``area`` is a share of, in words
    grade_label: int | None  #: the shown grade's class; None: not graded
    grade_text: str | None  #: e.g. "moderate (score 2.04 of 3)", "no eczema found in this photo"
    #: the area of the mask the person painted (prompt or correction), in the same share as
    #: ``area``, shown beside the model's
    painted_area: float | None = None
    #: its site's examples disagree (``app.trust``): its results are not reliable yet
    unreliable: bool = False

    @property
    def analysed(self) -> bool:
        """Whether it has a mask, and so an area to compare."""
        return self.area is not None

    @property
    def grade_word(self) -> str:
        """``moderate``, ``no eczema found``, ``no lesion found (check the photo)`` or
        ``not graded``."""
        if self.grade_label is not None:
            return CLASS_NAMES[self.grade_label]
        if self.grade_text == NO_ECZEMA_FOUND:
            return "no eczema found"
        if self.grade_text == NO_LESION_CHECK_PHOTO:
            return "no lesion found (check the photo)"
        return "not graded"

    def caption(self) -> str:
        """``3 Mar 2026 · lesion 18 % of the photo · moderate``."""
        area = (
            "no mask" if self.area is None else f"lesion {percent(self.area)} {_of(self.area_kind)}"
        )
        painted = (
            ""
            if self.painted_area is None or self.painted_area == self.area
            else f" (you painted {percent(self.painted_area)})"
        )
        return f"{day_text(self.taken)} \u00b7 {area}{painted} \u00b7 {self.grade_word}"


def _of(kind: str) -> str:
    """``share of the photo`` -> ``of the photo``."""
    return kind.removeprefix("share ")


def percent(fraction: float) -> str:
    """``18 %``; under 1 % one decimal (``0.4 %``) and under 0.1 % ``< 0.1 %``, so a small
    lesion does not read as none."""
    value = 100 * fraction
    if value >= 1 or value == 0:
        return f"{value:.0f} %"
    return f"{value:.1f} %" if value >= 0.1 else "< 0.1 %"


def day_text(when: datetime) -> str:
    """``3 Mar 2026``."""
    return f"{when.day} {when:%b %Y}"


def site_photos(store: Store, site: str) -> list[ComparePhoto]:
    """Every photo of ``site`` (the bin left out) with its area and grade, oldest first."""
    photos = []
    reliability = site_reliability(store, site)
    analyses = store.current_analyses(site)
    grading = personal_severity.grading_model(store)
    for point in store.timeline(site):
        area, kind = lesion_area(point)
        doubt = result_in_doubt(
            unfamiliar=point_is_unfamiliar(point), site=reliability, mask_origin=point.mask_origin
        )
        # the grade and areas every view shows for this photo (a grade only from the model
        # whose grades may be shown)
        analysis = analyses.get(point.photo_id)
        result = graded_by(
            point_result(point, doubtful=doubt),
            scored_by=None if analysis is None else analysis.severity_model_id,
            grading_model_id=None if grading is None else grading.id,
        )
        grade = result.grade
        photos.append(
            ComparePhoto(
                photo_id=int(point.photo_id),
                site=site,
                taken=to_local_naive(point.taken_at),
                area=area,
                area_kind=kind,
                grade_label=None if grade is None else grade.label,
                grade_text=None if grade is None else grade.text,
                painted_area=(
                    result.painted_share_of_skin
                    if kind == SHARE_OF_SKIN
                    else result.painted_area_fraction
                ),  # in the same share as ``area``
                unreliable=not reliability.reliable,
            )
        )
    photos.sort(key=lambda p: (p.taken, p.photo_id))
    return photos


def in_time_order(a: ComparePhoto, b: ComparePhoto) -> tuple[ComparePhoto, ComparePhoto]:
    """The two photos, the earlier first (by time taken, then by id)."""
    return (a, b) if (a.taken, a.photo_id) <= (b.taken, b.photo_id) else (b, a)


def default_pair(photos: Sequence[ComparePhoto]) -> tuple[ComparePhoto, ComparePhoto] | None:
    """The first and the latest analysed photo (``photos`` in any order); None with fewer than
    two analysed photos."""
    analysed = sorted((p for p in photos if p.analysed), key=lambda p: (p.taken, p.photo_id))
    return (analysed[0], analysed[-1]) if len(analysed) >= 2 else None


def pair_for(
    photos: Sequence[ComparePhoto], photo_id: int
) -> tuple[ComparePhoto, ComparePhoto] | None:
    """``photo_id`` with the site's first analysed photo (when it is that photo: with the
    latest), earlier first; None when there is no other analysed photo (or no such photo)."""
    chosen = next((p for p in photos if p.photo_id == photo_id), None)
    if chosen is None:
        return None
    others = sorted(
        (p for p in photos if p.analysed and p.photo_id != photo_id),
        key=lambda p: (p.taken, p.photo_id),
    )
    if not others:
        return None
    first = others[0]
    other = first if (first.taken, first.photo_id) < (chosen.taken, chosen.photo_id) else None
    return in_time_order(chosen, other or others[-1])


def days_between(a: datetime, b: datetime) -> int:
    """Calendar days from ``a``'s date to ``b``'s date (never negative)."""
    return abs((b.date() - a.date()).days)


def change_in_words(a: ComparePhoto, b: ComparePhoto) -> str:
    """What changed from the earlier to the later photo, e.g.
    ``lesion share of the photo 18 % → 7 %, moderate → mild, 41 days`` (the grades left out
    when neither photo is graded)."""
    then, now = in_time_order(a, b)

    def area(p: ComparePhoto) -> str:
        return "no mask" if p.area is None else percent(p.area)

    if then.area_kind == now.area_kind:
        areas = f"lesion {then.area_kind} {area(then)} \u2192 {area(now)}"
    else:  # one photo measured against the skin, the other against the photo
        areas = f"lesion {area(then)} {_of(then.area_kind)} \u2192 {area(now)} {_of(now.area_kind)}"
    days = days_between(then.taken, now.taken)
    span = "the same day" if days == 0 else f"{days} day{'s' if days != 1 else ''}"
    ungraded = "not graded"
    doubt = f" ({UNRELIABLE_MARK} {UNRELIABLE_TEXT})" if then.unreliable or now.unreliable else ""
    if then.grade_word == ungraded and now.grade_word == ungraded:
        return f"{areas}, {span}{doubt}"
    return f"{areas}, {then.grade_word} \u2192 {now.grade_word}, {span}{doubt}"


# -- pictures -------------------------------------------------------------------------------------
def lesion_crop_box(
    mask: np.ndarray, margin: float = CROP_MARGIN, min_share: float = MIN_CROP_SHARE
) -> tuple[int, int, int, int]:
    """The box ``(left, top, right, bottom)`` (pixels, right and bottom excluded) a picture of
    the lesion is cropped to: the bounding box of ``mask`` (height x width, bool) grown by
    ``margin`` times its width and height on each side, at least ``min_share`` of the photo's
    width and height (grown around its centre), clamped to the photo.

    An empty mask (no lesion found) gives the whole photo: there is nothing to centre on, and
    the whole photo shows the skin that healed.
    """
    height, width = mask.shape
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return 0, 0, width, height

    def span(low: int, high: int, size: int) -> tuple[int, int]:
        extent = high - low
        grow = margin * extent
        start, end = low - grow, high + grow
        least = min_share * size
        if end - start < least:
            centre = (start + end) / 2
            start, end = centre - least / 2, centre + least / 2
        if start < 0:  # keep the size where the photo allows: slide in from the edge
            start, end = 0.0, min(float(size), end - start)
        if end > size:
            start, end = max(0.0, start - (end - size)), float(size)
        return int(np.floor(start)), int(np.ceil(end))

    left, right = span(int(cols[0]), int(cols[-1]) + 1, width)
    top, bottom = span(int(rows[0]), int(rows[-1]) + 1, height)
    return left, top, right, bottom


@dataclass(frozen=True, eq=False)
class LoadedPhoto:
    """A photo decoded reduced, with its shown mask at the same size.

    ``image`` is None when the photo's file could not be read (``problem`` says why).
    """

    image: np.ndarray | None  # height x width x 3, uint8, upright
    mask: np.ndarray | None  # height x width, bool; None when the photo has no mask
    problem: str = ""
    #: whose mask it is: "prompt", "corrected", "analysis" (None: no mask)
    mask_origin: str | None = None


def load_shown_photo(store: Store, photo_id: int, max_side: int) -> LoadedPhoto:
    """Decode the photo reduced (longest side about ``max_side``) and its shown mask (the
    person's own first) at that size. A photo that cannot be read gives the reason instead; a
    mask that cannot be read gives the photo without it."""
    from eczema_tracker.core import imaging

    try:
        image = imaging.decode_photo(store.photo_file(photo_id), max_side=max_side).image
    except (imaging.ImageLoadError, OSError) as exc:
        reason = exc.reason if isinstance(exc, imaging.ImageLoadError) else str(exc)
        return LoadedPhoto(None, None, f"the photo could not be read ({reason})")
    mask = None
    shown = store.shown_mask(photo_id)
    if shown is not None:
        try:
            full = store.load_mask(shown.mask)
        except (imaging.ImageLoadError, OSError):
            full = None  # the photo without its outline beats no picture
        if full is not None:
            small = Image.fromarray(full.astype(np.uint8) * np.uint8(255), mode="L").resize(
                image.size, Image.Resampling.BILINEAR
            )
            mask = np.asarray(small) >= 128
    origin = None if mask is None or shown is None else shown.origin
    return LoadedPhoto(np.asarray(image, dtype=np.uint8), mask, mask_origin=origin)


def outlined(image: np.ndarray, mask: np.ndarray | None, color: tuple[int, int, int]) -> np.ndarray:
    """A copy of ``image`` with ``mask``'s outline drawn in ``color``, about 1/400 of the
    longest side thick (at least 2 pixels), so it stays visible when the picture is shown small."""
    pixels = image.copy()
    if mask is not None and mask.any():
        pixels[mask_outline(mask, max(2, round(max(mask.shape) / 400)))] = color
    return pixels


def is_own_png(path: Path) -> bool:
    """Whether ``path`` is a PNG this app wrote (it carries :data:`PNG_SOFTWARE`): the only kind
    of existing file a comparison may replace."""
    try:
        with Image.open(path) as image:
            text = dict(getattr(image, "text", {}) or {})
            return image.format == "PNG" and text.get(PNG_SOFTWARE_KEY) == PNG_SOFTWARE
    except (OSError, ValueError, Image.DecompressionBombError):
        return False
