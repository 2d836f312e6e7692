"""Encryption at rest (#13) attacked as a clumsy operator or a hostile one with the database file:
malformed keys and key files, a deleted or replaced key file, ciphertext flipped or swapped in the
database. Start-up is a subprocess, as an operator runs it: exit 2, one line, no traceback."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from storage.crypto import new_key
from bot.listeners.growth_log import UNREADABLE
from tests.crypto.test_startup import growth_bot, one_line, seeded
from tests.growthlog import log_seed as seed
from tests.growthlog.replies import acked
from tests.running_bot import blocks_text


# Opens the database with the keys installed and exits 0 (no Slack call: nothing is due). Not
# `keys rotate`: see the report of this attack (its WAL checkpoint was work in progress).
OPEN = ("checkins", "run-due")


def sqlite_url_in(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


# -- malformed keys -------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [
    "c2hvcnQ=",                                       # base64, but 5 bytes
    "!" * 44,                                         # 44 characters, not base64
    new_key()[:-2],                                   # one character short
    new_key() + "AAAA",                               # too long
    f"{new_key()};{new_key()}",                       # the wrong separator
    f"{new_key()},{new_key()[:20]}",                  # two keys, the second bad
])
def test_a_malformed_key_in_the_environment_is_one_line(tmp_path, bad):
    line = one_line(growth_bot(tmp_path, sqlite_url_in(tmp_path), "serve", GROWTH_ENCRYPTION_KEY=bad))
    assert "is not a key" in line and bad not in line             # a key's text is never echoed
    assert not (tmp_path / "bot.db.key").exists()


def test_a_key_with_spaces_around_the_comma_is_read_as_the_keys(tmp_path):
    first, second = new_key(), new_key()
    result = growth_bot(tmp_path, sqlite_url_in(tmp_path), *OPEN,
                        GROWTH_ENCRYPTION_KEY=f"  {first} ,  {second} ")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\r\n"])
def test_an_empty_key_file_is_one_line(tmp_path, content):
    key_file = tmp_path / "secret"
    key_file.write_text(content)
    line = one_line(growth_bot(tmp_path, sqlite_url_in(tmp_path), "serve", GROWTH_ENCRYPTION_KEY_FILE=str(key_file)))
    assert "holds no key" in line


def test_a_key_file_that_is_a_directory_or_missing_is_one_line(tmp_path):
    for where in (tmp_path, tmp_path / "nowhere"):
        line = one_line(growth_bot(tmp_path, sqlite_url_in(tmp_path), "serve", GROWTH_ENCRYPTION_KEY_FILE=str(where)))
        assert "GROWTH_ENCRYPTION_KEY_FILE" in line and "not a readable file" in line


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r\n\r\n", ""])
def test_a_key_file_with_crlf_or_a_trailing_newline_opens_the_data(tmp_path, ending):
    url = sqlite_url_in(tmp_path)
    from tests.keys import TEST_KEY

    growth_bot(tmp_path, url, *OPEN, GROWTH_ENCRYPTION_KEY=TEST_KEY)   # migrate
    seeded(url)
    key_file = tmp_path / "secret"
    key_file.write_bytes(f"{TEST_KEY}{ending}".encode())
    result = growth_bot(tmp_path, url, *OPEN, GROWTH_ENCRYPTION_KEY_FILE=str(key_file))
    assert result.returncode == 0, result.stderr


def test_a_key_file_with_a_bad_line_names_the_line_not_the_key(tmp_path):
    key_file = tmp_path / "secret"
    bad = new_key()[:30]
    key_file.write_text(f"{new_key()}\n{bad}\n")
    line = one_line(growth_bot(tmp_path, sqlite_url_in(tmp_path), "serve", GROWTH_ENCRYPTION_KEY_FILE=str(key_file)))
    assert "(line 2)" in line and bad not in line


def test_a_key_file_not_valid_utf8_is_one_line(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_bytes(b"\xff\xfe\x00garbage")
    line = one_line(growth_bot(tmp_path, sqlite_url_in(tmp_path), "serve", GROWTH_ENCRYPTION_KEY_FILE=str(key_file)))
    assert "cannot be read" in line


def test_both_settings_at_once_are_both_live(tmp_path):
    """The environment's keys come first (the newest), then the file's: data under either opens."""
    from tests.keys import TEST_KEY

    url = sqlite_url_in(tmp_path)
    growth_bot(tmp_path, url, *OPEN, GROWTH_ENCRYPTION_KEY=TEST_KEY)
    seeded(url)
    key_file = tmp_path / "secret"
    key_file.write_text(TEST_KEY + "\n")
    fresh = new_key()
    result = growth_bot(tmp_path, url, *OPEN, GROWTH_ENCRYPTION_KEY=fresh,
                        GROWTH_ENCRYPTION_KEY_FILE=str(key_file))
    assert result.returncode == 0, result.stderr
    line = one_line(growth_bot(tmp_path, url, "serve", GROWTH_ENCRYPTION_KEY=fresh))
    assert "does not open the data" in line


# -- the generated key file -----------------------------------------------------------------------

def generated(tmp_path: Path) -> tuple[str, Path]:
    """A SQLite database started without a key setting, holding one answer under its own key file."""
    url = sqlite_url_in(tmp_path)
    first = growth_bot(tmp_path, url, *OPEN)
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "bot.db.key"
    from storage.crypto import Keyring, install_keyring

    previous = install_keyring(Keyring.from_texts([key_file.read_text().strip()]))
    try:
        engine = create_engine(url)
        from storage.db import make_session_factory

        with make_session_factory(engine).begin() as session:
            owner = seed.engineer(session, "U1")
            row = seed.checkin(session, owner, date(2026, 11, 23), [("q1", "What did you ship?")])
            seed.answer(session, row, "q1", "the search rewrite")
        engine.dispose()
    finally:
        install_keyring(previous)
    return url, key_file


def test_the_generated_key_file_is_0600_and_survives_a_restart(tmp_path):
    url, key_file = generated(tmp_path)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    again = growth_bot(tmp_path, url, *OPEN)
    assert again.returncode == 0 and "Generated" not in again.stderr, again.stderr


def test_a_key_file_deleted_after_data_was_written_stops_start_up_and_makes_no_new_key(tmp_path):
    url, key_file = generated(tmp_path)
    key_file.unlink()
    for command in (["serve"], [*OPEN], ["checkins", "run-due"]):
        line = one_line(growth_bot(tmp_path, url, *command))
        assert "holds encrypted data but there is no key file" in line
        assert not key_file.exists()


def test_a_key_file_emptied_or_replaced_with_another_key_stops_start_up(tmp_path):
    url, key_file = generated(tmp_path)
    original = key_file.read_text()
    key_file.write_text(new_key() + "\n")
    line = one_line(growth_bot(tmp_path, url, "serve"))
    assert "does not open the data already in the database" in line
    key_file.write_text("")
    assert "holds no key" in one_line(growth_bot(tmp_path, url, "serve"))
    key_file.write_text(original)
    assert growth_bot(tmp_path, url, *OPEN).returncode == 0


def test_a_key_file_that_is_a_directory_beside_the_database_is_one_line(tmp_path):
    url = sqlite_url_in(tmp_path)
    (tmp_path / "bot.db.key").mkdir()
    line = one_line(growth_bot(tmp_path, url, "serve"))
    assert "bot.db.key" in line


# -- ciphertext tampering -------------------------------------------------------------------------

def two_engineers_answers(running_bot) -> tuple[int, int]:
    with running_bot.services.session_factory.begin() as session:
        ada = seed.engineer(session, "U1")
        bo = seed.engineer(session, "U3")
        ada_row = seed.checkin(session, ada, date(2026, 11, 23), [("q1", "What did you ship?")])
        bo_row = seed.checkin(session, bo, date(2026, 11, 23), [("q1", "What did you ship?")])
        first = seed.answer(session, ada_row, "q1", "ada's own words")
        second = seed.answer(session, bo_row, "q1", "bo's own words")
        session.flush()
        return first.id, second.id


def raw(running_bot, sql: str, **params):
    with running_bot.services.session_factory.begin() as session:
        return session.execute(text(sql), params)


def stored_text(running_bot, answer_id: int) -> str:
    return raw(running_bot, "SELECT text FROM answers WHERE id = :id", id=answer_id).scalar_one()


def log_of(running_bot, user_id: str) -> str:
    reply = running_bot.command("/growth log", user_id=user_id)
    assert reply.status == 200
    page = reply.body if isinstance(reply.body, dict) and reply.body.get("blocks") else reply.followups()[0]
    return blocks_text(page["blocks"])


def test_a_flipped_byte_of_an_answer_is_not_a_500(running_bot):
    ada, _ = two_engineers_answers(running_bot)
    stored = stored_text(running_bot, ada)
    body_at = len(stored) - 10
    flipped = stored[:body_at] + ("A" if stored[body_at] != "A" else "B") + stored[body_at + 1:]
    raw(running_bot, "UPDATE answers SET text = :t WHERE id = :id", t=flipped, id=ada)
    shown = log_of(running_bot, "U1")
    assert shown == UNREADABLE                        # a sentence, not a 500 and not half a page
    assert "ada's own words" not in log_of(running_bot, "U1")
    assert "bo's own words" in log_of(running_bot, "U3")         # the other engineer's log still reads
    with running_bot.services.session_factory.begin() as session:
        assert session.execute(text("SELECT count(*) FROM log_reads")).scalar_one() == 0


@pytest.mark.xfail(strict=True, reason="known weak: the associated data binds key id and column, not the row, "
                   "so a ciphertext moved to another row of the same column opens there (see the report)")
def test_answers_swapped_between_engineers_do_not_show_as_the_others(running_bot):
    ada, bo = two_engineers_answers(running_bot)
    ada_text, bo_text = stored_text(running_bot, ada), stored_text(running_bot, bo)
    raw(running_bot, "UPDATE answers SET text = :t WHERE id = :id", t=bo_text, id=ada)
    raw(running_bot, "UPDATE answers SET text = :t WHERE id = :id", t=ada_text, id=bo)
    assert "bo's own words" not in log_of(running_bot, "U1")
    assert "ada's own words" not in log_of(running_bot, "U3")


# -- bytes on disk: an edit's revision, and the bot's own log -------------------------------------

def test_an_edited_reply_and_its_revision_are_in_no_byte_on_disk_nor_in_the_bots_log(fake_slack, sqlite_url, caplog):
    """test_at_rest covers the modal, a thread reply, an assessment and a digest; not an edit (the
    first draft lives on as answer_revisions.previous_text) nor what the bot logs at INFO."""
    import logging

    from sqlalchemy.engine import make_url

    from storage.models import AnswerRevision
    from tests.checkins.test_answer_paths import dm_event, edit_event, send_event, wait_until
    from tests.checkins.test_checkins_e2e import checkin_now, enrol
    from tests.running_bot import start_bot

    draft, edited = "draft-zq81-DRAFTMARK", "edited-zq81-EDITMARK"
    caplog.set_level(logging.DEBUG)
    bot, stop = start_bot(fake_slack, sqlite_url)
    database = Path(make_url(sqlite_url).database)
    wal = database.with_name(database.name + "-wal")
    try:
        enrol(bot)
        dm = checkin_now(bot)
        send_event(bot, dm_event(f"first {draft}", "1700000999.000300", dm["ts"]), "EvDraft")
        send_event(bot, edit_event(f"then {edited}", dm["ts"], previous=f"first {draft}"), "EvEdit")

        def revised():
            with bot.services.uow.reading() as session:
                return session.scalars(select(AnswerRevision.previous_text)).all()
        assert wait_until(revised) == [f"first {draft}"]
        on_disk = database.read_bytes() + wal.read_bytes()
        assert b"enc1:" in on_disk
        assert draft.encode() not in on_disk and edited.encode() not in on_disk
    finally:
        stop()
    on_disk = database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert draft.encode() not in on_disk and edited.encode() not in on_disk
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert caplog.records and draft not in logged and edited not in logged


# -- keys rotate: killed half-way, run with one key, run twice at once ----------------------------

ANSWERS = 600


def many_answers(database_url: str) -> None:
    """ANSWERS answers under the tests' key (the one the conftest installs)."""
    from storage.db import make_engine, make_session_factory

    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            owner = seed.engineer(session, "U1")
            # One answer per question (a question's second answer replaces its first).
            row = seed.checkin(session, owner, date(2026, 11, 23), [(f"q{n}", f"Q{n}?") for n in range(ANSWERS)])
            for n in range(ANSWERS):
                seed.answer(session, row, f"q{n}", f"answer number {n}")
    finally:
        engine.dispose()


def key_ids_and_texts(database_url: str, key: str) -> tuple[set, list[str]]:
    from storage.crypto import Keyring, install_keyring, key_id_of
    from storage.db import make_engine
    from storage.models import Answer
    from storage.uow import UnitOfWork

    engine = make_engine(database_url)
    previous = install_keyring(Keyring.from_texts([key]))
    try:
        with UnitOfWork.on(engine).reading() as session:
            ids = {key_id_of(v) for v in session.execute(text("SELECT text FROM answers")).scalars()}
            return ids, sorted(session.scalars(select(Answer.text)))
    finally:
        install_keyring(previous)
        engine.dispose()


def rotate_process(tmp_path: Path, database_url: str, key_file: Path):
    import os
    import subprocess

    from tests.crypto.test_startup import GROWTH_BOT

    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "DATABASE_URL": database_url,
           "GROWTH_ENCRYPTION_KEY_FILE": str(key_file)}
    return subprocess.Popen([str(GROWTH_BOT), "keys", "rotate", "--batch", "5"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def under_new_key(database_url: str, fresh_id: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM answers WHERE text LIKE :p"),
                                      {"p": f"enc1:{fresh_id}:%"}).scalar_one()
    finally:
        engine.dispose()


def test_rotate_killed_half_way_and_run_again_loses_nothing(tmp_path, database_url):
    import signal
    import time

    from storage.crypto import Keyring
    from tests.keys import TEST_KEY

    many_answers(database_url)
    fresh = new_key()
    fresh_id = Keyring.from_texts([fresh]).current_id
    key_file = tmp_path / "keys"
    key_file.write_text(f"{fresh}\n{TEST_KEY}\n")
    first = rotate_process(tmp_path, database_url, key_file)
    deadline = time.monotonic() + 60
    while under_new_key(database_url, fresh_id) == 0 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    moved = under_new_key(database_url, fresh_id)
    assert 0 < moved < ANSWERS, f"killed with {moved} of {ANSWERS} moved: not half-way"

    again = rotate_process(tmp_path, database_url, key_file)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0 and "Traceback" not in err, err
    ids, texts = key_ids_and_texts(database_url, fresh)              # the old key is gone
    assert ids == {fresh_id}
    assert texts == sorted(f"answer number {n}" for n in range(ANSWERS))


def test_rotate_with_only_one_key_changes_nothing_and_says_so(tmp_path, database_url):
    from storage.crypto import Keyring
    from tests.keys import TEST_KEY

    many_answers(database_url)
    key_file = tmp_path / "keys"
    key_file.write_text(f"{TEST_KEY}\n")
    run = rotate_process(tmp_path, database_url, key_file)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0 and "Traceback" not in err, err
    assert "Every encrypted value is under key" in out
    ids, texts = key_ids_and_texts(database_url, TEST_KEY)
    assert ids == {Keyring.from_texts([TEST_KEY]).current_id} and len(texts) == ANSWERS


def test_two_rotations_at_once_both_finish_and_lose_nothing(tmp_path, database_url):
    from storage.crypto import Keyring
    from tests.keys import TEST_KEY

    many_answers(database_url)
    fresh = new_key()
    key_file = tmp_path / "keys"
    key_file.write_text(f"{fresh}\n{TEST_KEY}\n")
    runs = [rotate_process(tmp_path, database_url, key_file) for _ in range(2)]
    results = [run.communicate(timeout=180) for run in runs]
    for run, (out, err) in zip(runs, results):
        assert "Traceback" not in err, err
        assert run.returncode == 0, err
    ids, texts = key_ids_and_texts(database_url, fresh)
    assert ids == {Keyring.from_texts([fresh]).current_id}
    assert texts == sorted(f"answer number {n}" for n in range(ANSWERS))



def test_a_key_file_that_cannot_be_created_beside_the_database_is_one_line(tmp_path, monkeypatch):
    """A database folder the bot may not write into. Tests run as root, for whom no mode stops a
    write, so the refusal is os.open's, made to fail as it does for another user."""
    import os

    from storage import key_sources
    from storage.crypto import KeyringError
    from storage.db import make_engine, upgrade_database
    from storage.uow import UnitOfWork

    url = sqlite_url_in(tmp_path)
    upgrade_database(url)
    real_open = os.open

    def refused(path, flags, *args):
        if str(path).endswith(".key"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(key_sources.os, "open", refused)
    engine = make_engine(url)
    try:
        with pytest.raises(KeyringError) as raised:
            key_sources.load_keyring((), None, UnitOfWork.on(engine))
    finally:
        engine.dispose()
    assert str(raised.value) == (f"The key file {tmp_path / 'bot.db.key'} cannot be created (Permission denied): "
                                 "let the bot write beside the database, or set GROWTH_ENCRYPTION_KEY or "
                                 "GROWTH_ENCRYPTION_KEY_FILE.")
