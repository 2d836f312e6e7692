"""When check-ins are due, which questions they ask, and how typed preferences are read.

Plain domain code: no Slack, no database. Instants are written in UTC with the local time they
stand for next to them, so each expectation can be checked by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from freezegun import freeze_time

from bot.catalog import BUNDLED_CONTENT_DIR, load_catalog
from bot.checkins.plan import plan_for, pool_for
from bot.domain.clock import parse_clock, parse_weekday
from bot.domain.rotation import pick_questions, pool_key
from bot.domain.schedule import (
    current_slot,
    describe_local,
    due_this_week,
    local_instant,
    local_week_start,
    next_checkin,
    slot_for_week,
    zone,
)
from bot.growth import preferences
from bot.ladder.resolve import Resolver
from bot.settings import load_settings
from tests.checkins.desk import sparse_content

FRI, SUN, MON = 4, 6, 0
FOUR_PM = time(16, 0)
WEEK = date(2026, 3, 9)  # Monday; no DST change anywhere near it in Europe or Australia


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(BUNDLED_CONTENT_DIR)


@pytest.fixture(scope="module")
def sparse_catalog(tmp_path_factory):
    return load_catalog(sparse_content(tmp_path_factory.mktemp("sparse")))


def engineer(**fields) -> SimpleNamespace:
    """Anything with an Engineer's attributes will do for the preference functions."""
    values = dict(checkin_weekday=FRI, checkin_time="16:00", tz="Europe/Berlin", questions_per_checkin=None,
                  reminders_enabled=True, paused_until=None, framework_id="delivery", level_id="senior")
    values.update(fields)
    return SimpleNamespace(**values)


# -- slots across the world's time zones ------------------------------------------------------

@pytest.mark.parametrize("tz, due, ends", [
    # Friday 13 March 2026, 16:00 local; the week ends Monday 16 March 00:00 local.
    ("Pacific/Honolulu", utc(2026, 3, 14, 2, 0), utc(2026, 3, 16, 10, 0)),     # UTC-10: Saturday in UTC
    ("America/New_York", utc(2026, 3, 13, 20, 0), utc(2026, 3, 16, 4, 0)),     # EDT since 8 March
    ("UTC", utc(2026, 3, 13, 16, 0), utc(2026, 3, 16, 0, 0)),
    ("Europe/Berlin", utc(2026, 3, 13, 15, 0), utc(2026, 3, 15, 23, 0)),       # CET until 29 March
    ("Asia/Kolkata", utc(2026, 3, 13, 10, 30), utc(2026, 3, 15, 18, 30)),      # +05:30
    ("Australia/Lord_Howe", utc(2026, 3, 13, 5, 0), utc(2026, 3, 15, 13, 0)),  # +11 (summer time)
    ("Pacific/Kiritimati", utc(2026, 3, 13, 2, 0), utc(2026, 3, 15, 10, 0)),   # UTC+14
])
def test_the_slot_is_the_chosen_local_time_in_every_zone(tz, due, ends):
    slot = slot_for_week(WEEK, FRI, FOUR_PM, zone(tz))
    assert (slot.week_start, slot.due_at, slot.ends_at) == (WEEK, due, ends)
    local = slot.due_at.astimezone(zone(tz))
    assert (local.date(), local.time()) == (date(2026, 3, 13), FOUR_PM)
    assert describe_local(slot.due_at, zone(tz)) == f"Friday 13 Mar, 16:00 ({tz})"


@pytest.mark.parametrize("tz", ["Pacific/Honolulu", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Kiritimati"])
def test_due_exactly_at_the_slot_not_a_minute_before_and_open_until_the_week_ends(tz):
    slot = slot_for_week(WEEK, FRI, FOUR_PM, zone(tz))
    minute = timedelta(minutes=1)
    assert not slot.is_open(slot.due_at - minute)
    assert slot.is_open(slot.due_at)
    assert slot.is_open(slot.ends_at - minute)       # Sunday 23:59 local: late, but still this week
    assert not slot.is_open(slot.ends_at)            # Monday 00:00 local: the week is over
    assert current_slot(slot.ends_at, FRI, FOUR_PM, zone(tz)).week_start == WEEK + timedelta(days=7)


@pytest.mark.parametrize("tz, last_minute", [
    # Sunday 15 March 23:59 local, in UTC. One minute later it is Monday 16 March locally.
    ("Pacific/Kiritimati", utc(2026, 3, 15, 9, 59)),
    ("Asia/Kolkata", utc(2026, 3, 15, 18, 29)),
    ("Australia/Lord_Howe", utc(2026, 3, 15, 12, 59)),
    ("Europe/Berlin", utc(2026, 3, 15, 22, 59)),
    ("Pacific/Honolulu", utc(2026, 3, 16, 9, 59)),
])
def test_weeks_start_on_monday_midnight_local(tz, last_minute):
    assert local_week_start(last_minute, zone(tz)) == WEEK
    assert local_week_start(last_minute + timedelta(minutes=1), zone(tz)) == WEEK + timedelta(days=7)


def test_one_utc_instant_is_in_different_local_weeks_across_the_date_line():
    # Monday 16 March 05:00 UTC: already Monday 19:00 in Kiritimati, still Sunday 19:00 in Honolulu.
    instant = utc(2026, 3, 16, 5, 0)
    assert local_week_start(instant, zone("Pacific/Kiritimati")) == date(2026, 3, 16)
    assert local_week_start(instant, zone("Pacific/Honolulu")) == date(2026, 3, 9)


def test_an_unknown_or_missing_zone_is_utc():
    assert zone(None).key == zone("").key == zone("Mars/Olympus_Mons").key == "UTC"


# -- daylight saving time ----------------------------------------------------------------------

@pytest.mark.parametrize("tz, before, after", [
    # Europe/Berlin springs forward on Sunday 29 March 2026 and falls back on Sunday 25 October.
    ("Europe/Berlin", (date(2026, 3, 23), utc(2026, 3, 27, 15, 0)), (date(2026, 3, 30), utc(2026, 4, 3, 14, 0))),
    ("Europe/Berlin", (date(2026, 10, 19), utc(2026, 10, 23, 14, 0)), (date(2026, 10, 26), utc(2026, 10, 30, 15, 0))),
    # America/New_York springs forward on Sunday 8 March 2026 and falls back on Sunday 1 November.
    ("America/New_York", (date(2026, 3, 2), utc(2026, 3, 6, 21, 0)), (date(2026, 3, 9), utc(2026, 3, 13, 20, 0))),
    ("America/New_York", (date(2026, 10, 26), utc(2026, 10, 30, 20, 0)), (date(2026, 11, 2), utc(2026, 11, 6, 21, 0))),
    # Lord Howe Island moves by half an hour, on Sunday 4 October 2026.
    ("Australia/Lord_Howe", (date(2026, 9, 28), utc(2026, 10, 2, 5, 30)), (date(2026, 10, 5), utc(2026, 10, 9, 5, 0))),
])
def test_sixteen_hundred_stays_sixteen_hundred_across_a_dst_change(tz, before, after):
    for week, due in (before, after):
        slot = slot_for_week(week, FRI, FOUR_PM, zone(tz))
        assert slot.due_at == due
        assert slot.due_at.astimezone(zone(tz)).time() == FOUR_PM


def test_the_week_with_the_change_in_it_keeps_local_times_on_both_sides():
    # New York, week of Monday 2 March: the clocks change on its Sunday, 8 March.
    ny = zone("America/New_York")
    monday = slot_for_week(date(2026, 3, 2), MON, FOUR_PM, ny)
    sunday = slot_for_week(date(2026, 3, 2), SUN, FOUR_PM, ny)
    assert monday.due_at == utc(2026, 3, 2, 21, 0)   # EST
    assert sunday.due_at == utc(2026, 3, 8, 20, 0)   # EDT
    assert monday.ends_at - local_instant(date(2026, 3, 2), time(0, 0), ny) == timedelta(hours=167)


def sends_in(tz: str, weekday: int, clock: time, start: datetime, end: datetime) -> list[datetime]:
    """Tick like the scheduler does, every minute of [start, end) on a frozen clock, "sending"
    whenever the week's slot is open and that week has not been sent yet."""
    sent: dict[date, datetime] = {}
    with freeze_time(start) as frozen:
        while (now := datetime.now(UTC)) < end:
            slot = current_slot(now, weekday, clock, zone(tz))
            if slot.is_open(now) and slot.week_start not in sent:
                sent[slot.week_start] = now
            frozen.tick(timedelta(minutes=1))
    return sorted(sent.values())


@pytest.mark.parametrize("tz, sunday, expected", [
    # 02:30 does not exist on spring-forward day: it happens once, just after the jump (03:30).
    ("America/New_York", date(2026, 3, 8), utc(2026, 3, 8, 7, 30)),
    ("Europe/Berlin", date(2026, 3, 29), utc(2026, 3, 29, 1, 30)),
])
def test_a_0230_slot_on_spring_forward_day_happens_exactly_once(tz, sunday, expected):
    week = sunday - timedelta(days=6)
    start = local_instant(week, time(0, 0), zone(tz))  # the previous week's Sunday slot stays out of it
    end = local_instant(week + timedelta(days=7), time(0, 0), zone(tz))
    assert sends_in(tz, SUN, time(2, 30), start, end) == [expected]
    assert expected.astimezone(zone(tz)).time() == time(3, 30)


def test_a_slot_in_the_repeated_autumn_hour_happens_once_at_its_first_occurrence():
    # New York, Sunday 1 November 2026: 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
    ny = zone("America/New_York")
    start, end = utc(2026, 10, 26, 4, 0), local_instant(date(2026, 11, 2), time(0, 0), ny)
    assert sends_in("America/New_York", SUN, time(1, 30), start, end) == [utc(2026, 11, 1, 5, 30)]


def test_a_slot_in_lord_howes_half_hour_gap_happens_once():
    # Lord Howe, Sunday 4 October 2026: 02:00 jumps to 02:30, so 02:15 never happens.
    lh = zone("Australia/Lord_Howe")
    week = date(2026, 9, 28)
    start, end = local_instant(week, time(0, 0), lh), local_instant(week + timedelta(days=7), time(0, 0), lh)
    [sent] = sends_in("Australia/Lord_Howe", SUN, time(2, 15), start, end)
    assert sent.astimezone(lh).date() == date(2026, 10, 4)
    assert sent.astimezone(lh).time() == time(2, 45)


# -- next_checkin (what /growth shows) ---------------------------------------------------------

BERLIN = zone("Europe/Berlin")
DUE = utc(2026, 3, 13, 15, 0)            # Friday 13 March, 16:00 Berlin
NEXT_DUE = utc(2026, 3, 20, 15, 0)       # a week later


@pytest.mark.parametrize("now, sent, expected", [
    (utc(2026, 3, 11, 12, 0), False, DUE),                      # Wednesday: this Friday
    (DUE, False, DUE),                                          # the very minute
    (utc(2026, 3, 13, 17, 0), False, utc(2026, 3, 13, 17, 0)),  # passed unsent: goes out now (late)
    (utc(2026, 3, 13, 17, 0), True, NEXT_DUE),                  # sent: next Friday
    (utc(2026, 3, 15, 22, 59), False, utc(2026, 3, 15, 22, 59)),  # Sunday 23:59 Berlin: still late-sendable
    (utc(2026, 3, 15, 23, 0), False, NEXT_DUE),                 # Monday 00:00 Berlin: last week is gone
])
def test_next_checkin(now, sent, expected):
    assert next_checkin(now, FRI, FOUR_PM, BERLIN, sent) == expected


def test_next_checkin_for_someone_who_joined_after_this_weeks_moment_is_next_week():
    joined = utc(2026, 3, 13, 17, 0)
    assert next_checkin(joined + timedelta(minutes=5), FRI, FOUR_PM, BERLIN, False, enrolled_at=joined) == NEXT_DUE
    # Joining within the minute of grace still counts for this week.
    just_in = DUE + timedelta(seconds=30)
    assert next_checkin(just_in, FRI, FOUR_PM, BERLIN, False, enrolled_at=just_in) == just_in


def test_next_checkin_after_a_pause():
    wednesday = utc(2026, 3, 11, 12, 0)
    two_weeks = wednesday + timedelta(weeks=2)          # Wednesday 25 March
    assert next_checkin(wednesday, FRI, FOUR_PM, BERLIN, False, two_weeks) == utc(2026, 3, 27, 15, 0)
    # A pause that ends after Friday's moment skips that Friday (no late check-in on resuming).
    friday_evening = utc(2026, 3, 20, 17, 0)
    assert next_checkin(wednesday, FRI, FOUR_PM, BERLIN, False, friday_evening) == utc(2026, 3, 27, 15, 0)
    assert next_checkin(friday_evening + timedelta(hours=1), FRI, FOUR_PM, BERLIN, False,
                        friday_evening) == utc(2026, 3, 27, 15, 0)


@pytest.mark.parametrize("tz", ["Europe/Berlin", "Pacific/Kiritimati", "Pacific/Honolulu"])
def test_paused_until_resumed_has_no_next_checkin_and_does_not_crash(tz):
    # `/growth pause` stores the year 9999; its week's end is past the last date Python knows.
    forever = datetime(9999, 12, 31, tzinfo=UTC)
    assert next_checkin(utc(2026, 3, 11, 12, 0), FRI, FOUR_PM, zone(tz), False, forever) is None


def test_due_this_week_skips_moments_before_enrolment_or_inside_a_pause():
    slot = slot_for_week(WEEK, FRI, FOUR_PM, BERLIN)
    assert due_this_week(slot, DUE - timedelta(days=30))
    assert due_this_week(slot, DUE + timedelta(seconds=59))            # the minute of grace
    assert not due_this_week(slot, DUE + timedelta(minutes=2))
    assert not due_this_week(slot, DUE - timedelta(days=30), paused_until=DUE + timedelta(hours=1))
    assert due_this_week(slot, DUE - timedelta(days=30), paused_until=DUE - timedelta(hours=1))


# -- the plan: settings over workspace defaults -----------------------------------------------

def test_workspace_defaults_fill_in_what_the_engineer_did_not_choose():
    settings = load_settings({"CHECKIN_DEFAULT_DAY": "tue", "CHECKIN_DEFAULT_TIME": "09:30",
                              "QUESTIONS_PER_CHECKIN": "2", "REMINDER_DELAY_HOURS": "6"}, env_file=None)
    plan = plan_for(engineer(checkin_weekday=None, checkin_time=None, tz=None), settings)
    assert (plan.weekday, plan.clock, plan.tz.key, plan.questions_per_checkin) == (1, time(9, 30), "UTC", 2)
    own = plan_for(engineer(checkin_weekday=FRI, checkin_time="16:00", questions_per_checkin=4), settings)
    assert (own.weekday, own.clock, own.tz.key, own.questions_per_checkin) == (FRI, FOUR_PM, "Europe/Berlin", 4)
    assert settings.reminder_delay_hours == 6


# -- questions: crosswalk pool and rotation ----------------------------------------------------

def test_a_level_without_questions_reflects_with_its_crosswalk_stage(catalog):
    pool = pool_for(catalog, "engineering-levels", "manager")
    assert pool.level.key == "engineering-levels/manager" and pool.source.key == "delivery/staff"
    assert {q.kind for q in pool.questions} == {"reflection", "shift"}
    early = pool_for(catalog, "roadmap", "stage-1")
    assert early.source.key == "delivery/early-career"
    assert {q.kind for q in early.questions} == {"reflection", "shift", "feedback"}
    assert pool_for(catalog, "delivery", "no-such-level") is None


def test_a_level_in_no_crosswalk_row_has_an_empty_pool(sparse_catalog):
    pool = pool_for(sparse_catalog, "engineering-levels", "cto")
    assert pool is not None and pool.questions == () and pool.source is None


@pytest.mark.parametrize("size", range(1, 10))
@pytest.mark.parametrize("count", [1, 2, 3, 4, 10])
def test_rotation_asks_every_question_before_any_repeats(size, count):
    pool = [f"q{i}" for i in range(size)]
    offset, asked = 0, []
    for _ in range(3 * size):
        pick = pick_questions(pool, offset, count)
        assert len(pick.items) == min(count, size) and len(set(pick.items)) == len(pick.items)
        asked.extend(pick.items)
        offset = pick.next_offset
    # The flattened sequence walks the pool round and round: nothing comes back early.
    assert asked == [pool[i % size] for i in range(len(asked))]


def test_rotation_of_an_empty_pool_asks_nothing():
    assert pick_questions([], 5, 3).items == ()


def test_a_changed_pool_has_a_new_key_so_rotation_restarts():
    ids = ["grow-1", "grow-2", "shift-1"]
    assert pool_key("delivery/senior", ids) == pool_key("delivery/senior", list(ids))
    assert pool_key("delivery/senior", ids) != pool_key("delivery/staff", ids)       # same ids, other stage
    assert pool_key("delivery/senior", ids) != pool_key("delivery/senior", ids + ["shift-2"])  # edited content


# -- preferences: what people type -------------------------------------------------------------

@pytest.mark.parametrize("text, day, clock", [
    ("fri 16:00", FRI, "16:00"),
    ("Friday at 4pm", FRI, "16:00"),
    ("mon 9:30", MON, "09:30"),
    ("tues 07:05", 1, "07:05"),
    ("th 12am", 3, "00:00"),
    ("sun 23:59", SUN, "23:59"),
])
def test_schedule_accepts_what_people_type(text, day, clock):
    someone = engineer(checkin_weekday=None, checkin_time=None)
    change = preferences.set_schedule(someone, text)
    assert change.ok
    assert (someone.checkin_weekday, someone.checkin_time) == (day, clock)
    assert "local time" in change.message


@pytest.mark.parametrize("text, mentions", [
    ("someday 25:99", ["“someday” is not a weekday", "“25:99” is not a time of day"]),
    ("fri 24:00", ["“24:00” is not a time of day"]),
    ("fri 16:60", ["“16:60”"]),
    ("t 10:00", ["“t” is not a weekday"]),          # Tuesday or Thursday?
    ("fri", ["I need a weekday and a time"]),
    ("", ["I need a weekday and a time"]),
    ("16:00 fri", ["I need a weekday and a time"]),
    ("fri 13pm", ["“13pm”"]),
])
def test_bad_schedule_changes_nothing_and_says_what_would_work(text, mentions):
    someone = engineer()
    before = dict(vars(someone))
    change = preferences.set_schedule(someone, text)
    assert not change.ok and vars(someone) == before
    for words in mentions:
        assert words in change.message
    assert "/growth schedule fri 16:00" in change.message and "Nothing was changed" in change.message


NOW = utc(2026, 3, 11, 12, 0)


@pytest.mark.parametrize("text, until", [
    ("", datetime(9999, 12, 31, tzinfo=UTC)),
    ("2 weeks", NOW + timedelta(weeks=2)),
    ("1 week", NOW + timedelta(weeks=1)),
    ("3", NOW + timedelta(weeks=3)),
    ("52 w", NOW + timedelta(weeks=52)),
])
def test_pause(text, until):
    someone = engineer()
    assert preferences.pause(someone, text, NOW).ok
    assert someone.paused_until == until


@pytest.mark.parametrize("text", ["0", "53 weeks", "two weeks", "2 days", "-1", "1w", "soon", "2 weeks please"])
def test_bad_pause_changes_nothing(text):
    someone = engineer()
    change = preferences.pause(someone, text, NOW)
    assert not change.ok and someone.paused_until is None
    assert "Nothing was changed" in change.message and "/growth pause 2 weeks" in change.message


def test_resume_ends_the_pause_now_and_says_so():
    someone = engineer(paused_until=NOW + timedelta(weeks=2))
    change = preferences.resume(someone, NOW)
    assert change.ok and "Welcome back" in change.message
    assert someone.paused_until == NOW   # the pause is over; moments that passed during it stay skipped
    again = preferences.resume(engineer(), NOW)
    assert again.ok and "not paused" in again.message


def test_reminders_and_question_count():
    someone = engineer()
    assert preferences.set_reminders(someone, "off").ok and someone.reminders_enabled is False
    assert preferences.set_reminders(someone, "ON").ok and someone.reminders_enabled is True
    refused = preferences.set_reminders(someone, "maybe")
    assert not refused.ok and someone.reminders_enabled is True and "/growth reminders off" in refused.message
    for bad in (0, 11):
        assert not preferences.set_question_count(someone, bad).ok and someone.questions_per_checkin is None
    assert preferences.set_question_count(someone, 4).ok and someone.questions_per_checkin == 4


def test_unknown_level_gets_suggestions_and_changes_nothing(catalog):
    level, message = preferences.resolve_level("wizard", Resolver(catalog), catalog)
    assert level is None and "“wizard”" in message and "/ladder help" in message
    level, _ = preferences.resolve_level("senior", Resolver(catalog), catalog, "engineering-levels")
    assert level.key == "engineering-levels/senior"


def test_a_level_with_no_questions_is_refused_at_setup(sparse_catalog):
    someone = engineer()
    cto = sparse_catalog.level("engineering-levels", "cto")
    change = preferences.set_level(someone, cto, sparse_catalog)
    assert not change.ok and (someone.framework_id, someone.level_id) == ("delivery", "senior")
    assert "no reflection questions" in change.message and "crosswalk" in change.message
    vp = sparse_catalog.level("engineering-levels", "vp")
    accepted = preferences.set_level(someone, vp, sparse_catalog)
    assert accepted.ok and someone.level_id == "vp" and "Principal" in accepted.message


@pytest.mark.parametrize("text, expected", [
    ("fri", FRI), ("Friday", FRI), ("FR", FRI), ("tu", 1), ("thurs", 3), ("we", 2), ("sa", 5), ("su", SUN),
    ("t", None), ("s", None), ("someday", None), ("", None), ("fridays", None),
])
def test_weekday_parsing(text, expected):
    assert parse_weekday(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("16:00", time(16, 0)), ("9:30", time(9, 30)), ("4pm", time(16, 0)), ("4:30 pm", time(16, 30)),
    ("12am", time(0, 0)), ("12pm", time(12, 0)), ("00:00", time(0, 0)),
    ("24:00", None), ("25:99", None), ("0pm", None), ("13pm", None), ("9:5", None), ("noon", None), ("", None),
])
def test_clock_parsing(text, expected):
    assert parse_clock(text) == expected
