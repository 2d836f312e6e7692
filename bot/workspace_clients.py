"""The Slack client for one workspace's sends: its own bot token, paced per workspace.

Listeners get a client from Bolt's `authorize` for the request's workspace. Everything the bot
sends on its own (the outbox, check-ins, reminders, time-zone look-ups) runs inside
`for_workspace(team_id)` and goes through a `RoutedClient`, which hands each call to that
workspace's client:

- single-workspace mode (SLACK_BOT_TOKEN): always the one client, as before;
- multi-workspace mode: the bot token slack-sdk's installation store holds for the workspace (or
  for its Enterprise Grid org, when the app was installed org-wide), refreshed when the app
  rotates tokens, cached briefly. An uninstalled workspace has no client: `WorkspaceGone`.

Every per-workspace client is a PacedWebClient under the workspace's own team id, so each
workspace sends at its own allowance and one workspace's 429 pauses only its own sends.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator, Protocol

from slack_sdk import WebClient
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator

from bot.slack_pacing import PacedWebClient, Pacer
from storage.repositories.workspaces import Workspaces
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

# A token looked up is reused this long: an uninstall also drops it at once (`forget`).
CACHE_SECONDS = 60.0
# Rotate a rotating token this long before it expires (Bolt's own default for requests).
ROTATE_MINUTES_BEFORE = 120

_team: ContextVar[str | None] = ContextVar("growth_bot_workspace", default=None)


class WorkspaceGone(Exception):
    """The workspace is uninstalled (or was never installed): nothing may be sent there."""


@contextmanager
def for_workspace(team_id: str | None) -> Iterator[None]:
    """Calls through a RoutedClient inside this block go to `team_id`'s client."""
    token = _team.set(team_id)
    try:
        yield
    finally:
        _team.reset(token)


def current_workspace() -> str | None:
    return _team.get()


class WorkspaceClients(Protocol):
    def for_team(self, team_id: str | None) -> WebClient: ...

    def forget(self, team_id: str) -> None: ...


class OneWorkspace:
    """Single-workspace mode: the one client, whichever workspace is asked for."""

    def __init__(self, client: WebClient):
        self.client = client

    def for_team(self, team_id: str | None) -> WebClient:
        return self.client

    def forget(self, team_id: str) -> None:
        pass


class InstalledWorkspaces:
    """Multi-workspace mode: each workspace's bot token from the installation store."""

    def __init__(self, uow: UnitOfWork, base_url: str, pacer: Pacer, client_id: str, client_secret: str,
                 clock: Callable[[], float] = time.monotonic):
        self._uow = uow
        self._base_url = base_url
        self._pacer = pacer
        self._clock = clock
        self._store = SQLAlchemyInstallationStore(client_id=client_id, engine=uow.engine, logger=logger)
        self._rotator = TokenRotator(client_id=client_id, client_secret=client_secret,
                                     client=WebClient(base_url=base_url, timeout=15))
        self._cache: dict[str, tuple[WebClient, float]] = {}
        self._lock = threading.Lock()

    def for_team(self, team_id: str | None) -> WebClient:
        if not team_id:
            raise WorkspaceGone("no workspace given for a send in multi-workspace mode")
        now = self._clock()
        with self._lock:
            cached = self._cache.get(team_id)
            if cached is not None and cached[1] > now:
                return cached[0]
        client, until = self._look_up(team_id, now)
        with self._lock:
            self._cache[team_id] = (client, until)
        return client

    def forget(self, team_id: str) -> None:
        with self._lock:
            self._cache.pop(team_id, None)

    def _look_up(self, team_id: str, now: float) -> tuple[WebClient, float]:
        with self._uow.reading() as session:
            workspaces = Workspaces(session)
            workspace = workspaces.get(team_id)
            if workspace is not None and workspace.uninstalled_at is not None:
                raise WorkspaceGone(f"workspace {team_id} uninstalled the app")
            row = workspaces.bot_row(team_id)
        if row is None:
            raise WorkspaceGone(f"workspace {team_id} has no installation")
        bot = SQLAlchemyInstallationStore.build_bot_entity(row)
        until = now + CACHE_SECONDS
        if bot.bot_refresh_token is not None:
            bot = self._rotated(bot)
            # Never reuse a rotating token past its expiry (a fresh one lives hours).
            if bot.bot_token_expires_at is not None:
                until = now + max(0.0, min(CACHE_SECONDS, bot.bot_token_expires_at - time.time() - 60))
        client = PacedWebClient(token=bot.bot_token, base_url=self._base_url, timeout=15, retry_handlers=[],
                                pacer=self._pacer)
        client._team = team_id  # paced under the workspace sent to, not auth.test's answer for an org token
        return client, until


    def _rotated(self, bot):
        """The bot with a token good for a while yet: rotated the way Bolt's authorize does it
        (the whole installation, so that Bolt and this find the same refresh token next time)."""
        installation = self._store.find_installation(enterprise_id=bot.enterprise_id, team_id=bot.team_id,
                                                     is_enterprise_install=bot.is_enterprise_install)
        if installation is not None and installation.bot_refresh_token is not None:
            refreshed = self._rotator.perform_token_rotation(installation=installation,
                                                             minutes_before_expiration=ROTATE_MINUTES_BEFORE)
            if refreshed is None:
                return installation.to_bot()
            self._store.save(refreshed)
            return refreshed.to_bot()
        refreshed_bot = self._rotator.perform_bot_token_rotation(bot=bot, minutes_before_expiration=ROTATE_MINUTES_BEFORE)
        if refreshed_bot is None:
            return bot
        self._store.save_bot(refreshed_bot)
        return refreshed_bot


class RoutedClient(WebClient):
    """A WebClient that sends each call with the client of the workspace in `for_workspace`.

    It also stands in for a PacedWebClient where one is expected (the due runner's backoff):
    `pacer` and `team_id()` are those of the current workspace."""

    def __init__(self, clients: WorkspaceClients, base_url: str, pacer: Pacer):
        super().__init__(base_url=base_url, timeout=15, retry_handlers=[])
        self.clients = clients
        self._pacer = pacer

    @property
    def pacer(self) -> Pacer:
        return self._pacer

    def team_id(self) -> str:
        client = self.clients.for_team(current_workspace())
        return client.team_id() if isinstance(client, PacedWebClient) else (current_workspace() or "")

    def api_call(self, api_method: str, **kwargs):  # type: ignore[override]
        return self.clients.for_team(current_workspace()).api_call(api_method, **kwargs)


class Clients:
    """Services' view: the workspaces' clients, their one pacer, and the routed client over them."""

    def __init__(self, workspaces: WorkspaceClients, base_url: str, pacer: Pacer):
        self.workspaces = workspaces
        self.pacer = pacer
        self._routed = RoutedClient(workspaces, base_url, pacer)

    def for_team(self, team_id: str | None) -> WebClient:
        return self.workspaces.for_team(team_id)

    def forget(self, team_id: str) -> None:
        self.workspaces.forget(team_id)

    def sender(self) -> RoutedClient:
        """The client for sends made inside `for_workspace(team_id)`."""
        return self._routed
