"""Half a surrogate pair in a modal answer: refused in the modal on both databases, not a 500."""

from __future__ import annotations

import json
import logging

from tests.checkins.test_checkins_e2e import (
    answer_button,
    checkin_now,
    enrol,
    open_answer_modal,
    question_blocks,
    stored_answers,
    submit,
)
from tests.hostile.test_answers import bot_on, quiet_log  # noqa: F401 - the fixture


def test_half_an_emoji_is_refused_in_the_modal_and_nothing_is_stored(bot_on, caplog):
    caplog.set_level(logging.INFO)
    bot = bot_on
    enrol(bot)
    dm = checkin_now(bot)
    view = open_answer_modal(bot, dm)
    block = question_blocks(view)[0]["block_id"]
    status, body = submit(bot, view, {block: "half \ud83d emoji"})
    assert status == 200, body
    answer = json.loads(body)
    assert answer["response_action"] == "errors" and "half of a character" in answer["errors"][block]
    assert stored_answers(bot, int(answer_button(dm))) == []
    quiet_log(caplog)
