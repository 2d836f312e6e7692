"""Crafted values through the running bot: a polite refusal, nothing stored wrongly, no traceback.

Every integer from Slack is read by `strict_int` (ASCII digits, within int64): "²" passes
`str.isdigit()` but not `int()`, and 2**70 fits no database column.
"""

from __future__ import annotations

import json
import logging
import time

import pytest

from bot import ids
from bot.domain.numbers import INT64_MAX
from storage.repositories import Engineers
from tests.checkins.desk import TEAM
from tests.running_bot import blocks_text

SORRY = "went wrong"
HUGE = str(2 ** 70)


def answer_of(reply) -> str:
    """What the person read: the ack's blocks, or the message posted to the response_url."""
    if reply.blocks:
        return reply.text()
    [message] = reply.followups()
    return blocks_text(message.get("blocks", [])) or message.get("text", "")


def quiet_log(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text


@pytest.fixture
def enrolled(running_bot):
    running_bot.fake.set_user("U1", tz="Europe/Berlin")
    assert "Senior" in answer_of(running_bot.command("/growth level senior"))
    return running_bot


def paused_until(bot):
    with bot.services.session_factory() as session:
        return Engineers(session).get(TEAM, "U1").paused_until


@pytest.mark.parametrize("weeks", ["²", "٣", "1²", HUGE, str(INT64_MAX + 1), "-1", "+2", "0"])
def test_growth_pause_with_a_crafted_number_is_refused_and_changes_nothing(enrolled, caplog, weeks):
    caplog.set_level(logging.INFO)
    text = answer_of(enrolled.command(f"/growth pause {weeks}"))
    assert "Pause for how long?" in text and "Nothing was changed" in text and SORRY not in text
    assert paused_until(enrolled) is None
    quiet_log(caplog)


@pytest.mark.parametrize("count", ["²", HUGE, "9" * 30, "-5"])
def test_growth_log_last_with_a_crafted_number_is_refused(running_bot, caplog, count):
    caplog.set_level(logging.INFO)
    text = answer_of(running_bot.command(f"/growth log last {count}"))
    assert f"`last {count}`" in text and "whole number" in text and SORRY not in text
    quiet_log(caplog)


def test_growth_level_does_not_echo_a_mention_unescaped(running_bot, caplog):
    caplog.set_level(logging.INFO)
    text = answer_of(running_bot.command("/growth level <!channel> & <@U9>"))
    assert "<!channel>" not in text and "<@U9>" not in text
    assert "&lt;!channel&gt; &amp; &lt;@U9&gt;" in text and "Nothing was changed" in text
    quiet_log(caplog)


def test_an_unknown_verb_and_a_bad_schedule_are_echoed_escaped(enrolled):
    unknown = answer_of(enrolled.command("/growth <!here>"))
    assert "<!here>" not in unknown and "&lt;!here&gt;" in unknown
    schedule = answer_of(enrolled.command("/growth schedule fri <!everyone>"))
    assert "<!everyone>" not in schedule and "“&lt;!everyone&gt;” is not a time of day" in schedule


@pytest.mark.parametrize("value", [
    json.dumps({"o": "U1", "p": 2 ** 70}), json.dumps({"o": "U1", "p": "²"}), json.dumps({"o": "U1", "p": 1, "l": HUGE}),
    json.dumps({"o": "U1", "p": True}), json.dumps({"o": "U1", "p": 1.5}), "²", HUGE, "null", "[]",
])
def test_a_crafted_paging_button_is_refused_politely(running_bot, caplog, value):
    caplog.set_level(logging.INFO)
    click = running_bot.click(ids.LOG_OLDER, value)
    assert click.status == 200
    time.sleep(0.3)
    for message in running_bot.fake.responses_for(click.token):
        assert SORRY not in blocks_text(message.get("blocks", [])) + str(message.get("text", ""))
    quiet_log(caplog)


@pytest.mark.parametrize("answer_id, private", [(2 ** 70, 1), ("²", 1), (1, 2 ** 70), (1, "²"), (-1, 1), (True, 1)])
def test_a_crafted_privacy_toggle_is_refused_politely(running_bot, caplog, answer_id, private):
    caplog.set_level(logging.INFO)
    value = json.dumps({"a": answer_id, "v": private, "q": json.dumps({"o": "U1", "p": 0})})
    click = running_bot.click(f"{ids.LOG_PRIVACY}:1", value)
    assert click.status == 200
    time.sleep(0.3)
    for message in running_bot.fake.responses_for(click.token):
        assert SORRY not in blocks_text(message.get("blocks", [])) + str(message.get("text", ""))
    quiet_log(caplog)
