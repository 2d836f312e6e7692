"""Hostile answers: crafted numbers in the Answer button and the modal's private_metadata,
answer text Slack's own client would never send (U+0000, past the modal's max_length)."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, urlencode

import pytest

from bot import ids
from bot.blocks.checkin import ANSWER_MAX_LENGTH
from bot.checkins.answering import NOT_YOURS
from tests.checkins.test_checkins_e2e import (
    answer_button,
    checkin_now,
    enrol,
    open_answer_modal,
    question_blocks,
    stored_answers,
    submit,
)
from tests import slack_requests as req
from tests.running_bot import blocks_text, start_bot

CRAFTED = ["²", "٣", "1²", str(2 ** 70), str(2 ** 63), "-1", "+1", " 1"]


def quiet_log(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("value", CRAFTED)
def test_an_answer_button_with_a_crafted_number_says_not_yours(running_bot, caplog, value):
    caplog.set_level(logging.INFO)
    bot = running_bot
    enrol(bot)
    reply = bot.click(ids.CHECKIN_ANSWER, value, channel_id="DU1")
    assert reply.status == 200
    [message] = reply.followups()
    assert NOT_YOURS in blocks_text(message.get("blocks", []))
    assert bot.fake.calls_to("views.open") == []
    quiet_log(caplog)


@pytest.mark.parametrize("metadata", CRAFTED)
def test_an_answer_modal_with_crafted_private_metadata_is_refused_in_the_modal(running_bot, caplog, metadata):
    caplog.set_level(logging.INFO)
    bot = running_bot
    enrol(bot)
    dm = checkin_now(bot)
    view = open_answer_modal(bot, dm)
    block = question_blocks(view)[0]["block_id"]
    status, text = submit(bot, {**view, "private_metadata": metadata}, {block: "crafted"})
    assert status == 200
    assert json.loads(text)["response_action"] == "errors"
    assert stored_answers(bot, int(answer_button(dm))) == []
    quiet_log(caplog)


@pytest.fixture
def bot_on(fake_slack, database_url):
    bot, stop = start_bot(fake_slack, database_url)
    yield bot
    stop()


@pytest.mark.parametrize("text", ["before\x00after", "x" * (ANSWER_MAX_LENGTH + 1)], ids=["nul", "too-long"])
def test_an_answer_slack_would_not_send_is_refused_with_a_reason_and_nothing_is_lost(bot_on, caplog, text):
    caplog.set_level(logging.INFO)
    bot = bot_on
    enrol(bot)
    dm = checkin_now(bot)
    view = open_answer_modal(bot, dm)
    block = question_blocks(view)[0]["block_id"]
    status, body = submit(bot, view, {block: text})
    assert status == 200, body
    answer = json.loads(body)
    assert answer["response_action"] == "errors" and block in answer["errors"]
    assert answer["errors"][block].strip()
    assert stored_answers(bot, int(answer_button(dm))) == []
    quiet_log(caplog)


@pytest.mark.parametrize("element", [{"type": "plain_text_input", "value": 5}, {"type": "plain_text_input", "value": ["a"]},
                                     {"type": "plain_text_input", "value": {"a": 1}}, ["not", "a", "dict"], "text"],
                         ids=["int", "list", "object", "element-list", "element-string"])
def test_an_answer_modal_whose_state_is_not_slacks_shape_is_refused_without_a_traceback(running_bot, caplog, element):
    caplog.set_level(logging.INFO)
    bot = running_bot
    enrol(bot)
    dm = checkin_now(bot)
    view = open_answer_modal(bot, dm)
    block = question_blocks(view)[0]["block_id"]
    body, ctype = req.view_submission(user_id="U1", callback_id=view["callback_id"],
                                      state_values={block: {ids.CHECKIN_ANSWER_INPUT: {"type": "plain_text_input", "value": "x"}}},
                                      private_metadata=view.get("private_metadata", ""), view_id="V1")
    payload = json.loads(parse_qs(body)["payload"][0])
    payload["view"]["state"]["values"][block][ids.CHECKIN_ANSWER_INPUT] = element
    status, _, text = bot.post(urlencode({"payload": json.dumps(payload)}), ctype)
    assert status == 200, text
    assert stored_answers(bot, int(answer_button(dm))) == []
    quiet_log(caplog)
