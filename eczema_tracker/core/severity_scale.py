"""The severity scale, in one place and without torch: class names, the expected score and the
one rule that turns a result into what a person is shown.

The rule (used by the photo view, the library, the timeline, the CLI and reports): the shown
grade is the band the expected score falls in (``score = sum(p_c * c)``; bands of width 1
centred on each class: < 0.5 none, < 1.5 mild, < 2.5 moderate, else severe), so the class and
the score never contradict each other. A lesion mask covering less than
:data:`MIN_GRADED_AREA_FRACTION` of the photo is not graded at all: "no eczema found", or
"the model found no lesion \u2014 check the photo" when the result is in doubt
(:func:`no_lesion_text`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Severity classes in label order (label ``c`` is ``CLASS_NAMES[c]``).
CLASS_NAMES: tuple[str, ...] = ("none", "mild", "moderate", "severe")
NUM_CLASSES = len(CLASS_NAMES)

#: Below this lesion area (fraction of the photo) the photo is shown as "no eczema found" and
#: not graded: a grade of an (almost) empty mask describes healthy skin, not eczema.
MIN_GRADED_AREA_FRACTION = 0.001

NO_ECZEMA_FOUND = "no eczema found in this photo"
#: What an (almost) empty mask says when the result itself is in doubt (the photo looks unlike
#: the site's examples, or the site's examples disagree): not an all-clear.
NO_LESION_CHECK_PHOTO = "the model found no lesion \u2014 check the photo"


def no_lesion_text(*, doubtful: bool) -> str:
    """The one wording of an ungraded (almost empty) mask: :data:`NO_ECZEMA_FOUND`, or
    :data:`NO_LESION_CHECK_PHOTO` when the result is ``doubtful`` (an unfamiliar photo, a site
    whose results are not reliable yet), which must never read as a confident all-clear."""
    return NO_LESION_CHECK_PHOTO if doubtful else NO_ECZEMA_FOUND


def class_name(label: int | None) -> str:
    """``2`` -> ``"moderate"``; ``None`` or out of range -> ``"?"``."""
    if label is None or not 0 <= int(label) < NUM_CLASSES:
        return "?"
    return CLASS_NAMES[int(label)]


def expected_score(probabilities: Sequence[float]) -> float:
    """The expected class ``sum(p_c * c)`` in [0, 3] of a probability vector."""
    return float(sum(float(p) * c for c, p in enumerate(probabilities)))


def band_of_score(score: float) -> int:
    """The class whose band the expected score falls in (0.5 rounds up: 1.5 -> moderate)."""
    return max(0, min(NUM_CLASSES - 1, int(float(score) + 0.5)))


def is_graded_area(lesion_area_fraction: float | None) -> bool:
    """Whether a mask of this area gets a grade (``None``, an unknown area, does)."""
    return lesion_area_fraction is None or lesion_area_fraction >= MIN_GRADED_AREA_FRACTION


@dataclass(frozen=True)
class ShownGrade:
    """What a person is shown for one result."""

    label: int | None  #: the class shown (the band of ``score``), None when not graded
    score: float | None  #: expected score in [0, 3], None when not graded
    text: str  #: e.g. "moderate (score 2.04 of 3)", "no eczema found in this photo"

    @property
    def graded(self) -> bool:
        return self.label is not None


def shown_grade(
    *,
    lesion_area_fraction: float | None,
    score: float | None = None,
    probabilities: Sequence[float] | None = None,
    doubtful: bool = False,
) -> ShownGrade | None:
    """The grade to show for a result; ``None`` when there is no severity result at all.

    ``score`` wins over ``probabilities`` when both are given (they agree for stored results).
    An (almost) empty mask gives ``ShownGrade(None, None, no_lesion_text(doubtful=doubtful))``:
    "no eczema found" only when the result is not ``doubtful``.
    """
    if not is_graded_area(lesion_area_fraction):
        return ShownGrade(None, None, no_lesion_text(doubtful=doubtful))
    if score is None and probabilities is not None and len(probabilities):
        score = expected_score(probabilities)
    if score is None:
        return None
    label = band_of_score(score)
    return ShownGrade(label, float(score), f"{CLASS_NAMES[label]} (score {score:.2f} of 3)")
