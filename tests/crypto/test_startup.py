"""Where the key comes from at start-up, and the one line when it is missing, malformed or wrong:
the bot and the CLI run as subprocesses, as an operator runs them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from storage.crypto import Keyring, new_key, parse_key
from storage.db import make_engine, make_session_factory, upgrade_database
from storage.models import Answer
from storage.uow import UnitOfWork
from tests.growthlog import log_seed as seed
from tests.keys import TEST_KEY

ROOT = Path(__file__).resolve().parents[2]
GROWTH_BOT = ROOT / ".venv" / "bin" / "growth-bot"


def growth_bot(tmp_path: Path, database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "DATABASE_URL": database_url,
               "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s", "SCHEDULER_ENABLED": "false",
               "SLACK_API_URL": "http://127.0.0.1:9/api/", "PORT": "9", **env}
    # cwd: a folder without a .env, so only the settings above apply.
    return subprocess.run([str(GROWTH_BOT), *args], cwd=tmp_path, env=environ, capture_output=True, text=True,
                          timeout=120)


def one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def seeded(database_url: str) -> None:
    """One answer written under the tests' key."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            owner = seed.engineer(session, "U1")
            row = seed.checkin(session, owner, date(2026, 11, 23), [("q1", "What did you ship?")])
            seed.answer(session, row, "q1", "the search rewrite")
    finally:
        engine.dispose()


def test_keys_new_prints_a_fresh_key_each_time(capsys):
    assert main(["keys", "new"]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["keys", "new"]) == 0
    second = capsys.readouterr().out.strip()
    assert first != second and len(parse_key(first, "printed")) == 32


def test_sqlite_without_a_key_makes_one_beside_the_database_once_and_says_where(tmp_path):
    database = tmp_path / "growth-bot.db"
    url = f"sqlite:///{database}"
    first = growth_bot(tmp_path, url, "keys", "rotate")
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "growth-bot.db.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    said = [line for line in first.stderr.splitlines() if "Generated the encryption key" in line]
    assert len(said) == 1 and str(key_file) in said[0]
    key = key_file.read_text().strip()
    assert f"under key {Keyring.from_texts([key]).current_id}" in first.stdout

    again = growth_bot(tmp_path, url, "keys", "rotate")
    assert again.returncode == 0 and "Generated" not in again.stderr
    assert key_file.read_text().strip() == key
    assert f"under key {Keyring.from_texts([key]).current_id}" in again.stdout


def test_a_key_that_does_not_open_the_data_stops_start_up_with_one_line(tmp_path, database_url):
    seeded(database_url)
    wrong = new_key()
    line = one_line(growth_bot(tmp_path, database_url, "serve", GROWTH_ENCRYPTION_KEY=wrong))
    assert line.startswith("growth-bot: The encryption key does not open the data already in the database: "
                           "a value in answers.text is encrypted under key ")
    assert Keyring.from_texts([TEST_KEY]).current_id in line and wrong not in line
    # The same for the CLI's other ways into the database.
    assert one_line(growth_bot(tmp_path, database_url, "keys", "rotate", GROWTH_ENCRYPTION_KEY=wrong)) == line
    assert one_line(growth_bot(tmp_path, database_url, "checkins", "run-due",
                               GROWTH_ENCRYPTION_KEY=wrong)) == line


def test_sqlite_with_data_and_no_key_does_not_make_a_new_key_over_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade_database(url)
    seeded(url)                                                 # under the tests' key, no key file
    line = one_line(growth_bot(tmp_path, url, "serve"))
    assert line == (f"growth-bot: The database holds encrypted data but there is no key file at "
                    f"{tmp_path / 'bot.db.key'} and GROWTH_ENCRYPTION_KEY is not set: restore the key file, or "
                    "set the key it was encrypted with.")
    assert not (tmp_path / "bot.db.key").exists()


def test_a_malformed_key_is_one_line(tmp_path, sqlite_url):
    line = one_line(growth_bot(tmp_path, sqlite_url, "serve", GROWTH_ENCRYPTION_KEY=f"{new_key()},not-a-key"))
    assert line.startswith("growth-bot: GROWTH_ENCRYPTION_KEY (key 2 of 2) is not a key")
    key_file = tmp_path / "keys"
    key_file.write_text("# mounted secret\n\n")
    line = one_line(growth_bot(tmp_path, sqlite_url, "serve", GROWTH_ENCRYPTION_KEY_FILE=str(key_file)))
    assert line == f"growth-bot: GROWTH_ENCRYPTION_KEY_FILE {key_file} holds no key: put one per line, newest " \
                   "first (make one with `growth-bot keys new`)."


@pytest.fixture
def postgres_url(request):
    """A migrated PostgreSQL database only (what has no key file to fall back on)."""
    server = request.getfixturevalue("postgres_server")
    name = f"keys_{os.getpid()}_{request.node.name[-8:].strip('[]_')}"
    server.create_database(name)
    url = server.url(name)
    upgrade_database(url)
    yield url
    server.drop_database(name)


def test_postgresql_without_a_key_stops_start_up_with_one_line(tmp_path, postgres_url):
    line = one_line(growth_bot(tmp_path, postgres_url, "serve"))
    assert line.startswith("growth-bot: GROWTH_ENCRYPTION_KEY is not set: on PostgreSQL no key is generated")
    assert not list(tmp_path.glob("*.key"))


def test_a_key_file_with_the_new_key_first_rotates_and_the_old_key_can_go(tmp_path, database_url):
    seeded(database_url)
    fresh = new_key()
    key_file = tmp_path / "growth.keys"
    key_file.write_text(f"# newest first\n{fresh}\n{TEST_KEY}\n")
    rotated = growth_bot(tmp_path, database_url, "keys", "rotate", "--batch", "1",
                         GROWTH_ENCRYPTION_KEY_FILE=str(key_file))
    assert rotated.returncode == 0, rotated.stderr
    assert "answers.text: 1 of 1 rows re-encrypted" in rotated.stdout
    assert "Every encrypted value is under key" in rotated.stdout
    engine = make_engine(database_url)
    try:
        from storage.crypto import install_keyring

        previous = install_keyring(Keyring.from_texts([fresh]))
        try:
            with UnitOfWork.on(engine).reading() as session:
                assert list(session.scalars(select(Answer.text))) == ["the search rewrite"]
        finally:
            install_keyring(previous)
    finally:
        engine.dispose()
    assert sys.executable
