"""URLs, engines and migrations."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Index, MetaData, event, func, inspect, select, text
from sqlalchemy.exc import OperationalError

from storage.db import (alembic_config, current_revision, make_engine, make_session_factory, normalize_database_url,
                        reading_engine, upgrade_database)
from storage.models import Base, Engineer
from storage.repositories import Engineers
from storage.uow import UnitOfWork
from tests.storage.helpers import add_engineer, race

REPO_ROOT = Path(__file__).resolve().parents[2]

# The newest migration: every later one moves it, so tests ask Alembic instead of hard-coding it.
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        ("postgres://u:p@db.example.com:5432/growth", "postgresql+psycopg://u:p@db.example.com:5432/growth"),
        ("postgresql://u:p@host/growth?sslmode=require", "postgresql+psycopg://u:p@host/growth?sslmode=require"),
        ("postgresql+psycopg2://u@host/growth", "postgresql+psycopg://u@host/growth"),
        ("postgresql+psycopg://u@host/growth", "postgresql+psycopg://u@host/growth"),
        ("  postgres://u:p%40ss@host/growth\n", "postgresql+psycopg://u:p%40ss@host/growth"),
        ("sqlite:///relative.db", "sqlite:///relative.db"),
        ("sqlite:////var/lib/growth/bot.db", "sqlite:////var/lib/growth/bot.db"),
        ("sqlite+pysqlite:///x.db", "sqlite:///x.db"),
        ("sqlite://", "sqlite://"),
    ],
)
def test_normalize_database_url_accepts_what_providers_hand_out(pasted, expected):
    assert normalize_database_url(pasted) == expected


@pytest.mark.parametrize(
    ("pasted", "complaint"),
    [
        ("", "Could not parse"),
        ("growth-bot.db", "Could not parse"),
        ("host=db dbname=growth user=bot", "Could not parse"),
        ("mysql://u:secret@host/growth", "Unsupported database 'mysql'"),
        ("postgresql+asyncpg://u:secret@host/growth", "Unsupported database"),
        ("postgres://u:secret@host", "names no database"),
    ],
)
def test_normalize_database_url_rejects_with_a_sentence_and_no_password(pasted, complaint):
    with pytest.raises(ValueError, match=complaint) as error:
        normalize_database_url(pasted)
    assert "secret" not in str(error.value)
    assert "sqlite:///growth-bot.db" in str(error.value)


def test_sqlite_engine_sets_pragmas(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    engine.dispose()


def test_postgres_engine_survives_a_dropped_connection(postgres_server):
    # A restarted server or a proxy's idle timeout leaves dead connections in the pool;
    # pre-ping replaces them instead of failing the next request.
    engine = make_engine(postgres_server.url().replace("+psycopg", ""))
    with engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    postgres_server.execute(f"SELECT pg_terminate_backend({pid})")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    # Read-only sessions (autocommit on PostgreSQL) draw from the same pre-pinged pool.
    reads = make_session_factory(engine, readonly=True)
    with reads() as session:
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
    postgres_server.execute(f"SELECT pg_terminate_backend({pid})")
    with reads() as session:
        assert session.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    engine.dispose()


def _engineer_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Engineer))


def test_sqlite_read_session_leaves_the_writer_free(tmp_path):
    # Write sessions take SQLite's one write lock at BEGIN (IMMEDIATE); a read session must not,
    # or every /growth log would queue behind the scheduler's writes and hold them up in turn.
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    upgrade_database(engine)
    writes, reads = make_session_factory(engine), make_session_factory(engine, readonly=True)
    begins: list[str] = []
    for pool in (engine, reads.kw["bind"]):   # SQLite file databases read through a pool of their own
        event.listen(pool, "before_cursor_execute",
                     lambda _c, _cur, statement, *_: begins.append(statement) if statement.startswith("BEGIN") else None)
    failures: list[BaseException] = []

    def write() -> None:
        try:
            add_engineer(writes, "U1")
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    with reads() as reader:
        assert _engineer_count(reader) == 0          # the read transaction has its snapshot now
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(timeout=3)                       # an IMMEDIATE reader would keep it 5 s (busy_timeout)
        assert not writer.is_alive() and failures == []
        assert _engineer_count(reader) == 0          # one snapshot for the whole unit of work
    with reads() as reader:
        assert _engineer_count(reader) == 1
    assert begins == ["BEGIN", "BEGIN IMMEDIATE", "BEGIN"]
    engine.dispose()


def test_sqlite_statement_snapshot_reads_run_no_begin_and_still_refuse_to_write(tmp_path):
    """`uow.reading(one_snapshot=False)` (a log page, a digest): no BEGIN, no ROLLBACK, so each
    statement sees what is committed when it runs; the connection is still query-only."""
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    upgrade_database(engine)
    uow = UnitOfWork(make_session_factory(engine))
    statements: list[str] = []
    for pool in (engine, reading_engine(engine)):
        event.listen(pool, "before_cursor_execute", lambda _c, _cur, statement, *_: statements.append(statement))
    with uow.reading(one_snapshot=False) as reader:
        assert _engineer_count(reader) == 0
        add_engineer(make_session_factory(engine), "U1")
        assert _engineer_count(reader) == 1          # its own snapshot: the write committed since is seen
    assert statements.count("SELECT count(*) AS count_1 \nFROM engineers") == 2 and "BEGIN IMMEDIATE" in statements
    assert [s for s in statements if s in ("BEGIN", "ROLLBACK", "COMMIT")] == []
    with uow.reading(one_snapshot=False) as reader, pytest.raises(OperationalError, match="readonly"):
        Engineers(reader).get_or_create("T1", "U2")
        reader.flush()
    with uow.reading() as reader:                    # the default keeps one snapshot (BEGIN)
        assert _engineer_count(reader) == 1
    assert statements.count("BEGIN") == 1
    engine.dispose()


def test_sqlite_read_session_refuses_to_write(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    upgrade_database(engine)
    with make_session_factory(engine, readonly=True)() as session, pytest.raises(OperationalError, match="readonly"):
        Engineers(session).get_or_create("T1", "U1")
        session.flush()
    # The same pooled connection, back in a write session, writes again.
    add_engineer(make_session_factory(engine), "U1")
    with make_session_factory(engine, readonly=True)() as session:
        assert _engineer_count(session) == 1
    assert engine.pool.checkedin() == 1
    engine.dispose()


def test_read_and_write_sessions_share_the_pool_without_leaking_settings(engine):
    # On PostgreSQL a read session runs in autocommit; the pool must hand the connection back
    # to the next write session transactional again (SQLAlchemy resets the isolation level).
    reads, writes = make_session_factory(engine, readonly=True), make_session_factory(engine)
    add_engineer(writes, "U1")
    with reads() as session:
        assert Engineers(session).get("T1", "U1") is not None
    with writes() as session:
        Engineers(session).get_or_create("T1", "U2")
        session.flush()
        session.rollback()
    with reads() as session:
        assert _engineer_count(session) == 1
        assert set(Engineers(session).get_many("T1", ["U1", "U2", "U3"])) == {"U1"}
    assert engine.pool.checkedin() == 1


def _schema_diffs(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_migrations_create_exactly_the_models(blank_database_url):
    engine = make_engine(blank_database_url)
    assert current_revision(engine) is None
    upgrade_database(engine)
    assert current_revision(engine) == HEAD
    assert _schema_diffs(engine) == []
    engine.dispose()


def test_schema_comparison_notices_a_difference(engine):
    # Guards the test above against comparing nothing: a model-only index is a diff.
    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    Index("ix_extra", metadata.tables["engineers"].c.tz)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert [diff[0] for diff in compare_metadata(context, metadata)] == ["add_index"]


def test_upgrade_is_a_no_op_when_at_head(engine):
    upgrade_database(engine)
    upgrade_database(engine)
    assert current_revision(engine) == HEAD
    assert "engineers" in inspect(engine).get_table_names()


def test_upgrade_from_several_processes_at_once(blank_database_url):
    # Bot processes starting together all call upgrade_database; one migrates, the
    # others wait for its lock and find nothing to do.
    script = f"from storage.db import upgrade_database; upgrade_database({blank_database_url!r})"
    processes = [
        subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    failures = [p.stderr.read() for p in processes if p.wait(timeout=60) != 0]
    assert failures == []
    engine = make_engine(blank_database_url)
    assert current_revision(engine) == HEAD
    engine.dispose()


def test_upgrade_from_several_threads_at_once(blank_database_url):
    race(4, lambda _: upgrade_database(blank_database_url))
    engine = make_engine(blank_database_url)
    assert current_revision(engine) == HEAD
    engine.dispose()


def test_sqlite_reads_and_writes_never_switch_a_connection_between_them(tmp_path):
    # Reading connections are query-only for good and writing ones never are: no PRAGMA
    # query_only per unit of work (each a SQLite call on the way to someone's answer), and a read
    # session still cannot write.
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    upgrade_database(engine)
    writes, reads = make_session_factory(engine), make_session_factory(engine, readonly=True)
    pragmas: list[str] = []
    for pool in (engine, reads.kw["bind"]):
        event.listen(pool, "before_cursor_execute",
                     lambda _c, _cur, statement, *_: pragmas.append(statement) if "query_only" in statement else None)
    for n in range(5):
        add_engineer(writes, f"U{n}")
        with reads() as reader:
            assert _engineer_count(reader) == n + 1
    assert pragmas == []
    with pytest.raises(OperationalError), reads() as reader:
        reader.execute(text("DELETE FROM engineers"))
    reader_pool = reads.kw["bind"].pool
    assert reader_pool is not engine.pool and reader_pool.checkedin() >= 1
    engine.dispose()                        # the reading pool goes with the engine
    assert reader_pool.checkedin() == 0
