"""What an engineer writes is in no byte on disk: the SQLite file and its WAL (while the bot runs and
after), a pg_dump and PostgreSQL's WAL; the bot still shows it, and after `keys rotate` too.

The engineer answers through signed requests and the fake Slack, as in Slack: the answer modal, a
reply in the check-in thread, a self-assessment; their manager's automatic 1:1 digest, which
quotes the answers, goes out through the outbox.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.growthlog.one_on_ones import run_auto_prep
from storage.crypto import Keyring, key_id_of, new_key
from storage.encrypted_columns import encrypted_columns
from storage.repositories import Engineers
from tests.checkins.desk import TEAM
from tests.checkins.test_answer_paths import dm_event, send_event, wait_until
from tests.checkins.test_checkins_e2e import (answer_button, checkin_now, enrol, open_answer_modal,
                                               question_blocks, stored_answers, submit)
from tests.growthlog import test_assessment_e2e as assessing
from tests.keys import TEST_KEY
from tests.running_bot import blocks_text, start_bot

MARKER = "qx7-MARKER-of-an-engineer-9k2"
ROOT = Path(__file__).resolve().parents[2]


def answer_everything(bot) -> list[str]:
    """U1 answers in the modal and in the thread and assesses themself; their manager U2's digest
    goes out. Returns the assessment's picks as they would read in plain JSON."""
    enrol(bot)
    dm = checkin_now(bot)
    checkin_id = int(answer_button(dm))
    view = open_answer_modal(bot, dm)
    answers = {b["block_id"]: f"modal {n} {MARKER}" for n, b in enumerate(question_blocks(view), 1)}
    assert submit(bot, view, answers, view_id="V-marker") == (200, "")
    send_event(bot, dm_event(f"thread {MARKER}", "1700000999.000300", dm["ts"]), "EvMarker")
    wait_until(lambda: len(stored_answers(bot, checkin_id)) == len(answers) + 1)

    caps = assessing.capability_ids(bot)
    picks = {caps[0]: "lead", caps[1]: "junior"}
    assert assessing.submit(bot, "U1", picks)[0] == 200
    wait_until(lambda: assessing.stored(bot, "U1"))

    with bot.services.session_factory.begin() as session:
        Engineers(session).get(TEAM, "U1").manager_user_id = "U2"
    bot.fake.set_user("U2", tz="Europe/Berlin")
    # A 1:1 two hours from now: its digest is due now (three hours ahead), and the outbox sends it.
    soon = datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(hours=2)
    day = f"{soon:%a}".lower()
    [set_up] = bot.command(f"/growth 1on1 <@U1|ada> {day} {soon:%H:%M}", user_id="U2").followups()
    assert "before" in blocks_text(set_up["blocks"]), blocks_text(set_up["blocks"])
    client = WebClient(base_url=bot.fake.base_url, token="xoxb-test")
    assert run_auto_prep(bot.services, client, datetime.now(UTC)).sent == 1
    [digest] = wait_until(lambda: [m for m in bot.fake.messages_in("DU2") if m.get("text", "").startswith("1:1 prep")])
    assert MARKER in blocks_text(digest["blocks"])
    return [f'"{caps[0]}": "lead"', f'"{caps[0]}":"lead"']


def log_shows_the_marker(bot) -> None:
    reply = bot.command("/growth log")
    page = reply.body if reply.blocks else reply.followups()[0]     # in the ack, or after it
    assert blocks_text(page["blocks"]).count(MARKER) == 4      # three in the modal, one in the thread


def assert_nowhere(data: bytes, picks: list[str], where: str) -> None:
    assert b"enc1:" in data, where                      # the ciphertext is there: the right bytes were read
    assert MARKER.encode() not in data, where
    assert not any(p.encode() in data for p in picks), where


def sqlite_files(url: str) -> tuple[Path, Path]:
    database = Path(make_url(url).database)
    return database, database.with_name(database.name + "-wal")


def pg_dump(server, url: str) -> bytes:
    parsed = make_url(url)
    return subprocess.run([str(server.bindir / "pg_dump"), "-h", parsed.host, "-p", str(parsed.port),
                           "-U", parsed.username, parsed.database], check=True, capture_output=True).stdout


def pg_wal(server) -> bytes:
    return b"".join(path.read_bytes() for path in sorted((server.data_dir / "pg_wal").glob("0*")))


def rotate(tmp_path: Path, database_url: str, key_file: Path) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "DATABASE_URL": database_url,
           "GROWTH_ENCRYPTION_KEY_FILE": str(key_file)}
    return subprocess.run([str(ROOT / ".venv" / "bin" / "growth-bot"), "keys", "rotate", "--batch", "2"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def stored_key_ids(bot) -> set[str | None]:
    found = set()
    with bot.services.uow.reading() as session:
        for column in encrypted_columns():
            for value in session.execute(text(f"SELECT {column.name} FROM {column.table.name}")).scalars():
                found.add(key_id_of(str(value).strip('"')))
    return found


def test_nothing_an_engineer_wrote_reaches_the_disk_and_rotation_keeps_it_readable(
        fake_slack, database_url, tmp_path, request):
    sqlite = database_url.startswith("sqlite")
    bot, stop = start_bot(fake_slack, database_url)
    try:
        picks = answer_everything(bot)
        log_shows_the_marker(bot)
        if sqlite:
            database, wal = sqlite_files(database_url)
            assert wal.stat().st_size > 0            # the bot is running: its writes are in the WAL
            assert MARKER.encode() not in database.read_bytes()
            assert_nowhere(wal.read_bytes(), picks, "the WAL, not yet checkpointed")
        else:
            server = request.getfixturevalue("postgres_server")
            assert_nowhere(pg_dump(server, database_url), picks, "pg_dump")
            assert_nowhere(pg_wal(server), picks, "PostgreSQL's WAL")
    finally:
        stop()
    if sqlite:
        database, wal = sqlite_files(database_url)
        assert_nowhere(database.read_bytes() + (wal.read_bytes() if wal.exists() else b""), picks,
                       "the SQLite file once checkpointed")

    fresh = new_key()
    key_file = tmp_path / "keys"
    key_file.write_text(f"{fresh}\n{TEST_KEY}\n")
    rotated = rotate(tmp_path, database_url, key_file)
    assert rotated.returncode == 0, rotated.stderr
    assert "Every encrypted value is under key" in rotated.stdout

    bot, stop = start_bot(fake_slack, database_url, GROWTH_ENCRYPTION_KEY=fresh)   # the old key is gone
    try:
        log_shows_the_marker(bot)
        assert stored_key_ids(bot) == {Keyring.from_texts([fresh]).current_id}
    finally:
        stop()
