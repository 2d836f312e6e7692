"""storage.reads: hand-written statements on the driver's cursor, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from storage.reads import SQL, DriverRows, ReadPool, day, driver_rows, utc
from storage.repositories import Engineers
from tests.storage.helpers import add_engineer

WHEN = datetime(2026, 10, 5, 12, 30, 15, 250, tzinfo=UTC)


@pytest.fixture
def reads(engine) -> ReadPool:
    return ReadPool(engine)

BY_USER = SQL.of("SELECT id, created_at FROM engineers WHERE team_id = :team AND user_id = :user")


def test_parameters_are_written_in_each_drivers_style():
    statement = SQL.of("""SELECT 1
        FROM engineers WHERE team_id = :team AND user_id IN (:first, :second)""")
    assert statement.sqlite == "SELECT 1 FROM engineers WHERE team_id = :team AND user_id IN (:first, :second)"
    assert statement.postgresql == ("SELECT 1 FROM engineers WHERE team_id = %(team)s "
                                    "AND user_id IN (%(first)s, %(second)s)")


def test_values_come_back_as_the_orm_would_give_them():
    assert utc("2026-10-05 12:30:15.000250") == WHEN and utc("2026-10-05 12:30:15.000250").tzinfo is UTC
    assert utc(WHEN.astimezone(timezone(timedelta(hours=2)))) == WHEN
    assert utc(WHEN.astimezone(timezone(timedelta(hours=2)))).utcoffset() == timedelta(0)
    assert utc(None) is None
    assert day("2026-10-05") == date(2026, 10, 5) and day(date(2026, 10, 5)) == date(2026, 10, 5)


def test_a_timestamp_parameter_matches_what_the_orm_stored(session_factory, reads):
    add_engineer(session_factory, "U1", created_at=WHEN)
    with reads() as db:
        stored = db.all(BY_USER, {"team": "T1", "user": "U1"})
        # Compared in SQL, so a format mismatch (SQLite stores text) would miss the row.
        same = db.all(SQL.of("SELECT id FROM engineers WHERE created_at = :at"), {"at": db.timestamp(WHEN)})
        later = db.all(SQL.of("SELECT id FROM engineers WHERE created_at > :at"),
                       {"at": db.timestamp(WHEN - timedelta(microseconds=1))})
    assert len(stored) == 1 and utc(stored[0][1]) == WHEN
    assert same == later == [(stored[0][0],)]
    with pytest.raises(ValueError, match="naive"):
        DriverRows(None, "sqlite").timestamp(WHEN.replace(tzinfo=None))


def test_inside_a_unit_of_work_the_statements_see_its_own_writes(session_factory):
    with session_factory() as session:
        Engineers(session).get_or_create("T1", "U1")          # flushed, not committed
        assert len(driver_rows(session).all(BY_USER, {"team": "T1", "user": "U1"})) == 1
        session.rollback()
    with session_factory() as session:
        assert driver_rows(session).all(BY_USER, {"team": "T1", "user": "U1"}) == []


def test_a_failed_statement_never_leaves_a_broken_connection_behind(engine):
    reads = ReadPool(engine)
    with reads() as db:
        first = db.connection
    with pytest.raises(Exception, match="no_such_table|no such table|does not exist"):
        with reads() as db:
            failed = db.connection
            db.all(SQL.of("SELECT * FROM no_such_table"), {})
    with reads() as db:                       # the next unit of work gets a healthy connection
        assert db.all(SQL.of("SELECT 1"), {}) == [(1,)]
        after = db.connection
    if engine.dialect.name == "postgresql":
        assert failed.closed and after is not failed          # a driver error: thrown away, not pooled
        assert engine.pool.checkedout() == 0
        with pytest.raises(ValueError):                        # our own error: the connection is fine
            with reads() as db:
                kept = db.connection
                raise ValueError("not the database's fault")
        assert not kept.closed and engine.pool.checkedout() == 0
        # Autocommit is only for the read: whoever draws the connection next gets transactions.
        pooled = engine.raw_connection()
        try:
            assert pooled.driver_connection.autocommit is False
        finally:
            pooled.close()
    else:
        assert failed is first and after is not first          # the thread's connection was replaced
        assert engine.pool.checkedout() == 0                   # (and the pool was never involved)


def test_sqlite_threads_read_on_connections_of_their_own_that_cannot_write(tmp_path):
    from storage.db import make_engine, make_session_factory, upgrade_database

    url = f"sqlite:///{tmp_path / 'reads.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    try:
        reads = ReadPool(engine)
        with reads() as db:
            mine = db.connection
            assert db.all(BY_USER, {"team": "T1", "user": "U1"}) == []
        add_engineer(make_session_factory(engine), "U1")      # committed after the reader opened
        with reads() as db:
            assert db.connection is mine and len(db.all(BY_USER, {"team": "T1", "user": "U1"})) == 1
        with pytest.raises(Exception, match="readonly|read-only|query_only"):
            with reads() as db:
                db.all(SQL.of("DELETE FROM engineers"), {})
        others: list[object] = []
        thread = threading.Thread(target=lambda: others.append(_connection_of(reads)))
        thread.start()
        thread.join()
        assert others and others[0] is not mine and engine.pool.checkedout() == 0
        with reads() as db:                                    # the failed write cost the connection
            assert db.connection is not mine and len(db.all(BY_USER, {"team": "T1", "user": "U1"})) == 1
    finally:
        engine.dispose()


def _connection_of(reads: ReadPool) -> object:
    with reads() as db:
        return db.connection
