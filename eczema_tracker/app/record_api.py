"""What the GUI uses of the patient's record in the store: the treatment kinds and potencies,
the record types, "leave unchanged", and the error of bad input (a ``UserError``: its message is
one sentence for a person).

Like :mod:`eczema_tracker.app.store_api` (the GUI's door to the store), so ``gui`` never
imports ``eczema_tracker.store``; the names may move into ``store_api`` later.
"""

from __future__ import annotations

from eczema_tracker.store.errors import RecordInputError
from eczema_tracker.store.record.values import (
    POTENCIES,
    TREATMENT_KIND_LABELS,
    TREATMENT_KINDS,
    UNCHANGED,
    CheckinRecord,
    CourseRecord,
    DailyRecord,
    DayEntry,
    DayMarkRecord,
    RecordedDay,
    TreatmentRecord,
)

__all__ = [
    "POTENCIES",
    "TREATMENT_KINDS",
    "TREATMENT_KIND_LABELS",
    "UNCHANGED",
    "CheckinRecord",
    "CourseRecord",
    "DailyRecord",
    "DayEntry",
    "DayMarkRecord",
    "RecordInputError",
    "RecordedDay",
    "TreatmentRecord",
    "potency_label",
]


def potency_label(potency: str | None) -> str:
    """``"very_potent"`` -> ``"very potent"``; ``""`` for none."""
    return "" if potency is None else potency.replace("_", " ")
