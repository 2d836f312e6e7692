"""Start-up: settings → database → content → App → listeners → scheduler → serve."""

from __future__ import annotations

import gc

import logging

from bot.app_factory import create_app
from bot.log_format import one_line_handler
from bot.services import Services, build_content_services
from bot.settings import Settings, SettingsError
from storage.db import database_answers

logger = logging.getLogger("growth_bot")


def configure_logging(level: str) -> None:
    # One record, one line: request content in a message cannot start a forged line (bot.log_format).
    logging.basicConfig(level=level, handlers=[one_line_handler()])
    # Alembic announces every plugin at INFO on each start-up: noise, not news.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLevelName(level)))


def build_services(settings: Settings) -> Services:
    """Everything the bot needs except Slack itself; raises ContentError/SettingsError clearly."""
    from storage.db import make_session_factory

    catalog, resolver, ladder = build_content_services(settings)
    engine = open_database(settings)
    return Services(settings=settings, catalog=catalog, resolver=resolver, ladder=ladder,
                    session_factory=make_session_factory(engine))


def open_database(settings: Settings):
    """The engine on DATABASE_URL, migrated (SQLite) or checked to be (PostgreSQL), with the
    encryption keys installed (`install_keys`); raises SettingsError with one line."""
    from storage.db import make_engine, normalize_database_url, upgrade_database

    try:
        url = normalize_database_url(settings.database_url)
    except ValueError as exc:
        raise SettingsError(f"DATABASE_URL: {exc}") from None
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        # The embedded default migrates itself; PostgreSQL deployments run `growth-bot db upgrade`
        # once per release so that several instances never race a migration at start-up.
        upgrade_database(engine)
    else:
        _require_migrated(engine)
    install_keys(settings, engine)
    return engine


def install_keys(settings: Settings, engine) -> None:
    """Load the encryption keys (or, on SQLite with none set, the key file beside the database,
    made on the first start), check they open a sample of what is stored, and install them for
    the column types (storage.crypto). Raises SettingsError with one line otherwise."""
    from storage.crypto import KeyringError, install_keyring
    from storage.key_sources import check_keyring_opens, load_keyring
    from storage.uow import UnitOfWork

    uow = UnitOfWork.on(engine)
    try:
        keyring = load_keyring(settings.encryption_keys, settings.encryption_key_file, uow)
        check_keyring_opens(uow, keyring)
    except KeyringError as exc:
        raise SettingsError(str(exc)) from None
    install_keyring(keyring)


def _require_migrated(engine) -> None:
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config, current_revision

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    try:
        current = current_revision(engine)
    except Exception as exc:  # noqa: BLE001 - any connection failure becomes one clear line
        raise SettingsError(f"DATABASE_URL: cannot connect to the database ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0][:200]})") from None
    if current != head:
        raise SettingsError(f"The database is at migration {current or 'none'}, the bot needs {head}: "
                            "run `growth-bot db upgrade` first.")


def run_bot(settings: Settings) -> None:
    configure_logging(settings.log_level)
    settings.require_slack()
    services = build_services(settings)
    app = create_app(services)
    # Everything built so far (the content catalog, Bolt, SQLAlchemy's mappings) lives as long
    # as the process: move it out of the cyclic GC's reach, so collections triggered by
    # requests scan only what requests made. A full collection otherwise walks the catalog's
    # objects every time, which showed in the tail latency of log and prep reads.
    gc.collect()             # start-up's garbage goes first, or it is frozen with the rest
    gc.freeze()
    from bot.recovery import start_recovery

    recovery = start_recovery(services)  # finishes whatever the last process left half-done
    # Inbox items and confirmations are processed in a worker process, off the acks' interpreter.
    services.after_ack.start_worker(services)
    scheduler = None
    if settings.scheduler_enabled:
        from bot.scheduling import start_scheduler

        scheduler = start_scheduler(services, app.client)
    try:
        if settings.socket_mode:
            from bot.server import serve_socket_mode

            serve_socket_mode(app, settings.slack_app_token)
        else:
            from bot.server import serve_http

            serve_http(app, settings.port, is_ready=lambda: database_answers(services.uow),
                       after_ack=services.after_ack.executor)
    finally:
        recovery.shutdown(wait=False)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
