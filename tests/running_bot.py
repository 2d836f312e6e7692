"""The bot running for real over HTTP (waitress), talking to a fake Slack: the end-to-end harness.

Tests read like conversations: `bot.command("/ladder senior")`, `bot.click(...)`, then look at
what the fake Slack recorded.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from waitress.server import create_server

from bot.app_factory import create_app
from bot.runtime import install_keys
from bot.server import WAITRESS_LIMITS, make_wsgi_app
from bot.services import Services, build_content_services
from bot.settings import Settings, load_settings
from bot.slack_client import make_web_client
from storage.db import make_engine, make_session_factory
from storage.models import InboxItem
from tests import slack_requests as req
from tests.fake_slack import FakeSlack
from tests.keys import TEST_KEY_ENV

SIGNING_SECRET = "test-signing-secret"


def test_settings(fake: FakeSlack, database_url: str, **overrides: str) -> Settings:
    environ = {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake.base_url,
        "DATABASE_URL": database_url,
        "SCHEDULER_ENABLED": "false",
        **TEST_KEY_ENV,
        **overrides,
    }
    return load_settings(environ=environ, env_file=None)


@dataclass
class RunningBot:
    fake: FakeSlack
    services: Services
    url: str
    _counter: list[int] = field(default_factory=lambda: [0])

    def _token(self) -> str:
        self._counter[0] += 1
        return f"r{self._counter[0]}"

    def post(self, body: str, content_type: str, **kwargs: Any) -> tuple[int, dict, str]:
        return req.post_to_app(self.url, body, content_type, SIGNING_SECRET, **kwargs)

    def command(self, line: str, user_id: str = "U1", channel_id: str = "C1") -> "Reply":
        """Send a slash command typed as in Slack (`/ladder senior`); returns the ack and its token."""
        command, _, text = line.partition(" ")
        token = self._token()
        body, ctype = req.slash_command(command=command, text=text, user_id=user_id, channel_id=channel_id,
                                        response_url=self.fake.response_url(token))
        status, _, text_body = self.post(body, ctype)
        return Reply(status, _json(text_body), token, self.fake)

    def settle(self, timeout: float = 5) -> bool:
        """Wait until every delivery written down to the inbox is processed (a modal's answers are
        saved after its ack, in the next lull); False if some still are not after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            with self.services.uow.reading() as session:
                undone = session.scalar(select(func.count()).select_from(InboxItem).where(InboxItem.done_at.is_(None)))
            if not undone:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def click(self, action_id: str, value: str, user_id: str = "U1", **kwargs: Any) -> "Reply":
        token = self._token()
        body, ctype = req.block_action(user_id=user_id, action_id=action_id, value=value,
                                       response_url=self.fake.response_url(token), **kwargs)
        status, _, text_body = self.post(body, ctype)
        return Reply(status, _json(text_body), token, self.fake)


@dataclass
class Reply:
    status: int
    body: Any
    token: str
    fake: FakeSlack

    @property
    def blocks(self) -> list[dict]:
        return (self.body or {}).get("blocks", []) if isinstance(self.body, dict) else []

    def text(self) -> str:
        return blocks_text(self.blocks)

    def followups(self, count: int = 1, timeout: float = 5) -> list[dict]:
        """Messages the app later posted to this request's response_url."""
        return self.fake.wait_for_response(self.token, count=count, timeout=timeout)


def blocks_text(blocks: list[dict]) -> str:
    """All visible text of some blocks, for asserting on what a person would read."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
                parts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(parts)


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def start_bot(fake: FakeSlack, database_url: str, **overrides: str) -> tuple[RunningBot, Any]:
    """Start the app under waitress on a free loopback port; returns the bot and a stop function."""
    settings = test_settings(fake, database_url, **overrides)
    catalog, resolver, ladder = build_content_services(settings)
    engine = make_engine(database_url)
    install_keys(settings, engine)             # as bot.runtime.build_services does
    services = Services(settings=settings, catalog=catalog, resolver=resolver, ladder=ladder,
                        session_factory=make_session_factory(engine))
    app = create_app(services, client=make_web_client(settings.slack_bot_token, settings.slack_api_url))
    server = create_server(make_wsgi_app(app, is_ready=lambda: True), host="127.0.0.1", port=0, threads=4,
                           **WAITRESS_LIMITS)
    stopping = threading.Event()

    def serve() -> None:
        # waitress's own run() loops forever; closing its sockets under it raises EBADF in the
        # loop thread. Loop in short slices instead and close from here once asked to stop.
        while not stopping.is_set():
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.effective_port}"

    def stop() -> None:
        stopping.set()
        thread.join(timeout=5)
        # What was acked is finished before the database goes (as bot.graceful does on SIGTERM).
        services.after_ack.executor.shutdown(wait=True)
        engine.dispose()

    return RunningBot(fake, services, url), stop
