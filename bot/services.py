"""What listeners, the scheduler and the CLI need, built once at start-up and passed around.

Listeners reach it through Bolt's context (`context["services"]`), set by one middleware.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from bot.catalog import Catalog, load_catalog
from bot.ladder.answers import Ladder
from bot.ladder.resolve import Resolver
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.after_ack import AfterAck
    from bot.outbox.sender import OutboxSender
    from bot.workspace_clients import Clients
    from storage.uow import UnitOfWork


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Services:
    settings: Settings
    catalog: Catalog
    resolver: Resolver
    ladder: Ladder
    # What `uow` is built from (and what tests and benchmarks seed their data through). Nothing in
    # bot/ opens a session from it: the bot reaches storage only through `uow`.
    session_factory: sessionmaker[Session] | None = None
    now: Callable[[], datetime] = utc_now
    # The read-only sessions behind `uow.reading()`: same engine, no write lock on SQLite, no
    # BEGIN/ROLLBACK on PostgreSQL. Made from `session_factory` when not given; see
    # storage.db.make_session_factory. Like `session_factory`, only an input to `uow`.
    read_session_factory: sessionmaker[Session] | None = None
    # Every message the bot sends on its own goes through here (bot.outbox). Made from
    # `uow` and the settings' token when not given.
    outbox: OutboxSender | None = None
    # The unit of work (storage.uow), the only way into storage: `uow.reading()` for a read
    # (anything before an ack), `uow.writing()` for one committed transaction. Made from the
    # session factories above when not given.
    uow: UnitOfWork | None = None
    # Threads for the work that follows an ack (bot.after_ack).
    after_ack: AfterAck | None = None
    # The client of each workspace for what the bot sends on its own (bot.workspace_clients).
    # Made from the settings when not given: the .env token, or the installation store.
    clients: Clients | None = None

    def __post_init__(self) -> None:
        if self.after_ack is None:
            from bot.after_ack import AfterAck

            self.after_ack = AfterAck()
        if self.session_factory is None:
            return
        engine = self.session_factory.kw["bind"]
        if self.read_session_factory is None:
            from storage.db import make_session_factory

            self.read_session_factory = make_session_factory(engine, readonly=True)
        if self.uow is None:
            from storage.uow import UnitOfWork

            self.uow = UnitOfWork(self.session_factory, self.read_session_factory)
        if self.clients is None:
            self.clients = workspace_clients_for(self.settings, self.uow)
        if self.outbox is None:
            from bot.outbox.sender import OutboxSender

            self.outbox = OutboxSender(self.uow, self.clients.sender(), lambda: self.now(),
                                       concurrency=self.settings.send_concurrency)


def workspace_clients_for(settings: Settings, uow: UnitOfWork) -> Clients:
    """One pacer (an allowance per workspace, kept in the database) for every workspace's sends,
    shared with the due runner; the .env token's client, or each installed workspace's."""
    from bot.slack_client import make_poster_client
    from bot.slack_pacing import DatabaseAllowances, Pacer
    from bot.workspace_clients import Clients, InstalledWorkspaces, OneWorkspace

    pacer = Pacer(DatabaseAllowances(uow))
    if settings.multi_workspace:
        return Clients(InstalledWorkspaces(uow, settings.slack_api_url, pacer, settings.slack_client_id,
                                           settings.slack_client_secret), settings.slack_api_url, pacer)
    return Clients(OneWorkspace(make_poster_client(settings.slack_bot_token, settings.slack_api_url, pacer)),
                   settings.slack_api_url, pacer)


def build_content_services(settings: Settings) -> tuple[Catalog, Resolver, Ladder]:
    """Load and index the content once; raises ContentError on a bad content folder."""
    catalog = load_catalog(settings.content_dir)
    resolver = Resolver(catalog, settings.default_framework)
    return catalog, resolver, Ladder(catalog, resolver)
