"""The due pass against a real database (SQLite and PostgreSQL) and a fake Slack.

Every test seeds engineers, runs the pass "as of" some instants the way the scheduler's tick
does, and reads what the fake Slack received: check-in DMs are the messages carrying the
check-in metadata, reminders are replies in their thread.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from slack_sdk import WebClient

from bot.checkins.answering import save_modal_answers
from bot.checkins.delivery import post_checkin
from bot.checkins.runner import CLAIM_LEASE, MAX_ATTEMPTS, Job
from bot.domain.clock import parse_clock
from bot.domain.schedule import slot_for_week, zone
from storage.repositories import CheckIns
from tests.checkins.desk import (
    TEAM,
    add_engineer,
    add_engineers,
    checkin_dms,
    engineer_row,
    make_desk,
    sparse_content,
    thread_replies,
)
from tests.fake_slack import FakeSlack
from tests.running_bot import blocks_text

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
WEEK = date(2026, 3, 9)                                   # Monday
DUE = datetime(2026, 3, 13, 15, 0, tzinfo=UTC)            # Friday 16:00 in Berlin (CET)
MINUTE = timedelta(minutes=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def desk(fake_slack, database_url, session_factory):
    return make_desk(fake_slack, database_url, session_factory)


def berliner(desk, user_id: str = "U1", **fields) -> int:
    return add_engineer(desk.session_factory, user_id, tz="Europe/Berlin", weekday=FRI, at="16:00", **fields)


def dm_count(fake: FakeSlack, user_id: str) -> int:
    return len(checkin_dms(fake, user_id))


# -- when -------------------------------------------------------------------------------------

@pytest.mark.parametrize("tz, due", [
    ("Europe/Berlin", DUE),
    ("Pacific/Honolulu", utc(2026, 3, 14, 2, 0)),
    ("Asia/Kolkata", utc(2026, 3, 13, 10, 30)),
    ("Pacific/Kiritimati", utc(2026, 3, 13, 2, 0)),
])
def test_due_at_the_chosen_local_time_and_not_a_minute_before(desk, tz, due):
    engineer_id = add_engineer(desk.session_factory, "U1", tz=tz, weekday=FRI, at="16:00")
    early = desk.run(due - MINUTE)
    assert (early.sent, early.failed) == (0, 0) and dm_count(desk.fake, "U1") == 0
    assert desk.checkin(engineer_id, WEEK) is None
    on_time = desk.run(due)
    assert (on_time.sent, on_time.failed) == (1, 0) and dm_count(desk.fake, "U1") == 1
    row = desk.checkin(engineer_id, WEEK)
    assert (row.status, row.due_at, row.channel_id) == ("sent", due, "DU1")
    assert due <= row.sent_at < due + MINUTE


def test_engineers_around_the_world_each_get_exactly_one_dm_in_their_week(desk):
    start, end = utc(2026, 3, 9, 0, 0), utc(2026, 3, 16, 0, 0)   # a UTC week
    people = {
        "UHNL": ("Pacific/Honolulu", MON, "08:00"),
        "UNYC": ("America/New_York", WED, "09:15"),
        "ULHI": ("Australia/Lord_Howe", TUE, "16:00"),
        "UKOL": ("Asia/Kolkata", THU, "10:30"),
        "UBER": ("Europe/Berlin", FRI, "16:00"),
        "ULON": ("Europe/London", FRI, "23:59"),
        "UUTC": ("UTC", SAT, "00:00"),
        "UKIR": ("Pacific/Kiritimati", SUN, "20:00"),
    }
    # Enrolled as the simulation starts, so nobody is owed a late check-in from the week before.
    add_engineers(desk.session_factory, [engineer_row(uid, tz=tz, weekday=day, at=at, created_at=start)
                                         for uid, (tz, day, at) in people.items()])
    due = {}
    for uid, (tz, day, at) in people.items():
        moments = [slot_for_week(WEEK + timedelta(weeks=k), day, parse_clock(at), zone(tz)).due_at for k in (-1, 0, 1)]
        [due[uid]] = [m for m in moments if start <= m < end]   # exactly one moment in the window
    steps = sorted({start + timedelta(hours=h) for h in range(7 * 24)}
                   | {m for m in due.values()} | {m - MINUTE for m in due.values()})
    sent_at: dict[str, datetime] = {}
    with freeze_time(start) as frozen:
        for step in steps:
            frozen.move_to(step)
            report = desk.run(datetime.now(UTC))      # the scheduler's tick reads the clock
            assert report.failed == 0
            for uid in people:
                if dm_count(desk.fake, uid) and uid not in sent_at:
                    sent_at[uid] = step
    assert sent_at == due                               # each at its own minute, not one before
    assert {uid: dm_count(desk.fake, uid) for uid in people} == {uid: 1 for uid in people}
    # Everything else posted is the one reminder a day later, in the DM's thread, where the
    # week still had a day to run (Kiritimati's Sunday check-in gets none).
    for uid in people:
        [dm] = checkin_dms(desk.fake, uid)
        others = [m for m in desk.fake.messages_in("D" + uid) if m is not dm and m["ts"] != dm["ts"]]
        assert [m.get("thread_ts") for m in others] == ([] if uid == "UKIR" else [dm["ts"]]), uid


def test_running_the_pass_twice_sends_nothing_twice(desk):
    add_engineers(desk.session_factory, [engineer_row(f"U{i}", tz="Europe/Berlin") for i in range(5)])
    first, second = desk.run(DUE), desk.run(DUE)
    assert (first.sent, first.skipped) == (5, 0)
    assert (second.sent, second.skipped, second.failed) == (0, 5, 0)
    assert desk.fake.post_message_counts() == {f"DU{i}": 1 for i in range(5)}


def test_two_runners_at_once_on_one_database_send_each_dm_once(desk, fake_slack, database_url, session_factory):
    add_engineers(desk.session_factory, [engineer_row(f"U{i:03d}", tz="Europe/Berlin") for i in range(60)])
    other = make_desk(fake_slack, database_url, session_factory)
    reports = []
    threads = [threading.Thread(target=lambda d=d: reports.append(d.run(DUE))) for d in (desk, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.sent for r in reports) == 60 and sum(r.failed for r in reports) == 0
    assert desk.fake.post_message_counts() == {f"DU{i:03d}": 1 for i in range(60)}


def test_growth_now_then_the_scheduled_moment_sends_once(desk):
    engineer_id = berliner(desk)
    assert desk.runner.send_one(engineer_id, utc(2026, 3, 11, 9, 0)).sent == 1   # Wednesday, on request
    later = desk.run(DUE)
    assert (later.sent, later.skipped) == (0, 1) and dm_count(desk.fake, "U1") == 1
    assert desk.checkin(engineer_id, WEEK).due_at == DUE


# -- late, but never for a week that is over ----------------------------------------------------

def test_bot_down_from_thursday_to_saturday_sends_fridays_checkin_on_saturday(desk):
    engineer_id = berliner(desk)
    assert desk.run(utc(2026, 3, 12, 12, 0)).sent == 0        # Thursday, then the bot goes down
    back = desk.run(utc(2026, 3, 14, 10, 0))                  # Saturday
    assert back.sent == 1 and dm_count(desk.fake, "U1") == 1
    row = desk.checkin(engineer_id, WEEK)
    assert row.due_at == DUE and row.sent_at >= utc(2026, 3, 14, 10, 0)


def test_a_missed_week_is_sent_until_sunday_2359_local_and_never_after(desk):
    late_id = berliner(desk, "ULATE")
    assert desk.run(utc(2026, 3, 15, 22, 59)).sent == 1       # Sunday 23:59 in Berlin
    assert desk.checkin(late_id, WEEK).status == "sent"
    desk.fake.clear()
    desk.update(late_id, level_id=None)                       # out of the way for the next one
    gone_id = berliner(desk, "UGONE")
    assert desk.run(utc(2026, 3, 15, 23, 0)).sent == 0        # Monday 00:00 in Berlin: last week is over
    assert desk.run(utc(2026, 3, 17, 9, 0)).sent == 0
    assert desk.checkin(gone_id, WEEK) is None and dm_count(desk.fake, "UGONE") == 0
    assert desk.run(DUE + timedelta(weeks=1)).sent == 1       # and this week's comes as usual


# -- reminders ------------------------------------------------------------------------------------

def test_one_reminder_after_the_delay_only_if_unanswered(fake_slack, database_url, session_factory):
    desk = make_desk(fake_slack, database_url, session_factory, REMINDER_DELAY_HOURS="3")
    ids = {uid: berliner(desk, uid) for uid in ("UQUIET", "UANSWERED", "UNOREMIND", "UPAUSED")}
    desk.update(ids["UNOREMIND"], reminders_enabled=False)
    assert desk.run(DUE).sent == 4
    answered = desk.checkin(ids["UANSWERED"], WEEK)
    with desk.session_factory.begin() as session:
        saved = save_modal_answers(session, answered.id, TEAM, "UANSWERED",
                                   {answered.questions[0]["id"]: "Shipped the thing."}, False, "k1", DUE + MINUTE)
    assert saved.saved == 1
    desk.update(ids["UPAUSED"], paused_until=DUE + timedelta(weeks=2))

    assert desk.run(DUE + timedelta(hours=3) - MINUTE).reminders == 0
    due = desk.run(DUE + timedelta(hours=3) + MINUTE)        # the first tick after the delay
    assert due.reminders == 1
    [dm] = checkin_dms(desk.fake, "UQUIET")
    [reminder] = thread_replies(desk.fake, "UQUIET", dm["ts"])
    assert "still open" in reminder["text"] and reminder["blocks"][-2]["elements"][0]["value"] == str(
        desk.checkin(ids["UQUIET"], WEEK).id)
    assert desk.run(DUE + timedelta(hours=4)).reminders == 0          # once
    assert desk.run(DUE + timedelta(days=1)).reminders == 0
    for uid in ("UANSWERED", "UNOREMIND", "UPAUSED"):
        [dm] = checkin_dms(desk.fake, uid)
        assert thread_replies(desk.fake, uid, dm["ts"]) == [], uid
    assert desk.checkin(ids["UQUIET"], WEEK).reminder_sent_at is not None


def test_no_reminder_for_a_past_week(desk):
    # Sunday 11:00 Berlin: the reminder would be due Monday 11:00, in the next week.
    engineer_id = add_engineer(desk.session_factory, "U1", tz="Europe/Berlin", weekday=SUN, at="11:00")
    sunday = utc(2026, 3, 15, 10, 0)
    assert desk.run(sunday).sent == 1
    for hours in (24, 25, 48):
        assert desk.run(sunday + timedelta(hours=hours)).reminders == 0
    [dm] = checkin_dms(desk.fake, "U1")
    assert thread_replies(desk.fake, "U1", dm["ts"]) == []
    assert desk.checkin(engineer_id, WEEK).reminder_sent_at is None


# -- paused --------------------------------------------------------------------------------------

def test_paused_engineers_get_nothing(desk):
    two_weeks = berliner(desk, "UTWO", paused_until=utc(2026, 3, 11, 12, 0) + timedelta(weeks=2))
    forever = berliner(desk, "UFOREVER", paused_until=datetime(9999, 12, 31, tzinfo=UTC))
    until_friday_evening = berliner(desk, "UEVENING", paused_until=utc(2026, 3, 13, 18, 0))
    for now in (DUE, DUE + timedelta(hours=2), DUE + timedelta(days=1), DUE + timedelta(weeks=1)):
        desk.run(now)
    # The pause that ended on Friday evening skipped that Friday; it comes back the week after.
    assert {uid: dm_count(desk.fake, uid) for uid in ("UTWO", "UFOREVER", "UEVENING")} == \
        {"UTWO": 0, "UFOREVER": 0, "UEVENING": 1}
    assert desk.checkin(until_friday_evening, WEEK) is None
    assert desk.run(DUE + timedelta(weeks=2)).sent == 2          # the two-week pause is over
    assert dm_count(desk.fake, "UTWO") == 1 and dm_count(desk.fake, "UFOREVER") == 0
    assert desk.checkin(two_weeks, WEEK + timedelta(weeks=2)).status == "sent"
    assert desk.checkin(forever, WEEK) is None


# -- failures --------------------------------------------------------------------------------------

@pytest.mark.parametrize("error, status", [("channel_not_found", 200), ("internal_error", 500), ("fatal_error", 200)])
def test_a_failed_send_is_counted_and_retried_on_the_next_tick_once(desk, error, status):
    engineer_id = berliner(desk)
    desk.fake.fail_next("chat.postMessage", error=error, status=status)
    failed = desk.run(DUE)
    assert (failed.sent, failed.failed) == (0, 1) and "U1" in failed.errors[0] and error in failed.errors[0]
    row = desk.checkin(engineer_id, WEEK)
    assert row.status == "pending" and error in row.last_error
    retried = desk.run(DUE + MINUTE)
    assert (retried.sent, retried.failed) == (1, 0)
    assert desk.fake.post_message_counts() == {"DU1": 1}
    # The retry first looked for a DM an earlier attempt might have posted.
    assert desk.fake.calls_to("conversations.history")
    assert desk.checkin(engineer_id, WEEK).attempts == 2


def test_a_slack_outage_never_drops_a_checkin(desk):
    berliner(desk)
    ticks = MAX_ATTEMPTS + 3
    desk.fake.fail_next("chat.postMessage", error="service_unavailable", status=503, times=ticks)
    for tick in range(ticks):
        assert desk.run(DUE + tick * MINUTE).failed == 1
    back = desk.run(DUE + ticks * MINUTE)
    assert (back.sent, back.failed) == (1, 0) and dm_count(desk.fake, "U1") == 1


def test_someone_slack_will_not_let_us_dm_is_given_up_after_max_attempts(desk):
    engineer_id = berliner(desk)
    desk.fake.fail_next("chat.postMessage", error="channel_not_found", times=MAX_ATTEMPTS + 5)
    for tick in range(MAX_ATTEMPTS):
        assert desk.run(DUE + tick * MINUTE).failed == 1
    tried = len(desk.fake.calls_to("chat.postMessage"))
    later = desk.run(DUE + timedelta(hours=1))
    assert (later.sent, later.failed, later.skipped) == (0, 0, 1)
    assert len(desk.fake.calls_to("chat.postMessage")) == tried == MAX_ATTEMPTS
    row = desk.checkin(engineer_id, WEEK)
    assert (row.status, row.attempts) == ("pending", MAX_ATTEMPTS) and "channel_not_found" in row.last_error


def test_429_retry_after_is_honoured_and_the_dm_sent_once(desk):
    berliner(desk)
    desk.fake.fail_next("chat.postMessage", "ratelimited", retry_after=1)
    report = desk.run(DUE)
    assert (report.sent, report.failed) == (1, 0)
    refused, accepted = desk.fake.calls_to("chat.postMessage")
    assert (refused.status, accepted.status) == (429, 200)
    assert accepted.at - refused.at >= 0.95          # waited out Retry-After: 1 before retrying
    assert desk.fake.post_message_counts() == {"DU1": 1} and desk.runner.backoff.rate_limited == 1


def test_a_workspace_rate_limit_slows_the_pass_but_loses_and_doubles_nothing(database_url, session_factory):
    with FakeSlack(rate_limit_per_second=10) as fake:
        desk = make_desk(fake, database_url, session_factory, SEND_CONCURRENCY="6")
        add_engineers(desk.session_factory, [engineer_row(f"U{i:02d}", tz="Europe/Berlin") for i in range(30)])
        report = desk.run(DUE)
        assert (report.sent, report.failed) == (30, 0)
        assert fake.rate_limited_count > 0
        assert fake.post_message_counts() == {f"DU{i:02d}": 1 for i in range(30)}


# -- crashes ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("posted_before_dying", [True, False], ids=["posted", "not-posted"])
def test_a_sender_killed_mid_send_is_taken_over_after_its_lease_with_exactly_one_dm(desk, posted_before_dying):
    engineer_id = berliner(desk)
    other_id = berliner(desk, "U2")
    # The dead process: it claimed both check-ins (committed), maybe posted U1's DM, and died.
    with desk.session_factory.begin() as session:
        row = CheckIns(session).claim(engineer_id, WEEK, DUE, "dead:1", DUE, CLAIM_LEASE)
        row.questions = [{"id": "grow-1", "text": "What needs to happen for this to be done?", "kind": "reflection"}]
        CheckIns(session).claim(other_id, WEEK, DUE, "dead:1", DUE, CLAIM_LEASE)
    if posted_before_dying:
        post_checkin(WebClient(base_url=desk.fake.base_url, token="xoxb-test"),
                     Job(row.id, engineer_id, "U1", row.questions, "Senior", "Delivery", WEEK, recovering=False))
    within = desk.run(DUE + CLAIM_LEASE - MINUTE)
    assert (within.sent, within.skipped) == (0, 2)           # the dead owner's lease still stands
    taken_over = desk.run(DUE + CLAIM_LEASE + MINUTE)
    assert (taken_over.sent, taken_over.failed) == (2, 0)
    assert desk.fake.post_message_counts() == {"DU1": 1, "DU2": 1}
    [dm] = checkin_dms(desk.fake, "U1")
    recovered = desk.checkin(engineer_id, WEEK)
    assert (recovered.status, recovered.message_ts, recovered.attempts) == ("sent", dm["ts"], 2)
    assert recovered.questions[0]["id"] == "grow-1"          # the questions chosen first are kept
    assert desk.run(DUE + CLAIM_LEASE + 2 * MINUTE).sent == 0


# -- time zones ------------------------------------------------------------------------------------

def test_someone_who_moved_west_gets_the_slot_in_their_new_zone(desk):
    engineer_id = berliner(desk, tz_checked_at=None)
    desk.fake.set_user("U1", tz="America/New_York")
    assert desk.run(DUE).sent == 0                            # 16:00 in Berlin is 11:00 in New York
    assert desk.engineer(engineer_id).tz == "America/New_York"
    new_york_four_pm = utc(2026, 3, 13, 20, 0)
    assert desk.run(new_york_four_pm - MINUTE).sent == 0
    assert desk.run(new_york_four_pm).sent == 1 and dm_count(desk.fake, "U1") == 1


def test_someone_who_moved_east_gets_the_slot_in_their_new_zone(desk):
    engineer_id = add_engineer(desk.session_factory, "U1", tz="America/New_York", weekday=FRI, at="16:00",
                               tz_checked_at=None)
    desk.fake.set_user("U1", tz="Europe/Berlin")
    assert desk.run(DUE - MINUTE).sent == 0
    assert desk.run(DUE).sent == 1                             # 16:00 in Berlin, not 16:00 in New York
    assert desk.engineer(engineer_id).tz == "Europe/Berlin"
    assert desk.run(utc(2026, 3, 13, 20, 0)).sent == 0 and dm_count(desk.fake, "U1") == 1


def test_a_recently_checked_zone_is_not_asked_again_and_a_failing_lookup_keeps_the_known_zone(desk):
    fresh = berliner(desk, "UFRESH", tz_checked_at=DUE - timedelta(hours=1))
    berliner(desk, "UERR", tz_checked_at=None)
    desk.fake.set_user("UFRESH", tz="Asia/Tokyo")
    desk.fake.set_user_error("UERR", "user_not_found")
    assert desk.run(DUE).sent == 2
    assert [c.args["user"] for c in desk.fake.calls_to("users.info")] == ["UERR"]
    assert desk.engineer(fresh).tz == "Europe/Berlin"


# -- who is due at all ------------------------------------------------------------------------------

def test_joined_after_this_weeks_slot_starts_next_week(desk):
    engineer_id = berliner(desk, created_at=DUE + timedelta(hours=1))
    assert desk.run(DUE + timedelta(hours=2)).sent == 0
    assert desk.run(DUE + timedelta(days=2)).sent == 0
    assert desk.checkin(engineer_id, WEEK) is None
    assert desk.run(DUE + timedelta(weeks=1)).sent == 1


def test_a_level_with_no_questions_never_gets_an_empty_dm(fake_slack, database_url, session_factory, tmp_path):
    desk = make_desk(fake_slack, database_url, session_factory, CONTENT_DIR=str(sparse_content(tmp_path)))
    cto = berliner(desk, "UCTO", level=("engineering-levels", "cto"))
    gone = berliner(desk, "UGONE", level=("delivery", "level-removed-from-content"))
    berliner(desk, "UOK", level=("engineering-levels", "vp"))
    report = desk.run(DUE)
    assert (report.sent, report.failed) == (1, 0)
    assert desk.fake.post_message_counts() == {"DUOK": 1}
    assert desk.checkin(cto, WEEK) is None and desk.checkin(gone, WEEK) is None
    assert desk.run(DUE + timedelta(hours=1)).sent == 0


def test_questions_rotate_through_the_pool_and_restart_when_the_level_changes(desk, fake_slack):
    engineer_id = berliner(desk, questions_per_checkin=3)
    senior = [q.id for q in desk.services.catalog.level("delivery", "senior").questions]
    staff = desk.services.catalog.level("delivery", "staff").questions
    asked = []
    for week in range(3):
        assert desk.run(DUE + timedelta(weeks=week)).sent == 1
        asked.append([q["id"] for q in desk.checkin(engineer_id, WEEK + timedelta(weeks=week)).questions])
    assert asked == [senior[0:3], senior[3:6], senior[0:3]]   # all six before any repeats
    desk.update(engineer_id, level_id="staff")
    assert desk.run(DUE + timedelta(weeks=3)).sent == 1
    fourth = desk.checkin(engineer_id, WEEK + timedelta(weeks=3)).questions
    assert [q["text"] for q in fourth] == [q.text for q in staff[0:3]]   # a new pool starts at its top
    dm = checkin_dms(fake_slack, "U1")[-1]
    shown = blocks_text(dm["blocks"])
    assert "Staff" in shown and "week of 30 Mar 2026" in shown
