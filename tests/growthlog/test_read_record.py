"""The read record: every allowed read of an engineer's log by someone else is recorded once,
and the engineer sees it (`/growth reads`, App Home, the check-in DM's weekly line).

The matrix reuses test_access_matrix's people and read paths, through the running bot: A's
manager is M (F was, until A switched), X is an admin, S a stranger, B another engineer
(managed by M2). The engineer's own reads and refused reads record nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot import ids
from bot.blocks.reads import weekly_line
from bot.growthlog.access import REFUSAL
from bot.growthlog.reads import READS_NOTICE
from storage.models import Engineer, LogRead, ReadNotice
from storage.repositories.log_reads import ReaderTotal
from tests.checkins.desk import add_engineer, checkin_dms, make_desk
from tests.fake_slack import FakeSlack
from tests.growthlog import log_seed as seed
from tests.growthlog.replies import acked
from tests.growthlog.test_access_matrix import OWNERS, PATHS, READERS, _seed, allowed
from tests.running_bot import blocks_text, start_bot

RECORDED_AS = {"log": "log", "export": "export", "profile": "profile", "prep": "prep"}


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    from storage.db import upgrade_database

    url = f"sqlite:///{tmp_path_factory.mktemp('reads') / 'bot.db'}"
    upgrade_database(url)
    with FakeSlack() as fake:
        running, stop = start_bot(fake, url, ADMIN_USER_IDS=READERS["X"])
        _seed(running)
        yield running
        stop()


def reads_of(bot, owner: str) -> list[LogRead]:
    with bot.services.session_factory() as session:
        return list(session.scalars(select(LogRead).join(Engineer, Engineer.id == LogRead.engineer_id)
                                    .where(Engineer.user_id == owner).order_by(LogRead.id)))


CASES = [(path, r, o) for path in PATHS for r in READERS for o in OWNERS]


@pytest.mark.parametrize("path, reader_name, owner_name", CASES, ids=[f"{p}-{r}-reads-{o}" for p, r, o in CASES])
def test_every_allowed_read_by_someone_else_is_recorded_once(bot, path, reader_name, owner_name):
    reader, owner = READERS[reader_name], OWNERS[owner_name]
    before = reads_of(bot, owner)
    bot.fake.clear()
    got = PATHS[path](bot, reader, owner)
    new = reads_of(bot, owner)[len(before):]
    if path == "home" or reader == owner or not allowed(path, reader, owner):
        # App Home never shows a report's entries; one's own reads and refusals are not reads.
        assert new == [], (path, reader_name, owner_name)
        return
    assert not got.refused
    assert [(r.reader_user_id, r.what) for r in new] == [(reader, RECORDED_AS[path])]
    # A's log holds one shared answer and one private one: only the shared one reached the manager.
    if path in ("log", "prep", "export"):
        assert new[0].entries == 1
    if path == "profile":
        assert new[0].entries == 1       # one self-assessment drawn


def test_the_former_manager_and_the_admin_leave_no_record(bot):
    for reader in (READERS["F"], READERS["X"], READERS["S"]):
        for path in ("log", "prep", "export", "profile"):
            bot.fake.clear()
            assert PATHS[path](bot, reader, OWNERS["A"]).refused
    assert {r.reader_user_id for r in reads_of(bot, OWNERS["A"])} <= {READERS["M"]}


# -- on a fresh bot: paging, the notice, what the engineer sees --------------------------------

MONDAY = date.today() - timedelta(days=date.today().weekday())


def seed_weeks(bot, weeks: int, owner: str = "U1", manager: str = "U2") -> None:
    with bot.services.session_factory.begin() as session:
        engineer = seed.engineer(session, owner, manager=manager)
        for n, week in enumerate(seed.weeks_back(MONDAY - timedelta(weeks=1), weeks)):
            row = seed.checkin(session, engineer, week, [("q1", "Shared?"), ("q2", "Private?")])
            seed.answer(session, row, "q1", f"shared {n}", at=datetime.now(UTC) - timedelta(days=7 * n + 1))
            seed.answer(session, row, "q2", f"private {n}", at=datetime.now(UTC) - timedelta(days=7 * n + 1),
                        private=True)
        seed.engineer(session, manager)


def value_of(message: dict, action_id: str) -> str:
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return element["value"]
    raise AssertionError(f"no {action_id} button")


def test_a_paging_click_is_one_read_of_that_pages_entries(running_bot):
    seed_weeks(running_bot, 7)
    first = acked(running_bot.command("/growth log <@U1|ada>", user_id="U2"))
    click = running_bot.click(ids.LOG_OLDER, value_of(first, ids.LOG_OLDER), user_id="U2")
    page = click.followups()[0]
    assert "shared 5" in blocks_text(page["blocks"]) and "private" not in blocks_text(page["blocks"])
    assert [(r.what, r.entries) for r in reads_of(running_bot, "U1")] == [("log", 5), ("log", 2)]
    # The engineer paging through their own log records nothing.
    own = acked(running_bot.command("/growth log", user_id="U1"))
    running_bot.click(ids.LOG_OLDER, value_of(own, ids.LOG_OLDER), user_id="U1").followups()
    assert len(reads_of(running_bot, "U1")) == 2


def test_a_crafted_page_button_for_someone_elses_log_is_refused_and_not_recorded(running_bot):
    seed_weeks(running_bot, 2)
    crafted = json.dumps({"o": "U1", "p": 0})
    reply = running_bot.click(ids.LOG_NEWER, crafted, user_id="U9")
    assert blocks_text(reply.followups()[0]["blocks"]) == REFUSAL
    assert reads_of(running_bot, "U1") == []


def test_a_reader_is_told_once_per_workspace_that_reads_are_visible(running_bot):
    seed_weeks(running_bot, 2)
    seed_weeks(running_bot, 1, owner="U3", manager="U2")
    first = blocks_text(acked(running_bot.command("/growth log <@U1|ada>", user_id="U2"))["blocks"])
    again = blocks_text(acked(running_bot.command("/growth log <@U1|ada>", user_id="U2"))["blocks"])
    other = blocks_text(acked(running_bot.command("/growth prep <@U3|cy>", user_id="U2"))["blocks"])
    own = blocks_text(acked(running_bot.command("/growth log", user_id="U1"))["blocks"])
    assert READS_NOTICE in first
    assert READS_NOTICE not in again and READS_NOTICE not in other and READS_NOTICE not in own
    with running_bot.services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ReadNotice)) == 1


def test_the_first_automatic_digest_carries_the_notice(running_bot):
    from bot.growthlog.one_on_ones import run_auto_prep
    from slack_sdk import WebClient

    seed_weeks(running_bot, 2)
    running_bot.command("/growth 1on1 <@U1|ada> thu 10:00", user_id="U2").followups()
    services = running_bot.services
    with services.session_factory() as session:
        from storage.models import OneOnOne
        pair = session.scalars(select(OneOnOne)).one()
    now = datetime.now(UTC)
    meeting_day = now + timedelta(days=(3 - now.weekday()) % 7 or 7)
    at = meeting_day.replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(hours=1)
    client = WebClient(base_url=running_bot.fake.base_url, token="xoxb-test")
    services.now = lambda: at     # the outbox sends what is due by its clock
    assert run_auto_prep(services, client, at).sent == 1, pair
    digest = running_bot.fake.calls_to("chat.postMessage")
    assert READS_NOTICE in blocks_text(digest[-1].args.get("blocks") or [])
    assert [(r.reader_user_id, r.what, r.entries) for r in reads_of(running_bot, "U1")] == [("U2", "prep", 2)]


def test_growth_reads_lists_the_reads_and_the_home_tab_shows_the_latest(running_bot):
    seed_weeks(running_bot, 2)
    acked(running_bot.command("/growth log <@U1|ada>", user_id="U2"))
    acked(running_bot.command("/growth prep <@U1|ada>", user_id="U2"))
    listed = blocks_text(running_bot.command("/growth reads", user_id="U1").followups()[0]["blocks"])
    assert "<@U2> read 2 entries of your log ·" in listed
    assert "<@U2> read a 1:1 prep digest of your log" in listed
    assert listed.index("prep digest") < listed.index("2 entries of your log")   # newest first
    assert "<!date^" in listed
    # A manager's own list is theirs: nobody read U2's log.
    assert "Nobody else has read" in blocks_text(
        running_bot.command("/growth reads", user_id="U2").followups()[0]["blocks"])

    from bot.growthlog.home import publish_home
    from slack_sdk import WebClient

    publish_home(running_bot.services, WebClient(base_url=running_bot.fake.base_url, token="xoxb-test"), "T1", "U1")
    home = blocks_text(running_bot.fake.published_views["U1"]["blocks"])
    assert "*Last read by someone else:* <@U2> read a 1:1 prep digest" in home


def test_growth_reads_weekly_switches_the_line(running_bot):
    seed_weeks(running_bot, 1)
    off = running_bot.command("/growth reads weekly off", user_id="U1").followups()[0]
    assert "no longer" in blocks_text(off["blocks"])
    with running_bot.services.session_factory() as session:
        assert session.scalar(select(Engineer.reads_weekly_line).where(Engineer.user_id == "U1")) is False
    running_bot.command("/growth reads weekly on", user_id="U1").followups()
    with running_bot.services.session_factory() as session:
        assert session.scalar(select(Engineer.reads_weekly_line).where(Engineer.user_id == "U1")) is True
    wrong = running_bot.command("/growth reads weekly sometimes", user_id="U1").followups()[0]
    assert "/growth reads weekly off" in blocks_text(wrong["blocks"])


def test_the_weekly_line_names_the_manager_and_counts_entries():
    assert weekly_line([], "UM") is None
    assert weekly_line([ReaderTotal("UM", 2, 3)], "UM").startswith("👀 Your manager read 3 entries of your log")
    line = weekly_line([ReaderTotal("UF", 1, 0), ReaderTotal("UM", 1, 1)], "UM")
    assert line.startswith("👀 <@UF> and your manager read 1 entry of your log this week")


# -- the weekly line in the check-in DM, on both databases ---------------------------------------

WEEK = date(2026, 3, 9)
DUE = datetime(2026, 3, 13, 16, 0, tzinfo=UTC)   # Friday 16:00 UTC


def add_read(session_factory, engineer_id: int, reader: str, entries: int, at: datetime) -> None:
    with session_factory.begin() as session:
        session.add(LogRead(engineer_id=engineer_id, reader_user_id=reader, what="log", entries=entries, read_at=at))


def dm_text(fake, user_id: str) -> str:
    return blocks_text(checkin_dms(fake, user_id)[-1]["blocks"])


def test_the_check_in_dm_says_who_read_the_log_that_week(fake_slack, database_url, session_factory):
    desk = make_desk(fake_slack, database_url, session_factory)
    read = add_engineer(session_factory, "U1", manager_user_id="UM")
    quiet = add_engineer(session_factory, "U2", manager_user_id="UM")
    off = add_engineer(session_factory, "U3", manager_user_id="UM", reads_weekly_line=False)
    for engineer_id in (read, off):
        add_read(session_factory, engineer_id, "UM", 2, DUE - timedelta(days=2))
        add_read(session_factory, engineer_id, "UM", 1, DUE - timedelta(hours=1))
        add_read(session_factory, engineer_id, "UM", 9, DUE - timedelta(days=8))    # last week's: not counted
    assert desk.run(DUE).sent == 3
    assert "Your manager read 3 entries of your log this week" in dm_text(fake_slack, "U1")
    assert "read" not in dm_text(fake_slack, "U2").split("growth log:")[-1].replace("readable", "")
    assert "this week" not in dm_text(fake_slack, "U2") and "this week" not in dm_text(fake_slack, "U3")


# -- the record is the engineer's ----------------------------------------------------------------

def test_forget_me_deletes_the_record_and_the_readers_notice(running_bot):
    seed_weeks(running_bot, 2)
    acked(running_bot.command("/growth log <@U1|ada>", user_id="U2"))
    assert len(reads_of(running_bot, "U1")) == 1
    running_bot.click(ids.FORGET_DELETE, "U1", user_id="U1").followups()
    running_bot.click(ids.FORGET_DELETE, "U2", user_id="U2").followups()
    with running_bot.services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(LogRead)) == 0
        assert session.scalar(select(func.count()).select_from(ReadNotice)) == 0


def test_forget_me_cascade_takes_the_reads_on_both_databases(session_factory):
    from bot.growthlog.forget import forget_person

    with session_factory.begin() as session:
        engineer = seed.engineer(session, "U1", manager="U2")
        session.add(LogRead(engineer_id=engineer.id, reader_user_id="U2", what="log", entries=1,
                            read_at=datetime.now(UTC)))
    with session_factory.begin() as session:
        forgotten = forget_person(session, "T1", "U1")
    assert forgotten.records >= 2
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(LogRead)) == 0


def test_ones_own_export_carries_who_read_it_and_a_managers_does_not(running_bot):
    seed_weeks(running_bot, 2)
    acked(running_bot.command("/growth log <@U1|ada>", user_id="U2"))
    running_bot.command("/growth export <@U1|ada>", user_id="U2").followups()
    manager_file = running_bot.fake.uploaded_files[-1].content.decode()
    assert "Who read your log" not in manager_file
    running_bot.command("/growth export", user_id="U1").followups()
    own_file = running_bot.fake.uploaded_files[-1].content.decode()
    assert "## Who read your log" in own_file
    assert "read 2 entries of your log" in own_file and "exported your log (2 entries" in own_file
    running_bot.command("/growth export csv", user_id="U1").followups()
    rows = running_bot.fake.uploaded_files[-1].content.decode().splitlines()
    assert sum(row.endswith(",read") for row in rows) == 2
