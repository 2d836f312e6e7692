"""The unit of work: the one way into storage for everything the bot does.

    with uow.reading() as session:   # reads only: no write lock on SQLite, no BEGIN on PostgreSQL
        ...
    with uow.writing() as session:   # one transaction: committed on success, rolled back on error
        ...
    uow.write_together(lambda session: ...)   # a small urgent write, committed with other threads'

A read picks read mode by name, so nothing before an ack can take SQLite's write lock by
accident (see `storage.db.make_session_factory`). Repositories take the session; none commits.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.db import BUSY_TIMEOUT_OPTION, make_session_factory
from storage.group_commit import GroupCommit
from storage.write_gate import urgent_writes

T = TypeVar("T")
# How long a write_together transaction waits for SQLite's lock held by another process: the
# page read, this and Bolt's own work must fit in Slack's 3 s.
ACK_BUSY_TIMEOUT_MS = 1500


class UnitOfWork:
    def __init__(self, writes: sessionmaker[Session], reads: sessionmaker[Session] | None = None):
        self._writes = writes
        self._reads = reads or make_session_factory(writes.kw["bind"], readonly=True)
        self._statement_reads = make_session_factory(writes.kw["bind"], readonly=True, statement_snapshots=True)
        self._together = GroupCommit(self._shared_transaction)
        self._statements: sessionmaker[Session] | None = None    # PostgreSQL autocommit writes
        self._open_writes = threading.local()   # how many writing() this thread is inside

    @classmethod
    def on(cls, engine: Engine) -> "UnitOfWork":
        return cls(make_session_factory(engine))

    @property
    def engine(self) -> Engine:
        return self._writes.kw["bind"]

    @contextmanager
    def reading(self, one_snapshot: bool = True) -> Iterator[Session]:
        """`one_snapshot=False`: each statement reads what is committed when it runs (on SQLite
        no BEGIN and no ROLLBACK, two calls fewer; PostgreSQL's reads are like this anyway). For
        a read someone waits on that runs one statement, or whose statements need not agree."""
        with (self._reads if one_snapshot else self._statement_reads)() as session:
            yield session

    @contextmanager
    def writing(self, urgent: bool = False) -> Iterator[Session]:
        """`urgent`: an acknowledgement waits on this one; on SQLite it goes before the
        process's other waiting writers (storage.write_gate)."""
        local = self._open_writes
        local.depth = getattr(local, "depth", 0) + 1
        try:
            if not urgent:
                with self._writes.begin() as session:
                    yield session
                return
            with urgent_writes(), self._writes.begin() as session:
                yield session
        finally:
            local.depth -= 1

    @contextmanager
    def _shared_transaction(self) -> Iterator[Session]:
        if self.engine.dialect.name != "sqlite":
            with self.writing(urgent=True) as session:
                session.connection()   # BEGIN now: what fails then is no one write's fault
                yield session
            return
        # Someone waits on each of these writes before Slack's 3 s run out (an ack). SQLite's
        # 5 s busy timeout, spent behind another process's writer, outlasted them: Bolt gave up
        # ("didn't call ack()"), the user saw Slack's error instead of NOT_RECORDED, and the read
        # record committed once the lock came free, for a page nobody was shown. This
        # transaction waits ACK_BUSY_TIMEOUT_MS at most, then fails in time to say so.
        # (storage.db sets the pragma before the BEGIN IMMEDIATE, only when the connection's differs.)
        local = self._open_writes
        local.depth = getattr(local, "depth", 0) + 1
        try:
            with urgent_writes(), self.engine.connect() as connection:
                connection.execution_options(**{BUSY_TIMEOUT_OPTION: ACK_BUSY_TIMEOUT_MS})
                with self._writes(bind=connection) as session, session.begin():
                    # BEGIN IMMEDIATE now, not at the first write's first statement: a lock
                    # that cannot be had then fails the transaction, no one write's fault.
                    session.connection()
                    yield session
        finally:
            local.depth -= 1

    def write_one_statement(self, write: Callable[[Session], T], session: Session | None = None) -> T:
        """PostgreSQL only: `write(session)`, which runs one statement, committed as it runs
        (autocommit: the statement is its own transaction, atomic as any). For a small write
        someone waits on that fits one statement (writable CTEs): one round trip, where
        `write_together` costs a BEGIN and a COMMIT and the wait for the batch before.
        `session`: an `autocommit()` session already open (the read this write records)."""
        if session is not None:
            return write(session)
        with self.autocommit() as session:
            return write(session)

    @contextmanager
    def autocommit(self) -> Iterator[Session]:
        """PostgreSQL only: a session whose every statement is its own transaction, on one
        connection. A person's one-statement read and then its one-statement record share it:
        one checkout (one pre-ping round trip, one return to the pool) instead of two."""
        if self.engine.dialect.name != "postgresql":
            raise RuntimeError("autocommit() is for PostgreSQL (SQLite has no writable CTEs)")
        if self._statements is None:
            self._statements = sessionmaker(bind=self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                                            expire_on_commit=False)
        with self._statements() as session:
            yield session

    def write_together(self, write: Callable[[Session], T]) -> T:
        """`write(session)` in an urgent transaction shared with the writes other threads ask for
        meanwhile (storage.group_commit): one commit for all, each caller back once its own write
        is committed. For small writes that someone is waiting on, like a read's record.

        Never inside a `writing()` of the same thread (nor inside a write given here): on SQLite
        that thread already holds the process's write gate, so the shared transaction would wait
        for it the whole busy timeout and fail every other caller's write with it. Raises
        RuntimeError at once instead, on either database, so tests catch it."""
        if getattr(self._open_writes, "depth", 0):
            raise RuntimeError("uow.write_together() inside a uow.writing() of the same thread")
        return self._together.run(write)
