"""What grade and what area a photo shows: one decision, used by the CLI (``photos``), the library
and photo view, the timeline and the doctor's report alike.

The area compared across photos is always the **model's** (the segmentation of the photo's
current analysis). A prompt photo's model area is the one it got from its site's *other* prompts
(the analysis pass never segments a prompt photo from itself), so every point of an area line
and every first → last comparison is of one kind. The area the person painted (a prompt mask or
a correction) is reported beside it, as :attr:`PhotoResult.painted_area_fraction`, and never
mixed in. The grade is ``severity_scale.shown_grade`` of the model's area and score: under
``MIN_GRADED_AREA_FRACTION`` it is "no eczema found", never a score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from eczema_tracker.core.severity_scale import MIN_GRADED_AREA_FRACTION, ShownGrade, shown_grade

#: Whose area :attr:`PhotoResult.area_fraction` is: the model's segmentation, or the mask the
#: person painted (only when the photo has no model result yet).
AreaKind = Literal["model", "painted"]
#: What a compared area is a share of: the visible skin (when the site's examples mark healthy
#: skin, so the model finds both) or the whole photo.
AreaMeasure = Literal["skin", "photo"]
#: How each measure is named in axis labels, headings and sentences.
MEASURE_WORDS: dict[str, str] = {"skin": "share of the skin shown", "photo": "share of the photo"}


class PhotoFacts(Protocol):
    """What the decision needs of a photo; the store's ``TimelinePoint`` matches.

    ``lesion_area_fraction`` is the area of the current analysis' own mask (the model's; None:
    not analysed), ``painted_area_fraction`` the area of the person's prompt mask or correction
    (None: none), ``mask_origin`` whose mask the photo shows ("prompt", "corrected", "analysis").
    """

    @property
    def score(self) -> float | None: ...
    @property
    def lesion_area_fraction(self) -> float | None: ...
    @property
    def painted_area_fraction(self) -> float | None: ...
    @property
    def mask_origin(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class PhotoResult:
    """The grade and area one photo shows, everywhere it is shown."""

    #: whose area ``area_fraction`` is; None when the photo has neither a result nor a painting
    area_kind: AreaKind | None
    #: the area shown for the photo, a fraction 0-1 of it (the model's whenever it has one)
    area_fraction: float | None
    #: the area of the mask the person painted (prompt mask or correction), None when none
    painted_area_fraction: float | None
    #: what the grade says (``text``), or None when nothing was scored
    grade: ShownGrade | None
    #: why this area and grade, in a few plain words (e.g. for a tooltip or ``--json``)
    why: str

    #: the model's lesion / (lesion + healthy skin), None when the site's examples mark no skin
    share_of_skin: float | None = None
    #: the same share of the mask the person painted, None when it marks no healthy skin
    painted_share_of_skin: float | None = None

    @property
    def model_area_fraction(self) -> float | None:
        """The model's area, the only one compared across photos; None when not analysed."""
        return self.area_fraction if self.area_kind == "model" else None

    def compared_area(self, measure: AreaMeasure) -> float | None:
        """The model's lesion as a share of the skin shown or of the photo (see
        :func:`site_measure`); None when it has none of that kind."""
        return self.share_of_skin if measure == "skin" else self.model_area_fraction

    def compared_painted_area(self, measure: AreaMeasure) -> float | None:
        """The painted mask's area in the same measure (None when it has none of that kind)."""
        return self.painted_share_of_skin if measure == "skin" else self.painted_area_fraction

    @property
    def graded_score(self) -> float | None:
        """The expected score 0-3 shown, None when not graded (no result, or no eczema found)."""
        return self.grade.score if self.grade is not None and self.grade.graded else None

    @property
    def grade_text(self) -> str | None:
        """e.g. "moderate (score 2.04 of 3)" or "no eczema found in this photo"; None: no grade."""
        return None if self.grade is None else self.grade.text


def photo_result(
    *,
    model_area_fraction: float | None,
    score: float | None = None,
    probabilities: Sequence[float] | None = None,
    painted_area_fraction: float | None = None,
    is_prompt: bool = False,
    doubtful: bool = False,
    model_share_of_skin: float | None = None,
    painted_share_of_skin: float | None = None,
) -> PhotoResult:
    """Decide the area and the grade a photo shows.

    ``model_area_fraction``: the area of its current analysis' own mask (None: not analysed);
    ``score``/``probabilities``: that analysis' severity (None: not scored);
    ``painted_area_fraction``: the person's prompt mask or correction; ``is_prompt``: the photo
    is one of its site's prompts (its model area then comes from the site's other prompts);
    ``doubtful``: the result is in doubt (``app.trust.result_in_doubt``), so a result without a
    lesion reads "the model found no lesion — check the photo", never "no eczema found";
    ``model_share_of_skin``: the analysis' lesion / (lesion + healthy skin), when its prompts
    marked skin.
    """
    painted_skin = None if painted_share_of_skin is None else float(painted_share_of_skin)
    if model_area_fraction is None:
        if painted_area_fraction is None:
            return PhotoResult(None, None, None, None, "not analysed yet")
        return PhotoResult(
            "painted",
            float(painted_area_fraction),
            float(painted_area_fraction),
            None,
            "the mask you painted; the app has no result for this photo yet",
            painted_share_of_skin=painted_skin,
        )
    area = float(model_area_fraction)
    painted = None if painted_area_fraction is None else float(painted_area_fraction)
    grade = shown_grade(
        lesion_area_fraction=area, score=score, probabilities=probabilities, doubtful=doubtful
    )
    source = (
        "the app's result from this site's other examples"
        if is_prompt
        else "the app's result for this photo"
    )
    if grade is None:
        why = f"{source}; no severity model scored it"
    elif not grade.graded:
        why = (
            f"{source}: it found under {100 * MIN_GRADED_AREA_FRACTION:.1f} % of the photo, "
            "so it is not graded"
        )
    else:
        why = f"{source}, graded from its area"
    share = None if model_share_of_skin is None else float(model_share_of_skin)
    return PhotoResult("model", area, painted, grade, why, share, painted_skin)


def point_result(point: PhotoFacts, *, doubtful: bool = False) -> PhotoResult:
    """:func:`photo_result` of a photo's facts as the store reads them (``TimelinePoint``)."""
    return photo_result(
        model_area_fraction=point.lesion_area_fraction,
        score=point.score,
        painted_area_fraction=point.painted_area_fraction,
        is_prompt=point.mask_origin == "prompt",
        doubtful=doubtful,
        model_share_of_skin=getattr(point, "lesion_share_of_skin", None),
        painted_share_of_skin=getattr(point, "painted_share_of_skin", None),
    )


def site_measure(results: Sequence[PhotoResult]) -> AreaMeasure:
    """What a site's areas are compared as: the share of the skin shown when every photo with
    a model result has one (the site's examples mark healthy skin), else the share of the
    photo. One measure per site, so a line or a first → last never mixes the two."""
    models = [r for r in results if r.model_area_fraction is not None]
    if models and all(r.share_of_skin is not None for r in models):
        return "skin"
    return "photo"


def graded_by(
    result: PhotoResult, scored_by: int | None, grading_model_id: int | None
) -> PhotoResult:
    """``result`` without its grade unless the severity model that scored it
    (``scored_by``) is the one whose grades may be shown (``grading_model_id``, from
    ``app.personal_severity.grading_model``: in use, and earned its place or chosen). An
    ungraded result (no lesion found) keeps its words."""
    if result.graded_score is None or (scored_by is not None and scored_by == grading_model_id):
        return result
    return replace(result, grade=None)
