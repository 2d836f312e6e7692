"""bot.blocks.serialize gives exactly what slack_sdk's own `to_dict` gives, and refuses what it refuses."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ContextBlock, MarkdownTextObject, SectionBlock

from bot.blocks.checkin import build_answer_modal, build_checkin_message
from bot.blocks.growthlog import build_log_messages, build_manager_notice
from bot.blocks.ladder import build_ladder_messages
from bot.blocks.serialize import block_dicts
from bot.catalog import BUNDLED_CONTENT_DIR, load_catalog
from bot.growthlog.log_view import LogQuery, LogView
from bot.ladder.answers import Ladder
from bot.ladder.resolve import Resolver
from storage.repositories.growth_log import Entry, LoggedCheckin, LogPage

CATALOG = load_catalog(BUNDLED_CONTENT_DIR)
LADDER = Ladder(CATALOG, Resolver(CATALOG))


def same_as_slack_sdk(blocks) -> None:
    assert block_dicts(blocks) == [block.to_dict() for block in blocks]


def ladder_queries() -> list[str]:
    queries = ["senior", "sr", "L4", "stage 3", "staff engineer", "senior vs staff", "sizing", "senoir", "help", ""]
    for framework in CATALOG.frameworks:
        queries += [level.name for level in framework.levels] + [framework.name]
    return queries


@pytest.mark.parametrize("query", ladder_queries())
def test_every_ladder_answer_serializes_as_slack_sdk_does(query):
    for blocks in build_ladder_messages(LADDER.answer(query), CATALOG):
        same_as_slack_sdk(blocks)


def log_view(own: bool, private: bool, long: bool) -> LogView:
    text = ("A long reflection with *markdown* and <https://example.com|a link>. " * 80) if long else "Short."
    entries = tuple(Entry(10 * week + n, f"q{n}", f"Question {n}?", text, "modal", private and n == 1,
                          datetime(2026, 11, 2, tzinfo=UTC), n == 2) for week in range(5) for n in range(3))
    checkins = tuple(LoggedCheckin(week, date(2026, 11, 2), datetime(2026, 11, 2, tzinfo=UTC), "answered",
                                   ("q0", "q1", "q2"), entries[3 * week:3 * week + 3]) for week in range(5))
    return LogView("U1", own, LogPage(checkins, 1, True), LogQuery("U1", page=1), reads_notice=not own)


@pytest.mark.parametrize("own", [True, False])
@pytest.mark.parametrize("private", [True, False])
@pytest.mark.parametrize("long", [True, False])
def test_log_pages_serialize_as_slack_sdk_does(own, private, long):
    messages = build_log_messages(log_view(own, private, long))
    assert [block_dicts(m) for m in messages] == [[block.to_dict() for block in blocks] for blocks in messages]


def test_check_ins_notices_and_modal_blocks_serialize_as_slack_sdk_does():
    questions = [{"id": f"q{n}", "text": f"What went well {n}?"} for n in range(3)]
    same_as_slack_sdk(build_checkin_message(7, questions, "Senior", "Engineering levels", date(2026, 11, 30)))
    same_as_slack_sdk(build_manager_notice("U1"))
    same_as_slack_sdk(build_answer_modal(7, questions, {"q0": "before"}, private=True).blocks)


def test_a_dict_already_made_passes_as_it_is():
    made = {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}
    assert block_dicts([made, SectionBlock(text="hi")]) == [made, SectionBlock(text="hi").to_dict()]


@pytest.mark.parametrize("too_big", [
    lambda: SectionBlock(text=MarkdownTextObject(text="x" * 3001)),
    lambda: ActionsBlock(elements=[ButtonElement(text="Go", action_id="a", value="v" * 2001)]),
    lambda: ContextBlock(elements=[MarkdownTextObject(text="c")] * 11),
    lambda: ActionsBlock(elements=[ButtonElement(text="t" * 76, action_id="a")]),
])
def test_what_slack_sdk_refuses_is_refused_with_the_same_reason(too_big):
    with pytest.raises(SlackObjectFormationError) as theirs:
        too_big().to_dict()
    with pytest.raises(SlackObjectFormationError) as ours:
        block_dicts([too_big()])
    assert str(ours.value) == str(theirs.value)
