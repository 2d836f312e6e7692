"""A leader's reflection as plain values: the document's questions and themes, cadence, parsing,
and the builders within Slack's limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.blocks.leaders import build_offer, build_reflection, build_team_note
from bot.blocks.retros import build_question, build_summary
from bot.catalog import BUNDLED_CONTENT_DIR, load_catalog
from bot.domain.schedule import zone
from bot.leaders.plan import LeadPlan, leader_questions, parse_lead
from bot.leaders.retros import parse_retro
from bot.leaders.team_note import ReportStatus, TeamNote


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(BUNDLED_CONTENT_DIR)


def test_the_questions_are_the_documents_own_each_with_the_theme_that_asks_it(catalog):
    questions = leader_questions(catalog)
    source = (BUNDLED_CONTENT_DIR / "execution.yaml").read_text()
    assert [q.id for q in questions] == [f"loop-{n}" for n in range(1, 8)]
    assert all(q.text in source for q in questions)
    assert {(q.framework_id, q.theme_id) for q in questions} == {("execution", "feedback-loops")}


def test_every_n_weeks_counts_from_the_week_it_was_turned_on():
    plan = LeadPlan(0, time(9), zone("UTC"), 2, date(2026, 11, 2))
    assert [plan.is_due_week(date(2026, 11, 2 + 7 * n) if n < 4 else date(2026, 11, 30)) for n in range(5)] == \
        [True, False, True, False, True]


@pytest.mark.parametrize(("typed", "kind", "value"), [
    ("", "status", None), ("on", "on", None), ("OFF", "off", None), ("every 2 weeks", "every", 2),
    ("every other week", "every", 2), ("every week", "every", 1), ("fri 16:00", "schedule", 4),
    ("default", "default", None), ("every 12 weeks", "unclear", None), ("sometimes", "unclear", None),
])
def test_parse_lead(typed, kind, value):
    request = parse_lead(typed)
    assert request.kind == kind
    if kind == "every":
        assert request.every_weeks == value
    if kind == "schedule":
        assert request.weekday == value


def test_parse_retro():
    assert parse_retro("<#C1|team> mon 10:00 every 2 weeks").every_weeks == 2
    assert parse_retro("<#C1> thu at 9:30").clock == time(9, 30)
    assert parse_retro("<#C1|team> off").kind == "off"
    assert parse_retro("").kind == "list"
    assert "# menu" in parse_retro("#team mon 10:00").problem
    assert "<script>" not in parse_retro("<#C1> <script> 10:00").problem


def test_builders_stay_within_slacks_limits(catalog):
    questions = [q.payload() for q in leader_questions(catalog)]
    for blocks in (build_offer(7), build_reflection(5, questions, date(2026, 11, 2)),
                   build_question(1, 7, leader_questions(catalog)[0], date(2026, 11, 2)),
                   build_summary(date(2026, 11, 2), [(q["text"], 3, "https://x/y") for q in questions])):
        assert len(blocks) <= 50 and all(block.to_dict() for block in blocks)
    reports = tuple(ReportStatus(f"U{n}", n % 2 == 0, (True, False, True, False), n, n, None, None, False)
                    for n in range(500))
    messages = build_team_note(TeamNote("UM", zone("UTC"), reports), datetime(2026, 11, 2, tzinfo=UTC))
    assert len(messages) > 1 and all(len(m) <= 50 for m in messages)
    assert sum(str([b.to_dict() for b in m]).count("<@U") for m in messages) == 500


def test_help_and_readme_name_every_new_command():
    from pathlib import Path

    from bot.blocks.growth import COMMANDS_HELP

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for command in ("/growth lead on|off", "/growth team", "/growth retro #channel"):
        assert command in COMMANDS_HELP
    for command in ("/growth lead on\\|off", "/growth team", "/growth retro #channel"):
        assert command in readme
