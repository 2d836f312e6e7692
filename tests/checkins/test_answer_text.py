"""Answer text the databases can hold, and what the person is told when it can't be saved."""

import pytest

from bot.domain.limits import ANSWER_MAX_LENGTH as LIMIT
from bot.checkins.answer_text import answer_errors, answer_problem, thread_reply_refusal

ERROR_LIMIT = 150  # what a modal's field error shows comfortably


@pytest.mark.parametrize("text", ["", "I grew", "x" * LIMIT, "🙂" * LIMIT, "tab\tand\nnewline", "ünïcödé ✓ 你好"])
def test_answers_within_the_limit_pass(text):
    assert answer_problem(text, LIMIT) is None


def test_a_nul_is_refused_and_says_so():
    problem = answer_problem("before\x00after", LIMIT)
    assert "NUL" in problem and "U+0000" in problem and len(problem) <= ERROR_LIMIT


def test_over_the_limit_is_refused_with_the_numbers():
    problem = answer_problem("x" * (LIMIT + 42), LIMIT)
    assert "3,042 characters" in problem and "3,000" in problem and len(problem) <= ERROR_LIMIT


def test_half_a_surrogate_pair_is_refused():
    problem = answer_problem("emoji \ud83d cut", LIMIT)
    assert problem is not None and "half of a character" in problem and len(problem) <= ERROR_LIMIT


def test_the_limit_counts_characters_not_bytes():
    assert answer_problem("é" * LIMIT, LIMIT) is None
    assert answer_problem("é" * (LIMIT + 1), LIMIT) is not None


def test_errors_name_only_the_answers_that_cannot_be_saved():
    errors = answer_errors({"q1": "fine", "q2": "a\x00b", "q3": "y" * (LIMIT + 1), "q4": "\udfff"}, LIMIT)
    assert set(errors) == {"q2", "q3", "q4"}
    assert answer_errors({"q1": "fine", "q2": ""}, LIMIT) == {}


def test_the_thread_reply_says_why_and_that_nothing_was_saved():
    assert thread_reply_refusal("fine", LIMIT) is None
    refusal = thread_reply_refusal("a\x00b", LIMIT)
    assert refusal.startswith("I couldn't save that reply to your growth log: this answer contains a NUL")
    assert "send it again." in refusal and refusal.endswith("Nothing from it was saved.")
