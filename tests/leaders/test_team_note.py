"""The manager's weekly team note against an access matrix: participation only, nothing private,
nothing of anyone who is not (or no longer) a report; sent once a week through the outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.leaders.team_note import run_team_notes
from tests.checkins.test_checkins_e2e import said
from tests.growthlog.files_seed import add_checkin, add_engineer
from tests.running_bot import blocks_text, start_bot

NOW = datetime(2026, 11, 9, 9, 5, tzinfo=UTC)       # Monday 09:05 UTC
THIS_WEEK = date(2026, 11, 9)
SHARED, SECRET = "Shipped the billing fix", "I am thinking of leaving"


@pytest.fixture
def bot(fake_slack, database_url):
    bot, stop = start_bot(fake_slack, database_url)
    bot.clock = [NOW]
    bot.services.now = lambda: bot.clock[0]
    factory = bot.services.session_factory
    add_engineer(factory, "UM", tz="UTC", checkin_weekday=4, checkin_time="16:00")
    add_engineer(factory, "UN", tz="UTC")
    for week in (THIS_WEEK, THIS_WEEK - timedelta(weeks=1), THIS_WEEK - timedelta(weeks=2)):
        add_checkin(factory, "R1", week, [("q1", "What did you ship?", SHARED, False)], manager_user_id="UM",
                    tz="UTC")
        add_checkin(factory, "R2", week, [("q1", "What did you ship?", SECRET, True)], manager_user_id="UM",
                    tz="UTC")
        add_checkin(factory, "R4", week, [("q1", "What did you ship?", SHARED, False)], manager_user_id=None)
        add_checkin(factory, "R5", week, [("q1", "What did you ship?", SHARED, False)], manager_user_id="UN")
        add_checkin(factory, "X", week, [("q1", "What did you ship?", SHARED, False)], manager_user_id="UOTHER")
    add_engineer(factory, "R3", manager_user_id="UM", tz="UTC")                 # no answers at all
    yield bot
    stop()


def note_of(bot, user: str) -> str:
    replies = bot.command("/growth team", user_id=user).followups()
    return "\n".join(blocks_text(r["blocks"]) for r in replies)


def line_of(text: str, user: str) -> str:
    [line] = [line for line in text.splitlines() if f"<@{user}>" in line]
    return line


def test_the_note_shows_participation_of_current_reports_only_and_nothing_private(bot):
    note = note_of(bot, "UM")
    assert "answered this week" in line_of(note, "R1") and "streak 3 weeks" in line_of(note, "R1")
    # Private answers count for nothing: R2 (only private answers) reads exactly as R3 (none).
    assert line_of(note, "R2").replace("R2", "R3") == line_of(note, "R3")
    assert "not yet this week" in line_of(note, "R3") and "no shared answers yet" in line_of(note, "R3")
    for absent in ("R4", "R5", "X"):                       # removed, moved to another manager, never
        assert f"<@{absent}>" not in note
    assert SHARED not in note and SECRET not in note and "private" not in line_of(note, "R2")
    assert "1 of 3 reflected" in note
    other = note_of(bot, "UN")
    assert "<@R5>" in other and "<@R1>" not in other


def test_a_report_who_removes_their_manager_leaves_the_note_at_once(bot):
    assert "<@R1>" in note_of(bot, "UM")
    assert "no longer your manager" in said(bot.command("/growth manager none", user_id="R1"))
    assert "<@R1>" not in note_of(bot, "UM")


def test_weekly_dm_once_on_monday_morning_and_never_when_off(bot):
    assert run_team_notes(bot.services, NOW - timedelta(minutes=10)) == 0        # 08:55: not yet
    assert run_team_notes(bot.services, NOW) == 2                                 # UM and UN
    assert run_team_notes(bot.services, NOW + timedelta(hours=3)) == 0
    notes = [m for m in bot.fake.messages_in("DUM") if "Your team this week" in blocks_text(m["blocks"])]
    assert len(notes) == 1 and SECRET not in str(notes[0]) and SHARED not in str(notes[0])
    assert "now *off*" in said(bot.command("/growth team note off", user_id="UM"))
    bot.clock[0] = NOW + timedelta(weeks=1)
    run_team_notes(bot.services, bot.clock[0])
    assert len([m for m in bot.fake.messages_in("DUM") if "Your team this week" in blocks_text(m["blocks"])]) == 1
    assert len([m for m in bot.fake.messages_in("DUN") if "Your team this week" in blocks_text(m["blocks"])]) == 2


def test_team_note_settings_refuse_bad_input(bot):
    assert "“someday” is not a weekday" in said(bot.command("/growth team note someday 09:00", user_id="UM"))
    assert "“25:00” is not a time of day" in said(bot.command("/growth team note mon 25:00", user_id="UM"))
    assert "I don't know `/growth team banana`" in said(bot.command("/growth team banana", user_id="UM"))
    assert "Tuesdays at 08:30" in said(bot.command("/growth team note tue 08:30", user_id="UM"))
    assert "Nobody names you as their manager" in note_of(bot, "R3")


def test_the_managers_app_home_shows_the_note(bot):
    from tests.growthlog.test_home import open_home

    open_home(bot, "UM")
    bot.fake.wait_for("views.publish")
    home = blocks_text(bot.fake.published_views["UM"]["blocks"])
    assert "Your team this week" in home and "answered this week" in line_of(home.split("Your team this week")[1], "R1")
    assert SECRET not in home and "<@R4>" not in home


def test_two_instances_sending_the_same_monday_send_each_manager_one_note(bot):
    import threading

    factory = bot.services.session_factory
    for n in range(40):
        add_engineer(factory, f"RM{n}", manager_user_id=f"UL{n}", tz="UTC")
        add_engineer(factory, f"UL{n}", tz="UTC")
    other = make_other_instance(bot)
    counts = [0, 0]
    start = threading.Barrier(2)

    def run(index, services):
        start.wait()
        counts[index] = run_team_notes(services, NOW)

    threads = [threading.Thread(target=run, args=(0, bot.services)), threading.Thread(target=run, args=(1, other))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 42                                   # UM, UN and the 40: each queued by one of them
    for user in ["UM", "UN"] + [f"UL{n}" for n in range(40)]:
        notes = [m for m in bot.fake.messages_in(f"D{user}") if "Your team this week" in blocks_text(m["blocks"])]
        assert len(notes) == 1, user


def make_other_instance(bot):
    """A second process's services over the same database and Slack: its own outbox sender, pacer
    and clients."""
    from bot.services import Services

    s = bot.services
    return Services(settings=s.settings, catalog=s.catalog, resolver=s.resolver, ladder=s.ladder,
                    session_factory=s.session_factory, now=s.now)
