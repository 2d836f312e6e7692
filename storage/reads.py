"""Hand-written SQL run on the driver's own cursor, for the reads a person waits on most.

`/growth log` and `/growth prep` read a page of a log per request. Through the ORM, the
machinery around that read (a Session, a Connection, events, per-column result processing)
cost several times the query itself (benchmarks/log_queries.py). Here a unit of work takes a
connection (PostgreSQL: from the engine's pool; a SQLite file: its thread's own, see
`ReadPool`), runs a few statements written once per dialect with the DBAPI cursor, and
converts the few typed columns itself.

Two ways in, same statements:

    with reads() as db:              # `ReadPool`: a connection for reads only
        rows = db.all(STATEMENT, {...})

    db = driver_rows(session)        # inside an ORM unit of work: its connection and transaction

Statements are `SQL` objects written with `:name` parameters; values come back as the driver
gives them (SQLite: text for dates and times, 0/1 for booleans) and go through `utc`, `day`,
and `document` on the way out, `DriverRows.timestamp` and `DriverRows.day` on the way in.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from storage.db import SQLITE_BUSY_TIMEOUT_MS

_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


@dataclass(frozen=True)
class SQL:
    """One statement, in each driver's parameter style: sqlite3 takes `:name` as written,
    psycopg wants `%(name)s`. `of` joins the text onto one line and rewrites every `:name`, so
    write no `--` comments, no `%`, and no `:word` inside string literals."""

    sqlite: str
    postgresql: str

    @classmethod
    def of(cls, text: str) -> SQL:
        text = " ".join(text.split())
        return cls(text, _PARAMETER.sub(r"%(\1)s", text))


class DriverRows:
    """Statements on one DBAPI connection; whoever gave it owns the connection and its transaction."""

    def __init__(self, connection: Any, dialect: str):
        self.connection = connection
        self.postgresql = dialect == "postgresql"

    def all(self, statement: SQL, parameters: Mapping[str, Any]) -> list[tuple]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(statement.postgresql if self.postgresql else statement.sqlite, parameters)
            return cursor.fetchall()
        finally:
            cursor.close()

    def timestamp(self, value: datetime) -> Any:
        """An aware datetime as a parameter, stored the way storage.types.UTCDateTime stores it
        (SQLite: naive UTC text with microseconds, which compares correctly as text)."""
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value if self.postgresql else value.replace(tzinfo=None).isoformat(" ", "microseconds")

    def day(self, value: date) -> Any:
        return value if self.postgresql else value.isoformat()


def driver_rows(session: Session) -> DriverRows:
    """The statements of this module inside an ORM unit of work (its connection, its transaction)."""
    connection = session.connection()
    return DriverRows(connection.connection.driver_connection, connection.dialect.name)


class ReadPool:
    """Connections for units of work that only read.

    No transaction is opened: each statement reads its own consistent snapshot (what was
    committed when it started), on SQLite without taking or waiting for the write lock, on
    PostgreSQL with no BEGIN and no ROLLBACK round trips (autocommit; under READ COMMITTED a
    statement sees no more inside a transaction). The few statements of one request read the
    same rows in different ways, so a write landing between them changes nothing that
    matters.

    PostgreSQL (and in-memory SQLite): a connection borrowed from `engine`'s pool per unit of
    work, pre-pinged as every checkout from this engine is (storage.db.make_engine).
    SQLite file: each thread keeps a read-only connection of its own (`PRAGMA query_only`),
    outside the engine's pool. Opening one costs more than the statements it serves, and the
    pool's checkout and return cost about as much as a log page's query; in WAL mode a reader
    never waits for the writer, so nothing is gained by sharing them. A thread pool's few
    threads keep a connection (and SQLite's page cache, 2 MB at most) each, closed when the
    ReadPool or the thread is garbage-collected (sqlite3 connections close themselves then);
    they do not run the engine's connect hooks, so the pragmas they need are set here.
    One unit of work per thread at a time: a nested `with reads()` shares the connection.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self.dialect = engine.dialect.name
        database = engine.url.database if self.dialect == "sqlite" else None
        self._own_connections = database not in (None, "", ":memory:")
        self._local = threading.local()

    def __call__(self) -> contextlib.AbstractContextManager[DriverRows]:
        return self if self._own_connections else self._pooled_connection()

    # The SQLite-file case is its own context manager (no generator per unit of work: it is
    # entered on every log page and digest).
    def __enter__(self) -> DriverRows:
        rows = getattr(self._local, "rows", None)
        if rows is None:
            rows = self._local.rows = DriverRows(self._connect_sqlite(), self.dialect)
        return rows

    def __exit__(self, error_type, error, traceback) -> None:
        if error_type is not None:
            # Whatever went wrong, the next unit of work in this thread starts afresh.
            rows, self._local.rows = self._local.rows, None
            if rows is not None:
                rows.connection.close()

    def _connect_sqlite(self) -> Any:
        arguments, options = self.engine.dialect.create_connect_args(self.engine.url)
        connection = self.engine.dialect.loaded_dbapi.connect(*arguments, **options)
        connection.isolation_level = None             # autocommit: each statement its own snapshot
        connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA query_only = ON")  # reads only: a write here fails loudly
        return connection

    @contextlib.contextmanager
    def _pooled_connection(self) -> Iterator[DriverRows]:
        connection = self.engine.raw_connection()
        driver = connection.driver_connection
        postgresql = self.dialect == "postgresql"
        try:
            if postgresql:
                driver.autocommit = True
            yield DriverRows(driver, self.dialect)
        except self.engine.dialect.loaded_dbapi.Error:
            if postgresql:
                # The driver's own errors bypass SQLAlchemy's disconnect handling: a connection
                # that may have lost its server is not given back (invalidating checks it in).
                # (In-memory SQLite has one connection, which is the database: never that.)
                connection.invalidate()
            raise
        finally:
            if connection.is_valid:
                try:
                    if postgresql:
                        driver.autocommit = False
                finally:
                    connection.close()     # back to the pool


# -- values as the drivers return them --------------------------------------------------------

def utc(value: Any) -> datetime | None:
    """A stored point in time as an aware UTC datetime (SQLite gives naive UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value + "+00:00")     # 5x faster than .replace(tzinfo=UTC)
        except ValueError:                                      # text with an offset of its own
            value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def document(value: Any) -> Any:
    """A JSON column: psycopg decodes it, SQLite gives the text."""
    return json.loads(value) if isinstance(value, str) else value
