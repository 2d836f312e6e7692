"""Alembic environment for growth-bot, driven from `storage.db.upgrade_database`.

There is no alembic.ini: `storage.db.alembic_config()` builds the config in code and passes
an open connection in `config.attributes["connection"]`. For the alembic command line,
set `sqlalchemy.url` with `-x url=…` or pass a config that carries it.
"""

from __future__ import annotations

from alembic import context

from storage.db import make_engine
from storage.models import Base

# Any number fits; it only has to be the same in every growth-bot process.
MIGRATION_LOCK_ID = 0x67726F77  # "grow"

target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables in later migrations.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several bot processes may start together; the first migrates, the others wait
            # here and then find the version table at head. SQLite's BEGIN IMMEDIATE already
            # serialises this.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("No database: pass -x url=sqlite:///growth-bot.db (or set sqlalchemy.url).")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run against a database.")
run_migrations_online()
