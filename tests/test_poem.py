"""POEM scoring, bands and the missing-answer rule, on hand-computed cases."""

from __future__ import annotations

import pytest

from eczema_tracker.core import poem
from eczema_tracker.core.poem import PoemScore, poem_band, score_poem


def test_instrument_has_seven_questions_in_its_own_wording_and_attribution():
    assert len(poem.POEM_QUESTIONS) == len(poem.POEM_ITEMS) == 7
    assert poem.POEM_QUESTIONS[0] == (
        "Over the last week, on how many days has your skin been itchy because of your eczema?"
    )
    assert "nights has your sleep been disturbed" in poem.POEM_QUESTIONS[1]
    assert "felt dry or rough" in poem.POEM_QUESTIONS[6]
    assert poem.POEM_ANSWERS == ("No days", "1–2 days", "3–4 days", "5–6 days", "Every day")
    assert "University of Nottingham" in poem.POEM_ATTRIBUTION
    assert poem.POEM_MAX_TOTAL == 28


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ((0, 0, 0, 0, 0, 0, 0), 0, "clear or almost clear"),
        ((1, 1, 0, 0, 0, 0, 0), 2, "clear or almost clear"),
        ((1, 1, 1, 0, 0, 0, 0), 3, "mild"),
        ((2, 1, 0, 0, 1, 1, 2), 7, "mild"),
        ((2, 2, 0, 0, 1, 1, 2), 8, "moderate"),
        ((4, 3, 1, 0, 2, 3, 3), 16, "moderate"),
        ((4, 3, 1, 1, 2, 3, 3), 17, "severe"),
        ((4, 4, 2, 2, 4, 4, 4), 24, "severe"),
        ((4, 4, 3, 2, 4, 4, 4), 25, "very severe"),
        ((4, 4, 4, 4, 4, 4, 4), 28, "very severe"),
    ],
)
def test_totals_and_bands_at_every_band_edge(answers, total, band):
    score = score_poem(answers)
    assert (score.total, score.band, score.unanswered, score.scored) == (total, band, 0, True)
    assert score.explanation == f"POEM {total}/28: {band}."


def test_one_unanswered_question_scores_zero_and_says_so():
    score = score_poem([3, None, 2, 1, 0, 2, 4])
    assert score == PoemScore((3, None, 2, 1, 0, 2, 4), 12, "moderate", 1)
    assert "one unanswered question counted as 0" in score.explanation


def test_two_or_more_unanswered_questions_make_it_unscored():
    score = score_poem([4, None, 4, None, 4, 4, 4])
    assert (score.total, score.band, score.unanswered, score.scored) == (None, None, 2, False)
    assert score.explanation.startswith("Not scored: 2 of 7 questions are unanswered")
    assert score_poem([None] * 7).unanswered == 7


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ((1, 2, 3), "7 questions; 3 answers"),
        ((0,) * 8, "8 answers"),
        ((0, 0, 5, 0, 0, 0, 0), "answer 3 must be 0 to 4, not 5"),
        ((0, -1, 0, 0, 0, 0, 0), "answer 2 must be 0 to 4, not -1"),
        ((0, 0, 0, 0, 0, 0, 1.5), "answer 7 must be a whole number"),
        ((True, 0, 0, 0, 0, 0, 0), "answer 1 must be a whole number"),
    ],
)
def test_bad_answers_are_refused_in_one_sentence(answers, message):
    with pytest.raises(ValueError, match=message):
        score_poem(answers)


def test_band_of_a_total_outside_the_scale_is_refused():
    assert poem_band(12) == "moderate"
    with pytest.raises(ValueError):
        poem_band(29)
    with pytest.raises(ValueError):
        poem_band(-1)
