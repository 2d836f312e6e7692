"""The unit of work: reads never take SQLite's write lock; writes commit whole or not at all."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import OperationalError

from storage.models import Engineer
from storage.uow import UnitOfWork
from storage.db import make_engine, make_session_factory
from storage.repositories import Engineers


def test_a_write_commits_on_success_and_rolls_back_on_error(session_factory):
    uow = UnitOfWork(session_factory)
    with uow.writing() as session:
        Engineers(session).get_or_create("T1", "U1")
    with pytest.raises(RuntimeError), uow.writing() as session:
        Engineers(session).get_or_create("T1", "U2")
        raise RuntimeError("half done")
    with uow.reading() as session:
        assert [e.user_id for e in session.query(Engineer)] == ["U1"]


def test_a_read_does_not_wait_for_the_writer(session_factory):
    uow = UnitOfWork(session_factory)
    holding, release = threading.Event(), threading.Event()

    def writer():
        with uow.writing() as session:
            Engineers(session).get_or_create("T1", "U1")
            session.flush()  # on SQLite: the write lock is held from here to the commit
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert holding.wait(10)
    try:
        with uow.reading() as session:  # answers at once, from the last committed state
            assert session.query(Engineer).count() == 0
    finally:
        release.set()
        thread.join()


def test_a_read_refuses_to_write_on_sqlite(sqlite_url):
    # (On PostgreSQL reads run in autocommit; SQLite's query_only makes the promise loud.)
    engine = make_engine(sqlite_url)
    uow = UnitOfWork(make_session_factory(engine))
    with pytest.raises(OperationalError), uow.reading() as session:
        Engineers(session).get_or_create("T1", "U1")
        session.flush()
    engine.dispose()
