"""Writes from many threads share commits; each caller is back only once its own write is committed."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from storage.group_commit import GroupCommit
from storage.models import Engineer
from storage.repositories import Engineers


class RecordingTransactions:
    """A stand-in for `uow.writing()`: counts transactions and what each one committed."""

    def __init__(self):
        self.committed: list[list[str]] = []
        self.rolled_back = 0

    @contextmanager
    def begin(self):
        session: list[str] = []
        try:
            yield session
        except BaseException:
            self.rolled_back += 1
            raise
        self.committed.append(session)


def wait_until(condition, timeout=10.0):
    done = threading.Event()
    for _ in range(int(timeout / 0.005)):
        if condition():
            return
        done.wait(0.005)
    raise AssertionError("condition not met")


def test_writes_that_arrive_while_one_commits_share_the_next_commit():
    transactions = RecordingTransactions()
    together = GroupCommit(transactions.begin)
    first_inside, let_first_go = threading.Event(), threading.Event()
    results: dict[str, str] = {}

    def first_write(session):
        session.append("first")
        first_inside.set()
        let_first_go.wait(10)
        return "first done"

    def call(name, write):
        results[name] = together.run(write)

    leader = threading.Thread(target=call, args=("first", first_write))
    leader.start()
    assert first_inside.wait(10)
    others = [threading.Thread(target=call, args=(f"w{i}", lambda s, i=i: s.append(f"w{i}") or f"w{i} done"))
              for i in range(8)]
    for thread in others:
        thread.start()
    wait_until(lambda: len(together._queue) == 8)
    assert "w0" not in results             # nobody is back before their write is committed
    let_first_go.set()
    for thread in [leader, *others]:
        thread.join(10)
    assert transactions.committed[0] == ["first"]
    assert len(transactions.committed) == 2 and sorted(transactions.committed[1]) == sorted(f"w{i}" for i in range(8))
    assert results == {"first": "first done", **{f"w{i}": f"w{i} done" for i in range(8)}}


def test_a_failing_write_fails_only_its_own_caller():
    transactions = RecordingTransactions()
    together = GroupCommit(transactions.begin)
    first_inside, let_first_go = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def blocking(session):
        session.append("first")
        first_inside.set()
        let_first_go.wait(10)

    def failing(session):
        session.append("bad")
        raise ValueError("this one is bad")

    def call(name, write):
        try:
            outcomes[name] = together.run(write)
        except ValueError as error:
            outcomes[name] = error

    threads = [threading.Thread(target=call, args=("first", blocking))]
    threads[0].start()
    assert first_inside.wait(10)
    threads += [threading.Thread(target=call, args=("good", lambda s: s.append("good") or "ok")),
                threading.Thread(target=call, args=("bad", failing))]
    for thread in threads[1:]:
        thread.start()
    wait_until(lambda: len(together._queue) == 2)
    let_first_go.set()
    for thread in threads:
        thread.join(10)
    assert outcomes["good"] == "ok"
    assert isinstance(outcomes["bad"], ValueError)
    # The shared transaction was rolled back, then each write ran alone: "good" committed once.
    assert [batch for batch in transactions.committed if "good" in batch] == [["good"]]
    assert not any("bad" in batch for batch in transactions.committed)


def test_a_lone_write_raises_its_own_error_and_the_next_one_still_runs():
    transactions = RecordingTransactions()
    together = GroupCommit(transactions.begin)
    with pytest.raises(KeyError):
        together.run(lambda session: {}["missing"])
    assert together.run(lambda session: session.append("after") or 7) == 7
    assert transactions.committed == [["after"]]


def test_on_a_real_database_each_write_is_committed_when_run_returns(uow):
    def create(user_id):
        def write(session):
            return Engineers(session).get_or_create("T1", user_id).user_id
        return write

    seen_committed: list[int] = []

    def call(user_id):
        assert uow.write_together(create(user_id)) == user_id
        with uow.reading() as session:       # another session: the row is committed, not just flushed
            seen_committed.append(session.scalar(select(func.count()).select_from(Engineer)
                                                 .where(Engineer.user_id == user_id)))

    threads = [threading.Thread(target=call, args=(f"U{i}",)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert seen_committed == [1] * 16


def test_sqlite_shared_transactions_wait_the_ack_timeout_and_other_writes_the_full_one(tmp_path):
    """An ack's shared transaction waits ACK_BUSY_TIMEOUT_MS for another process's lock; every
    other write transaction on the same pooled connection waits the full SQLITE_BUSY_TIMEOUT_MS
    again. The pragma is issued only when the connection's setting changes."""
    from sqlalchemy import event, text

    from storage.db import SQLITE_BUSY_TIMEOUT_MS, make_engine, upgrade_database
    from storage.uow import ACK_BUSY_TIMEOUT_MS, UnitOfWork

    engine = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    upgrade_database(engine)
    engine.dispose()                          # one pooled connection from here on: each write reuses it
    uow = UnitOfWork.on(engine)
    pragmas: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: pragmas.append(statement) if "busy_timeout =" in statement else None)

    def timeout(session) -> int:
        return session.execute(text("PRAGMA busy_timeout")).scalar()

    assert uow.write_together(timeout) == ACK_BUSY_TIMEOUT_MS
    assert uow.write_together(timeout) == ACK_BUSY_TIMEOUT_MS
    with uow.writing() as session:
        assert timeout(session) == SQLITE_BUSY_TIMEOUT_MS
    with uow.writing() as session:
        assert timeout(session) == SQLITE_BUSY_TIMEOUT_MS
    assert uow.write_together(timeout) == ACK_BUSY_TIMEOUT_MS
    assert engine.pool.checkedin() == 1
    assert pragmas == [f"PRAGMA busy_timeout = {ms}"
                       for ms in (ACK_BUSY_TIMEOUT_MS, SQLITE_BUSY_TIMEOUT_MS, ACK_BUSY_TIMEOUT_MS)]
    engine.dispose()
