"""A thread reply the databases cannot hold as typed: refused in the thread with the reason,
nothing stored, no traceback, on SQLite and PostgreSQL; an edit like it keeps the earlier reply."""

from __future__ import annotations

import logging
import time

import pytest

from bot.domain.limits import ANSWER_MAX_LENGTH
from tests.checkins.desk import thread_replies
from tests.checkins.test_answer_paths import dm_event, edit_event, send_event, wait_until
from tests.checkins.test_checkins_e2e import QUIET, answer_button, checkin_now, enrol, stored_answers
from tests.hostile.test_answers import bot_on, quiet_log  # noqa: F401 - the fixture
from tests.running_bot import blocks_text

CANNOT = [("before\x00after", "NUL character (U+0000)"),
          ("x" * (ANSWER_MAX_LENGTH + 1), "3,001 characters long"),
          ("half \ud83d emoji", "half of a character")]


def said(message: dict) -> str:
    return blocks_text(message.get("blocks", [])) or message.get("text", "")


@pytest.mark.parametrize("text, why", CANNOT, ids=["nul", "too-long", "surrogate"])
def test_a_reply_that_cannot_be_stored_is_refused_in_the_thread(bot_on, caplog, text, why):
    caplog.set_level(logging.INFO)
    bot = bot_on
    enrol(bot)
    dm = checkin_now(bot)
    checkin_id = int(answer_button(dm))
    send_event(bot, dm_event(text, "1700000999.000200", dm["ts"]), "EvBad")
    [refusal] = wait_until(lambda: thread_replies(bot.fake, "U1", dm["ts"]))
    assert "couldn't save that reply" in said(refusal) and why in said(refusal)
    assert "Nothing from it was saved." in said(refusal)
    assert stored_answers(bot, checkin_id) == []
    # Slack's retry of the same event is not refused twice.
    send_event(bot, dm_event(text, "1700000999.000200", dm["ts"]), "EvBad", retry=True)
    time.sleep(QUIET)
    assert len(thread_replies(bot.fake, "U1", dm["ts"])) == 1
    # The next reply, typed normally, is saved as ever.
    send_event(bot, dm_event("Shipped it.", "1700000999.000300", dm["ts"]), "EvGood")
    wait_until(lambda: [a.text for a in stored_answers(bot, checkin_id)] == ["Shipped it."])
    quiet_log(caplog)


def test_an_edit_that_cannot_be_stored_keeps_the_earlier_reply_and_says_why(bot_on, caplog):
    caplog.set_level(logging.INFO)
    bot = bot_on
    enrol(bot)
    dm = checkin_now(bot)
    checkin_id = int(answer_button(dm))
    send_event(bot, dm_event("first draft", "1700000999.000300", dm["ts"]), "EvR1")
    wait_until(lambda: stored_answers(bot, checkin_id))
    edited = edit_event("final\x00words", dm["ts"])
    send_event(bot, edited, "EvEdit")
    time.sleep(QUIET)
    bot.services.outbox.drain()
    notices = wait_until(lambda: [m for m in thread_replies(bot.fake, "U1", dm["ts"]) if "that edit" in said(m)])
    assert "NUL character" in said(notices[0]) and "Your earlier reply is kept." in said(notices[0])
    assert [a.text for a in stored_answers(bot, checkin_id)] == ["first draft"]
    quiet_log(caplog)
