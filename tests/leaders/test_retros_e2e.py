"""Team retros in a channel, end to end: set up with signed `/growth retro` requests (every bad
input answered in a sentence), posted by the leaders pass at the poster's local time across a
DST change, summarised at the end of the week with the threads' counts, stopped by `off`, and
every message posted exactly once through a killed pass and Slack's faults, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot.leaders.retros import _queue_due, retro_questions, run_retros
from storage.models import Answer, RetroRun
from tests import slack_requests as req
from tests.checkins.test_checkins_e2e import said
from tests.running_bot import blocks_text, start_bot

# Europe/Berlin leaves summer time on Sunday 25 October 2026: 09:00 is 07:00 UTC before, 08:00 after.
SET_UP_AT = datetime(2026, 10, 12, 8, 0, tzinfo=UTC)          # Monday 10:00 in Berlin: this week's 09:00 is gone
FIRST = datetime(2026, 10, 19, 7, 0, tzinfo=UTC)              # Monday 09:00 CEST
SECOND = datetime(2026, 10, 26, 8, 0, tzinfo=UTC)             # Monday 09:00 CET
RETRO = "/growth retro <#C1|team> mon 09:00"


@pytest.fixture
def bot(fake_slack, database_url):
    bot, stop = start_bot(fake_slack, database_url)
    bot.clock = [SET_UP_AT]
    bot.services.now = lambda: bot.clock[0]
    fake_slack.add_channel("C1", "team", members=["U1", "U2"])
    fake_slack.add_channel("C2", "general", bot_member=False, members=["U1"])
    fake_slack.add_channel("G3", "secret", private=True, bot_member=False, members=["U1"])
    fake_slack.add_channel("C4", "old", archived=True, members=["U1"])
    for user in ("U1", "U2", "U3"):
        fake_slack.set_user(user, tz="Europe/Berlin")
    yield bot
    stop()


def run_at(bot, at: datetime) -> int:
    bot.clock[0] = at
    return run_retros(bot.services, WebClient(base_url=bot.fake.base_url, token="xoxb-test"), at)


def posts(bot, channel: str = "C1") -> list[dict]:
    return [m for m in bot.fake.messages_in(channel) if m.get("user") == "UBOT" and not m.get("thread_ts")]


def questions_posted(bot) -> list[dict]:
    return [m for m in posts(bot) if "Team retro ·" in blocks_text(m["blocks"])]


def summaries(bot) -> list[dict]:
    return [m for m in posts(bot) if "Team retro summary" in blocks_text(m["blocks"])]


def test_bad_input_gets_a_clear_reply_and_sets_up_nothing(bot):
    for typed, complaint in (
        ("/growth retro #team mon 09:00", "pick it from Slack's # menu"),
        ("/growth retro <#C2|general> mon 09:00", "I'm not in <#C2> yet"),
        ("/growth retro <#G3|secret> mon 09:00", "I can't see that channel"),
        ("/growth retro <#C4|old> mon 09:00", "is archived"),
        ("/growth retro <#C1|team> someday 09:00", "“someday” is not a weekday"),
        ("/growth retro <#C1|team> mon 25:00", "“25:00” is not a time of day"),
        ("/growth retro <#C1|team> mon 09:00 every 9 weeks", "isn't a rhythm I know"),
        ("/growth retro <#C1|team>", "I need a weekday and a time"),
    ):
        reply = said(bot.command(typed, user_id="U1"))
        assert complaint in reply and "Nothing was changed" in reply, typed
    assert "/invite @Growth" in said(bot.command("/growth retro <#C2|general> mon 09:00", user_id="U1"))
    assert "Only people in <#C1>" in said(bot.command(RETRO, user_id="U3"))
    assert "haven't set up a retro" in said(bot.command("/growth retro", user_id="U1"))


def test_posted_at_local_time_across_dst_summarised_with_counts_and_stopped_by_off(bot):
    done = said(bot.command(RETRO, user_id="U1"))
    assert "Mondays at 09:00" in done and "Europe/Berlin" in done
    assert "<#C1>: Mondays at 09:00 (Europe/Berlin), every week" in said(bot.command("/growth retro", user_id="U1"))
    document = [q.text for q in retro_questions(bot.services.catalog)]
    assert len(document) == 7

    run_at(bot, SET_UP_AT + timedelta(minutes=5))
    assert questions_posted(bot) == []                          # its moment this week had gone
    run_at(bot, FIRST - timedelta(minutes=1))
    assert questions_posted(bot) == []
    run_at(bot, FIRST)
    first = questions_posted(bot)
    assert [blocks_text(m["blocks"]).split(">")[-1].split("\n")[0] for m in first] == document
    run_at(bot, FIRST + timedelta(hours=2))
    assert len(questions_posted(bot)) == 7                      # a later tick posts nothing more

    # The team answers in the threads; channel replies never reach anyone's growth log.
    bot.fake.reply_in_thread("C1", first[0]["ts"], "U1", "We replanned twice")
    bot.fake.reply_in_thread("C1", first[0]["ts"], "U2", "Three times, really")
    bot.fake.reply_in_thread("C1", first[0]["ts"], "U2", "Well, two and a half")
    bot.fake.reply_in_thread("C1", first[3]["ts"], "U2", "Stable since the freeze")
    event = {"type": "message", "channel": "C1", "channel_type": "channel", "user": "U2", "team": "T1",
             "text": "Three times, really", "ts": "1800000000.000200", "thread_ts": first[0]["ts"]}
    body, ctype = req.event_callback(event, event_id="EvChannel1")
    assert bot.post(body, ctype)[0] == 200

    run_at(bot, SECOND - timedelta(hours=9))                    # Monday 00:00 CET is 23:00 UTC on Sunday
    run_at(bot, SECOND - timedelta(hours=8))
    [summary] = summaries(bot)
    lines = [line for line in blocks_text(summary["blocks"]).splitlines() if line[:1].isdigit()]
    assert len(lines) == 7
    assert "2 people answered" in lines[0] and "1 person answered" in lines[3] and "0 people answered" in lines[1]
    assert f"https://test.slack.com/archives/C1/p{first[0]['ts'].replace('.', '')}" in lines[0]
    assert "We replanned" not in str(summary)                    # counts, never content
    with bot.services.session_factory() as session:
        assert session.query(Answer).count() == 0

    run_at(bot, SECOND - timedelta(minutes=1))                  # 08:59 CET
    assert len(questions_posted(bot)) == 7
    run_at(bot, SECOND)                                         # 09:00 CET, an hour later in UTC
    assert len(questions_posted(bot)) == 14 and len(summaries(bot)) == 1

    assert "no more retros in <#C1>" in said(bot.command("/growth retro <#C1|team> off", user_id="U2"))
    run_at(bot, SECOND + timedelta(weeks=1))
    assert len(questions_posted(bot)) == 14
    run_at(bot, SECOND + timedelta(weeks=1, hours=1))           # last week's summary still comes
    assert len(summaries(bot)) == 2


def test_every_message_once_through_a_killed_pass_and_slack_faults(bot):
    said(bot.command(RETRO + " every 2 weeks", user_id="U1"))
    bot.clock[0] = FIRST
    queued = _queue_due(bot.services, FIRST)                    # the pass queues, then is killed
    assert len(queued) == 7 and posts(bot) == []
    assert _queue_due(bot.services, FIRST + timedelta(minutes=1)) == []   # the next one queues nothing more
    bot.fake.fail_next("chat.postMessage", error="internal_error", status=500, after_work=True)
    bot.fake.fail_next("chat.postMessage", error="timeout", after_work=True)
    bot.services.outbox.drain()                                 # the recovery pass
    for minutes in (1, 2, 5):
        bot.clock[0] = FIRST + timedelta(minutes=minutes)
        bot.services.outbox.drain()
    assert len(questions_posted(bot)) == 7                      # two of them twice through Slack, once in it
    assert bot.fake.post_message_counts()["C1"] == 7
    run_at(bot, FIRST + timedelta(weeks=1))                     # every 2 weeks: not this one
    assert len(questions_posted(bot)) == 7
    run_at(bot, FIRST + timedelta(weeks=1, hours=1))
    run_at(bot, FIRST + timedelta(weeks=1, hours=2))            # the summary, once
    assert len(summaries(bot)) == 1
    with bot.services.session_factory() as session:
        assert session.query(RetroRun).count() == 1


def test_a_question_slack_refused_for_good_does_not_hold_up_the_summary(bot):
    said(bot.command(RETRO, user_id="U1"))
    bot.fake.fail_next("chat.postMessage", error="not_in_channel")   # the bot was removed mid-pass
    run_at(bot, FIRST)
    assert len(questions_posted(bot)) == 6
    run_at(bot, FIRST + timedelta(weeks=1, hours=1))              # the week is over
    [summary] = summaries(bot)
    lines = [line for line in blocks_text(summary["blocks"]).splitlines() if line[:1].isdigit()]
    assert len(lines) == 6                                        # the six that were posted
    run_at(bot, FIRST + timedelta(weeks=1, hours=2))
    assert len(summaries(bot)) == 1
