"""Database URLs, engines, session factories and migrations.

The application builds one engine and one session factory at start-up, calls
`upgrade_database` (safe on every start, from several processes at once), and opens one
session per unit of work (a Slack request, a scheduler job). Nothing here commits on the
caller's behalf.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_EXAMPLES = "use sqlite:///growth-bot.db or postgresql://user:password@host:5432/dbname"
# Providers hand out URLs for several drivers; we ship psycopg 3 only.
_POSTGRES_DRIVERS = {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2", "postgres+psycopg"}
_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite"}
SQLITE_BUSY_TIMEOUT_MS = 5000
# Alembic keeps its running context in module globals, so one migration per process at a
# time; across processes the database lock taken in migrations/env.py does the job.
_migrating = threading.Lock()


def normalize_database_url(url: str) -> str:
    """Return a SQLAlchemy URL for `url` as pasted from a provider or a `.env` file.

    `postgres://`, `postgresql://` and `postgresql+psycopg2://` become
    `postgresql+psycopg://` (the driver we ship); SQLite URLs pass through. Raises
    `ValueError` with a sentence saying what to use instead for anything else. Error
    messages never include the password.
    """
    text = (url or "").strip()
    try:
        parsed = make_url(text)
    except (ArgumentError, ValueError):
        scheme = text.split("://", 1)[0] if "://" in text else None
        what = f"a URL starting with {scheme}://" if scheme else "not a database URL"
        raise ValueError(f"Could not parse the database URL ({what}): {_EXAMPLES}.") from None
    driver = parsed.drivername.lower()
    if driver in _POSTGRES_DRIVERS:
        if not parsed.database:
            raise ValueError(f"The PostgreSQL URL names no database: {_EXAMPLES}.")
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif driver in _SQLITE_DRIVERS:
        parsed = parsed.set(drivername="sqlite")
    else:
        raise ValueError(
            f"Unsupported database {parsed.drivername!r}: growth-bot runs on SQLite or on "
            f"PostgreSQL with the psycopg driver; {_EXAMPLES}."
        )
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str | URL) -> Engine:
    """An engine for `url` (normalised first), configured for multi-threaded use.

    SQLite: WAL for file databases (cheap commits; a backup or the sqlite3 shell reading
    the file never blocks the bot), foreign keys on, a 5 s busy timeout, and every
    transaction opened with ``BEGIN IMMEDIATE``, so units of work run one at a time (see
    `_configure_sqlite`). File databases use a connection pool with one connection per
    checkout; ``sqlite://`` (in memory) shares one connection and suits one thread only.
    PostgreSQL: pre-ping pooled connections, so a restarted server costs no failed request.
    """
    url = make_url(normalize_database_url(url if isinstance(url, str) else url.render_as_string(False)))
    if url.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True)
    in_memory = url.database in (None, "", ":memory:")
    if in_memory:
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        # QueuePool hands each thread its own connection; check_same_thread=False because a
        # pooled connection may be returned to the pool by a different thread.
        engine = create_engine(url, connect_args={"check_same_thread": False}, pool_size=8, max_overflow=16)
    _configure_sqlite(engine, wal=not in_memory)
    return engine


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Take BEGIN away from Python's sqlite3 module: its legacy mode starts transactions
        # only at the first INSERT/UPDATE/DELETE, so a SAVEPOINT (begin_nested) issued first
        # would escape the caller's transaction and a caller's rollback would not undo it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if wal:
            _enable_wal(cursor)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # IMMEDIATE takes the write lock up front, waiting up to busy_timeout for it. A
        # deferred transaction that has read and then writes fails at once with "database
        # is locked" if another writer committed in between (the busy handler is not used
        # for that upgrade), which would surface as random errors under the scheduler.
        # Cost: on SQLite, units of work run one at a time; keep them short and never hold
        # a session open while another session in the same thread works.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _enable_wal(cursor) -> None:
    # WAL is a property of the file and persists, so this only does work on a new file.
    # Switching needs the file to itself and SQLite does not wait (busy_timeout) for that,
    # so processes opening a brand-new file together retry for as long as busy_timeout.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() == "wal":
                return
        except sqlite3.OperationalError:
            pass
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError("could not switch the SQLite database to WAL: database is locked")
        time.sleep(0.01)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to `engine`; objects stay readable after commit (no expiry)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config() -> Config:
    """An Alembic `Config` built in code, pointing at the packaged `storage/migrations`."""
    config = Config()
    # ConfigParser interpolation: a literal '%' in the path must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


def upgrade_database(engine_or_url: Engine | str, revision: str = "head") -> None:
    """Migrate the database to `revision` (default: the newest). A no-op when already there.

    Safe to call on every start-up, from several processes at once: the migration runs
    in one transaction that first takes a lock (an advisory lock on PostgreSQL, the write
    lock on SQLite), so a second process waits and then finds nothing to do.
    """
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    try:
        config = alembic_config()
        with _migrating, engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if engine is not engine_or_url:
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None if it was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
