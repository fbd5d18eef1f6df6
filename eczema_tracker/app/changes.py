"""What a write to the store changed, so views refresh only what they show (Anki's ``OpChanges``).

Qt-free: the GUI's :class:`~eczema_tracker.gui.store_session.StoreSession` emits these after
every write it ran in the background; a view looks at the flags it cares about and ignores the
rest. Combine two with ``|``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class StoreChanges:
    """Kinds of stored things a write touched (``photo_ids``/``sites`` narrow it when known).

    ``photo_ids`` empty with ``photos`` set means "any photo may have changed".
    """

    photos: bool = False  # photos added, removed, moved to/from the bin, date/site/note edited
    prompts: bool = False  # prompt masks (the painted examples) of ``sites``
    corrections: bool = False  # masks a person painted over a model's result
    analyses: bool = False  # masks, areas and scores computed by the models
    ratings: bool = False  # a person's own severity ratings
    severity_models: bool = False  # personal/imported severity models and which one is active
    record: bool = False  # check-ins, daily numbers, treatments, courses, flares and notes
    agreements: bool = False  # a check of ``sites``' examples kept (how far to trust them)
    photo_ids: frozenset[int] = frozenset()
    sites: frozenset[str] = frozenset()

    def __or__(self, other: StoreChanges) -> StoreChanges:
        return StoreChanges(
            photos=self.photos or other.photos,
            prompts=self.prompts or other.prompts,
            corrections=self.corrections or other.corrections,
            analyses=self.analyses or other.analyses,
            ratings=self.ratings or other.ratings,
            severity_models=self.severity_models or other.severity_models,
            record=self.record or other.record,
            agreements=self.agreements or other.agreements,
            photo_ids=self.photo_ids | other.photo_ids,
            sites=self.sites | other.sites,
        )

    def __bool__(self) -> bool:
        return any(getattr(self, name) for name in _FLAGS)

    def touches_photo(self, photo_id: int) -> bool:
        """True if the photo ``photo_id``'s data (masks, analysis, rating, details) may have changed."""
        if not (self.photos or self.corrections or self.analyses or self.ratings or self.prompts):
            return False
        return not self.photo_ids or photo_id in self.photo_ids

    @classmethod
    def everything(cls) -> StoreChanges:
        """All kinds (the store was replaced, e.g. by a restore)."""
        return cls(
            photos=True,
            prompts=True,
            corrections=True,
            analyses=True,
            ratings=True,
            severity_models=True,
            record=True,
            agreements=True,
        )


#: The kinds of change (the boolean fields); ``photo_ids`` and ``sites`` only narrow them.
_FLAGS: tuple[str, ...] = tuple(f.name for f in fields(StoreChanges) if f.type in ("bool", bool))
