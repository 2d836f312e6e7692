"""Hostile checks of `/growth log` and `/growth prep`'s read path after the read and its record
came to share one session (bot.growthlog.reads.read_to_record): with one pooled connection, with
the record failing after the read, and with the database cutting the connection between them;
and crafted /growth log and /growth prep commands end to end (refused, weird, missing fields, ids
no database holds, forged signatures, Slack's retries): never a 500, never a read shown unrecorded."""

from __future__ import annotations

import json
import logging
import threading
import time
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode

import pytest
from sqlalchemy import create_engine, text, update
from sqlalchemy.exc import OperationalError

from bot.growthlog.access import Reader
from bot.growthlog.log_view import LogQuery, read_log_view
from bot.growthlog.prep import read_digest
from bot.growthlog.reads import READS_NOTICE, ReadNotRecorded
from storage.db import _configure_sqlite, make_session_factory
from storage.models import Engineer
from storage.uow import UnitOfWork
from tests import slack_requests as req
from tests.growthlog import log_seed as seed
from tests.growthlog.replies import acked
from tests.growthlog.test_log import MONDAY
from tests.hostile.test_today_read_path import CATALOG, NOW, notices, reads_by_engineer, run_threads, seed_reports
from tests.running_bot import SIGNING_SECRET, blocks_text, start_bot


@contextmanager
def one_connection_uow(database_url: str):
    """The application's unit of work on a pool of exactly one connection (no overflow), and a
    short pool timeout: a read that needs a second connection for its record fails fast."""
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"check_same_thread": False},
                               pool_size=1, max_overflow=0, pool_timeout=2)
        _configure_sqlite(engine, wal=True)
    else:
        engine = create_engine(database_url, pool_pre_ping=True, pool_size=1, max_overflow=0, pool_timeout=2)
    try:
        yield UnitOfWork(make_session_factory(engine)), engine
    finally:
        engine.dispose()


def read(uow: UnitOfWork, what: str, reader: str = "M1", owner: str = "U1"):
    if what == "log":
        return read_log_view(uow, Reader("T1", reader), LogQuery(owner), now=NOW)
    return read_digest(uow, CATALOG, Reader("T1", reader), owner, NOW, mark=True)


@pytest.mark.parametrize("what", ["log", "prep"])
def test_a_read_and_its_record_fit_in_a_pool_of_one_connection(database_url, session_factory, what):
    seed_reports(session_factory, "M1", ["U1"])
    with one_connection_uow(database_url) as (uow, _):
        first = read(uow, what)
        second = read(uow, what)
    assert first is not None and first.reads_notice
    assert second is not None and not second.reads_notice
    assert reads_by_engineer(session_factory) == {"U1": [("M1", what), ("M1", what)]}


def cut_connection_before_the_record(uow: UnitOfWork, engine, monkeypatch) -> list[int]:
    """Between the read and its record, the server drops the read's connection (PostgreSQL: the
    backend terminated, as a restart or a proxy's cut-off would; SQLite: the record's write fails
    with an I/O error). Returns a list that counts the cuts."""
    cuts = []
    if engine.dialect.name == "postgresql":
        real = uow.write_one_statement

        def cut_then_record(write, session=None):
            pid = session.scalar(text("SELECT pg_backend_pid()"))
            with engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            cuts.append(pid)
            monkeypatch.setattr(uow, "write_one_statement", real)
            return real(write, session)

        monkeypatch.setattr(uow, "write_one_statement", cut_then_record)
    else:
        real = uow.write_together

        def fail_the_record(write):
            cuts.append(1)
            monkeypatch.setattr(uow, "write_together", real)
            raise OperationalError("INSERT INTO log_reads", {}, Exception("disk I/O error"))

        monkeypatch.setattr(uow, "write_together", fail_the_record)
    return cuts


@pytest.mark.parametrize("what", ["log", "prep"])
def test_the_connection_dropped_between_the_read_and_its_record_shows_nothing_and_the_next_read_works(
        database_url, session_factory, monkeypatch, what):
    seed_reports(session_factory, "M1", ["U1"])
    # A connection of its own for the PostgreSQL hook's pg_terminate_backend: the pool has one.
    with one_connection_uow(database_url) as (uow, engine), one_connection_uow(database_url) as (_, killer):
        cuts = cut_connection_before_the_record(uow, killer, monkeypatch)
        with pytest.raises(ReadNotRecorded):
            read(uow, what)
        assert cuts
        assert reads_by_engineer(session_factory) == {} and notices(session_factory) == 0
        # The one pooled connection came back usable: the next read is shown and recorded.
        again = read(uow, what)
    assert again is not None and again.reads_notice
    assert reads_by_engineer(session_factory) == {"U1": [("M1", what)]}


# -- crafted slash commands, end to end ---------------------------------------------------------------

@pytest.fixture
def bot(fake_slack, database_url):
    bot, stop = start_bot(fake_slack, database_url)
    seed_reports(bot.services.session_factory, "M1", ["U1"])
    yield bot
    stop()


def send(bot, text_: str, user_id: str = "M1", drop: tuple[str, ...] = (), **fields: str):
    """A /growth command as Slack would sign it, with fields changed or left out."""
    token = bot._token()
    body, ctype = req.slash_command(command="/growth", text=text_, user_id=user_id,
                                    response_url=bot.fake.response_url(token))
    form = {k: v for k, v in parse_qsl(body, keep_blank_values=True) if k not in drop}
    form.update(fields)
    status, _, answer = bot.post(urlencode(form), ctype)
    return status, answer, token


def shown(bot, answer: str, token: str) -> str:
    time.sleep(0.2)
    later = bot.fake.responses_for(token)
    try:
        body = json.loads(answer) if answer else {}
    except ValueError:
        body = {"text": answer}
    parts = [blocks_text(body.get("blocks", [])), str(body.get("text", ""))]
    parts += [blocks_text(m.get("blocks", [])) + str(m.get("text", "")) for m in later]
    return "\n".join(parts)


def no_traceback(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text


SECRET_ANSWER = "U1 shared answer"
REFUSED = [
    ("log <@U1>", {"user_id": "U2"}),                      # a stranger names the report
    ("prep <@U1>", {"user_id": "U2"}),
    ("log <@U1|someone-else>", {"user_id": "U1x"}),         # a look-alike user id
    ("log <@U1>", {"team_id": "T2"}),                      # the manager, from another workspace
    ("prep <@U1>", {"team_id": "E1"}),                     # an enterprise id where the team goes
    ("prep <@U1>", {"enterprise_id": "E1", "team_id": "T9", "is_enterprise_install": "true"}),
    ("log <@W1>", {}),                                     # an enterprise user who has no log
    ("prep <@U404>", {}),                                  # nobody
    ("log <@U1>", {"user_id": "m1"}),                      # the manager's id in another case
]


@pytest.mark.parametrize("line, fields", REFUSED)
def test_a_refused_read_answers_the_refusal_shows_nothing_and_records_nothing(bot, caplog, line, fields):
    caplog.set_level(logging.INFO)
    status, answer, token = send(bot, line, **fields)
    assert status == 200
    seen = shown(bot, answer, token)
    assert "You can only read" in seen and SECRET_ANSWER not in seen
    assert reads_by_engineer(bot.services.session_factory) == {}
    no_traceback(caplog)


WEIRD = [
    "log <@U1> since", "log <@U1> last 0", "log <@U1> last 99999999999999999999", "log <@U1> since 2026-02-30",
    "log @U1", "log <@U1> <@U2>", "prep", "prep U1", "prep <@>", "prep <@U1> extra words ünïcødé 🙂",
    "log ünïcødé 🙂 <@U1>", "log " + "x" * 40_000, "prep <@U1" + "1" * 10_000 + ">", "log\u00a0<@U1>",
    "LOG <@U1>", "log <@U1> since 0001-01-01 last 520", "log <@U1>\n\tlast 1",
]


@pytest.mark.parametrize("line", WEIRD, ids=range(len(WEIRD)))
def test_weird_or_huge_text_answers_without_a_traceback(bot, caplog, line):
    caplog.set_level(logging.INFO)
    status, answer, token = send(bot, line)
    assert status == 200
    assert shown(bot, answer, token).strip()
    no_traceback(caplog)
    recorded = reads_by_engineer(bot.services.session_factory)
    assert recorded in ({}, {"U1": [("M1", "log")]}, {"U1": [("M1", "prep")]})


@pytest.mark.parametrize("drop", [("team_id",), ("user_id",), ("text",), ("response_url",), ("trigger_id",)])
@pytest.mark.parametrize("verb", ["log <@U1>", "prep <@U1>"])
def test_a_command_missing_a_field_is_not_a_500_and_shows_nothing_unrecorded(bot, caplog, verb, drop):
    caplog.set_level(logging.INFO)
    status, answer, token = send(bot, verb, drop=drop)
    assert status < 500, answer
    seen = shown(bot, answer, token)
    if SECRET_ANSWER in seen:
        assert reads_by_engineer(bot.services.session_factory) == {"U1": [("M1", verb.split()[0])]}


@pytest.mark.parametrize("bad", ["M1\x00", "M1\ud800", "M" * 5000, ""])
@pytest.mark.parametrize("field", ["user_id", "team_id"])
def test_an_id_no_database_can_hold_is_refused_not_a_500(bot, caplog, field, bad):
    caplog.set_level(logging.INFO)
    form = {field: bad}
    token = bot._token()
    body, ctype = req.slash_command(command="/growth", text="log <@U1>", user_id="M1",
                                    response_url=bot.fake.response_url(token))
    fields = dict(parse_qsl(body, keep_blank_values=True))
    fields.update(form)
    encoded = urlencode(fields, errors="surrogatepass")
    status, _, answer = bot.post(encoded, ctype)
    assert status < 500, answer
    assert SECRET_ANSWER not in shown(bot, answer, token)
    assert reads_by_engineer(bot.services.session_factory) == {}


def test_a_forged_or_stale_signature_is_refused_and_records_nothing(bot):
    body, ctype = req.slash_command(command="/growth", text="log <@U1>", user_id="M1")
    forged = req.post_to_app(bot.url, body, ctype, "not-the-secret")
    stale = req.post_to_app(bot.url, body, ctype, SIGNING_SECRET, timestamp=int(time.time()) - 3600)
    assert forged[0] == stale[0] == 401
    assert SECRET_ANSWER not in forged[2] + stale[2]
    assert reads_by_engineer(bot.services.session_factory) == {}


def test_slack_retrying_the_same_command_answers_each_time_and_records_each_shown_read(bot):
    body, ctype = req.slash_command(command="/growth", text="log <@U1>", user_id="M1")
    first = req.post_to_app(bot.url, body, ctype, SIGNING_SECRET)
    retry = req.post_to_app(bot.url, body, ctype, SIGNING_SECRET, retry_num=1, retry_reason="http_timeout")
    assert first[0] == retry[0] == 200
    shown_times = sum(SECRET_ANSWER in answer for _, _, answer in (first, retry))
    assert len(reads_by_engineer(bot.services.session_factory).get("U1", [])) == shown_times


# -- concurrency: readers, the report, and the relationship changing under them ------------------------

def test_manager_changes_while_readers_race_every_shown_read_recorded_once_and_each_reader_told_once(
        session_factory, uow):
    seed_reports(session_factory, "M1", ["U1"])
    shown: list[tuple[str, str, bool]] = []
    lock = threading.Lock()

    def reader(who: str, what: str) -> None:
        result = read(uow, what, reader=who)
        if result is not None:
            with lock:
                shown.append((who, what, result.reads_notice))

    def switch(to: str) -> None:
        with uow.writing() as session:
            session.execute(update(Engineer).where(Engineer.user_id == "U1").values(manager_user_id=to))

    targets = []
    for n in range(6):
        targets += [lambda: reader("M1", "log"), lambda: reader("M2", "log"), lambda: reader("M1", "prep"),
                    lambda: reader("M2", "prep"), lambda: reader("U1", "log")]
        targets.append(lambda n=n: switch("M2" if n % 2 == 0 else "M1"))
    run_threads(targets)

    recorded = sorted(reads_by_engineer(session_factory).get("U1", []))
    others = sorted((who, what) for who, what, _ in shown if who != "U1")
    assert recorded == others                           # each shown read of someone else: one record
    told = sorted(who for who, _, notice in shown if notice)
    assert told == sorted({who for who, _ in others})   # each reader who was shown anything: told once
    assert notices(session_factory) == len(told)


# -- a long log and a long prep digest, end to end on both databases -----------------------------------

@pytest.mark.parametrize("verb", ["log", "prep"])
def test_a_long_read_comes_in_the_ack_then_in_order_recorded_once_and_told_once(fake_slack, database_url, verb):
    bot, stop = start_bot(fake_slack, database_url)
    try:
        essay = " ".join(f"Sentence {n} of a long reflection." for n in range(900))
        with bot.services.session_factory.begin() as session:
            seed.engineer(session, "U2", level=None)
            owner = seed.engineer(session, "U1", manager="U2")
            for n, week in enumerate(seed.weeks_back(MONDAY, 5)):
                row = seed.checkin(session, owner, week, [("q1", f"Question of week {n}")])
                seed.answer(session, row, "q1", f"week {n}: {essay}", at=bot.services.now())
        for round_ in range(2):
            reply = bot.command(f"/growth {verb} <@U1|ada>", user_id="U2")
            first = acked(reply)
            # A second prep covers only what was shared since the first: one short message.
            long_ = verb == "log" or round_ == 0
            rest = reply.followups(count=1) if long_ else []
            messages = [first, *rest]
            texts = [blocks_text(message["blocks"]) for message in messages]
            assert all(len(message["blocks"]) <= 50 for message in messages)
            assert all(not message["replace_original"] for message in rest)
            if long_:
                joined = " ".join(texts)
                assert len(messages) >= 2
                assert [joined.index(f"week {n}:") for n in range(5)] == sorted(joined.index(f"week {n}:")
                                                                               for n in range(5))
            # The notice once, in the ack, on the first read only; never in a later message.
            assert sum(READS_NOTICE in t for t in texts) == (1 if round_ == 0 else 0)
            assert READS_NOTICE not in " ".join(texts[1:])
            assert reads_by_engineer(bot.services.session_factory)["U1"] == [("U2", verb)] * (round_ + 1)
    finally:
        stop()


@pytest.mark.parametrize("what", ["log", "prep"])
def test_the_pooled_connection_a_read_used_is_transactional_again_for_the_next_writer(
        database_url, session_factory, what):
    # The read and its record ran in autocommit on PostgreSQL; if that leaked into the pool, the
    # next writer on the same connection would commit statement by statement, and its rollback
    # would keep half its work.
    seed_reports(session_factory, "M1", ["U1"])
    with one_connection_uow(database_url) as (uow, _):
        assert read(uow, what) is not None
        with pytest.raises(RuntimeError), uow.writing() as session:
            session.execute(update(Engineer).where(Engineer.user_id == "U1").values(manager_user_id="M9"))
            session.flush()
            raise RuntimeError("the writer fails after its first statement")
        with uow.reading() as session:
            assert session.scalar(text("SELECT manager_user_id FROM engineers WHERE user_id = 'U1'")) == "M1"


@pytest.mark.parametrize("verb, where", [("log", "bot.growthlog.log_view.read_log_as_reader"),
                                         ("prep", "bot.growthlog.prep.read_prep")])
def test_the_read_itself_failing_on_the_database_is_said_in_the_ack_not_a_500(bot, monkeypatch, verb, where):
    def cancelled(*args, **kwargs):
        raise OperationalError("SELECT ...", {}, Exception("canceling statement due to statement timeout"))

    monkeypatch.setattr(where, cancelled)
    status, answer, token = send(bot, f"{verb} <@U1>")
    assert status == 200, answer
    seen = shown(bot, answer, token)
    assert "nothing was shown or recorded" in seen and SECRET_ANSWER not in seen
    assert reads_by_engineer(bot.services.session_factory) == {}
    monkeypatch.undo()
    status, answer, token = send(bot, f"{verb} <@U1>")       # the next one is read, shown and recorded
    again = shown(bot, answer, token)
    assert status == 200 and "<@U1>" in again and "nothing was shown" not in again.lower()
    assert reads_by_engineer(bot.services.session_factory) == {"U1": [("M1", verb)]}
