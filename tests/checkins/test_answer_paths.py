"""The less travelled answer paths: a reply that beats the sender's bookkeeping, edits and
deletions made in Slack, privacy that follows the check-in, and DMs outside any thread."""

from __future__ import annotations

import time

from sqlalchemy import update

from bot.checkins.answering import NOT_YOURS, TOP_LEVEL_HINT
from storage.models import Answer, CheckIn
from storage.repositories import Answers
from tests import slack_requests as req
from tests.checkins.desk import TEAM, thread_replies
from tests.checkins.test_checkins_e2e import (
    QUIET,
    answer_button,
    checkin_now,
    enrol,
    open_answer_modal,
    question_blocks,
    stored_answers,
    submit,
)
from tests.running_bot import blocks_text


def dm_event(text: str, ts: str, thread_ts: str | None = None, **extra) -> dict:
    event = {"type": "message", "channel": "DU1", "channel_type": "im", "user": "U1", "team": TEAM,
             "text": text, "ts": ts, "event_ts": ts, **extra}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def edit_event(text: str, thread_ts: str, ts: str = "1700000999.000300", previous: str = "first draft") -> dict:
    """U1 editing their reply `ts` in the check-in thread `thread_ts` to read `text`."""
    return {"type": "message", "subtype": "message_changed", "channel": "DU1", "channel_type": "im",
            "message": {"type": "message", "user": "U1", "text": text, "ts": ts, "thread_ts": thread_ts},
            "previous_message": {"user": "U1", "text": previous, "ts": ts},
            "ts": "1700001000.000001", "event_ts": "1700001000.000001"}


def send_event(bot, event: dict, event_id: str, retry: bool = False) -> None:
    body, ctype = req.event_callback(event, event_id=event_id)
    kwargs = {"retry_num": 1, "retry_reason": "http_timeout"} if retry else {}
    assert bot.post(body, ctype, **kwargs)[0] == 200


def wait_until(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def checkin_with_modal(bot) -> tuple[dict, int, dict, str]:
    """An enrolled engineer's check-in DM, its id, its open answer modal, and the first question's block."""
    enrol(bot)
    dm = checkin_now(bot)
    view = open_answer_modal(bot, dm)
    return dm, int(answer_button(dm)), view, question_blocks(view)[0]["block_id"]


def test_a_reply_before_the_sender_recorded_the_dm_is_found_through_the_message_metadata(running_bot):
    bot = running_bot
    enrol(bot)
    dm = checkin_now(bot)
    checkin_id = int(answer_button(dm))
    # As if the sender had posted but not yet recorded where (mid-chunk, or killed).
    with bot.services.session_factory.begin() as session:
        session.execute(update(CheckIn).where(CheckIn.id == checkin_id)
                        .values(status="sending", channel_id=None, message_ts=None))
    send_event(bot, dm_event("Shipped the migration.", "1700000999.000200", dm["ts"]), "EvEarly")
    stored = wait_until(lambda: stored_answers(bot, checkin_id))
    assert [(a.text, a.source) for a in stored] == [("Shipped the migration.", "thread")]


def test_editing_and_deleting_a_thread_reply_in_slack_updates_the_log(running_bot):
    bot = running_bot
    enrol(bot)
    dm = checkin_now(bot)
    checkin_id = int(answer_button(dm))
    send_event(bot, dm_event("first draft", "1700000999.000300", dm["ts"]), "EvR1")
    wait_until(lambda: stored_answers(bot, checkin_id))

    edited = edit_event("final words", dm["ts"])
    send_event(bot, edited, "EvEdit")
    wait_until(lambda: [a.text for a in stored_answers(bot, checkin_id)] == ["final words"])
    with bot.services.session_factory() as session:
        [answer] = stored_answers(bot, checkin_id)
        assert [r.previous_text for r in Answers(session).revisions(answer.id)] == ["first draft"]

    # Someone else's edit event naming that ts changes nothing.
    forged = dict(edited, message=dict(edited["message"], user="U2", text="not yours"))
    send_event(bot, forged, "EvForged")
    time.sleep(QUIET)
    assert [a.text for a in stored_answers(bot, checkin_id)] == ["final words"]

    deleted = {"type": "message", "subtype": "message_deleted", "channel": "DU1", "channel_type": "im",
               "deleted_ts": "1700000999.000300", "previous_message": {"user": "U1", "ts": "1700000999.000300"},
               "ts": "1700001001.000001", "event_ts": "1700001001.000001"}
    send_event(bot, deleted, "EvDelete")
    wait_until(lambda: stored_answers(bot, checkin_id) == [])


def test_a_thread_reply_to_a_privately_answered_checkin_stays_private(running_bot):
    bot = running_bot
    dm, checkin_id, view, first = checkin_with_modal(bot)
    assert submit(bot, view, {first: "only for me", "privacy": True}, view_id="V-private")[0] == 200
    wait_until(lambda: stored_answers(bot, checkin_id))
    send_event(bot, dm_event("more, in the thread", "1700000999.000400", dm["ts"]), "EvPriv")
    stored = wait_until(lambda: len(stored_answers(bot, checkin_id)) == 2 and stored_answers(bot, checkin_id))
    assert [(a.text, a.is_private) for a in stored] == [("only for me", True), ("more, in the thread", True)]


def test_making_a_checkin_private_is_not_an_edit_of_what_was_written(running_bot):
    bot = running_bot
    dm, checkin_id, view, first = checkin_with_modal(bot)
    assert submit(bot, view, {first: "same words"}, view_id="V-a")[0] == 200
    wait_until(lambda: stored_answers(bot, checkin_id))
    again = open_answer_modal(bot, dm)
    assert submit(bot, again, {first: "same words", "privacy": True}, view_id="V-b")[0] == 200
    [answer] = wait_until(lambda: [a for a in stored_answers(bot, checkin_id) if a.is_private])
    assert answer.updated_at == answer.created_at  # no "(edited)" mark for a manager to notice
    confirmations = bot.fake.wait_for("chat.postMessage", count=3)
    # (The two confirmations may go out in either order: each waits for a lull after its ack.)
    assert any("updated 1" in blocks_text(call.args["blocks"]) for call in confirmations[1:])


def test_a_message_outside_any_thread_gets_one_hint_even_when_slack_retries(running_bot):
    bot = running_bot
    enrol(bot)
    checkin_now(bot)
    event = dm_event("hello bot", "1700000999.000500")
    send_event(bot, event, "EvTop")
    send_event(bot, event, "EvTop", retry=True)
    hints = wait_until(lambda: [m for m in bot.fake.messages_in("DU1") if TOP_LEVEL_HINT[:30] in blocks_text(m.get("blocks", []))])
    time.sleep(QUIET)
    assert len([m for m in bot.fake.messages_in("DU1") if TOP_LEVEL_HINT[:30] in blocks_text(m.get("blocks", []))]) == len(hints) == 1
    with bot.services.session_factory() as session:
        assert session.query(Answer).count() == 0


def test_answer_button_on_the_app_home_for_someone_elses_checkin_is_refused_by_dm(running_bot):
    bot = running_bot
    enrol(bot)
    dm = checkin_now(bot)
    body, ctype = req.block_action(user_id="U2", action_id="checkin_answer", value=answer_button(dm),
                                   view={"id": "VHOME", "type": "home"}, container={"type": "view", "view_id": "VHOME"})
    assert bot.post(body, ctype)[0] == 200
    refusal = wait_until(lambda: [m for m in bot.fake.messages_in("DU2") if NOT_YOURS[:20] in blocks_text(m.get("blocks", []))])
    assert len(refusal) == 1
    assert not bot.fake.calls_to("views.open")
    assert thread_replies(bot.fake, "U1", dm["ts"]) == []
