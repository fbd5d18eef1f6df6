"""Reads what the library and the photo view show from the store (GUI thread, quick queries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from eczema_tracker import services
from eczema_tracker.gui.widgets.library_view import LibraryItem
from eczema_tracker.gui.widgets.photo_view import PhotoDetails


def _when(record: Any) -> datetime | None:
    try:
        return record.taken_datetime
    except (ValueError, TypeError, AttributeError):
        return None


class LibraryState:
    """Thin read model over the store for the views."""

    def __init__(self, store: Any) -> None:
        self.store = store

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
    def _item(photo: Any, point: Any) -> LibraryItem:
        analysed = point is not None and point.analysis_id is not None
        return LibraryItem(
            photo_id=photo.id,
            taken_at=_when(photo),
            site=photo.site,
            is_prompt=bool(photo.is_prompt),
            analysed=analysed,
            stale=bool(analysed and point.stale),
            rating=point.rating if point is not None else None,
        )

    def prompt_counts(self) -> dict[str, int]:
        """Prompt masks per site in use."""
        return services.prompt_counts(self.store)

    def prompt_summary(self) -> str:
        """One line per site: its prompt count, and what is still needed."""
        counts = self.prompt_counts()
        if not counts:
            return ""
        parts = []
        for site, n in counts.items():
            need = "" if n >= services.MIN_PROMPTS else f" — paint {services.MIN_PROMPTS - n} more"
            parts.append(f"<b>{site}</b>: {n} prompt mask{'s' if n != 1 else ''}{need}")
        return "Prompt masks per body site:<br>" + "<br>".join(parts)

    def prompt_mask(self, photo_id: int) -> np.ndarray | None:
        """The photo's current prompt mask, if it is a prompt."""
        for record in self.store.prompts(self.store.photo(photo_id).site):
            if record.photo_id == photo_id:
                return self.store.load_mask(record.mask)
        return None

    def result_mask(self, photo_id: int) -> np.ndarray | None:
        """The mask of the photo's current analysis (the corrected one when saved)."""
        analysis = self.store.current_analysis(photo_id)
        return None if analysis is None else self.store.load_mask(analysis.effective_mask)

    def details(self, photo_id: int) -> PhotoDetails:
        """Everything the photo view shows, without the decoded image."""
        photo = self.store.photo(photo_id)
        analysis = self.store.current_analysis(photo_id)
        has_model = self.store.active_severity_model() is not None
        details = PhotoDetails(
            photo_id=photo_id,
            site=photo.site,
            taken_at=_when(photo),
            is_prompt=bool(photo.is_prompt),
            rating=self.store.rating(photo_id),
            has_severity_model=has_model,
            site_prompt_count=len(self.store.prompts(photo.site)),
        )
        if photo.is_prompt:
            details.prompt_mask = self.prompt_mask(photo_id)
        if analysis is not None:
            details.result_mask = self.store.load_mask(analysis.effective_mask)
            details.result_corrected = analysis.corrected_mask is not None
            details.lesion_area_fraction = float(
                analysis.corrected_mask.area_fraction
                if details.result_corrected
                else analysis.lesion_area_fraction
            )
            details.stale = bool(analysis.stale)
            if analysis.probabilities is not None:
                details.probabilities = list(analysis.probabilities)
                details.severity_class = (
                    analysis.severity_class
                    if analysis.severity_class is not None
                    else int(np.argmax(analysis.probabilities))
                )
                details.score = analysis.score
        return details
