"""The report's "then and now": per body site, the first and the last analysed photo of the
range side by side, each cropped around its lesion (:func:`~.compare.lesion_crop_box`) with the
outline of the mask shown, its date, area and grade under it, and the change in words above.

A site without two analysed photos in the range gets one line saying why instead.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from eczema_tracker.app.compare import (
    ComparePhoto,
    change_in_words,
    day_text,
    default_pair,
    lesion_crop_box,
    load_shown_photo,
    outlined,
    site_photos,
)
from eczema_tracker.app.report.document import FONT, MUTED, ReportDocument
from eczema_tracker.core.jobs import CancelCheck, raise_if_cancelled

if TYPE_CHECKING:
    from eczema_tracker.store import Store

#: Longest side the pair's photos are decoded at (a crop of it is printed a few inches wide).
DECODE_SIDE = 1600
#: The outline drawn on the pictures (as on the report's other photos).
OUTLINE_COLOR = (0, 229, 255)
#: Tallest a picture of the pair is printed (inches).
MAX_PICTURE_HEIGHT = 3.0
HEADING = "Then and now: the first and last analysed photo of each site, cropped around the lesion"


@dataclass(frozen=True, eq=False)
class PairPicture:
    """One photo of the pair: cropped around its lesion with the outline drawn (None when the
    file could not be read: ``problem`` says why)."""

    photo: ComparePhoto
    image: np.ndarray | None  # height x width x 3, uint8
    problem: str = ""


@dataclass(frozen=True, eq=False)
class ThenAndNow:
    """A site's pair, or why it has none (``skipped``)."""

    site: str
    then: PairPicture | None = None
    now: PairPicture | None = None
    skipped: str = ""

    @property
    def change(self) -> str:
        """The change in words ("" when skipped)."""
        if self.then is None or self.now is None:
            return ""
        return change_in_words(self.then.photo, self.now.photo)


def cropped_picture(store: Store, photo: ComparePhoto, max_side: int = DECODE_SIDE) -> PairPicture:
    """``photo`` decoded reduced, cropped around its shown mask, with the outline drawn."""
    loaded = load_shown_photo(store, photo.photo_id, max_side)
    if loaded.image is None:
        return PairPicture(photo, None, loaded.problem)
    mask = loaded.mask
    if mask is None:
        return PairPicture(photo, loaded.image)
    left, top, right, bottom = lesion_crop_box(mask)
    picture = outlined(loaded.image, mask, OUTLINE_COLOR)[top:bottom, left:right]
    return PairPicture(photo, np.ascontiguousarray(picture))


def gather_then_and_now(
    store: Store,
    site: str,
    from_day: date,
    to_day: date,
    *,
    cancel: CancelCheck | None = None,
) -> ThenAndNow:
    """The pair of ``site`` for the range ``from_day``..``to_day`` (the photos read)."""
    photos = [p for p in site_photos(store, site) if from_day <= p.taken.date() <= to_day]
    pair = default_pair(photos)
    if pair is None:
        analysed = [p for p in photos if p.analysed]
        if not analysed:
            return ThenAndNow(site, skipped="no analysed photo in this range")
        only = day_text(analysed[0].taken)
        return ThenAndNow(
            site, skipped=f"only one analysed photo in this range ({only}), nothing to compare"
        )
    raise_if_cancelled(cancel)
    then = cropped_picture(store, pair[0])
    raise_if_cancelled(cancel)
    return ThenAndNow(site, then, cropped_picture(store, pair[1]))


def _jpeg(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=88)
    return out.getvalue()


def draw_then_and_now(doc: ReportDocument, pairs: Sequence[ThenAndNow]) -> None:
    """The section: per site its two pictures with captions, or the line saying why not."""
    if not pairs:
        return
    doc.heading(HEADING, keep_with=1.0)
    gap = 0.2
    width = (doc.epw - gap) / 2
    caption = 2 * 8 * 1.25 / 72  # two lines at most
    for pair in pairs:
        if pair.then is None or pair.now is None:
            doc.need(0.3)
            doc.text_line(f"{pair.site}: not shown, {pair.skipped}.", size=9, color=MUTED)
            continue
        pictures = (pair.then, pair.now)
        aspects = [p.image.shape[0] / p.image.shape[1] for p in pictures if p.image is not None]
        box = min(MAX_PICTURE_HEIGHT, width * max(aspects, default=0.75))
        doc.need(0.5 + box + caption + 0.1)
        doc.text_line(pair.site, size=9.5, bold=True, gap=1.3)
        doc.text_line(pair.change, size=8.5, gap=1.3)
        top = doc.y + 0.04
        for i, picture in enumerate(pictures):
            x = doc.l_margin + i * (width + gap)
            if picture.image is None:
                doc.set_xy(x, top + box / 3)
                doc.multi_cell(width, 8 * 1.25 / 72, doc.printable(picture.problem), align="C")
            else:
                aspect = picture.image.shape[0] / picture.image.shape[1]
                w = min(width, box / aspect)
                doc.image(io.BytesIO(_jpeg(picture.image)), x=x, y=top, w=w, h=w * aspect)
            doc.set_xy(x, top + box + 0.05)
            doc.set_font(FONT, "", 8)
            label = ("then: ", "now: ")[i] + picture.photo.caption()
            doc.multi_cell(width, 8 * 1.25 / 72, doc.printable(label), align="L")
        doc.set_xy(doc.l_margin, top + box + 0.05 + caption + 0.12)
