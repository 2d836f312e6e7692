"""Database fixtures (a pytest plugin, loaded by tests/conftest.py).

Any test that asks for `database_url`, `engine`, `session_factory`, `reads` or `uow` runs twice:
once on SQLite (`[sqlite]`) and once on a real PostgreSQL (`[postgresql]`), each time on a fresh,
fully migrated database of its own. `-k sqlite` / `-k postgresql` selects one side.

    def test_something(session_factory):
        with session_factory() as session, session.begin():
            ...                                  # one unit of work, committed on exit

The PostgreSQL server starts once per test session, and only if a `[postgresql]` test
runs; each test's database is a copy of a template migrated once. On SQLite, every
transaction of `session_factory` takes the write lock at BEGIN (see storage.db.make_engine):
close or commit one session before another one in the same thread touches the database.
`blank_database_url` gives an empty, unmigrated database for migration tests.
"""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_session_factory, upgrade_database
from storage.uow import UnitOfWork
from tests.pg_server import PostgresServer

DATABASES = ["sqlite", "postgresql"]
_names = itertools.count()
_timings: dict[str, list[float]] = {"create": []}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole test session, stopped (and deleted) at the end."""
    server = PostgresServer().start()
    _timings["start"] = [server.startup_seconds or 0.0]
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """Name of a database migrated to head once; test databases are created from it."""
    started = time.perf_counter()
    postgres_server.create_database("growth_template")
    upgrade_database(postgres_server.url("growth_template"))  # disposes its engine: no one stays connected
    _timings["template"] = [time.perf_counter() - started]
    return "growth_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    # The last connection closing checkpoints the WAL into the main file; copy only that.
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(params=DATABASES, ids=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh database at the newest migration, on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "growth.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("postgres_template")
    name = f"test_{next(_names)}"
    started = time.perf_counter()
    server.create_database(name, template=template)
    _timings["create"].append(time.perf_counter() - started)
    yield server.url(name)
    server.drop_database(name)


@pytest.fixture(params=DATABASES, ids=DATABASES)
def blank_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database with no tables at all, on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"blank_{next(_names)}"
    server.create_database(name)
    yield server.url(name)
    server.drop_database(name)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on `database_url`, disposed after the test."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """The application's session factory, on `engine`."""
    return make_session_factory(engine)


@pytest.fixture
def reads(engine: Engine) -> sessionmaker[Session]:
    """The application's read-only session factory (what reads before an ack use), on `engine`."""
    return make_session_factory(engine, readonly=True)


@pytest.fixture
def uow(session_factory: sessionmaker[Session], reads: sessionmaker[Session]) -> UnitOfWork:
    """The application's unit of work (what services take), over `session_factory` and `reads`."""
    return UnitOfWork(session_factory, reads)


def pytest_terminal_summary(terminalreporter) -> None:
    if "start" not in _timings:
        return
    creates = _timings["create"]
    average = f"{1000 * sum(creates) / len(creates):.0f} ms" if creates else "n/a"
    terminalreporter.write_line(
        f"PostgreSQL: server start {_timings['start'][0]:.2f} s, template migration "
        f"{_timings.get('template', [0.0])[0]:.2f} s, {len(creates)} test databases at {average} each"
    )
