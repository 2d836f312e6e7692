"""Database URLs, engines, session factories and migrations.

The application builds one engine and two session factories on it at start-up, one for units
of work that write and one for those that only read (`make_session_factory(engine,
readonly=True)`), calls `upgrade_database` (safe on every start, from several processes at
once), and opens one session per unit of work (a Slack request, a scheduler job). Nothing here
commits on the caller's behalf.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
import time
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.base import OptionEngine
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from storage.write_gate import WriteGate, is_urgent

if TYPE_CHECKING:
    from storage.uow import UnitOfWork

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_EXAMPLES = "use sqlite:///growth-bot.db or postgresql://user:password@host:5432/dbname"
# Providers hand out URLs for several drivers; we ship psycopg 3 only.
_POSTGRES_DRIVERS = {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2", "postgres+psycopg"}
_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite"}
SQLITE_BUSY_TIMEOUT_MS = 5000
# An execution option of the read-only session factory's engine, read by `_configure_sqlite`.
_READ_ONLY = "growth_read_only"
# With it too, a read-only unit of work opens no transaction: each statement is its own snapshot.
_STATEMENT_SNAPSHOTS = "growth_statement_snapshots"
# connection.info keys: this connection holds its engine's write gate; the gate itself.
_HOLDS_GATE, _GATE = "growth_holds_write_gate", "growth_write_gate"
# An execution option: this write transaction waits that long (ms) for SQLite's lock held by
# another process, not SQLITE_BUSY_TIMEOUT_MS (storage.uow's shared ack transactions). The
# connection.info key says what the connection is set to now.
BUSY_TIMEOUT_OPTION, _BUSY_TIMEOUT = "growth_busy_timeout_ms", "growth_busy_timeout_ms"
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
    transaction that may write opened with ``BEGIN IMMEDIATE``, so those run one at a time
    (see `_configure_sqlite`; read-only sessions do not wait for them). File databases use a
    connection pool with one connection per checkout; ``sqlite://`` (in memory) shares one
    connection and suits one thread only.
    PostgreSQL: pre-ping pooled connections, so a restarted server costs no failed request.
    """
    url = make_url(normalize_database_url(url if isinstance(url, str) else url.render_as_string(False)))
    if url.get_backend_name() == "postgresql":
        # Pre-ping costs one round trip per checkout (a "SELECT 1": ~0.04 ms on a local socket,
        # a network round trip otherwise) and is what makes a restart, a failover or a proxy's
        # idle cut-off cost no failed request. The cheaper options all fail some: without it
        # (SQLAlchemy's "optimistic" handling) each pooled connection that outlived the event
        # fails the request that next draws it; pinging only connections idle for a while
        # misses the busy ones, which a restart kills just the same; SQLAlchemy's transparent
        # reconnect recipe covers autocommit reads only, with warnings of its own.
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


def _configure_sqlite(engine: Engine, *, wal: bool, read_only: bool = False) -> None:
    gate = WriteGate()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Take BEGIN away from Python's sqlite3 module: its legacy mode starts transactions
        # only at the first INSERT/UPDATE/DELETE, so a SAVEPOINT (begin_nested) issued first
        # would escape the caller's transaction and a caller's rollback would not undo it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # Deleted rows and overwritten values are zeroed, not left in free pages: an inbox
        # payload emptied once processed, a deleted answer, a value rotate re-encrypted.
        cursor.execute("PRAGMA secure_delete = ON")
        if wal:
            _enable_wal(cursor)
        if read_only:
            cursor.execute("PRAGMA query_only = 1")
        cursor.close()
        if read_only:
            _record.info[_READ_ONLY] = True

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # A unit of work that may write begins IMMEDIATE: it takes the write lock up front,
        # waiting up to busy_timeout for it. A deferred transaction that has read and then
        # writes fails at once with "database is locked" if another writer committed in
        # between (the busy handler is not used for that upgrade), which would surface as
        # random errors under the scheduler. Cost: writing units of work run one at a time;
        # keep them short and never hold a session open while another session in the same
        # thread works.
        # A read-only unit of work needs no write lock: a plain (deferred) BEGIN reads one
        # snapshot (taken at its first read) and, in WAL mode, never waits for the writer nor
        # holds it up. query_only makes "read-only" a promise: a write in such a session fails
        # loudly instead of trying to upgrade its lock. The pragma stays on the connection, so
        # it is set only when a pooled connection moves between the two kinds of session.
        read_only = bool(connection.get_execution_options().get(_READ_ONLY))
        if connection.info.get(_READ_ONLY, False) != read_only:
            connection.exec_driver_sql(f"PRAGMA query_only = {int(read_only)}")
            connection.info[_READ_ONLY] = read_only
        if read_only:
            # Without the BEGIN (statement_snapshots), SQLite runs each statement as a transaction
            # of its own, and the pool's rollback on return finds none to end: two SQLite calls
            # fewer, each of which gives up the GIL and waits for it again under load.
            if not connection.get_execution_options().get(_STATEMENT_SNAPSHOTS):
                connection.exec_driver_sql("BEGIN")
            return
        # Writers of this process queue in the gate (storage.write_gate), not in SQLite's
        # sleep-and-retry busy handler; the gate is held until the COMMIT or ROLLBACK is done.
        if not gate.acquire(urgent=is_urgent(), timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise sqlite3.OperationalError("database is locked (waited for this process's other writers)")
        connection.info[_HOLDS_GATE], connection.info[_GATE] = True, gate
        try:
            # Set only when it changes: a pooled connection that ran an ack's shared transaction
            # last is put back to the full timeout by the next ordinary write on it, and one that
            # runs them again and again pays no PRAGMA (two SQLite calls per shared commit).
            wanted = connection.get_execution_options().get(BUSY_TIMEOUT_OPTION, SQLITE_BUSY_TIMEOUT_MS)
            if connection.info.get(_BUSY_TIMEOUT, SQLITE_BUSY_TIMEOUT_MS) != wanted:
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(wanted)}")
                connection.info[_BUSY_TIMEOUT] = wanted
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _let_go(connection.info)
            raise

    # The COMMIT/ROLLBACK run here, on the DBAPI connection, so the gate opens only once they
    # are done; SQLAlchemy's own commit() that follows finds no transaction and does nothing.
    @event.listens_for(engine, "commit")
    def _on_commit(connection) -> None:
        _finish(connection, "COMMIT")

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection) -> None:
        _finish(connection, "ROLLBACK")

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_connection, record) -> None:
        _let_go(record.info)  # never leave the gate shut behind a connection that went back


def _finish(connection, statement: str) -> None:
    if connection.invalidated:
        # Its DBAPI connection is gone (a disconnect, an exit exception mid-statement): the pool
        # let go of the gate as it discarded it, and reading `connection.info` here would raise
        # PendingRollbackError out of the caller's close() or rollback().
        return
    info = connection.info
    if not info.get(_HOLDS_GATE):
        return
    dbapi = connection.connection.dbapi_connection
    try:
        if dbapi.in_transaction:
            dbapi.execute(statement)
    except BaseException:
        if statement == "ROLLBACK":
            _let_go(info)
        raise  # a failed COMMIT is followed by a ROLLBACK, which lets go
    _let_go(info)


def _let_go(info: dict) -> None:
    if info.pop(_HOLDS_GATE, False):
        info[_GATE].release()


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


def make_session_factory(engine: Engine, *, readonly: bool = False,
                         statement_snapshots: bool = False) -> sessionmaker[Session]:
    """Sessions bound to `engine`; objects stay readable after commit (no expiry).

    `readonly=True` is for units of work that only read (a Home tab, an export, a profile, a log
    page and a 1:1 digest before their ack): they see committed data and must not write. They
    share `engine`'s connection pool.
    SQLite: a deferred ``BEGIN`` instead of ``BEGIN IMMEDIATE``, so reads never queue behind
    (or hold up) the one writer, with ``PRAGMA query_only`` on: a write raises. The session
    reads one snapshot throughout.
    PostgreSQL: DBAPI autocommit, so no BEGIN and no ROLLBACK, two round trips fewer per
    request. Under READ COMMITTED every statement takes its own snapshot whether or not it is
    inside a transaction, so for reads nothing is lost; nothing stops a write here either, but
    it would commit at once, so keep writes in the other factory (the SQLite tests catch them).
    `statement_snapshots=True` (with `readonly`): on SQLite too no BEGIN, each statement reading
    the newest committed data on its own, as on PostgreSQL; for the reads a person waits on that
    run one statement, or whose statements need not agree (they already do not on PostgreSQL).
    """
    if readonly:
        if engine.dialect.name == "postgresql":
            engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        else:
            engine = reading_engine(engine).execution_options(
                **{_READ_ONLY: True, _STATEMENT_SNAPSHOTS: statement_snapshots})
    return sessionmaker(bind=engine, expire_on_commit=False)


_READERS: "weakref.WeakKeyDictionary[Engine, Engine]" = weakref.WeakKeyDictionary()
_READERS_LOCK = threading.Lock()


def reading_engine(engine: Engine) -> Engine:
    """SQLite file databases: a pool of connections kept for reading, beside `engine`'s.

    Sharing one pool, a connection that last wrote needs `PRAGMA query_only = 1` before a read
    and `= 0` again before the next write: a manager's `/growth log @report` (a read, then its
    read record) paid two of those, each a SQLite call that gives up the GIL and waits to get it
    back under load. Here reading connections are query-only for good, and the writing ones
    never change. Disposed with `engine`. In memory (one shared connection), and on PostgreSQL,
    `engine` itself."""
    base = engine
    while isinstance(base, OptionEngine):     # engine.execution_options(...) wraps the one that owns the pool
        base = base._proxied
    if base.dialect.name != "sqlite" or base.url.database in (None, "", ":memory:"):
        return engine
    with _READERS_LOCK:
        reader = _READERS.get(base)
        if reader is None:
            reader = create_engine(base.url, connect_args={"check_same_thread": False}, pool_size=8, max_overflow=16)
            _configure_sqlite(reader, wal=True, read_only=True)
            event.listen(base, "engine_disposed", lambda _engine: reader.dispose())
            _READERS[base] = reader
    return reader


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


def database_answers(uow: UnitOfWork) -> bool:
    """Readiness: one round trip to the database (raises if it cannot be reached), in a read-only
    unit of work: a readiness probe never waits for SQLite's write lock."""
    with uow.reading() as session:
        session.execute(text("SELECT 1"))
    return True
