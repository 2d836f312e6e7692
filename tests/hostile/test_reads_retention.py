"""Hostile and clumsy clients against #13: the Delete button, the read record, `/growth reads`,
the retention pass and the Block Kit limits of what they draw."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot import ids
from bot.growthlog.log_view import LogQuery
from storage.models import Answer, AnswerRevision, Engineer, LogRead
from tests.growthlog.test_delete_answer import seed_two
from tests.running_bot import blocks_text, start_bot

SORRY = "went wrong"
NOT_DELETED = "isn't yours to delete"


def quiet_log(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text


def said(bot, reply) -> str:
    reply.followups()
    time.sleep(0.2)
    return "\n".join(blocks_text(m.get("blocks", [])) + str(m.get("text", ""))
                     for m in bot.fake.responses_for(reply.token))


def answer_count(bot) -> tuple[int, int]:
    with bot.services.session_factory() as session:
        return (session.scalar(select(func.count()).select_from(Answer)),
                session.scalar(select(func.count()).select_from(AnswerRevision)))


def reads_of(bot, owner: str) -> list[LogRead]:
    with bot.services.session_factory() as session:
        return list(session.scalars(select(LogRead).join(Engineer, Engineer.id == LogRead.engineer_id)
                                    .where(Engineer.user_id == owner).order_by(LogRead.id)))


@pytest.fixture
def bot_on(fake_slack, database_url):
    bot, stop = start_bot(fake_slack, database_url)
    yield bot
    stop()


# -- the Delete button ---------------------------------------------------------------------------

QUERY = LogQuery("U1").to_value()
CRAFTED_IDS = [2 ** 31, 2 ** 63 - 1, 2 ** 63, 2 ** 70, -1, 0, "-5", "abc", None, 1.5, True, [1], {"a": 1}]


@pytest.mark.parametrize("answer_id", CRAFTED_IDS, ids=[repr(a)[:20] for a in CRAFTED_IDS])
def test_a_delete_naming_a_non_numeric_huge_or_negative_id_deletes_nothing_and_says_so(bot_on, caplog, answer_id):
    caplog.set_level(logging.INFO)
    seed_two(bot_on.services.session_factory)
    before = answer_count(bot_on)
    value = json.dumps({"a": answer_id, "q": QUERY})
    reply = bot_on.click(f"{ids.LOG_DELETE}:1", value, user_id="U1")
    assert reply.status == 200
    text = said(bot_on, reply)
    assert NOT_DELETED in text and SORRY not in text
    assert answer_count(bot_on) == before
    quiet_log(caplog)


def test_a_delete_click_without_a_value_or_replayed_after_deletion_deletes_nothing_more(bot_on, caplog):
    caplog.set_level(logging.INFO)
    found = seed_two(bot_on.services.session_factory)
    missing = bot_on.click(f"{ids.LOG_DELETE}:{found['first']}", None, user_id="U1")
    assert missing.status == 200 and NOT_DELETED in said(bot_on, missing)
    value = json.dumps({"a": found["first"], "q": QUERY})
    first = bot_on.click(f"{ids.LOG_DELETE}:{found['first']}", value, user_id="U1")
    assert "first final" not in said(bot_on, first)
    assert answer_count(bot_on) == (2, 0)
    replayed = bot_on.click(f"{ids.LOG_DELETE}:{found['first']}", value, user_id="U1")
    assert replayed.status == 200 and NOT_DELETED in said(bot_on, replayed)
    assert answer_count(bot_on) == (2, 0)
    quiet_log(caplog)


def test_a_delete_from_the_same_user_id_in_another_workspace_deletes_nothing(bot_on, caplog):
    caplog.set_level(logging.INFO)
    found = seed_two(bot_on.services.session_factory)
    value = json.dumps({"a": found["first"], "q": QUERY})
    reply = bot_on.click(f"{ids.LOG_DELETE}:{found['first']}", value, user_id="U1", team_id="T2")
    assert reply.status == 200 and NOT_DELETED in said(bot_on, reply)
    assert answer_count(bot_on) == (3, 1)
    quiet_log(caplog)


def test_a_manager_clicking_delete_on_a_reports_entry_deletes_nothing_and_records_no_read(bot_on, caplog):
    caplog.set_level(logging.INFO)
    found = seed_two(bot_on.services.session_factory)
    for answer_id in (found["first"], found["second"]):
        value = json.dumps({"a": answer_id, "q": QUERY})
        reply = bot_on.click(f"{ids.LOG_DELETE}:{answer_id}", value, user_id="U2")
        text = said(bot_on, reply)
        assert NOT_DELETED in text and "first final" not in text
    assert answer_count(bot_on) == (3, 1)
    assert reads_of(bot_on, "U1") == []
    quiet_log(caplog)


def test_the_action_id_and_the_value_disagreeing_deletes_only_what_the_value_names_if_own(bot_on, caplog):
    caplog.set_level(logging.INFO)
    found = seed_two(bot_on.services.session_factory)
    # The action id names the clicker's own answer, the value someone else's: nothing goes.
    value = json.dumps({"a": found["theirs"], "q": QUERY})
    reply = bot_on.click(f"{ids.LOG_DELETE}:{found['first']}", value, user_id="U1")
    assert NOT_DELETED in said(bot_on, reply)
    assert answer_count(bot_on) == (3, 1)
    quiet_log(caplog)


FAR_PAGE = 100_000     # bot.growthlog.log_view.MAX_PAGE: the furthest page a button may name
PAST_PAGES = [FAR_PAGE + 1, 2 ** 31, 2 ** 62, 2 ** 63 - 1]   # page x page size overflowed OFFSET: a 500


@pytest.mark.parametrize("page", [FAR_PAGE, *PAST_PAGES])
def test_a_delete_whose_page_to_redraw_is_huge_answers_and_deletes_only_a_button_of_ours(bot_on, caplog, page):
    caplog.set_level(logging.INFO)
    found = seed_two(bot_on.services.session_factory)
    value = json.dumps({"a": found["second"], "q": json.dumps({"o": "U1", "p": page})})
    reply = bot_on.click(f"{ids.LOG_DELETE}:{found['second']}", value, user_id="U1")
    assert reply.status == 200
    text = said(bot_on, reply)
    assert SORRY not in text
    if page == FAR_PAGE:
        assert answer_count(bot_on) == (2, 1)
    else:   # not a value the bot draws: nothing deleted, and said so
        assert NOT_DELETED in text and answer_count(bot_on) == (3, 1)
    quiet_log(caplog)


# -- paging buttons with crafted pages: answered, and recorded once when shown -------------------

@pytest.mark.parametrize("page", [FAR_PAGE, *PAST_PAGES])
@pytest.mark.parametrize("clicker", ["U1", "U2"])
def test_a_paging_click_with_a_huge_page_answers_and_records_at_most_one_read(bot_on, caplog, page, clicker):
    caplog.set_level(logging.INFO)
    seed_two(bot_on.services.session_factory)
    reply = bot_on.click(ids.LOG_OLDER, json.dumps({"o": "U1", "p": page}), user_id=clicker)
    assert reply.status == 200
    assert SORRY not in said(bot_on, reply)
    shown = page == FAR_PAGE and clicker == "U2"     # an empty page of a report's log is still a look
    assert [(r.reader_user_id, r.entries) for r in reads_of(bot_on, "U1")] == ([("U2", 0)] if shown else [])
    quiet_log(caplog)


# -- Block Kit limits: a full own page with Delete buttons, `/growth reads` with odd records -------

def walk_limits(message: list) -> None:
    """Slack's limits on one message: 50 blocks, 3,000 characters a text, 2,000 a button value,
    action ids unique within the message; and at most 5 elements an actions block (Slack takes
    25; five keeps a row of buttons on one line on a phone)."""
    blocks = [b.to_dict() for b in message]    # slack_sdk validates its own limits here
    assert len(blocks) <= 50
    action_ids: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text"):
                assert len(node["text"]) <= 3000
            if "action_id" in node:
                action_ids.append(node["action_id"])
                assert len(node.get("value", "")) <= 2000
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for block in blocks:
        if block["type"] == "actions":
            assert len(block["elements"]) <= 5
        walk(block)
    assert len(action_ids) == len(set(action_ids)), action_ids


def test_a_full_own_page_with_long_answers_and_delete_buttons_stays_within_block_kit(session_factory, uow):
    from datetime import UTC, date, datetime, timedelta

    from bot.blocks.growthlog import build_log_messages
    from bot.growthlog.access import Reader
    from bot.growthlog.log_view import read_log_view
    from tests.growthlog import log_seed as seed

    monday = date(2026, 11, 30)
    questions = [(f"q{i}", f"Question {i} " + "why " * 60) for i in range(8)]
    with session_factory.begin() as session:
        owner = seed.engineer(session, "U1", manager="U2")
        for n, week in enumerate(seed.weeks_back(monday, 7)):
            row = seed.checkin(session, owner, week, questions)
            for question_id, _ in questions:
                seed.answer(session, row, question_id, ("long *text* & <b> " * 400)[:7000],
                            at=datetime(2026, 12, 1, tzinfo=UTC) - timedelta(days=7 * n))
    view = read_log_view(uow, Reader("T1", "U1"), LogQuery(page=0))
    messages = build_log_messages(view)
    assert len(messages) > 1                # split, not truncated
    for message in messages:
        walk_limits(message)
    buttons = [e for m in messages for b in m if b.type == "actions" for e in b.elements
               if e.action_id.startswith(ids.LOG_DELETE)]
    assert len(buttons) == 5 * len(questions)     # one Delete per own entry on the page
    managed = build_log_messages(read_log_view(uow, Reader("T1", "U2"), LogQuery("U1")))
    for message in managed:
        walk_limits(message)


def test_growth_reads_with_twenty_records_and_very_long_reader_ids_stays_within_block_kit():
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from bot.blocks.reads import build_reads, latest_read_line
    from bot.growthlog.reads import MyReads
    from storage.repositories.log_reads import ReadRecord

    at = datetime(2026, 12, 1, 10, 4, tzinfo=UTC)
    records = tuple(ReadRecord("U" + "X" * 250 + str(n), what, 10 ** 6, at - timedelta(hours=n))
                    for n, what in zip(range(20), ["log", "prep", "export", "profile"] * 5))
    blocks = build_reads(MyReads(records, ZoneInfo("Pacific/Kiritimati"), True, None))
    walk_limits(blocks)
    text = blocks_text([b.to_dict() for b in blocks])
    assert text.count("<@UXXX") == 20         # every read listed, none cut off
    assert len(latest_read_line(records[0], ZoneInfo("UTC"))) <= 3000


# -- `/growth reads` with odd arguments: never anyone else's record ---------------------------------

def growth_command(bot, text: str, user_id: str, team_id: str = "T1"):
    from tests import slack_requests as req
    from tests.running_bot import Reply, _json

    token = bot._token()
    body, ctype = req.slash_command(command="/growth", text=text, user_id=user_id, team_id=team_id,
                                    response_url=bot.fake.response_url(token))
    status, _, answer = bot.post(body, ctype)
    return Reply(status, _json(answer), token, bot.fake)


ODD = ["weekly maybe", "weekly", "weekly on off", "<@U1|ada>", "<@U1>", "@U1", "U1", "all", "weekly <@U1>",
       "WEEKLY OFF x", "-1", "20000", "weekly\u0000off", "reads", "'; drop table log_reads; --"]


@pytest.mark.parametrize("rest", ODD)
def test_growth_reads_with_odd_arguments_shows_nobody_elses_record(bot_on, caplog, rest):
    caplog.set_level(logging.INFO)
    seed_two(bot_on.services.session_factory)
    bot_on.command("/growth log <@U1|ada>", user_id="U2")          # U2 reads U1's log
    assert len(reads_of(bot_on, "U1")) == 1
    with bot_on.services.session_factory() as session:
        before = session.scalar(select(Engineer.reads_weekly_line).where(Engineer.user_id == "U3"))
    reply = growth_command(bot_on, f"reads {rest}", user_id="U3")
    assert reply.status == 200
    text = reply.text() + said(bot_on, reply)
    assert SORRY not in text and "<@U2>" not in text and "entries of your log ·" not in text
    assert "/growth reads weekly off" in text               # the usage line, as for any other typo
    with bot_on.services.session_factory() as session:
        assert session.scalar(select(Engineer.reads_weekly_line).where(Engineer.user_id == "U3")) == before
    quiet_log(caplog)


def test_growth_reads_by_the_same_user_id_in_another_workspace_shows_nothing_of_theirs(bot_on, caplog):
    caplog.set_level(logging.INFO)
    seed_two(bot_on.services.session_factory)
    bot_on.command("/growth log <@U1|ada>", user_id="U2")
    own = said(bot_on, growth_command(bot_on, "reads", user_id="U1"))
    assert "<@U2> read 2 entries of your log" in own
    elsewhere = growth_command(bot_on, "reads", user_id="U1", team_id="T2")
    text = elsewhere.text() + said(bot_on, elsewhere)
    assert "<@U2>" not in text and "Nobody else has read" in text
    quiet_log(caplog)


# -- the read record on other paths: a kept button, a page of private answers only ----------------

def test_a_former_managers_kept_paging_button_is_refused_and_not_recorded(bot_on, caplog):
    from tests.growthlog.test_read_record import seed_weeks, value_of
    from tests.growthlog.replies import acked

    caplog.set_level(logging.INFO)
    seed_weeks(bot_on, 7)
    page = acked(bot_on.command("/growth log <@U1|ada>", user_id="U2"))
    assert len(reads_of(bot_on, "U1")) == 1
    said(bot_on, bot_on.command("/growth manager none", user_id="U1"))
    click = bot_on.click(ids.LOG_OLDER, value_of(page, ids.LOG_OLDER), user_id="U2")
    text = said(bot_on, click)
    assert "shared" not in text and SORRY not in text
    assert len(reads_of(bot_on, "U1")) == 1
    quiet_log(caplog)


def test_a_page_of_private_answers_only_records_a_read_of_no_entries_and_shows_none(bot_on):
    from datetime import UTC, datetime

    from tests.growthlog import log_seed as seed
    from tests.growthlog.replies import acked
    from tests.growthlog.test_read_record import MONDAY

    with bot_on.services.session_factory.begin() as session:
        owner = seed.engineer(session, "U1", manager="U2")
        row = seed.checkin(session, owner, MONDAY, [("q1", "Q?")])
        seed.answer(session, row, "q1", "secret marker", at=datetime.now(UTC), private=True)
        seed.engineer(session, "U2")
    text = blocks_text(acked(bot_on.command("/growth log <@U1|ada>", user_id="U2"))["blocks"])
    assert "secret marker" not in text
    assert [(r.reader_user_id, r.entries) for r in reads_of(bot_on, "U1")] == [("U2", 0)]
    listed = said(bot_on, growth_command(bot_on, "reads", user_id="U1"))
    assert "<@U2> opened your log (nothing to show)" in listed


# -- retention: once a day across processes, month ends, racing forget-me, no setting ---------------

def second_uow(database_url):
    """Another process's way into the same database: its own engine and sessions."""
    from storage.db import make_engine, make_session_factory
    from storage.uow import UnitOfWork

    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    return UnitOfWork(factory, factory), engine


def at_once(*calls):
    """Run each call in its own thread, released together; return results (or raised exceptions)."""
    import threading

    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:   # noqa: BLE001 - the test asserts there is none
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_run_dues_at_once_prune_exactly_once(database_url, session_factory, uow):
    from bot.growthlog.retention import run_retention
    from storage.models import ProcessedEvent
    from tests.growthlog.test_retention import BOUNDARY, NOW, counts, seed_around

    seed_around(session_factory, BOUNDARY)
    for later in (timedelta(0), timedelta(hours=1), timedelta(hours=11)):   # three races on one UTC day
        other, engine = second_uow(database_url)
        try:
            results = at_once(lambda: run_retention(uow, 24, NOW + later),
                              lambda: run_retention(other, 24, NOW + later))
        finally:
            engine.dispose()
        assert not [r for r in results if isinstance(r, Exception)], results
        done = [r for r in results if r is not None]
        assert len(done) == (1 if later == timedelta(0) else 0), results
        if done:
            assert done[0].answers == 1
    assert counts(session_factory) == {"answers": 1, "answer_revisions": 1, "assessments": 1, "log_reads": 1}
    with session_factory() as session:
        keys = list(session.scalars(select(ProcessedEvent.key).where(ProcessedEvent.key.like("retention:%"))))
    assert keys == ["retention:2028-03-15"]


def test_jan_31_plus_one_month_is_kept_through_february_and_gone_on_march_1(session_factory, uow):
    from datetime import UTC, datetime

    from bot.growthlog.retention import months_before, run_retention
    from tests.growthlog.test_retention import seed_around, texts

    jan_31 = datetime(2027, 1, 31, 12, 0, tzinfo=UTC)
    assert months_before(datetime(2027, 3, 31, 12, 0, tzinfo=UTC), 1) == datetime(2027, 2, 28, 12, 0, tzinfo=UTC)
    assert months_before(datetime(2028, 3, 31, tzinfo=UTC), 1) == datetime(2028, 2, 29, tzinfo=UTC)
    assert months_before(datetime(2028, 2, 29, tzinfo=UTC), 12) == datetime(2027, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2027, 1, 15, tzinfo=UTC), 1) == datetime(2026, 12, 15, tzinfo=UTC)
    # The cutoff never moves backwards from one day to the next across month ends.
    day, previous = datetime(2026, 12, 25, tzinfo=UTC), None
    while day < datetime(2028, 4, 5, tzinfo=UTC):
        for months in (1, 13, 24):
            cutoff = months_before(day, months)
            assert cutoff < day
        cutoff = months_before(day, 1)
        assert previous is None or cutoff >= previous
        previous, day = cutoff, day + timedelta(days=1)

    seed_around(session_factory, jan_31)     # answers on Jan 30 and Feb 1 (a day either side)
    assert run_retention(uow, 1, datetime(2027, 2, 28, 23, 59, tzinfo=UTC)).answers == 0
    assert texts(session_factory) == ["new edited", "old edited"]
    assert run_retention(uow, 1, datetime(2027, 3, 1, 0, 0, tzinfo=UTC)).answers == 1    # cutoff Feb 1 00:00
    assert texts(session_factory) == ["new edited"]
    assert run_retention(uow, 1, datetime(2027, 3, 1, 12, 0, 1, tzinfo=UTC)) is None     # that day's pass is done
    assert run_retention(uow, 1, datetime(2027, 3, 2, 0, 0, tzinfo=UTC)).answers == 1    # cutoff Feb 2: Feb 1 goes
    assert texts(session_factory) == []


def seed_old_log(session_factory, user_id: str, answers: int, at) -> None:
    from tests.growthlog import log_seed as seed
    from storage.repositories import Answers

    with session_factory.begin() as session:
        engineer = seed.engineer(session, user_id, manager="U2")
        for n in range(answers):
            when = at - timedelta(days=7 * n)
            row = seed.checkin(session, engineer, (when - timedelta(days=when.weekday())).date(),
                               [("q1", "Q"), ("q2", "R")])
            for question in ("q1", "q2"):
                answer = seed.answer(session, row, question, f"{user_id} {n} {question}", at=when)
                Answers(session).edit_text(answer, f"{user_id} {n} {question} edited", when + timedelta(hours=1))
            session.add(LogRead(engineer_id=engineer.id, reader_user_id="U2", what="log", entries=2, read_at=when))


ROUNDS = 3   # 25 rounds on both databases found no deadlock or lost row either


def test_a_forget_me_racing_a_retention_pass_leaves_nothing_behind_and_fails_neither(database_url, session_factory,
                                                                                   uow):
    from datetime import UTC, datetime

    from bot.growthlog.forget import forget_me
    from bot.growthlog.retention import prune_before
    from tests.growthlog.test_retention import counts, texts

    cutoff = datetime(2027, 6, 1, tzinfo=UTC)
    for round_ in range(ROUNDS):
        seed_old_log(session_factory, "U1", 60, cutoff - timedelta(days=1))          # all old
        seed_old_log(session_factory, "U3", 3, cutoff + timedelta(days=30))          # all newer
        other, engine = second_uow(database_url)
        try:
            results = at_once(lambda: prune_before(uow, cutoff, batch=7),
                              lambda: forget_me(other, "T1", "U1"))
        finally:
            engine.dispose()
        assert not [r for r in results if isinstance(r, Exception)], results
        assert counts(session_factory) == {"answers": 6, "answer_revisions": 6, "assessments": 0, "log_reads": 3}
        assert all(text.startswith("U3 ") for text in texts(session_factory))
        with session_factory() as session:
            assert session.scalar(select(func.count()).select_from(Engineer).where(Engineer.user_id == "U1")) == 0
        forget_me(uow, "T1", "U3")


@pytest.mark.parametrize("setting", [None, ""])
def test_retention_with_the_setting_unset_or_empty_deletes_nothing_and_claims_no_day(fake_slack, database_url,
                                                                                   session_factory, setting):
    from bot.scheduling import retention_pass
    from storage.models import ProcessedEvent
    from tests.checkins.desk import make_desk
    from tests.growthlog.test_retention import BOUNDARY, NOW, counts, seed_around

    overrides = {} if setting is None else {"ANSWER_RETENTION_MONTHS": setting}
    services = make_desk(fake_slack, database_url, session_factory, **overrides).services
    assert services.settings.answer_retention_months is None
    seed_around(session_factory, BOUNDARY - timedelta(weeks=520))      # ten years old
    services.now = lambda: NOW
    assert retention_pass(services) is None
    assert counts(session_factory) == {"answers": 2, "answer_revisions": 2, "assessments": 2, "log_reads": 2}
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)
                              .where(ProcessedEvent.key.like("retention:%"))) == 0


@pytest.mark.parametrize("setting", ["0", "-1", "24 months", "1.5", "99999"])
def test_a_bad_retention_setting_stops_start_up_with_one_line(fake_slack, setting):
    from bot.settings import SettingsError
    from tests.running_bot import test_settings

    with pytest.raises(SettingsError) as raised:
        test_settings(fake_slack, "sqlite://", ANSWER_RETENTION_MONTHS=setting)
    assert "ANSWER_RETENTION_MONTHS" in str(raised.value) and "\n" not in str(raised.value)


# -- the automatic digest: a second instance that finds it queued records no second read ------------

def test_an_automatic_digest_already_queued_by_an_instance_whose_lease_ran_out_is_not_read_twice(bot_on):
    from datetime import UTC, datetime

    from slack_sdk import WebClient
    from sqlalchemy import update

    from bot.growthlog.one_on_ones import run_auto_prep
    from storage.models import OneOnOne
    from tests.growthlog.test_read_record import seed_weeks

    seed_weeks(bot_on, 2)
    bot_on.command("/growth 1on1 <@U1|ada> thu 10:00", user_id="U2").followups()
    services = bot_on.services
    now = datetime.now(UTC)
    meeting_day = now + timedelta(days=(3 - now.weekday()) % 7 or 7)
    at = meeting_day.replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(hours=1)
    client = WebClient(base_url=bot_on.fake.base_url, token="xoxb-test")
    services.now = lambda: at
    assert run_auto_prep(services, client, at).sent == 1
    posted = len(bot_on.fake.calls_to("chat.postMessage"))
    # Instance A queued the digest (and its read) but its lease ran out before it marked the
    # meeting prepped; instance B claims the same meeting and builds the digest again.
    with services.session_factory.begin() as session:
        session.execute(update(OneOnOne).values(last_auto_prep_for=None, prep_lease_until=None))
    run_auto_prep(services, client, at + timedelta(minutes=1))
    assert len(bot_on.fake.calls_to("chat.postMessage")) == posted      # the outbox sent it once
    assert [(r.reader_user_id, r.what) for r in reads_of(bot_on, "U1")] == [("U2", "prep")]


# -- a read that cannot be recorded shows nothing, and says why -----------------------------------

# `/growth log` and `/growth prep` answer in the ack: past SQLite's 5 s busy timeout Slack has
# given up on the ack (3 s), so their NOT_RECORDED cannot reach anyone; the two answered after
# the ack say it.
@pytest.mark.parametrize("line", ["/growth profile <@U1|ada>", "/growth export <@U1|ada>"])
def test_a_read_of_someone_elses_log_while_another_process_holds_the_write_lock_shows_nothing(
        running_bot, sqlite_url, caplog, line):
    import sqlite3

    from bot.growthlog.reads import NOT_RECORDED
    from tests.growthlog.test_read_record import seed_weeks

    caplog.set_level(logging.INFO)
    seed_weeks(running_bot, 2)
    with running_bot.services.session_factory.begin() as session:
        from storage.repositories import Assessments
        owner = session.scalar(select(Engineer).where(Engineer.user_id == "U1"))
        Assessments(session).add(owner.id, "engineering-levels", {}, owner.created_at)
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")          # another process's writer, past the busy timeout
    try:
        reply = running_bot.command(line, user_id="U2")
        text = reply.text() + str((reply.body or {}).get("text", "") if isinstance(reply.body, dict) else "")
        if NOT_RECORDED not in text:      # answered after the ack, once the busy timeout has passed
            text += "\n".join(blocks_text(m.get("blocks", [])) + str(m.get("text", ""))
                              for m in reply.followups(timeout=20))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert NOT_RECORDED in text, text
    assert "shared" not in text and SORRY not in text
    assert reads_of(running_bot, "U1") == []
    assert not running_bot.fake.uploaded_files
    assert "Traceback" not in caplog.text
