"""Recurring 1:1s and the automatic prep digest: in the manager's zone, before the meeting, exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from freezegun import freeze_time
from slack_sdk import WebClient

from bot.growthlog.access import REFUSAL
from bot.growthlog.one_on_ones import Schedule, digest_due, next_meeting, parse_schedule, run_auto_prep
from bot.growthlog.relationships import assign_manager
from bot.services import Services, build_content_services
from storage.repositories import Engineers, OneOnOnes
from tests.growthlog import log_seed as seed
from tests import running_bot as harness
from tests.running_bot import blocks_text
from tests.storage.helpers import race

NEW_YORK = "America/New_York"
LEAD = timedelta(hours=3)
# US daylight saving time ends on Sunday 1 November 2026: a Monday 10:00 meeting in New York is
# 14:00 UTC on 26 October and 15:00 UTC on 2 November.
BEFORE_DST_END = datetime(2026, 10, 26, 14, 0, tzinfo=UTC)
AFTER_DST_END = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("typed, expected", [
    ("<@U1|ada> thu 10:00", Schedule("set", "U1", 3, time(10, 0))),
    ("<@U1|ada> Monday 4:30 pm", Schedule("set", "U1", 0, time(16, 30))),
    ("<@U1|ada> off", Schedule("off", "U1")),
    ("<@U1|ada> remove", Schedule("off", "U1")),
    ("<@U1|ada>", Schedule("unclear", "U1")),
    ("<@U1|ada> someday 10:00", Schedule("unclear", "U1")),
    ("<@U1|ada> thu 25:00", Schedule("unclear", "U1")),
    ("ada thu 10:00", Schedule("unclear")),
])
def test_what_1on1_asks_for(typed, expected):
    assert parse_schedule(typed) == expected


def test_the_next_meeting_keeps_its_wall_clock_time_across_a_dst_change():
    assert next_meeting(datetime(2026, 10, 25, 12, tzinfo=UTC), 0, time(10), NEW_YORK) == BEFORE_DST_END
    assert next_meeting(BEFORE_DST_END - timedelta(seconds=1), 0, time(10), NEW_YORK) == BEFORE_DST_END
    # Once it has begun, the next one is a week later, at 10:00 local again (an hour later in UTC).
    assert next_meeting(BEFORE_DST_END, 0, time(10), NEW_YORK) == AFTER_DST_END
    assert next_meeting(datetime(2026, 10, 30, tzinfo=UTC), 0, time(10), NEW_YORK) == AFTER_DST_END


def test_the_digest_window_is_the_lead_before_the_meeting_and_never_after():
    assert not digest_due(BEFORE_DST_END - LEAD - timedelta(seconds=1), BEFORE_DST_END, LEAD)
    assert digest_due(BEFORE_DST_END - LEAD, BEFORE_DST_END, LEAD)
    assert digest_due(BEFORE_DST_END - timedelta(seconds=1), BEFORE_DST_END, LEAD)
    assert not digest_due(BEFORE_DST_END, BEFORE_DST_END, LEAD)
    assert not digest_due(BEFORE_DST_END - timedelta(minutes=1), BEFORE_DST_END, timedelta(0))


# -- the automatic pass ---------------------------------------------------------------------------

@pytest.fixture
def services(fake_slack, database_url, session_factory) -> Services:
    settings = harness.test_settings(fake_slack, database_url)
    catalog, resolver, ladder = build_content_services(settings)
    return Services(settings, catalog, resolver, ladder, session_factory)


@pytest.fixture
def client(fake_slack) -> WebClient:
    return WebClient(base_url=fake_slack.base_url, token="xoxb-test")


def seed_pair(session_factory, tz: str = NEW_YORK) -> None:
    """U1 reports to U2 (in `tz`), with a Monday 10:00 1:1 and one shared and one private answer."""
    with session_factory.begin() as session:
        owner = seed.engineer(session, "U1", manager="U2")
        seed.engineer(session, "U2", level=None, tz=tz)
        row = seed.checkin(session, owner, date(2026, 10, 19), [("q1", "What did you finish?"), ("q2", "Worries?")])
        seed.answer(session, row, "q1", "the flaky-test hunt")
        seed.answer(session, row, "q2", "a private worry", private=True)
        OneOnOnes(session).set("T1", "U2", "U1", 0, "10:00", tz)


def digests(fake) -> list[dict]:
    """The 1:1 digests the manager U2 has in their DM: posted is posted, whatever Slack answered.
    (As a manager they are also offered a team reflection and sent a team note: not digests.)"""
    return [m for m in fake.messages_in("DU2") if m.get("text", "").startswith("1:1 prep")]


def tick(services, client, at: datetime, owner: str | None = None):
    with freeze_time(at):
        return run_auto_prep(services, client, services.now(), owner=owner)


def test_the_digest_arrives_three_hours_before_in_the_managers_zone_across_dst(services, client, fake_slack):
    seed_pair(services.session_factory)
    tick(services, client, BEFORE_DST_END - LEAD - timedelta(minutes=1))
    assert digests(fake_slack) == []
    assert tick(services, client, BEFORE_DST_END - LEAD).sent == 1
    [dm] = digests(fake_slack)
    text = blocks_text(dm["blocks"])
    assert "1:1 prep: <@U1>" in text and "the flaky-test hunt" in text
    assert "private worry" not in text and "Worries?" not in text
    for later in (timedelta(minutes=1), LEAD - timedelta(minutes=1)):
        tick(services, client, BEFORE_DST_END - LEAD + later)
    assert len(digests(fake_slack)) == 1

    # After the clocks go back, 10:00 in New York is 15:00 UTC: the digest follows it to 12:00 UTC.
    tick(services, client, AFTER_DST_END - timedelta(hours=4))
    assert len(digests(fake_slack)) == 1
    tick(services, client, AFTER_DST_END - LEAD)
    assert len(digests(fake_slack)) == 2
    tick(services, client, AFTER_DST_END)
    assert len(digests(fake_slack)) == 2
    with services.session_factory() as session:
        pair = OneOnOnes(session).get("T1", "U2", "U1")
        assert pair.last_auto_prep_for == AFTER_DST_END and pair.last_prep_at == AFTER_DST_END - LEAD


def test_nothing_is_sent_for_a_meeting_that_has_begun(services, client, fake_slack):
    seed_pair(services.session_factory)
    for at in (BEFORE_DST_END, BEFORE_DST_END + timedelta(minutes=1), BEFORE_DST_END + timedelta(hours=5)):
        tick(services, client, at)  # the scheduler was down through the whole lead window
    assert digests(fake_slack) == []


def test_exactly_once_across_passes_and_owners(services, client, fake_slack):
    seed_pair(services.session_factory)
    at = BEFORE_DST_END - timedelta(hours=2)
    reports = [tick(services, client, at, owner="host-a"), tick(services, client, at, owner="host-b")]
    assert [r.sent for r in reports] == [1, 0] and reports[1].skipped == 1
    assert len(digests(fake_slack)) == 1


def test_exactly_once_when_processes_race(services, client, fake_slack):
    seed_pair(services.session_factory)
    at = BEFORE_DST_END - timedelta(hours=1)
    results = race(4, lambda n: run_auto_prep(services, client, at, owner=f"host-{n}"))
    assert sum(r.sent for r in results) == 1
    assert len(digests(fake_slack)) == 1


def test_nothing_is_sent_once_the_report_removes_the_manager(services, client, fake_slack):
    seed_pair(services.session_factory)
    with services.session_factory.begin() as session:
        assign_manager(session, "T1", "U1", None)
    tick(services, client, BEFORE_DST_END - timedelta(hours=1))
    assert digests(fake_slack) == []


def test_access_is_checked_again_at_send_time(services, client, fake_slack):
    seed_pair(services.session_factory)
    with services.session_factory.begin() as session:
        # The relationship changed without its 1:1 row going (say, by hand in the database).
        Engineers(session).get("T1", "U1").manager_user_id = "U3"
    report = tick(services, client, BEFORE_DST_END - timedelta(hours=1))
    assert report.sent == 0 and digests(fake_slack) == []
    with services.session_factory() as session:
        assert OneOnOnes(session).get("T1", "U2", "U1") is None


@pytest.mark.parametrize("after_work", [False, True], ids=["before-posting", "after-posting"])
def test_a_digest_slack_fails_is_posted_once_by_the_outbox(services, client, fake_slack, after_work):
    seed_pair(services.session_factory)
    fake_slack.fail_next("chat.postMessage", "internal_error", status=500, after_work=after_work)
    failed_at = BEFORE_DST_END - timedelta(hours=2)
    services.now = lambda: failed_at
    assert tick(services, client, failed_at).sent == 1          # queued with the meeting marked prepped
    assert len(digests(fake_slack)) == int(after_work)
    assert tick(services, client, failed_at + timedelta(minutes=5)).sent == 0  # never prepped twice
    services.now = lambda: failed_at + timedelta(minutes=5)
    services.outbox.drain()                                     # the recovery pass
    assert len(digests(fake_slack)) == 1


def test_a_digest_slack_refuses_for_good_is_not_retried(services, client, fake_slack):
    seed_pair(services.session_factory)
    fake_slack.fail_next("chat.postMessage", error="channel_not_found")
    failed_at = BEFORE_DST_END - timedelta(hours=2)
    services.now = lambda: failed_at
    tick(services, client, failed_at)
    services.now = lambda: failed_at + timedelta(hours=1)
    assert services.outbox.drain() == {}
    assert digests(fake_slack) == []


def test_no_lead_means_no_automatic_digests(fake_slack, database_url, session_factory, client):
    settings = harness.test_settings(fake_slack, database_url, PREP_LEAD_HOURS="0")
    services = Services(settings, *build_content_services(settings), session_factory)
    seed_pair(session_factory)
    assert tick(services, client, BEFORE_DST_END - timedelta(minutes=1)).sent == 0
    assert digests(fake_slack) == []


# -- /growth 1on1 end to end ----------------------------------------------------------------------

def test_a_manager_sets_and_removes_a_recurring_1on1(running_bot):
    fake, session_factory = running_bot.fake, running_bot.services.session_factory
    fake.set_user("U2", tz="Europe/Berlin")
    with session_factory.begin() as session:
        seed.engineer(session, "U1", manager="U2")

    [answer] = running_bot.command("/growth 1on1 <@U1|ada> thu 10:00", user_id="U2").followups()
    text = blocks_text(answer["blocks"])
    assert "Thursdays at 10:00 (Europe/Berlin" in text and "3 h before" in text and "off" in text
    with session_factory() as session:
        pair = OneOnOnes(session).get("T1", "U2", "U1")
        assert (pair.weekday, pair.time, pair.tz) == (3, "10:00", "Europe/Berlin")

    for user, line in (("U3", "/growth 1on1 <@U1|ada> thu 10:00"), ("U1", "/growth 1on1 <@U1|ada> thu 10:00"),
                       ("U2", "/growth 1on1 <@U404|nobody> thu 10:00"), ("U3", "/growth 1on1 <@U1|ada> off")):
        [refused] = running_bot.command(line, user_id=user).followups()
        assert blocks_text(refused["blocks"]) == REFUSAL, (user, line)
    [unclear] = running_bot.command("/growth 1on1 <@U1|ada> whenever", user_id="U2").followups()
    assert "/growth 1on1 @name thu 10:00" in blocks_text(unclear["blocks"])

    # The scheduler's pass finds it: Thursday 10:00 in Berlin, 3 hours ahead.
    meeting = next_meeting(datetime.now(UTC), 3, time(10), "Europe/Berlin")
    client = WebClient(base_url=fake.base_url, token="xoxb-test")
    assert run_auto_prep(running_bot.services, client, meeting - timedelta(hours=2)).sent == 1

    [off] = running_bot.command("/growth 1on1 <@U1|ada> off", user_id="U2").followups()
    assert "is off" in blocks_text(off["blocks"])
    with session_factory() as session:
        pair = OneOnOnes(session).get("T1", "U2", "U1")
        assert pair.weekday is None and pair.time is None and pair.last_prep_at is not None
    assert run_auto_prep(running_bot.services, client, meeting + timedelta(days=7) - timedelta(hours=2)).sent == 0


def test_the_cron_run_due_command_sends_due_digests_too(fake_slack, sqlite_url, monkeypatch, tmp_path, capsys):
    from argparse import Namespace

    from bot.cli_growth import _run_due
    from storage.db import make_engine, make_session_factory
    from tests.keys import TEST_KEY_ENV

    engine = make_engine(sqlite_url)
    seed_pair(make_session_factory(engine))
    engine.dispose()
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s", "DATABASE_URL": sqlite_url,
                        "SLACK_API_URL": fake_slack.base_url, "SLACK_APP_TOKEN": "", **TEST_KEY_ENV}.items():
        monkeypatch.setenv(name, value)
    assert _run_due(Namespace(now=BEFORE_DST_END - timedelta(hours=1))) == 0
    assert "prep digests: sent 1" in capsys.readouterr().out
    assert len(digests(fake_slack)) == 1
