"""The outbox tests' clock and sender."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.outbox.sender import OutboxSender
from bot.slack_client import make_poster_client
from storage.uow import UnitOfWork

NOW = datetime(2026, 3, 13, 15, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sender(session_factory, fake_slack, clock) -> OutboxSender:
    return OutboxSender(UnitOfWork(session_factory), make_poster_client("xoxb-test", fake_slack.base_url), clock)
