"""The App Home tab: streaks, the view builder, and `app_home_opened` end to end."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot import ids
from bot.blocks.home import HOME_BLOCK_LIMIT, build_home
from bot.domain.schedule import local_week_start, zone
from storage.repositories.growth_log import Entry, LoggedCheckin
from bot.growthlog.home import HomeData, Me, OpenCheckin, ReportLine, streak
from storage.models import CheckInStatus
from tests import slack_requests as req
from tests.growthlog.files_seed import add_checkin, add_engineer
from tests.running_bot import blocks_text

MONDAY = date(2026, 3, 2)
WEEK = timedelta(days=7)
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


# -- streak ---------------------------------------------------------------------------------------


def test_streak_counts_consecutive_answered_weeks_up_to_this_one():
    assert streak([MONDAY, MONDAY - WEEK, MONDAY - 2 * WEEK], MONDAY) == 3


def test_this_week_not_answered_yet_does_not_break_the_streak():
    assert streak([MONDAY - WEEK, MONDAY - 2 * WEEK], MONDAY) == 2


def test_a_gap_ends_the_streak():
    assert streak([MONDAY, MONDAY - WEEK, MONDAY - 3 * WEEK, MONDAY - 4 * WEEK], MONDAY) == 2


def test_missing_last_week_means_no_streak():
    assert streak([MONDAY - 2 * WEEK, MONDAY - 3 * WEEK], MONDAY) == 0
    assert streak([], MONDAY) == 0


def test_only_this_week_is_a_streak_of_one_and_order_does_not_matter():
    assert streak([MONDAY], MONDAY) == 1
    assert streak([MONDAY - WEEK, MONDAY, MONDAY - WEEK], MONDAY) == 2


# -- the view -------------------------------------------------------------------------------------


def logged(week: date, *texts: str, private: bool = False) -> LoggedCheckin:
    entries = tuple(Entry(i, f"q{i}", f"Question {i}?", text, "modal", private, NOW, False)
                    for i, text in enumerate(texts))
    return LoggedCheckin(i_d(week), week, NOW, "answered", tuple(e.question for e in entries), entries)


def i_d(week: date) -> int:
    return week.toordinal()


def me(**fields) -> Me:
    defaults = dict(level="Senior (Engineering Levels)", stage="Senior Engineer (Delivery)",
                    next_checkin=NOW + timedelta(days=2), paused_until=None, streak=4, open_checkin=None,
                    recent=(), manager_user_id=None)
    return Me(**{**defaults, **fields})


def home(me_: Me | None, reports=()) -> dict:
    view = build_home(HomeData("U1", zone("Europe/Berlin"), me_, tuple(reports)), NOW).to_dict()  # validates
    assert view["type"] == "home" and len(view["blocks"]) <= HOME_BLOCK_LIMIT
    return view


def action_ids(view: dict) -> list[str]:
    return [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_a_new_person_gets_a_welcome_with_a_set_up_button():
    view = home(None)
    assert "Welcome to Growth" in blocks_text(view["blocks"])
    assert action_ids(view) == [ids.OPEN_SETUP]
    assert home(me(level=None, stage=None, next_checkin=None))["blocks"][0]["text"]["text"] == "Welcome to Growth"


def test_an_engineer_sees_level_stage_next_check_in_streak_and_buttons():
    view = home(me(open_checkin=OpenCheckin(42, answered=False), manager_user_id="UMGR",
                   recent=(logged(MONDAY, "Shipped <the> thing", private=True),)))
    text = blocks_text(view["blocks"])
    assert "*Level:* Senior (Engineering Levels)" in text
    assert "*Stage:* Senior Engineer (Delivery)" in text
    assert "*Next check-in:* Friday 6 Mar, 13:00 (Europe/Berlin)" in text
    assert "*Streak:* 4 weeks in a row" in text
    assert "<@UMGR> can read your log" in text
    assert "Shipped &lt;the&gt; thing" in text and "🔒 private" in text
    assert action_ids(view) == [ids.CHECKIN_ANSWER, ids.OPEN_SETUP, ids.EXPORT_OWN_LOG]
    answer = view["blocks"][2]["elements"][0]
    assert answer["value"] == "42" and answer["text"]["text"] == "Answer this week's check-in"
    settings = view["blocks"][2]["elements"][1]
    assert settings["value"] == "setup"


def test_no_answer_button_without_an_open_check_in():
    assert action_ids(home(me())) == [ids.OPEN_SETUP, ids.EXPORT_OWN_LOG]


def test_long_answers_are_split_not_cut_and_the_view_stays_within_100_blocks():
    long_answer = ("I refactored the scheduler so that every due pass claims rows first. " * 100).strip()
    recent = tuple(logged(MONDAY - n * WEEK, *[f"{n}-{i} {long_answer}" for i in range(10)]) for n in range(3))
    view = home(me(recent=recent), reports=[ReportLine(f"UR{n}", NOW) for n in range(40)])
    text = blocks_text(view["blocks"])

    def squeeze(value: str) -> str:
        return "".join(value.replace(">", "").split())

    shown = [c for c in recent if f"Week of {c.week_start:%-d %b %Y}" in text]
    assert 0 < len(shown) < len(recent)
    for checkin in shown:  # every answer shown is shown whole
        for entry in checkin.entries:
            assert squeeze(entry.text) in squeeze(text)
    assert "`/growth log` shows them all" in text
    assert "<@UR39>" in text  # the reports section is never pushed out


def test_a_managers_home_lists_reports_with_dates_and_nothing_they_wrote():
    view = home(None, reports=[ReportLine("U2", datetime(2026, 3, 3, 23, 30, tzinfo=UTC)),
                               ReportLine("U3", None)])
    text = blocks_text(view["blocks"])
    assert "<@U2> — last answered Wed 4 Mar 2026" in text  # in the manager's time zone
    assert "<@U3> — no answers yet" in text


# -- end to end -----------------------------------------------------------------------------------


def open_home(bot, user_id: str, tab: str = "home", event_id: str = "Ev1") -> None:
    body, ctype = req.event_callback({"type": "app_home_opened", "user": user_id, "channel": "D" + user_id,
                                      "tab": tab, "event_ts": "1700000000.000100"}, event_id=event_id)
    status, _, _ = bot.post(body, ctype)
    assert status == 200


def test_opening_home_publishes_level_streak_latest_entries_and_the_answer_button(running_bot, fake_slack):
    factory = running_bot.services.session_factory
    current = local_week_start(datetime.now(UTC), zone("UTC"))
    fields = dict(framework_id="engineering-levels", level_id="senior", tz="UTC", tz_checked_at=datetime.now(UTC))
    add_checkin(factory, "U1", current - 5 * WEEK, [("q1", "Shipped?", "Too old to matter", False)], **fields)
    add_checkin(factory, "U1", current - 3 * WEEK, [("q1", "Shipped?", "The parser", False)])
    add_checkin(factory, "U1", current - 2 * WEEK, [("q1", "Shipped?", "The search index", False)])
    add_checkin(factory, "U1", current - WEEK, [("q1", "Shipped?", "The billing fix", False),
                                                ("q2", "Scared?", "Presenting to the VP", True)])
    open_id = add_checkin(factory, "U1", current, [], status=CheckInStatus.SENT.value)
    open_home(running_bot, "U1")
    fake_slack.wait_for("views.publish")
    view = fake_slack.published_views["U1"]
    text = blocks_text(view["blocks"])
    assert view["type"] == "home"
    assert "Senior (Engineering Levels)" in text and "Senior Engineer (Delivery)" in text
    assert "*Streak:* 3 weeks in a row" in text
    assert "*Next check-in:*" in text
    assert "The billing fix" in text and "Presenting to the VP" in text and "🔒 private" in text
    assert "Too old to matter" not in text  # the last 3 check-ins with answers only
    answer = next(e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["action_id"] == ids.CHECKIN_ANSWER)
    assert answer["value"] == str(open_id)


def test_a_managers_home_lists_reports_with_dates_but_no_answer_text(running_bot, fake_slack):
    factory = running_bot.services.session_factory
    add_checkin(factory, "U1", date(2026, 3, 2), [("q1", "Shipped?", "The billing fix", False)],
                manager_user_id="UMGR")
    add_engineer(factory, "U3", manager_user_id="UMGR")
    open_home(running_bot, "UMGR")
    fake_slack.wait_for("views.publish")
    text = blocks_text(fake_slack.published_views["UMGR"]["blocks"])
    assert "<@U1> — last answered Fri 6 Mar 2026" in text
    assert "<@U3> — no answers yet" in text
    assert "billing" not in text and "Shipped?" not in text
    assert "Set up check-ins" in text  # the manager has no check-ins of their own yet


def test_a_managers_home_does_not_date_private_answers(running_bot, fake_slack):
    factory = running_bot.services.session_factory
    add_checkin(factory, "U1", date(2026, 3, 2), [("q1", "Shipped?", "shared words", False)], manager_user_id="UMGR")
    add_checkin(factory, "U1", date(2026, 3, 9), [("q1", "Shipped?", "only for me", True)])
    add_checkin(factory, "U4", date(2026, 3, 9), [("q1", "Shipped?", "only for me too", True)],
                manager_user_id="UMGR")
    open_home(running_bot, "UMGR")
    fake_slack.wait_for("views.publish")
    text = blocks_text(fake_slack.published_views["UMGR"]["blocks"])
    # The private week (answered Fri 13 Mar) is invisible: not even its date shows.
    assert "<@U1> — last answered Fri 6 Mar 2026" in text and "13 Mar" not in text
    assert "<@U4> — no answers yet" in text


def test_a_new_user_gets_the_welcome_and_is_not_enrolled_by_looking(running_bot, fake_slack):
    open_home(running_bot, "UNEW")
    fake_slack.wait_for("views.publish")
    view = fake_slack.published_views["UNEW"]
    assert action_ids(view) == [ids.OPEN_SETUP]
    from storage.repositories import Engineers

    with running_bot.services.session_factory() as session:
        assert Engineers(session).get("T1", "UNEW") is None


def test_the_messages_tab_publishes_nothing(running_bot, fake_slack):
    open_home(running_bot, "U1", tab="messages", event_id="Ev2")
    open_home(running_bot, "U2", tab="home", event_id="Ev3")
    fake_slack.wait_for("views.publish")
    assert list(fake_slack.published_views) == ["U2"]


def test_the_home_export_button_uploads_to_the_dm(running_bot, fake_slack):
    add_checkin(running_bot.services.session_factory, "U1", date(2026, 3, 2),
                [("q1", "Shipped?", "The billing fix", False)])
    view = {"id": "VHU1", "type": "home", "blocks": []}
    body, ctype = req.block_action("U1", ids.EXPORT_OWN_LOG, "md", view=view)
    running_bot.post(body, ctype)
    fake_slack.wait_for("files.completeUploadExternal")
    assert "The billing fix" in fake_slack.uploaded_files[-1].content.decode()


def test_the_home_export_button_with_nothing_to_export_says_so_in_the_dm(running_bot, fake_slack):
    body, ctype = req.block_action("UNEW", ids.EXPORT_OWN_LOG, "md", view={"id": "VHUNEW", "type": "home"})
    running_bot.post(body, ctype)
    fake_slack.wait_for("chat.postMessage")
    assert "empty" in fake_slack.messages_in("UNEW")[-1]["text"]


# -- gathering, on SQLite and PostgreSQL ----------------------------------------------------------


def services_for(session_factory, now: datetime):
    from bot.services import Services, build_content_services
    from bot.settings import load_settings

    settings = load_settings(environ={}, env_file=None)
    catalog, resolver, ladder = build_content_services(settings)
    return Services(settings=settings, catalog=catalog, resolver=resolver, ladder=ladder,
                    session_factory=session_factory, now=lambda: now)


def test_a_long_streak_is_counted_across_pages_of_the_log(session_factory):
    from bot.growthlog.home import gather_home

    for n in range(1, 16):  # 15 answered weeks up to last week, then a gap, then more
        add_checkin(session_factory, "U1", MONDAY - n * WEEK, [("q1", "Shipped?", f"week -{n}", n == 1)])
    for n in range(17, 20):
        add_checkin(session_factory, "U1", MONDAY - n * WEEK, [("q1", "Shipped?", f"week -{n}", False)])
    data = gather_home(services_for(session_factory, NOW), "T1", "U1")
    assert data.me.streak == 15
    assert [c.week_start for c in data.me.recent] == [MONDAY - WEEK, MONDAY - 2 * WEEK, MONDAY - 3 * WEEK]
    assert data.me.recent[0].entries[0].private  # their own private entries are on their own Home
    assert data.me.level is None and data.me.next_checkin is None  # no level: nothing will be sent
