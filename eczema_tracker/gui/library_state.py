"""Reads what the library and the photo view show from the store.

The facts (:meth:`LibraryState.items`, :meth:`LibraryState.details` without masks) are quick
indexed queries for the GUI thread; decoding masks (:meth:`LibraryState.load_masks`) is for a
worker thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from eczema_tracker.app import personal_severity
from eczema_tracker.app.photo_result import point_result
from eczema_tracker.app.trust import agreement as trust
from eczema_tracker.app.trust.familiarity_text import is_unfamiliar, point_is_unfamiliar
from eczema_tracker.core.severity_scale import expected_score
from eczema_tracker.gui.widgets.library_view import LibraryItem
from eczema_tracker.gui.widgets.photo_view import PhotoDetails
from eczema_tracker.store import Store
from eczema_tracker.store.records import PhotoRecord, TimelinePoint


def _when(record: PhotoRecord) -> datetime | None:
    try:
        return record.taken_datetime
    except (ValueError, TypeError, AttributeError):
        return None


def _distance_ratio(distance: float | None, scale: float | None) -> float | None:
    """How far a photo is from its nearest example, in units of the examples' own spread."""
    if distance is None or scale is None or scale <= 0:
        return None
    return float(distance) / float(scale)


class LibraryState:
    """Thin read model over the store for the views.

    ``store_of()`` gives the store open now (the session's: a restore replaces it)."""

    def __init__(self, store_of: Callable[[], Store]) -> None:
        self._store_of = store_of

    @property
    def store(self) -> Store:
        """The store read from."""
        return self._store_of()

    def items(self, site: str | None) -> list[LibraryItem]:
        """Library rows (newest first) for one site or all (two queries, whatever the size)."""
        points = {p.photo_id: p for p in self.store.timeline(site)}
        return [self._item(photo, points.get(photo.id)) for photo in self.store.photos(site)]

    def item(self, photo_id: int) -> LibraryItem:
        """One library row, fresh from the store."""
        photo = self.store.photo(photo_id)
        point = next((p for p in self.store.timeline(photo.site) if p.photo_id == photo_id), None)
        return self._item(photo, point)

    @staticmethod
    def _item(photo: PhotoRecord, point: TimelinePoint | None) -> LibraryItem:
        analysed = point is not None and point.analysis_id is not None
        return LibraryItem(
            photo_id=photo.id,
            taken_at=_when(photo),
            site=photo.site,
            is_prompt=bool(photo.is_prompt),
            analysed=analysed,
            stale=bool(analysed and point is not None and point.stale),
            rating=point.rating if point is not None else None,
            unfamiliar=bool(analysed and point_is_unfamiliar(point)),
            date_guessed=photo.date_guessed,
        )

    def details(self, photo_id: int, *, load_masks: bool = True) -> PhotoDetails:
        """Everything the photo view shows, without the decoded image (and without the mask
        arrays unless ``load_masks``: decoding them belongs off the GUI thread)."""
        photo = self.store.photo(photo_id)
        analysis = self.store.current_analysis(photo_id)
        shown = self.store.shown_mask(photo_id)
        point = next((p for p in self.store.timeline(photo.site) if p.photo_id == photo_id), None)
        active = self.store.active_severity_model()
        model_line = personal_severity.severity_model_line(self.store)
        scored_by = None if analysis is None else analysis.severity_model_id
        if scored_by is not None and (active is None or scored_by != active.id):
            model_line = (
                "graded by an earlier severity model, not the one in use "
                "(Models ▸ Re-score analyses with the active model)"
            )
        elif scored_by is None and analysis is not None and analysis.probabilities is not None:
            model_line = ""  # graded by a model file given on the command line: none to name
        details = PhotoDetails(
            photo_id=photo_id,
            site=photo.site,
            taken_at=_when(photo),
            date_guessed=photo.date_guessed,
            is_prompt=bool(photo.is_prompt),
            rating=self.store.rating(photo_id),
            has_severity_model=active is not None,
            severity_model_line=model_line,
            site_prompt_count=len(self.store.prompts(photo.site)),
            note=photo.note,
            analysed=analysis is not None,
            site_reliability=trust.site_reliability(self.store, photo.site),
        )
        if point is not None:
            details.result = point_result(point)
            details.lesion_area_fraction = details.result.area_fraction
        if shown is not None:
            details.mask_origin = shown.origin
            if shown.origin == "prompt":
                details.prompt_mask_id = shown.mask.id
            else:
                details.result_mask_id = shown.mask.id
                details.result_corrected = shown.origin == "corrected"
        if analysis is not None:
            details.stale = bool(analysis.stale)
            details.unfamiliar = is_unfamiliar(analysis.familiar, details.mask_origin)
            details.prompt_distance_ratio = _distance_ratio(
                analysis.nearest_prompt_distance, analysis.prompt_distance_scale
            )
            if analysis.probabilities is not None:
                details.probabilities = list(analysis.probabilities)
                details.score = (
                    analysis.score
                    if analysis.score is not None
                    else expected_score(analysis.probabilities)
                )
                if point is not None:  # the one decision, now that the doubt is known
                    details.result = point_result(point, doubtful=details.doubtful)
                details.grade = None if details.result is None else details.result.grade
                details.severity_class = details.grade.label if details.grade else None
        if load_masks:
            self.load_masks(details)
        return details

    def load_masks(self, details: PhotoDetails, max_side: int | None = None) -> PhotoDetails:
        """Decode the masks ``details`` names and tint their overlays, reduced to ``max_side``
        like the photo drawn (for a worker thread: store reads and QImage only)."""
        if details.prompt_mask_id is not None:
            details.prompt_mask = self.store.load_mask(self.store.mask(details.prompt_mask_id))
        if details.result_mask_id is not None:
            details.result_mask = self.store.load_mask(self.store.mask(details.result_mask_id))
        details.make_overlays(max_side)
        return details
