"""Weekly check-ins end to end: signed requests to the running app, a fake Slack watching.

The conversation a person has with the bot: set up, change settings, get this week's check-in,
answer it (modal or thread), edit it; plus `growth-bot checkins run-due` as cron runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot import ids
from bot.checkins.answering import NOT_YOURS
from storage.db import make_engine, make_session_factory
from storage.models import Answer, CheckIn
from storage.repositories import Answers, Engineers
from tests import slack_requests as req
from tests.checkins.desk import TEAM, add_engineers, checkin_dms, engineer_row, sparse_content, thread_replies
from tests.keys import TEST_KEY_ENV
from tests.running_bot import blocks_text, start_bot

QUIET = 0.3  # how long to watch for a second message that must not come


# -- helpers ----------------------------------------------------------------------------------

def engineer(bot, user_id: str = "U1"):
    with bot.services.session_factory() as session:
        return Engineers(session).get(TEAM, user_id)


def settings_of(bot, user_id: str = "U1") -> dict:
    found = engineer(bot, user_id)
    if found is None:
        return {}
    return {name: getattr(found, name) for name in ("framework_id", "level_id", "checkin_weekday", "checkin_time",
                                                    "questions_per_checkin", "reminders_enabled", "paused_until")}


def said(reply) -> str:
    [message] = reply.followups()
    return blocks_text(message.get("blocks", [])) or message.get("text", "")


def state_for(view: dict, values: dict[str, object]) -> dict:
    """A view_submission's `state.values` for `view`, shaped the way Slack shapes it: each input
    block's element under its own action_id, typed by the element (values keyed by block_id)."""
    state = {}
    for block in view["blocks"]:
        if block.get("type") != "input" or block.get("block_id") not in values:
            continue
        element, value = block["element"], values[block["block_id"]]
        kind = element["type"]
        if kind == "plain_text_input":
            entry = {"type": kind, "value": value}
        elif kind == "static_select":
            entry = {"type": kind, "selected_option": None if value is None else {
                "text": {"type": "plain_text", "text": str(value)}, "value": str(value)}}
        elif kind == "timepicker":
            entry = {"type": kind, "selected_time": value}
        elif kind == "checkboxes":
            entry = {"type": kind, "selected_options": [o for o in element["options"] if value]}
        else:
            raise AssertionError(f"unexpected element {kind}")
        state[block["block_id"]] = {element["action_id"]: entry}
    return state


def submit(bot, view: dict, values: dict[str, object], user_id: str = "U1", view_id: str | None = None):
    body, ctype = req.view_submission(user_id=user_id, callback_id=view["callback_id"],
                                      state_values=state_for(view, values),
                                      private_metadata=view.get("private_metadata", ""),
                                      view_id=view_id or view.get("id", "V1"))
    status, _, text = bot.post(body, ctype)
    if status == 200 and not text and view["callback_id"] == ids.CHECKIN_MODAL:
        bot.settle()  # the modal closed: its answers are written down, and saved a moment later
    return status, text


def checkin_now(bot, user_id: str = "U1") -> dict:
    """`/growth now` and the check-in DM it produced."""
    reply = bot.command("/growth now", user_id=user_id)
    assert "Sent" in said(reply)
    [dm] = checkin_dms(bot.fake, user_id)
    return dm


def answer_button(dm: dict) -> str:
    [value] = [e["value"] for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["action_id"] == ids.CHECKIN_ANSWER]
    return value


def open_answer_modal(bot, dm: dict, user_id: str = "U1") -> dict:
    before = len(bot.fake.calls_to("views.open"))
    bot.click(ids.CHECKIN_ANSWER, answer_button(dm), user_id=user_id, channel_id="D" + user_id,
              message={"type": "message", "ts": dm["ts"], "text": dm["text"], "blocks": dm["blocks"]})
    calls = bot.fake.wait_for("views.open", count=before + 1)
    return calls[-1].args["view"]


def question_blocks(view: dict) -> list[dict]:
    return [b for b in view["blocks"] if b.get("block_id", "").startswith(ids.CHECKIN_QUESTION_BLOCK)]


def stored_answers(bot, checkin_id: int) -> list[Answer]:
    with bot.services.session_factory() as session:
        return Answers(session).for_checkin(checkin_id)


def enrol(bot, user_id: str = "U1", tz: str = "Europe/Berlin") -> None:
    bot.fake.set_user(user_id, tz=tz)
    assert "Senior" in said(bot.command("/growth level senior", user_id=user_id))


# -- /growth setup -----------------------------------------------------------------------------

def test_setup_opens_a_modal_and_submitting_it_saves_everything(running_bot):
    bot = running_bot
    bot.fake.set_user("U1", tz="Asia/Kolkata")
    assert bot.command("/growth setup").status == 200
    [view] = [c.args["view"] for c in bot.fake.wait_for("views.open")]
    assert view["callback_id"] == ids.SETUP_MODAL
    assert {b["block_id"] for b in view["blocks"]} >= {ids.SETUP_LEVEL_BLOCK, ids.SETUP_DAY_BLOCK,
                                                       ids.SETUP_TIME_BLOCK, ids.SETUP_COUNT_BLOCK}
    status, text = submit(bot, view, {ids.SETUP_LEVEL_BLOCK: "staff engineer",
                                      ids.SETUP_FRAMEWORK_BLOCK: "engineering-levels",
                                      ids.SETUP_DAY_BLOCK: "2", ids.SETUP_TIME_BLOCK: "09:30",
                                      ids.SETUP_COUNT_BLOCK: "4", ids.SETUP_REMINDERS_BLOCK: False})
    assert (status, text) == (200, "")                     # an empty ack closes the modal
    # Saving happens after the ack; the confirmation DM is sent once it is done.
    [confirmation] = bot.fake.wait_for("chat.postMessage")
    assert confirmation.args["channel"] == "U1" and "saved" in confirmation.args["text"]
    assert settings_of(bot) == {"framework_id": "engineering-levels", "level_id": "staff", "checkin_weekday": 2,
                                "checkin_time": "09:30", "questions_per_checkin": 4, "reminders_enabled": False,
                                "paused_until": None}
    status_text = said(bot.command("/growth"))
    assert "Wednesdays at 09:30, Asia/Kolkata" in status_text and "Next check-in:* Wednesday" in status_text


def test_setup_refuses_an_unknown_level_or_odd_values_with_field_errors_and_saves_nothing(running_bot):
    bot = running_bot
    bot.command("/growth setup")
    [view] = [c.args["view"] for c in bot.fake.wait_for("views.open")]
    good = {ids.SETUP_LEVEL_BLOCK: "senior", ids.SETUP_DAY_BLOCK: "4", ids.SETUP_TIME_BLOCK: "16:00",
            ids.SETUP_COUNT_BLOCK: "3", ids.SETUP_REMINDERS_BLOCK: True}
    status, text = submit(bot, view, good | {ids.SETUP_LEVEL_BLOCK: "wizard"})
    assert status == 200
    body = json.loads(text)
    assert body["response_action"] == "errors" and list(body["errors"]) == [ids.SETUP_LEVEL_BLOCK]
    assert "wizard" in body["errors"][ids.SETUP_LEVEL_BLOCK]
    status, text = submit(bot, view, good | {ids.SETUP_COUNT_BLOCK: "0", ids.SETUP_TIME_BLOCK: "25:99"})
    body = json.loads(text)
    assert set(body["errors"]) == {ids.SETUP_COUNT_BLOCK, ids.SETUP_TIME_BLOCK}
    assert settings_of(bot).get("level_id") is None and settings_of(bot).get("checkin_weekday") is None
    time.sleep(QUIET)
    assert bot.fake.calls_to("chat.postMessage") == []      # no "saved" DM either


def test_setup_refuses_a_level_that_has_no_questions(fake_slack, sqlite_url, tmp_path):
    bot, stop = start_bot(fake_slack, sqlite_url, CONTENT_DIR=str(sparse_content(tmp_path)))
    try:
        bot.command("/growth setup")
        [view] = [c.args["view"] for c in bot.fake.wait_for("views.open")]
        status, text = submit(bot, view, {ids.SETUP_LEVEL_BLOCK: "cto", ids.SETUP_FRAMEWORK_BLOCK: "engineering-levels",
                                          ids.SETUP_DAY_BLOCK: "4", ids.SETUP_TIME_BLOCK: "16:00",
                                          ids.SETUP_COUNT_BLOCK: "3"})
        errors = json.loads(text)["errors"]
        assert "no reflection questions" in errors[ids.SETUP_LEVEL_BLOCK]
        assert settings_of(bot).get("level_id") is None
        refused = said(bot.command("/growth level cto"))
        assert "no reflection questions" in refused and settings_of(bot).get("level_id") is None
        assert "Sent" not in said(bot.command("/growth now")) and checkin_dms(bot.fake, "U1") == []
    finally:
        stop()


# -- /growth verbs -----------------------------------------------------------------------------

def test_growth_verbs_change_settings_and_bad_input_changes_nothing(running_bot):
    bot = running_bot
    enrol(bot, tz="America/New_York")
    assert settings_of(bot)["level_id"] == "senior"

    unknown = said(bot.command("/growth level wizard"))
    assert "I don't know a level called “wizard”" in unknown and "Nothing was changed" in unknown
    assert settings_of(bot)["level_id"] == "senior"

    assert "Wednesdays at 09:30" in said(bot.command("/growth schedule wed 09:30"))
    before = settings_of(bot)
    refused = said(bot.command("/growth schedule someday 25:99"))
    assert "“someday” is not a weekday" in refused and "“25:99” is not a time of day" in refused
    assert "Nothing was changed" in refused and settings_of(bot) == before

    assert "paused for 2 weeks" in said(bot.command("/growth pause 2 weeks"))
    paused_until = settings_of(bot)["paused_until"]
    assert timedelta(days=13) < paused_until - datetime.now(UTC) <= timedelta(days=14)
    assert "*Paused* until" in said(bot.command("/growth"))
    assert "Nothing was changed" in said(bot.command("/growth pause 2 days"))
    assert settings_of(bot)["paused_until"] == paused_until

    assert "paused until you" in said(bot.command("/growth pause"))
    status = said(bot.command("/growth help"))          # used to crash on the year-9999 pause
    assert "Paused* until you resume" in status and "after you `/growth resume`" in status
    assert "Welcome back" in said(bot.command("/growth resume"))
    assert settings_of(bot)["paused_until"] <= datetime.now(UTC)
    assert "Next check-in:* Wednesday" in said(bot.command("/growth"))

    assert "Reminders are off" in said(bot.command("/growth reminders off"))
    assert "/growth reminders on" in said(bot.command("/growth reminders maybe"))
    assert settings_of(bot)["reminders_enabled"] is False
    assert "Reminders are on" in said(bot.command("/growth reminders on"))
    assert settings_of(bot)["reminders_enabled"] is True


def test_growth_now_sends_this_weeks_checkin_once_then_points_to_it(running_bot):
    bot = running_bot
    enrol(bot)
    dm = checkin_now(bot)
    assert "Your weekly reflection" in blocks_text(dm["blocks"]) and "Senior" in blocks_text(dm["blocks"])
    [again] = bot.command("/growth now").followups()
    assert "already in your DMs" in blocks_text(again["blocks"])
    buttons = [e for b in again["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [(ids.CHECKIN_ANSWER, answer_button(dm))]
    assert bot.fake.post_message_counts() == {"DU1": 1}


# -- answering ------------------------------------------------------------------------------------

def test_answer_modal_stores_once_confirms_once_and_edits_with_a_revision(running_bot):
    bot = running_bot
    enrol(bot)
    dm = checkin_now(bot)
    checkin_id = int(answer_button(dm))
    view = open_answer_modal(bot, dm)
    assert view["callback_id"] == ids.CHECKIN_MODAL and view["private_metadata"] == str(checkin_id)
    questions = question_blocks(view)
    assert len(questions) == 3 and all("initial_value" not in b["element"] for b in questions)
    answers = {b["block_id"]: f"Answer {n}" for n, b in enumerate(questions, 1)}

    first = submit(bot, view, answers, view_id="V-answer-1")
    second = submit(bot, view, answers, view_id="V-answer-1")        # a double-clicked Save
    assert first == second == (200, "")
    [confirmation] = bot.fake.wait_for("chat.postMessage", count=2)[1:]
    assert confirmation.args["thread_ts"] == dm["ts"] and "saved 3 answers" in blocks_text(confirmation.args["blocks"])
    time.sleep(QUIET)
    assert len(thread_replies(bot.fake, "U1", dm["ts"])) == 1
    stored = stored_answers(bot, checkin_id)
    assert [a.text for a in stored] == ["Answer 1", "Answer 2", "Answer 3"]

    # Answer again: the modal comes back filled in; one changed answer is stored with a revision.
    edit = open_answer_modal(bot, dm)
    assert [b["element"].get("initial_value") for b in question_blocks(edit)] == ["Answer 1", "Answer 2", "Answer 3"]
    first_block = question_blocks(edit)[0]["block_id"]
    assert submit(bot, edit, answers | {first_block: "Answer 1, better"}, view_id="V-answer-2") == (200, "")
    replies = bot.fake.wait_for("chat.postMessage", count=3)
    assert "updated 1" in blocks_text(replies[-1].args["blocks"])
    stored = stored_answers(bot, checkin_id)
    assert [a.text for a in stored] == ["Answer 1, better", "Answer 2", "Answer 3"]
    with bot.services.session_factory() as session:
        assert [r.previous_text for r in Answers(session).revisions(stored[0].id)] == ["Answer 1"]
        assert Answers(session).revisions(stored[1].id) == []
        assert session.get(CheckIn, checkin_id).status == "answered"


def test_a_thread_reply_delivered_twice_is_stored_once(running_bot):
    bot = running_bot
    enrol(bot)
    dm = checkin_now(bot)
    event = {"type": "message", "channel": "DU1", "channel_type": "im", "user": "U1", "team": TEAM,
             "text": "This week I finally wrote the design doc.", "ts": "1700000999.000100", "thread_ts": dm["ts"],
             "event_ts": "1700000999.000100"}
    body, ctype = req.event_callback(event, event_id="EvReply1")
    assert bot.post(body, ctype)[0] == 200
    assert bot.post(body, ctype, retry_num=1, retry_reason="http_timeout")[0] == 200
    bot.fake.wait_for("chat.postMessage", count=2)                 # the DM and one confirmation
    time.sleep(QUIET)
    assert len(thread_replies(bot.fake, "U1", dm["ts"])) == 1
    stored = stored_answers(bot, int(answer_button(dm)))
    assert [(a.text, a.source, a.question_id) for a in stored] == [
        ("This week I finally wrote the design doc.", "thread", None)]


def test_someone_else_pressing_your_answer_button_is_refused_and_sees_nothing(running_bot):
    bot = running_bot
    enrol(bot)
    dm = checkin_now(bot)
    view = open_answer_modal(bot, dm)
    submit(bot, view, {b["block_id"]: "My private thoughts" for b in question_blocks(view)}, view_id="V-mine")
    bot.fake.wait_for("chat.postMessage", count=2)
    opened = len(bot.fake.calls_to("views.open"))

    intruder = bot.click(ids.CHECKIN_ANSWER, answer_button(dm), user_id="U2", channel_id="DU1")
    [refusal] = intruder.followups()
    assert refusal["response_type"] == "ephemeral" and NOT_YOURS in blocks_text(refusal["blocks"])
    assert "private thoughts" not in str(refusal)
    time.sleep(QUIET)
    assert len(bot.fake.calls_to("views.open")) == opened      # no modal for them
    # Nor can a crafted submission write into someone else's check-in.
    status, text = submit(bot, view, {b["block_id"]: "Overwritten" for b in question_blocks(view)},
                          user_id="U2", view_id="V-theirs")
    assert status == 200 and NOT_YOURS in text
    assert {a.text for a in stored_answers(bot, int(answer_button(dm)))} == {"My private thoughts"}


# -- growth-bot checkins run-due -------------------------------------------------------------------

def run_due(fake_slack, database_url: str, now: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "SLACK_BOT_TOKEN": "xoxb-cron",
           "SLACK_API_URL": fake_slack.base_url, "DATABASE_URL": database_url, "SCHEDULER_ENABLED": "false",
           "LOG_LEVEL": "WARNING", **TEST_KEY_ENV, **extra}
    growth_bot = Path(sys.executable).with_name("growth-bot")
    return subprocess.run([str(growth_bot), "checkins", "run-due", "--now", now], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_run_due_twice_from_the_command_line_sends_each_dm_once(fake_slack, sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    add_engineers(make_session_factory(engine), [
        engineer_row("UBER", tz="Europe/Berlin"),             # Friday 16:00 Berlin = 15:00 UTC
        engineer_row("UKOL", tz="Asia/Kolkata"),              # Friday 16:00 Kolkata = 10:30 UTC
        engineer_row("UNYC", tz="America/New_York"),          # Friday 16:00 New York = 20:00 UTC: not yet
        engineer_row("UOFF", tz="Europe/Berlin", paused_until=datetime(9999, 12, 31, tzinfo=UTC)),
    ])
    engine.dispose()
    now = "2026-03-13T15:00:00Z"
    first = run_due(fake_slack, sqlite_url, now, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "sent 2, skipped 0, failed 0" in first.stdout
    second = run_due(fake_slack, sqlite_url, now, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "sent 0, skipped 2, failed 0" in second.stdout
    assert fake_slack.post_message_counts() == {"DUBER": 1, "DUKOL": 1}
    assert all(c.headers["authorization"] == "Bearer xoxb-cron" for c in fake_slack.calls_to("chat.postMessage"))


def test_run_due_reports_a_failure_and_exits_non_zero(fake_slack, sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    add_engineers(make_session_factory(engine), [engineer_row("UBER", tz="Europe/Berlin")])
    engine.dispose()
    fake_slack.fail_next("chat.postMessage", "channel_not_found")
    failed = run_due(fake_slack, sqlite_url, "2026-03-13T15:00:00Z", tmp_path)
    assert failed.returncode == 1 and "sent 0, skipped 0, failed 1" in failed.stdout
    assert "UBER" in failed.stderr and "channel_not_found" in failed.stderr
    retried = run_due(fake_slack, sqlite_url, "2026-03-13T15:01:00Z", tmp_path)
    assert retried.returncode == 0 and "sent 1, skipped 0, failed 0" in retried.stdout
    assert fake_slack.post_message_counts() == {"DUBER": 1}
    bad = run_due(fake_slack, sqlite_url, "next friday", tmp_path)
    assert bad.returncode == 2 and "not an ISO-8601 instant" in bad.stderr
