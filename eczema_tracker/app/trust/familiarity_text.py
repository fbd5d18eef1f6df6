"""How a result "unlike your examples" is marked and worded, once, for the app and the report.

An analysis records whether its photo looked like its site's example (prompt) photos in the
DINO retrieval space (``AnalysisRecord.familiar``, ``TimelinePoint.familiar``: True like them,
False unlike, None not judged). Only ``False`` is marked: a badge in the library, a note in the
photo view, a hollow marker on the timeline, a mark and a footnote in the report. A photo that
is itself one of the examples now (its shown mask is the person's prompt mask) is not marked:
the verdict was of an earlier analysis, and the person painted its mask. No Qt.
"""

from __future__ import annotations

#: What a person is told about an unfamiliar result (the photo view, the library tooltip).
UNFAMILIAR_NOTE = (
    "this photo looks unlike your example photos \u2014 check the mask, or paint this one as "
    "an example"
)
#: The short name of the mark (legends).
UNFAMILIAR_LABEL = "unlike your examples"
#: The mark itself where text carries it (the report's photo strip, its footnote).
UNFAMILIAR_MARK = "\u25cb"
#: The colour of the mark (the library's badge, the photo view's note, the report's ring).
UNFAMILIAR_COLOR = "#c62828"
#: The report's footnote explaining the mark (a doctor reads it), after the mark.
UNFAMILIAR_EXPLAINED = "looks unlike the example photos; the mask may be wrong"
UNFAMILIAR_FOOTNOTE = f"{UNFAMILIAR_MARK} {UNFAMILIAR_EXPLAINED}"


def is_unfamiliar(familiar: bool | None, mask_origin: str | None = None) -> bool:
    """Whether a result is marked "unlike your examples": its verdict is False (None: not
    judged, no mark) and the photo is not one of the examples now (``mask_origin`` "prompt")."""
    return familiar is False and mask_origin != "prompt"


def point_is_unfamiliar(point: object) -> bool:
    """:func:`is_unfamiliar` of anything with ``familiar`` and ``mask_origin`` attributes (a
    ``TimelinePoint``); an object without them is not marked."""
    return is_unfamiliar(getattr(point, "familiar", None), getattr(point, "mask_origin", None))


def sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop (for a line of its own)."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def distance_text(ratio: float | None) -> str:
    """Why a photo was judged unlike, in words: its nearest-example distance in units of the
    farthest a photo like the examples is expected to be (``nearest_prompt_distance /
    prompt_distance_scale``, ``ml.familiarity.ExampleSpace``); '' for None."""
    if ratio is None:
        return ""
    return (
        f"It is {ratio:.1f} times as far from its nearest example photo as a photo like your "
        "examples is expected to be (beyond 1 counts as unlike)."
    )
