"""Hostile checks of today's read path: a manager's read of a report's log page or prep digest is
read in a read-only session, then its record is committed: on SQLite with other readers' records
(storage.group_commit, uow.write_together), on PostgreSQL as one statement of its own
(uow.write_one_statement). Nothing may be shown unrecorded, nobody may wait for ever, and a
failure must cost only the caller it belongs to."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.catalog import BUNDLED_CONTENT_DIR, load_catalog
from bot.growthlog.access import Reader
from bot.growthlog.forget import forget_me
from bot.growthlog.log_view import LogQuery, read_log_view
from bot.growthlog.prep import read_digest
from bot.growthlog.reads import LOG, OwnerGone, ReadNotRecorded, commit_read
from storage.group_commit import GroupCommit
from storage.models import Engineer, LogRead, ReadNotice
from storage.repositories import Engineers
from tests.growthlog import log_seed as seed
from tests.growthlog.test_log import MONDAY
from tests.storage.test_group_commit import RecordingTransactions, wait_until

NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)
CATALOG = load_catalog(BUNDLED_CONTENT_DIR)


def seed_reports(session_factory, manager: str, reports: list[str], weeks: int = 2) -> dict[str, int]:
    """`manager`, then each report (managed by them) with `weeks` check-ins of one shared answer."""
    found = {}
    with session_factory.begin() as session:
        found[manager] = seed.engineer(session, manager, level=None).id
        for report in reports:
            owner = seed.engineer(session, report, manager=manager)
            found[report] = owner.id
            for n, week in enumerate(seed.weeks_back(MONDAY, weeks)):
                row = seed.checkin(session, owner, week, [("q1", f"Question {n}")])
                seed.answer(session, row, "q1", f"{report} shared answer {n}")
    return found


def reads_by_engineer(session_factory) -> dict[str, list[tuple[str, str]]]:
    with session_factory() as session:
        rows = session.execute(select(Engineer.user_id, LogRead.reader_user_id, LogRead.what)
                               .join(Engineer, Engineer.id == LogRead.engineer_id).order_by(LogRead.id))
        found: dict[str, list[tuple[str, str]]] = {}
        for owner, reader, what in rows:
            found.setdefault(owner, []).append((reader, what))
        return found


def notices(session_factory) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(ReadNotice))


def run_threads(targets) -> None:
    """Run each target in its own thread; fail with the first exception any of them raised."""
    raised: list[BaseException] = []

    def guarded(target):
        try:
            target()
        except BaseException as error:   # noqa: B036 - reported below, with its traceback
            raised.append(error)

    threads = [threading.Thread(target=guarded, args=(target,), daemon=True) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a reader never came back"
    if raised:
        raise raised[0]


# -- many readers at once -------------------------------------------------------------------------

def test_many_readers_at_once_each_shown_page_is_recorded_and_each_reader_told_once(session_factory, uow):
    reports = [f"U{n}" for n in range(1, 9)]
    seed_reports(session_factory, "M1", reports)
    seed_reports(session_factory, "M2", ["V1", "V2"])
    shown: list[tuple[str, str, bool]] = []
    lock = threading.Lock()

    def read(reader: str, owner: str, prep: bool) -> None:
        if prep:
            digest = read_digest(uow, CATALOG, Reader("T1", reader), owner, NOW)
            told, ok = (digest.reads_notice, True) if digest else (False, False)
        else:
            view = read_log_view(uow, Reader("T1", reader), LogQuery(owner), now=NOW)
            told, ok = (view.reads_notice, True) if view else (False, False)
        assert ok
        with lock:
            shown.append((reader, owner, told))

    targets = [lambda r=r: read("M1", r, False) for r in reports]
    targets += [lambda r=r: read("M1", r, True) for r in reports[:4]]
    targets += [lambda: read("M1", "U1", False) for _ in range(4)]          # the same page, clicked again
    targets += [lambda r=r, p=p: read("M2", r, p) for r in ("V1", "V2") for p in (False, True)]
    targets += [lambda: read("U1", "U1", False) for _ in range(3)]          # own reads record nothing
    targets += [lambda: read("M2", "U1", False) is None]                     # refused: not shown, not recorded
    run_threads(targets[:-1])
    assert read_log_view(uow, Reader("T1", "M2"), LogQuery("U1"), now=NOW) is None

    recorded = reads_by_engineer(session_factory)
    assert sorted(recorded["U1"]) == sorted([("M1", "log")] * 5 + [("M1", "prep")])
    for report in reports[1:4]:
        assert sorted(recorded[report]) == [("M1", "log"), ("M1", "prep")]
    for report in reports[4:]:
        assert recorded[report] == [("M1", "log")]
    assert sorted(recorded["V1"]) == sorted(recorded["V2"]) == [("M2", "log"), ("M2", "prep")]
    assert "M1" not in recorded and "M2" not in recorded
    # Every shown page of someone else's log has its record; each reader was told exactly once.
    others = [s for s in shown if s[0] != s[1]]
    assert sum(len(v) for v in recorded.values()) == len(others)
    assert sorted(reader for reader, _, told in shown if told) == ["M1", "M2"]
    assert notices(session_factory) == 2


# -- one record failing in a batch ------------------------------------------------------------------

@contextmanager
def commits_counted(engine):
    counted = {"commit": 0, "rollback": 0}

    def on_commit(_connection):
        counted["commit"] += 1

    def on_rollback(_connection):
        counted["rollback"] += 1

    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)
    try:
        yield counted
    finally:
        event.remove(engine, "commit", on_commit)
        event.remove(engine, "rollback", on_rollback)


def test_a_record_that_fails_in_a_batch_fails_only_its_reader_and_the_rest_share_one_commit(
        session_factory, uow, engine):
    ids = seed_reports(session_factory, "M1", [f"U{n}" for n in range(1, 7)])
    inside, let_go = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def hold(session):
        inside.set()
        let_go.wait(30)

    def record(owner: str, engineer_id: int) -> None:
        try:
            outcomes[owner] = commit_read(uow, Reader("T1", "M1"), engineer_id, owner, LOG, 2, NOW)
        except OwnerGone:
            outcomes[owner] = "gone"

    def broken(session):
        try:
            uow.write_together(lambda s: s.execute(text("INSERT INTO no_such_table VALUES (1)")))
        except DBAPIError:
            outcomes["broken"] = "failed"

    owners = [(f"U{n}", ids[f"U{n}"]) for n in range(1, 7)] + [("U404", 10_000)]   # no such engineer
    with commits_counted(engine) as counted:
        leader = threading.Thread(target=uow.write_together, args=(hold,), daemon=True)
        leader.start()
        assert inside.wait(10)
        readers = [threading.Thread(target=record, args=owner, daemon=True) for owner in owners]
        followers = [*readers, threading.Thread(target=broken, args=(None,), daemon=True)]
        for thread in followers:
            thread.start()
        if engine_is_sqlite(session_factory):
            wait_until(lambda: len(uow._together._queue) == len(followers))
        else:
            # PostgreSQL: each record is a statement of its own, outside the batch held open:
            # every reader is back (recorded, or told the owner is gone) before it is let go.
            for thread in readers:
                thread.join(10)
            assert len(outcomes) == len(readers) and len(uow._together._queue) == 1   # the broken write only
        let_go.set()
        for thread in [leader, *followers]:
            thread.join(30)
    assert outcomes.pop("broken") == "failed"
    assert outcomes.pop("U404") == "gone"
    assert sorted(outcomes) == [f"U{n}" for n in range(1, 7)] and sum(outcomes.values()) == 1   # told once
    assert sorted(reads_by_engineer(session_factory)) == [f"U{n}" for n in range(1, 7)]
    if engine_is_sqlite(session_factory):
        # The leader's commit, then one commit for the seven others (not each alone): the broken
        # write's shared attempt and its retry alone are rolled back.
        assert counted == {"commit": 2, "rollback": 2}, counted


# -- the owner deleted between the read and its record ---------------------------------------------

@pytest.mark.parametrize("what", ["log", "prep"])
def test_forget_me_between_the_read_and_its_record_shows_nothing_even_when_the_id_is_taken_again(
        session_factory, uow, monkeypatch, what):
    # U1 is the newest engineer: on SQLite (no AUTOINCREMENT) the next row takes its id again.
    ids = seed_reports(session_factory, "M1", ["U1"])
    # Where the record is committed: with others' on SQLite, a statement of its own on PostgreSQL.
    committing = "write_together" if engine_is_sqlite(session_factory) else "write_one_statement"
    real = getattr(uow, committing)

    def forget_then_record(write, *on_session):  # (PostgreSQL: the read's own session)
        forget_me(uow, "T1", "U1")
        with uow.writing() as session:
            newcomer = Engineers(session).get_or_create("T1", "U9")
            session.flush()
            taken[0] = newcomer.id
        return real(write, *on_session)

    taken = [0]
    monkeypatch.setattr(uow, committing, forget_then_record)
    if what == "log":
        shown = read_log_view(uow, Reader("T1", "M1"), LogQuery("U1"), now=NOW)
    else:
        shown = read_digest(uow, CATALOG, Reader("T1", "M1"), "U1", NOW)
    if engine_is_sqlite(session_factory):
        assert taken[0] == ids["U1"]        # the attack is real here: the freed id went to U9
    assert shown is None
    assert reads_by_engineer(session_factory) == {}       # no read pinned on the newcomer
    assert notices(session_factory) == 0


def engine_is_sqlite(session_factory) -> bool:
    return session_factory.kw["bind"].dialect.name == "sqlite"


def test_forget_me_racing_many_reads_never_leaves_a_record_of_a_shown_page_missing(session_factory, uow):
    ids = seed_reports(session_factory, "M1", ["U1"], weeks=3)
    shown: list[bool] = []

    def read() -> None:
        shown.append(read_log_view(uow, Reader("T1", "M1"), LogQuery("U1"), now=NOW) is not None)

    targets = [read for _ in range(12)] + [lambda: forget_me(uow, "T1", "U1")] + [read for _ in range(12)]
    run_threads(targets)
    with session_factory() as session:
        assert session.get(Engineer, ids["U1"]) is None
        assert session.scalar(select(func.count()).select_from(LogRead)) == 0   # cascade took them
    assert len(shown) == 24


# -- failures with no write to blame ------------------------------------------------------------------

def test_a_transaction_that_cannot_begin_fails_its_batch_at_once_instead_of_once_per_caller():
    transactions = RecordingTransactions()
    begun = {"n": 0}
    inside, let_go = threading.Event(), threading.Event()
    broken = {"on": False}

    @contextmanager
    def begin():
        begun["n"] += 1
        if broken["on"]:
            raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
        with transactions.begin() as session:
            yield session

    together = GroupCommit(begin)
    outcomes: dict[int, object] = {}

    def hold(session):
        inside.set()
        let_go.wait(10)

    def call(n):
        try:
            outcomes[n] = together.run(lambda session: session.append(n) or n)
        except OperationalError as error:
            outcomes[n] = error

    leader = threading.Thread(target=together.run, args=(hold,), daemon=True)
    leader.start()
    assert inside.wait(10)
    threads = [threading.Thread(target=call, args=(n,), daemon=True) for n in range(5)]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(together._queue) == 5)
    broken["on"] = True
    let_go.set()
    for thread in [leader, *threads]:
        thread.join(10)
    assert all(isinstance(outcomes[n], OperationalError) for n in range(5))
    # The leader's transaction, then one failed BEGIN for the five: each alone would have waited
    # SQLite's whole busy timeout again, five times over.
    assert begun["n"] == 2


def test_sqlite_lock_kept_by_another_process_records_nothing_and_shows_nothing(tmp_path):
    from storage.db import make_engine, make_session_factory, upgrade_database
    from storage.uow import UnitOfWork

    url = f"sqlite:///{tmp_path / 'locked.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    try:
        session_factory = make_session_factory(engine)
        uow = UnitOfWork(session_factory)
        seed_reports(session_factory, "M1", ["U1", "U2", "U3"])
        begun = {"n": 0}
        real_begin = uow._together._begin

        def counting_begin():
            begun["n"] += 1
            return real_begin()

        uow._together._begin = counting_begin
        other = sqlite3.connect(str(tmp_path / "locked.db"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        outcomes: dict[str, object] = {}

        def read(owner):
            try:
                outcomes[owner] = read_log_view(uow, Reader("T1", "M1"), LogQuery(owner), now=NOW)
            except ReadNotRecorded:
                outcomes[owner] = "not recorded"

        try:
            run_threads([lambda o=o: read(o) for o in ("U1", "U2", "U3")])
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert outcomes == {"U1": "not recorded", "U2": "not recorded", "U3": "not recorded"}
        assert reads_by_engineer(session_factory) == {}
        # One failed BEGIN per batch (the first reader's, then the two that queued behind it),
        # never a second busy timeout for the same reader.
        assert begun["n"] <= 2, begun
    finally:
        engine.dispose()


# -- the leader going down ----------------------------------------------------------------------------

class ThreadKilled(BaseException):
    """What an asynchronous exception in the leader's thread looks like to the code it runs."""


def test_a_base_exception_while_the_batch_is_retried_fails_every_caller_and_leaves_no_one_waiting():
    transactions = RecordingTransactions()
    together = GroupCommit(transactions.begin)
    inside, let_go = threading.Event(), threading.Event()
    calls = {"bad": 0, "dies": 0}
    outcomes: dict[str, object] = {}

    def hold(session):
        inside.set()
        let_go.wait(10)

    def bad(session):
        calls["bad"] += 1
        raise ValueError("bad record")

    def dies_on_retry(session):
        if calls["bad"]:              # the batch failed once: this is its retry
            raise ThreadKilled()
        session.append("dies")

    def call(name, write):
        try:
            outcomes[name] = together.run(write)
        except BaseException as error:   # noqa: B036 - what each caller gets is the point
            outcomes[name] = type(error).__name__

    leader = threading.Thread(target=together.run, args=(hold,), daemon=True)
    leader.start()
    assert inside.wait(10)
    threads = [threading.Thread(target=call, args=("bad", bad), daemon=True),
               threading.Thread(target=call, args=("dies", dies_on_retry), daemon=True)]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(together._queue) == 2)
    let_go.set()
    for thread in [leader, *threads]:
        thread.join(5)
    assert not any(thread.is_alive() for thread in threads), "a caller was left waiting (or spinning)"
    assert outcomes == {"bad": "ThreadKilled", "dies": "ThreadKilled"}
    assert together.run(lambda session: session.append("after") or 1) == 1     # the next caller still runs
    assert transactions.committed[-1] == ["after"]


def test_the_leaders_own_write_failing_costs_only_the_leader():
    transactions = RecordingTransactions()
    together = GroupCommit(transactions.begin)
    inside, let_go = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def hold(session):
        inside.set()
        let_go.wait(10)

    def call(name, write):
        try:
            outcomes[name] = together.run(write)
        except KeyError as error:
            outcomes[name] = error

    first = threading.Thread(target=together.run, args=(hold,), daemon=True)
    first.start()
    assert inside.wait(10)
    threads = [threading.Thread(target=call, args=(f"w{n}", lambda s, n=n: s.append(n) or n), daemon=True)
               for n in range(4)]
    # Whichever thread leads the next batch, one write in it fails: the others commit together.
    threads.append(threading.Thread(target=call, args=("bad", lambda s: {}["missing"]), daemon=True))
    for thread in threads:
        thread.start()
    wait_until(lambda: len(together._queue) == 5)
    let_go.set()
    for thread in [first, *threads]:
        thread.join(10)
    assert isinstance(outcomes.pop("bad"), KeyError)
    assert outcomes == {f"w{n}": n for n in range(4)}
    assert sorted(transactions.committed[-1]) == [0, 1, 2, 3]


# -- reentrancy -------------------------------------------------------------------------------------

def test_write_together_inside_a_write_of_the_same_thread_is_refused_at_once(session_factory, uow):
    seed_reports(session_factory, "M1", ["U1"])
    # On SQLite the thread holds the process's write gate here: a shared transaction would wait
    # the whole busy timeout for it, and fail every other reader's record in it.
    with uow.writing() as session:
        Engineers(session).get_or_create("T1", "U5")
        with pytest.raises(RuntimeError):
            uow.write_together(lambda inner: Engineers(inner).get_or_create("T1", "U6"))
    # Nested in a write given to write_together: it would wait for its own batch, for ever.
    with pytest.raises(RuntimeError):
        uow.write_together(lambda s: uow.write_together(lambda inner: None))
    # The uow still works for the next caller, and only the outer writes landed.
    assert uow.write_together(lambda s: Engineers(s).get_or_create("T1", "U7").user_id) == "U7"
    with session_factory() as session:
        assert set(session.scalars(select(Engineer.user_id))) == {"M1", "U1", "U5", "U7"}


def test_a_read_after_a_failed_write_in_the_same_thread_still_records(session_factory, uow):
    ids = seed_reports(session_factory, "M1", ["U1"])
    with pytest.raises(ZeroDivisionError):
        with uow.writing():
            1 / 0
    assert commit_read(uow, Reader("T1", "M1"), ids["U1"], "U1", LOG, 2, NOW) is True
    assert reads_by_engineer(session_factory) == {"U1": [("M1", "log")]}


# -- through the running bot: the lock kept by another process ------------------------------------

@pytest.mark.parametrize("line", ["/growth log <@U1|ada>", "/growth prep <@U1|ada>"])
def test_a_page_read_while_another_process_keeps_the_lock_answers_not_recorded_in_the_ack(
        running_bot, sqlite_url, caplog, line):
    import logging

    from bot.growthlog.reads import NOT_RECORDED
    from tests.growthlog.test_read_record import reads_of, seed_weeks

    caplog.set_level(logging.INFO)
    seed_weeks(running_bot, 2)
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        # Was: SQLite's 5 s busy timeout, Bolt's "didn't call ack()" at 3 s (a 404, Slack's own
        # error on screen), and the record committed once the lock came free, for a page nobody saw.
        reply = running_bot.command(line, user_id="U2")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert reply.status == 200 and NOT_RECORDED in reply.text(), (reply.status, reply.body)
    assert "shared 0" not in reply.text()
    assert "Traceback" not in caplog.text and "didn't call ack" not in caplog.text
    # The refused read left no record behind; the same read once the lock is free is shown and
    # recorded, once.
    again = running_bot.command(line, user_id="U2")
    assert NOT_RECORDED not in again.text() and "<@U1>" in again.text(), again.text()
    assert [(r.reader_user_id, r.what) for r in reads_of(running_bot, "U1")] == [("U2", line.split()[1])]
