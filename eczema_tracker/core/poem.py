"""The Patient-Oriented Eczema Measure (POEM): its questions, answers, scoring and bands.

POEM asks seven questions about the last week, each answered on a five-step scale scored 0-4;
the total is 0-28. The instrument's own rule for missing answers: one unanswered question is
scored 0; with two or more unanswered the questionnaire is not scored. :func:`score_poem` applies
that rule and says what happened in a :class:`PoemScore`.

No Qt and no ML here: the GUI, the CLI, the store and the report all use this one module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: The instrument's attribution, to show wherever the questions or scores are shown.
POEM_ATTRIBUTION = (
    "Patient-Oriented Eczema Measure (POEM) \u00a9 The University of Nottingham. "
    "Charman CR, Venn AJ, Williams HC. Arch Dermatol 2004;140:1513-1519."
)
POEM_NAME = "Patient-Oriented Eczema Measure (POEM)"

#: Short names of the seven questions, in the instrument's order (also the store's column names).
POEM_ITEMS: tuple[str, ...] = (
    "itchy",
    "sleep_disturbed",
    "bleeding",
    "weeping",
    "cracked",
    "flaking",
    "dry",
)
#: The seven questions in the instrument's own wording, in its order.
POEM_QUESTIONS: tuple[str, ...] = (
    "Over the last week, on how many days has your skin been itchy because of your eczema?",
    "Over the last week, on how many nights has your sleep been disturbed because of your eczema?",
    "Over the last week, on how many days has your skin been bleeding because of your eczema?",
    "Over the last week, on how many days has your skin been weeping or oozing clear fluid "
    "because of your eczema?",
    "Over the last week, on how many days has your skin been cracked because of your eczema?",
    "Over the last week, on how many days has your skin been flaking off because of your eczema?",
    "Over the last week, on how many days has your skin felt dry or rough because of your eczema?",
)
#: The answers, in order; an answer's index is its score (0-4).
POEM_ANSWERS: tuple[str, ...] = (
    "No days",
    "1\u20132 days",
    "3\u20134 days",
    "5\u20136 days",
    "Every day",
)
#: The second question asks about nights; its answers say nights.
POEM_NIGHT_ANSWERS: tuple[str, ...] = (
    "No nights",
    "1\u20132 nights",
    "3\u20134 nights",
    "5\u20136 nights",
    "Every night",
)
POEM_MAX_ANSWER = len(POEM_ANSWERS) - 1
POEM_MAX_TOTAL = POEM_MAX_ANSWER * len(POEM_QUESTIONS)  # 28

#: The published severity bands: (lowest total, highest total, name).
POEM_BANDS: tuple[tuple[int, int, str], ...] = (
    (0, 2, "clear or almost clear"),
    (3, 7, "mild"),
    (8, 16, "moderate"),
    (17, 24, "severe"),
    (25, 28, "very severe"),
)


def poem_band(total: int) -> str:
    """The severity band of a POEM total (0-28); ``ValueError`` outside that range."""
    for low, high, name in POEM_BANDS:
        if low <= total <= high:
            return name
    raise ValueError(f"a POEM total is 0 to {POEM_MAX_TOTAL}, not {total}")


@dataclass(frozen=True, slots=True)
class PoemScore:
    """A scored POEM: the answers as given, and the total and band (``None`` when not scored).

    ``unanswered`` counts the questions left blank; with one, it was scored 0 (POEM's rule);
    with two or more, ``total`` and ``band`` are ``None``. ``explanation`` says so in words.
    """

    answers: tuple[int | None, ...]
    total: int | None
    band: str | None
    unanswered: int

    @property
    def scored(self) -> bool:
        """Whether the answers make a valid POEM total."""
        return self.total is not None

    @property
    def explanation(self) -> str:
        """One sentence saying what the score is and how missing answers were treated."""
        if self.total is None:
            return (
                f"Not scored: {self.unanswered} of {len(POEM_QUESTIONS)} questions are "
                "unanswered (POEM is scored with at most one unanswered)."
            )
        text = f"POEM {self.total}/{POEM_MAX_TOTAL}: {self.band}."
        if self.unanswered == 1:
            text = text[:-1] + " (one unanswered question counted as 0)."
        return text


def check_poem_answers(answers: Sequence[int | None]) -> tuple[int | None, ...]:
    """The answers as a tuple of seven ``0-4`` or ``None``; ``ValueError`` (one sentence) else."""
    items = tuple(answers)
    if len(items) != len(POEM_QUESTIONS):
        raise ValueError(
            f"POEM has {len(POEM_QUESTIONS)} questions; {len(items)} answers were given"
        )
    for number, value in enumerate(items, start=1):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"POEM answer {number} must be a whole number 0-4, not {value!r}")
        if not 0 <= value <= POEM_MAX_ANSWER:
            raise ValueError(f"POEM answer {number} must be 0 to {POEM_MAX_ANSWER}, not {value}")
    return items


def score_poem(answers: Sequence[int | None]) -> PoemScore:
    """Score seven answers (``0-4``, ``None`` = unanswered) by POEM's rules.

    Raises ``ValueError`` with one sentence for a wrong number of answers or a value outside 0-4.
    """
    items = check_poem_answers(answers)
    unanswered = sum(1 for value in items if value is None)
    if unanswered > 1:
        return PoemScore(items, None, None, unanswered)
    total = sum(value for value in items if value is not None)
    return PoemScore(items, total, poem_band(total), unanswered)
