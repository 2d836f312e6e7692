"""Hostile DM events: replayed and forged deliveries, colliding ids, events that are not DMs."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest

from tests.checkins.test_answer_paths import dm_event, send_event, wait_until
from tests.checkins.test_checkins_e2e import answer_button, checkin_now, enrol, stored_answers
from tests.running_bot import start_bot

QUIET = 0.5


@pytest.fixture
def bot_on(fake_slack, database_url):
    bot, stop = start_bot(fake_slack, database_url)
    yield bot
    stop()


def confirmations(bot, channel: str) -> list[dict]:
    """The "Saved" confirmations the DM shows (a post that failed after the work counts too)."""
    return [m for m in bot.fake.messages_in(channel) if m.get("text") == "Saved to your growth log"]


def test_two_engineers_replying_with_the_same_ts_in_their_own_dms_both_keep_their_answer(bot_on):
    # Slack's ts is unique within a channel, not across channels (nor across workspaces).
    bot = bot_on
    enrol(bot, "U1")
    enrol(bot, "U2")
    dm1, dm2 = checkin_now(bot, "U1"), checkin_now(bot, "U2")
    ts = "1700009999.000100"
    send_event(bot, dm_event("mine", ts, dm1["ts"]), "EvSameTs1")
    send_event(bot, dm_event("theirs", ts, dm2["ts"], channel="DU2", user="U2"), "EvSameTs2")
    wait_until(lambda: stored_answers(bot, int(answer_button(dm1))))
    assert [a.text for a in wait_until(lambda: stored_answers(bot, int(answer_button(dm2))))] == ["theirs"]
    assert [a.text for a in stored_answers(bot, int(answer_button(dm1)))] == ["mine"]


FAULTS = [("internal_error", 500), ("timeout", 200)]


def drain_later(bot, minutes: int = 30) -> None:
    from bot.outbox.sender import OutboxSender

    later = bot.services.now() + timedelta(minutes=minutes)
    OutboxSender(bot.services.uow, bot.services.outbox.client, lambda: later).drain()


@pytest.mark.parametrize("error,status", FAULTS, ids=["500", "timeout"])
def test_a_thread_reply_confirmed_through_a_fault_after_posting_is_confirmed_once(bot_on, caplog, error, status):
    bot = bot_on
    enrol(bot)
    dm = checkin_now(bot)
    bot.fake.fail_next("chat.postMessage", error, status=status, after_work=True)
    send_event(bot, dm_event("through the fault", "1700009999.000300", dm["ts"]), "EvFault")
    wait_until(lambda: stored_answers(bot, int(answer_button(dm))))
    time.sleep(QUIET)
    drain_later(bot)
    drain_later(bot, 120)
    assert len(confirmations(bot, "DU1")) == 1
    # Slack's retry of the same delivery: stored once, confirmed once.
    send_event(bot, dm_event("through the fault", "1700009999.000300", dm["ts"]), "EvFault", retry=True)
    time.sleep(QUIET)
    assert len(stored_answers(bot, int(answer_button(dm)))) == 1
    assert len(confirmations(bot, "DU1")) == 1


@pytest.mark.parametrize("error,status", FAULTS, ids=["500", "timeout"])
def test_a_modal_answer_confirmed_through_a_fault_after_posting_is_confirmed_once(bot_on, error, status):
    from tests.checkins.test_checkins_e2e import open_answer_modal, question_blocks, submit

    bot = bot_on
    enrol(bot)
    dm = checkin_now(bot)
    view = open_answer_modal(bot, dm)
    block = question_blocks(view)[0]["block_id"]
    bot.fake.fail_next("chat.postMessage", error, status=status, after_work=True)
    assert submit(bot, view, {block: "saved through the fault"})[0] == 200
    assert [a.text for a in stored_answers(bot, int(answer_button(dm)))] == ["saved through the fault"]
    time.sleep(QUIET)
    drain_later(bot)
    drain_later(bot, 120)
    assert submit(bot, view, {block: "saved through the fault"})[0] == 200   # a double-clicked Save
    time.sleep(QUIET)
    drain_later(bot, 240)
    assert len(confirmations(bot, "DU1")) == 1



def test_a_reply_deleted_before_its_delivery_arrives_stays_deleted(bot_on):
    # Slack retries a delivery the bot did not acknowledge (down, slow) for up to an hour, and
    # sends the deletion whenever it happens: the deletion can come first. The engineer deleted
    # the reply; it must not appear in the log their manager reads.
    bot = bot_on
    enrol(bot)
    dm = checkin_now(bot)
    ts = "1700009999.000500"
    deleted = {"type": "message", "subtype": "message_deleted", "channel": "DU1", "channel_type": "im", "hidden": True,
               "deleted_ts": ts, "previous_message": {"type": "message", "user": "U1", "ts": ts, "thread_ts": dm["ts"],
                                                       "text": "regretted"},
               "ts": "1700010000.000001", "event_ts": "1700010000.000001"}
    send_event(bot, deleted, "EvDeletedFirst")
    time.sleep(QUIET)
    send_event(bot, dm_event("regretted", ts, dm["ts"]), "EvLateOriginal", retry=True)
    time.sleep(QUIET * 2)
    assert stored_answers(bot, int(answer_button(dm))) == []


def test_an_edit_that_arrives_before_its_message_is_not_lost(bot_on):
    bot = bot_on
    enrol(bot)
    dm = checkin_now(bot)
    ts = "1700009999.000600"
    edited = {"type": "message", "subtype": "message_changed", "channel": "DU1", "channel_type": "im", "hidden": True,
              "message": {"type": "message", "user": "U1", "text": "second thoughts", "ts": ts, "thread_ts": dm["ts"],
                          "edited": {"user": "U1", "ts": "1700010000.000000"}},
              "previous_message": {"type": "message", "user": "U1", "text": "first thoughts", "ts": ts},
              "ts": "1700010000.000002", "event_ts": "1700010000.000002"}
    send_event(bot, edited, "EvEditedFirst")
    time.sleep(QUIET)
    send_event(bot, dm_event("first thoughts", ts, dm["ts"]), "EvLateOriginal2", retry=True)
    time.sleep(QUIET * 2)
    assert [a.text for a in stored_answers(bot, int(answer_button(dm)))] == ["second thoughts"]


def test_a_confirmation_in_a_long_thread_posted_through_a_fault_is_posted_once(bot_on):
    # The lookup before a re-post reads the thread oldest first (conversations.replies): in a
    # check-in thread of more than 100 messages the earlier post is past the first page.
    bot = bot_on
    enrol(bot)
    dm = checkin_now(bot)
    for n in range(101):
        send_event(bot, dm_event(f"note {n}", f"1700020000.{n:06d}", dm["ts"]), f"EvLong{n}")
    wait_until(lambda: len(confirmations(bot, "DU1")) == 101, timeout=30)
    bot.fake.fail_next("chat.postMessage", "internal_error", status=500, after_work=True)
    send_event(bot, dm_event("through the fault", "1700020000.999999", dm["ts"]), "EvLongFault")
    wait_until(lambda: len(stored_answers(bot, int(answer_button(dm)))) == 102)
    time.sleep(QUIET)
    drain_later(bot)
    drain_later(bot, 120)
    assert len(confirmations(bot, "DU1")) == 102


def test_an_event_id_another_workspace_used_does_not_swallow_this_ones_reply(running_bot):
    # Slack says event ids are unique everywhere; the inbox need not bet an answer on it once
    # more than one workspace talks to the bot: a delivery is Slack's retry only within its team.
    bot = running_bot
    enrol(bot)
    dm = checkin_now(bot)
    from tests import slack_requests as req

    body, ctype = req.event_callback(dm_event("elsewhere", "1700030000.000005", "1700000000.000001", team="T2",
                                              user="U9", channel="DU9"), event_id="EvShared", team_id="T2")
    assert bot.post(body, ctype)[0] == 200
    send_event(bot, dm_event("mine", "1700030000.000006", dm["ts"]), "EvShared")
    assert [a.text for a in wait_until(lambda: stored_answers(bot, int(answer_button(dm))))] == ["mine"]
