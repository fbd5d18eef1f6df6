"""What the timeline says of a photo's point: the hover text. The point protocol, local plotting
time and the plotted grade (``severity_scale.shown_grade``) are Qt-free, in
:mod:`eczema_tracker.app.timeline.data`; they are re-exported here."""

from __future__ import annotations

from eczema_tracker.app.photo_result import point_result
from eczema_tracker.app.timeline.data import TimelinePointLike, plotted_grade, to_local_naive
from eczema_tracker.app.trust.familiarity_text import UNFAMILIAR_NOTE, point_is_unfamiliar, sentence
from eczema_tracker.core.severity_scale import class_name
from eczema_tracker.gui.formatting import format_short_day

__all__ = ["TimelinePointLike", "describe_point", "plotted_grade", "to_local_naive"]


def describe_point(point: TimelinePointLike) -> str:
    """Multi-line hover text: date, then each value the point has."""
    when = to_local_naive(point.taken_at)
    lines = [f"{format_short_day(when)}, {when:%H:%M}"]
    grade = plotted_grade(point)
    if grade is not None:
        lines.append(f"Predicted score {grade.score:.2f} ({class_name(grade.label)})")
    elif point.score is not None:
        lines.append("No eczema found in this photo")
    if point.rating is not None:
        lines.append(f"Your rating {point.rating} ({class_name(point.rating)})")
    result = point_result(point)
    if result.share_of_skin is not None and result.model_area_fraction is not None:
        lines.append(
            f"Lesion {100 * result.share_of_skin:.1f}% of the skin shown, "
            f"{100 * result.model_area_fraction:.1f}% of the photo (the app's result)"
        )
    elif result.model_area_fraction is not None:
        lines.append(f"Lesion area {100 * result.model_area_fraction:.1f}% (the app's result)")
    if result.painted_share_of_skin is not None:
        lines.append(f"Area you painted {100 * result.painted_share_of_skin:.1f}% of the skin")
    elif result.painted_area_fraction is not None:
        lines.append(f"Area you painted {100 * result.painted_area_fraction:.1f}%")
    if point.score is None and result.model_area_fraction is None and point.rating is None:
        lines.append("Not analysed yet")
    if point.stale:
        lines.append("Out of date: this site's prompts changed since the analysis")
    if point_is_unfamiliar(point):
        lines.append(sentence(UNFAMILIAR_NOTE))
    return "\n".join(lines)
