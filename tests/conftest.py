"""Shared fixtures: databases (SQLite and a real PostgreSQL), the fake Slack, the running app."""

pytest_plugins = ["tests.db_fixtures"]

import pytest

from tests.fake_slack import FakeSlack
from tests.running_bot import start_bot


@pytest.fixture
def fake_slack():
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def sqlite_url(tmp_path):
    """A migrated SQLite database for tests that are about Slack, not about the database."""
    from storage.db import upgrade_database

    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade_database(url)
    return url


@pytest.fixture
def running_bot(fake_slack, sqlite_url):
    """The bot over HTTP with a fake Slack, on SQLite (database-heavy tests use `database_url`)."""
    bot, stop = start_bot(fake_slack, sqlite_url)
    yield bot
    stop()
