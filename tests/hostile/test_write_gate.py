"""Hostile SQLite write gate (storage.write_gate through storage.db's hooks): whatever a unit of work
does (fails at COMMIT, raises, is closed without a commit, nests, loses its connection), the gate is
open again for the next writer at once, and closing never raises a second error of its own."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

import storage.db as db
from storage.db import make_engine, make_session_factory
from storage.uow import UnitOfWork


@pytest.fixture
def uow(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/gate.db")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        connection.execute(text("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER "
                                "REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"))
    yield UnitOfWork.on(engine)
    engine.dispose()


def another_thread_writes(uow, within: float = 1.0) -> float:
    """How long another thread's write took; fails if it could not write within `within` s."""
    outcome: list = []

    def write() -> None:
        started = time.monotonic()
        try:
            with uow.writing() as session:
                session.execute(text("INSERT INTO parent DEFAULT VALUES"))
            outcome.append(time.monotonic() - started)
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome.append(exc)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    thread.join(within + 6)
    assert outcome, "the other writer hung"
    assert not isinstance(outcome[0], Exception), outcome[0]
    assert outcome[0] < within, outcome[0]
    return outcome[0]


def test_a_commit_that_fails_lets_the_next_writer_in(uow):
    # The hooks run COMMIT on the DBAPI connection, so the error arrives as sqlite3's own.
    with pytest.raises((IntegrityError, sqlite3.IntegrityError)):
        with uow.writing() as session:                   # a deferred foreign key fails at COMMIT
            session.execute(text("INSERT INTO child (parent_id) VALUES (999)"))
    another_thread_writes(uow)
    with uow.reading() as session:
        assert session.execute(text("SELECT count(*) FROM child")).scalar() == 0


def test_a_unit_of_work_that_raises_or_is_closed_without_commit_lets_the_next_writer_in(uow):
    with pytest.raises(ValueError):
        with uow.writing() as session:
            session.execute(text("INSERT INTO parent DEFAULT VALUES"))
            raise ValueError("mid-work")
    session = make_session_factory(uow.engine)()
    session.execute(text("INSERT INTO parent DEFAULT VALUES"))
    session.close()                                        # never committed
    with pytest.raises(KeyboardInterrupt):
        with uow.writing() as session:
            session.execute(text("INSERT INTO parent DEFAULT VALUES"))
            raise KeyboardInterrupt
    another_thread_writes(uow)
    with uow.reading() as session:
        assert session.execute(text("SELECT count(*) FROM parent")).scalar() == 1


def test_a_nested_writer_in_the_same_thread_fails_in_bounded_time_and_leaves_the_gate_open(uow, monkeypatch):
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 300)
    started = time.monotonic()
    with pytest.raises((OperationalError, sqlite3.OperationalError)):
        with uow.writing() as outer:
            outer.execute(text("INSERT INTO parent DEFAULT VALUES"))
            with uow.writing() as inner:
                inner.execute(text("INSERT INTO parent DEFAULT VALUES"))
    assert time.monotonic() - started < 3
    another_thread_writes(uow)


def test_closing_a_session_whose_connection_was_invalidated_raises_nothing_and_frees_the_gate(uow):
    # SQLAlchemy invalidates a connection on a disconnect error or an exit exception (SystemExit,
    # KeyboardInterrupt) raised mid-statement; plain SQLAlchemy then closes the session quietly.
    session = make_session_factory(uow.engine)()
    session.execute(text("INSERT INTO parent DEFAULT VALUES"))
    session.connection().invalidate()
    session.close()
    another_thread_writes(uow)
    reader = make_session_factory(uow.engine, readonly=True)()
    reader.execute(text("SELECT 1"))
    reader.connection().invalidate()
    reader.close()
