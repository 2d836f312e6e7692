"""Shared fixtures: databases (SQLite and a real PostgreSQL), the fake Slack, the running app."""

pytest_plugins = ["tests.db_fixtures"]

import pytest

from storage.crypto import install_keyring
from tests.fake_slack import FakeSlack
from tests.keys import fixed_keyring
from tests.running_bot import start_bot

# What engineers write is encrypted by the column types with the process-wide keyring
# (storage.crypto); every test reads and writes under the one fixed test key.
_TEST_KEYRING = fixed_keyring()
install_keyring(_TEST_KEYRING)


@pytest.fixture(autouse=True)
def _fixed_keyring():
    """A test that starts the bot's own start-up in-process (bot.runtime.build_services) installs
    the keyring it loads; the next test gets the fixed one back."""
    install_keyring(_TEST_KEYRING)
    yield
    install_keyring(_TEST_KEYRING)


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
