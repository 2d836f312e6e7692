"""Hostile checks of `/growth log` and `/growth prep`'s read path after the read and its record
came to share one session (bot.growthlog.reads.read_to_record): with one pooled connection, with
the record failing after the read, and with the database cutting the connection between them."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bot.growthlog.access import Reader
from bot.growthlog.log_view import LogQuery, read_log_view
from bot.growthlog.prep import read_digest
from bot.growthlog.reads import ReadNotRecorded
from storage.db import _configure_sqlite, make_session_factory
from storage.uow import UnitOfWork
from tests.hostile.test_today_read_path import CATALOG, NOW, notices, reads_by_engineer, seed_reports


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
