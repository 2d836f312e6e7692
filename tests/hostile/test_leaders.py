"""Hostile leaders' input: `/growth retro`, `/growth lead`, `/growth team` with junk, Slack failing
under the channel checks, forged buttons on a leader's reflection, every send once through a 500
or a timeout after Slack did the work, on both databases."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot import ids
from bot.leaders.reflections import run_leaders
from tests.checkins.test_checkins_e2e import said
from tests.running_bot import blocks_text, start_bot

SORRY = "went wrong"
MONDAY = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # a Monday, before 09:00 UTC


def quiet_log(caplog) -> None:
    # slack_sdk itself logs one line (no traceback) at ERROR for a dropped connection; not ours.
    ours = [r for r in caplog.records if not (r.name.startswith("slack_sdk") and not r.exc_info)]
    assert not [r for r in ours if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text


@pytest.fixture
def bot(fake_slack, database_url):
    bot, stop = start_bot(fake_slack, database_url)
    bot.clock = [MONDAY]
    bot.services.now = lambda: bot.clock[0]
    fake_slack.add_channel("C1", "team", members=["U1", "U2"])
    for user in ("U1", "U2", "U3", "U8", "U9"):
        fake_slack.set_user(user, tz="UTC")
    yield bot
    stop()


def run_pass(bot, at: datetime):
    bot.clock[0] = at
    return run_leaders(bot.services, WebClient(base_url=bot.fake.base_url, token="xoxb-test"), at)


def dm_roots(bot, user: str) -> list[dict]:
    return [m for m in bot.fake.messages_in("D" + user) if not m.get("thread_ts")]


# -- /growth retro -----------------------------------------------------------------------------

def test_a_retro_every_n_weeks_with_a_number_too_long_for_int_is_refused_in_a_sentence(bot, caplog):
    caplog.set_level(logging.INFO)
    reply = said(bot.command(f"/growth retro <#C1|team> mon 09:00 every {'9' * 5000} weeks", user_id="U1"))
    assert SORRY not in reply and "Nothing was changed" in reply
    quiet_log(caplog)


@pytest.mark.parametrize("typed", ["<!channel> mon 09:00", "<!here> mon 09:00", "<@U2> mon 09:00",
                                   "<#D123|dm> mon 09:00", "#team mon 09:00", "C1 mon 09:00"])
def test_a_retro_for_something_that_is_not_a_channel_reference_is_refused(bot, caplog, typed):
    caplog.set_level(logging.INFO)
    reply = said(bot.command(f"/growth retro {typed}", user_id="U1"))
    assert SORRY not in reply and "Nothing was changed" in reply
    assert not bot.fake.calls_to("conversations.info")
    quiet_log(caplog)


@pytest.mark.parametrize("method", ["conversations.info", "conversations.members"])
@pytest.mark.parametrize("error, status", [("internal_error", 500), ("timeout", 500)])
def test_slack_failing_under_the_channel_checks_gets_a_sentence_not_a_traceback(bot, caplog, method, error, status):
    caplog.set_level(logging.INFO)
    bot.fake.fail_next(method, error, status=status, after_work=True)
    reply = said(bot.command("/growth retro <#C1|team> mon 09:00", user_id="U1"))
    assert SORRY not in reply and "Nothing was changed" in reply
    quiet_log(caplog)
    assert "haven't set up a retro" in said(bot.command("/growth retro", user_id="U1"))


# -- a leader's reflection: somebody else's button ------------------------------------------------

def _a_leaders_reflection(bot) -> dict:
    said(bot.command("/growth manager <@U9>", user_id="U2"))      # U2 reports to U9
    run_pass(bot, MONDAY)
    said(bot.command("/growth lead mon 09:00", user_id="U9"))
    run_pass(bot, MONDAY + timedelta(hours=1, minutes=5))
    [first] = [m for m in dm_roots(bot, "U9") if "Your team reflection" in blocks_text(m.get("blocks", []))]
    return first


def test_a_report_pressing_their_leaders_answer_button_sees_nothing_of_it(bot, caplog):
    caplog.set_level(logging.INFO)
    first = _a_leaders_reflection(bot)
    [answer] = [e for b in first["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == ids.CHECKIN_ANSWER]
    opened = len(bot.fake.calls_to("views.open"))
    for forged in (answer["value"], f" {answer['value']}", f"{answer['value']}.0", "-1", "9" * 40):
        click = bot.click(ids.CHECKIN_ANSWER, forged, user_id="U2", channel_id="DU2")
        assert click.status == 200
    time.sleep(0.5)
    for call in bot.fake.calls_to("views.open")[opened:]:
        assert "Team reflection" not in str(call.args.get("view")), call.args
    quiet_log(caplog)


# -- every send once through Slack's least kind faults, on both databases -----------------------------

@pytest.mark.parametrize("error", ["internal_error", "timeout"])
def test_offer_reflection_and_team_note_are_each_posted_once_through_a_fault_after_posting(bot, caplog, error):
    caplog.set_level(logging.INFO)
    said(bot.command("/growth manager <@U9>", user_id="U2"))
    bot.fake.fail_next("chat.postMessage", error, status=500, after_work=True)
    run_pass(bot, MONDAY)                                     # the offer DM
    said(bot.command("/growth lead mon 09:00", user_id="U9"))
    bot.fake.fail_next("chat.postMessage", error, status=500, after_work=True)
    run_pass(bot, MONDAY + timedelta(hours=1, minutes=5))     # the reflection and the team note (09:00)
    bot.fake.fail_next("chat.postMessage", error, status=500, after_work=True)
    for minutes in (10, 20, 40, 80, 160):                      # the outbox's retries and the recovery pass
        run_pass(bot, MONDAY + timedelta(hours=1, minutes=5 + minutes))
        bot.services.outbox.drain()
    roots = [blocks_text(m.get("blocks", [])) for m in dm_roots(bot, "U9")]
    assert sum("Leaders reflect too" in r for r in roots) == 1, roots
    assert sum("Your team reflection" in r for r in roots) == 1, roots
    assert sum("Your team this week" in r for r in roots) == 1, roots


# -- /growth team for a big team: Slack takes a response_url five times at most ------------------------

def test_the_team_note_on_demand_for_a_big_team_fits_in_five_responses(bot, caplog):
    from tests.checkins.desk import add_engineers, engineer_row

    caplog.set_level(logging.INFO)
    add_engineers(bot.services.session_factory, [engineer_row("UM")] + [
        engineer_row(f"UR{n:04d}", manager_user_id="UM") for n in range(600)])
    reply = bot.command("/growth team", user_id="UM")
    assert reply.status == 200
    deadline = time.monotonic() + 30        # waited for, not slept on: a loaded machine is slow
    while True:
        messages = ([reply.body] if reply.blocks else []) + bot.fake.responses_for(reply.token)
        shown = "\n".join(blocks_text(m.get("blocks", [])) for m in messages)
        if "<@UR0599>" in shown or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    time.sleep(0.5)                         # and then a moment for any post beyond the fifth
    # "You can use a response_url up to five times within 30 minutes" (Slack's docs): the sixth is refused.
    assert len(messages) <= 5, len(messages)
    shown = "\n".join(blocks_text(m.get("blocks", [])) for m in messages)
    assert all(f"<@UR{n:04d}>" in shown for n in range(600))
    for message in messages:
        blocks = message.get("blocks", [])
        assert len(blocks) <= 50 and all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    quiet_log(caplog)


def test_a_team_too_big_for_five_responses_says_so_instead_of_losing_the_rest(bot, caplog):
    from tests.checkins.desk import add_engineers, engineer_row

    caplog.set_level(logging.INFO)
    add_engineers(bot.services.session_factory, [engineer_row("UM")] + [
        engineer_row(f"UR{n:04d}", manager_user_id="UM") for n in range(800)])
    reply = bot.command("/growth team", user_id="UM")
    in_ack = [reply.body] if reply.blocks else []
    # Waited for, not slept on: on a loaded machine the posts after the ack take a while.
    messages = in_ack + bot.fake.wait_for_response(reply.token, count=5 - len(in_ack), timeout=30)
    assert len(messages) == 5
    assert "lists everyone" in blocks_text(messages[-1]["blocks"])
    quiet_log(caplog)


# -- the team note at a time the clock skips or repeats ------------------------------------------------

@pytest.mark.parametrize("sunday", [datetime(2027, 3, 28, tzinfo=UTC), datetime(2026, 10, 25, tzinfo=UTC)])
def test_a_team_note_at_0230_on_a_dst_sunday_comes_once(bot, caplog, sunday):
    caplog.set_level(logging.INFO)
    bot.fake.set_user("U9", tz="Europe/Berlin")
    bot.clock[0] = sunday - timedelta(days=6)                   # that week's Monday
    said(bot.command("/growth manager <@U9>", user_id="U2"))
    reply = said(bot.command("/growth team note sun 02:30", user_id="U9"))
    assert "Sundays at 02:30 (Europe/Berlin)" in reply and SORRY not in reply, reply
    at = sunday - timedelta(hours=2)
    while at < sunday + timedelta(hours=6):
        run_pass(bot, at)
        at += timedelta(minutes=15)
    notes = [m for m in dm_roots(bot, "U9") if "Your team this week" in blocks_text(m.get("blocks", []))]
    assert len(notes) == 1
    quiet_log(caplog)
