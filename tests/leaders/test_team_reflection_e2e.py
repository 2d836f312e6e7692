"""A leader's own team reflection, end to end: signed requests to the running app, the fake Slack
watching, the leaders pass run as the scheduler runs it (with the bot's clock moved week by week).

The conversation: an engineer names a manager; the manager is offered the reflection once and
turns it on; over several weeks the questions of the leaders' document come round, each under
its theme, all before any repeats; answers (modal and thread reply) land in the leader's own log,
marked as team reflections, readable by the leader's manager and not by the leader's reports.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient

from bot import ids
from bot.leaders.plan import leader_questions
from bot.leaders.reflections import run_leaders
from storage.models import Answer, CheckIn
from storage.repositories import Engineers
from tests import slack_requests as req
from tests.checkins.desk import TEAM
from tests.checkins.test_checkins_e2e import question_blocks, said, submit
from tests.growthlog.test_home import open_home
from tests.running_bot import blocks_text, start_bot

MONDAY = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # a Monday, before 09:00
QUIET = 0.3


@pytest.fixture
def bot(fake_slack, database_url):
    bot, stop = start_bot(fake_slack, database_url)
    clock = [MONDAY]
    bot.services.now = lambda: clock[0]
    bot.clock = clock
    for user in ("U2", "U3", "U8", "U9"):
        fake_slack.set_user(user, tz="UTC")
    yield bot
    stop()


def run_pass(bot, at: datetime):
    bot.clock[0] = at
    return run_leaders(bot.services, WebClient(base_url=bot.fake.base_url, token="xoxb-test"), at)


def dms(bot, user: str, event_type: str | None = None) -> list[dict]:
    return [m for m in bot.fake.messages_in("D" + user) if not m.get("thread_ts")]


def reflections(bot, user: str) -> list[dict]:
    return [m for m in dms(bot, user) if "Your team reflection" in blocks_text(m.get("blocks", []))]


def asked(message: dict) -> list[str]:
    text = blocks_text(message["blocks"])
    return [line.split(". ", 1)[1] for line in text.splitlines() if line[:1].isdigit() and ". " in line]


def buttons(message: dict) -> list[dict]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_a_manager_is_offered_once_turns_it_on_and_the_rotation_covers_the_document(bot):
    document = [q.text for q in leader_questions(bot.services.catalog)]
    assert len(document) == 7                                   # the seven feedback-loop questions

    assert "now your manager" in said(bot.command("/growth manager <@U9>", user_id="U2"))
    assert "now your manager" in said(bot.command("/growth manager <@U9>", user_id="U3"))
    run_pass(bot, MONDAY)
    run_pass(bot, MONDAY + timedelta(minutes=1))
    offers = [m for m in dms(bot, "U9") if any(b["action_id"] == ids.LEAD_TURN_ON for b in buttons(m))]
    assert len(offers) == 1                                     # one DM, however many reports and passes

    turned = bot.click(ids.LEAD_TURN_ON, "on", user_id="U9", channel_id="DU9")
    [confirmation] = turned.followups()
    assert "team reflection is *on*" in blocks_text(confirmation["blocks"])
    assert "every week" in said(bot.command("/growth lead mon 09:00", user_id="U9"))
    assert reflections(bot, "U9") == []                         # nothing before its moment

    seen: list[str] = []
    for week in range(3):
        monday = MONDAY + timedelta(weeks=week)
        run_pass(bot, monday + timedelta(hours=1, minutes=5))
        run_pass(bot, monday + timedelta(hours=2))              # a second tick sends nothing more
        assert len(reflections(bot, "U9")) == week + 1
        message = reflections(bot, "U9")[-1]
        seen += asked(message)
        text = blocks_text(message["blocks"])
        assert "Feedback Loops Make Execution Better Over Time" in text
        theme_buttons = [b for b in buttons(message) if b["action_id"].startswith(ids.LADDER_OPEN)]
        assert [b["value"] for b in theme_buttons] == ["theme:execution/feedback-loops"]
    assert set(seen) <= set(document)
    assert seen[:7] == document                                 # every question before any repeats
    # Nothing of it went to the reports, and the leader's own check-in is untouched.
    assert reflections(bot, "U2") == [] and reflections(bot, "U3") == []

    # The theme button opens the theme, as `/ladder feedback loops` does.
    [theme] = [b for b in buttons(reflections(bot, "U9")[0]) if b["action_id"].startswith(ids.LADDER_OPEN)]
    opened = bot.click(theme["action_id"], theme["value"], user_id="U9", channel_id="DU9")
    assert "No delivery model stays effective without feedback" in blocks_text(opened.followups()[0]["blocks"])


def test_answers_by_modal_and_thread_land_in_the_leaders_log_for_their_manager_not_their_reports(bot):
    said(bot.command("/growth manager <@U9>", user_id="U2"))      # U2 reports to U9
    said(bot.command("/growth manager <@U8>", user_id="U9"))      # U9 reports to U8
    run_pass(bot, MONDAY)
    said(bot.command("/growth lead mon 09:00", user_id="U9"))
    run_pass(bot, MONDAY + timedelta(hours=1, minutes=5))
    [first] = reflections(bot, "U9")
    [answer] = [b for b in buttons(first) if b["action_id"] == ids.CHECKIN_ANSWER]

    before = len(bot.fake.calls_to("views.open"))
    bot.click(ids.CHECKIN_ANSWER, answer["value"], user_id="U9", channel_id="DU9",
              message={"type": "message", "ts": first["ts"], "text": first["text"], "blocks": first["blocks"]})
    view = bot.fake.wait_for("views.open", count=before + 1)[-1].args["view"]
    assert view["title"]["text"] == "Team reflection" and "Keep this reflection private" in str(view)
    [q1, *_] = question_blocks(view)
    assert submit(bot, view, {q1["block_id"]: "We replan every sprint: too much in flight."}, user_id="U9",
                  view_id="V-lead-1") == (200, "")

    run_pass(bot, MONDAY + timedelta(weeks=1, hours=1, minutes=5))
    second = reflections(bot, "U9")[-1]
    event = {"type": "message", "channel": "DU9", "channel_type": "im", "user": "U9", "team": TEAM,
             "text": "Blockers surface late: nobody says so in standup.", "ts": "1800000000.000100",
             "thread_ts": second["ts"], "event_ts": "1800000000.000100"}
    body, ctype = req.event_callback(event, event_id="EvLead1")
    assert bot.post(body, ctype)[0] == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _answers(bot, "U9") < 2:
        time.sleep(0.05)
    assert _answers(bot, "U9") == 2

    own = bot.command("/growth log", user_id="U9").text()
    assert own.count("Team reflection, week of") == 2
    assert "too much in flight" in own and "Blockers surface late" in own
    managers = bot.command("/growth log <@U9>", user_id="U8").text()
    assert "too much in flight" in managers and "Team reflection" in managers
    reports = bot.command("/growth log <@U9>", user_id="U2").text()
    assert "too much in flight" not in reports and "Blockers" not in reports
    # The check-in machinery never saw it: no growth check-in for U9 was made.
    kinds = _kinds(bot, "U9")
    assert kinds == ["lead", "lead"]

    # Export, App Home and forget-me cover them like every answer.
    bot.command("/growth export", user_id="U9").followups()
    exported = bot.fake.uploaded_files[-1].content.decode()
    assert exported.count("## Team reflection, week of") == 2 and "too much in flight" in exported
    open_home(bot, "U9")
    bot.fake.wait_for("views.publish")
    assert "Team reflection, week of" in blocks_text(bot.fake.published_views["U9"]["blocks"])
    bot.click(ids.FORGET_DELETE, "U9", user_id="U9").followups()
    assert _kinds(bot, "U9") is None
    with bot.services.session_factory() as session:
        assert session.query(CheckIn).filter_by(kind="lead").count() == 0


def _kinds(bot, user: str) -> list[str] | None:
    with bot.services.session_factory() as session:
        leader = Engineers(session).get(TEAM, user)
        return None if leader is None else [c.kind for c in session.query(CheckIn).filter_by(engineer_id=leader.id)]


def _answers(bot, user: str) -> int:
    with bot.services.session_factory() as session:
        leader = Engineers(session).get(TEAM, user)
        return session.query(Answer).filter_by(engineer_id=leader.id).count()


def test_lead_command_bad_input_changes_nothing_and_off_stops_it(bot):
    for typed, complaint in (("/growth lead every 9 weeks", "“9” isn't a number of weeks"),
                             ("/growth lead someday 10:00", "“someday” is not a weekday"),
                             ("/growth lead mon 25:61", "“25:61” is not a time of day"),
                             ("/growth lead banana", "I don't know `/growth lead banana`")):
        reply = said(bot.command(typed, user_id="U9"))
        assert complaint in reply and "Nothing was changed" in reply
    assert "*off*" in said(bot.command("/growth lead", user_id="U9"))
    assert "every other week" in said(bot.command("/growth lead every 2 weeks", user_id="U9"))
    assert "*on*" in said(bot.command("/growth lead", user_id="U9"))
    assert "now *off*" in said(bot.command("/growth lead off", user_id="U9"))
    for week in range(3):
        run_pass(bot, MONDAY + timedelta(weeks=week, days=4, hours=9))
    assert reflections(bot, "U9") == []
