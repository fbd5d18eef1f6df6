"""The photo store: one local folder holding a person's photos, masks, ratings and results.

No Qt and no ML here. Open it with :meth:`Store.open`; see :mod:`.repository` for threading and
durability, :mod:`.importer` for what an import tries and refuses, :mod:`.backup` for
export/restore.
"""

from eczema_tracker.store.errors import (
    BackupError,
    StoreError,
    StoreLockedError,
    StoreNotFoundError,
    StoreReadOnlyError,
    StoreTooNewError,
)
from eczema_tracker.store.records import (
    COMMON_SITES,
    DEFAULT_SITE,
    AnalysisRecord,
    ImportResult,
    MaskRecord,
    PhotoRecord,
    PromptRecord,
    RatingRecord,
    SeverityModelRecord,
    ShownMask,
    StoreCheck,
    TimelinePoint,
    TrainingExample,
    normalise_site,
)
from eczema_tracker.store.repository import Store

__all__ = [
    "COMMON_SITES",
    "DEFAULT_SITE",
    "AnalysisRecord",
    "BackupError",
    "ImportResult",
    "MaskRecord",
    "PhotoRecord",
    "PromptRecord",
    "RatingRecord",
    "SeverityModelRecord",
    "ShownMask",
    "Store",
    "StoreCheck",
    "StoreError",
    "StoreLockedError",
    "StoreNotFoundError",
    "StoreReadOnlyError",
    "StoreTooNewError",
    "TimelinePoint",
    "TrainingExample",
    "normalise_site",
]
