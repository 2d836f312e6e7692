"""The keyring and the encrypted column types: what is stored is ciphertext, what is read is the text."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from storage.crypto import Keyring, KeyringError, UnreadableValue, install_keyring, key_id_of, new_key, parse_key
from storage.encrypted_columns import encrypted_columns
from storage.models import Answer, AnswerRevision, Assessment, InboxItem, OutboxMessage
from storage.repositories import Answers, Assessments
from storage.repositories.inbox import Inbox
from storage.repositories.outbox import Outbox
from tests.growthlog.files_seed import add_checkin, add_engineer

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_a_value_round_trips_and_names_its_key():
    ring = Keyring.from_texts([new_key()])
    stored = ring.encrypt("where I get stuck", "answers.text")
    assert stored.startswith(f"enc1:{ring.current_id}:") and "stuck" not in stored
    assert ring.decrypt(stored, "answers.text") == "where I get stuck"
    assert ring.encrypt("same", "answers.text") != ring.encrypt("same", "answers.text")   # a nonce each


def test_the_newest_key_encrypts_and_every_key_decrypts():
    old, new = new_key(), new_key()
    before = Keyring.from_texts([old]).encrypt("written last year", "answers.text")
    both = Keyring.from_texts([new, old])
    assert both.decrypt(before, "answers.text") == "written last year"
    assert not both.is_current(before)
    after = both.encrypt("written today", "answers.text")
    assert both.is_current(after) and key_id_of(after) == both.current_id
    assert Keyring.from_texts([new]).decrypt(after, "answers.text") == "written today"


def test_a_value_under_a_key_not_held_is_refused_with_the_key_named():
    stored = Keyring.from_texts([new_key()]).encrypt("secret", "answers.text")
    other = Keyring.from_texts([new_key()])
    with pytest.raises(UnreadableValue, match=f"under key {key_id_of(stored)}, which is not among"):
        other.decrypt(stored, "answers.text")


def test_a_ciphertext_moved_to_another_column_or_altered_does_not_open():
    ring = Keyring.from_texts([new_key()])
    stored = ring.encrypt("a note", "answers.text")
    with pytest.raises(UnreadableValue, match="does not authenticate"):
        ring.decrypt(stored, "answer_revisions.previous_text")
    flipped = stored[:-6] + ("A" if stored[-6] != "A" else "B") + stored[-5:]
    with pytest.raises(UnreadableValue):
        ring.decrypt(flipped, "answers.text")


def test_plain_text_from_before_encryption_reads_as_it_is():
    ring = Keyring.from_texts([new_key()])
    assert ring.decrypt("an old answer", "answers.text") == "an old answer"
    assert not ring.is_current("an old answer")


@pytest.mark.parametrize("bad", ["", "short", "x" * 44, new_key()[:-2], new_key() + "A", new_key()[:40] + "!!!="])
def test_a_malformed_key_is_one_line_naming_its_source(bad):
    with pytest.raises(KeyringError) as raised:
        parse_key(bad, "GROWTH_ENCRYPTION_KEY (key 1 of 1)")
    assert str(raised.value).startswith("GROWTH_ENCRYPTION_KEY (key 1 of 1) is not a key")
    assert "\n" not in str(raised.value) and (not bad or bad not in str(raised.value))


def test_every_column_an_engineer_writes_into_is_encrypted():
    assert {str(column) for column in encrypted_columns()} == {
        "answers.text", "answer_revisions.previous_text", "assessments.picks", "inbox.payload", "outbox.text",
        "outbox.blocks"}


def _raw(session, table: str, column: str) -> list[str]:
    # Straight from the database, past the column types (JSON columns come back as text).
    return [str(value) for value in session.execute(text(f"SELECT {column} FROM {table}")).scalars()]


def test_what_is_stored_is_ciphertext_and_what_is_read_is_the_value(uow, session_factory):
    add_checkin(session_factory, "U1", date(2026, 11, 30), [("q1", "What did you ship?", "MARKER-answer", False)])
    engineer_id = add_engineer(session_factory, "U1")
    with uow.writing() as session:
        Assessments(session).add(engineer_id, "fw", {"delivery": "MARKER-picks"}, NOW)
        Inbox(session).add("event:E1", "message", "T1", {"event": {"text": "MARKER-inbox"}}, NOW)
        Outbox(session).add("prep:1", channel="U1", text="MARKER-outbox", now=NOW,
                            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "MARKER-blocks"}}])
        answer = session.scalars(select(Answer)).one()
        Answers(session).edit_text(answer, "MARKER-edited", NOW)
    with uow.reading() as session:
        for column in encrypted_columns():
            stored = _raw(session, column.table.name, column.name)
            assert stored and all("MARKER" not in v and v.strip('"').startswith("enc1:") for v in stored), column
        assert session.scalar(select(Assessment.picks)) == {"delivery": "MARKER-picks"}
        assert session.scalar(select(InboxItem.payload)) == {"event": {"text": "MARKER-inbox"}}
        message = session.scalars(select(OutboxMessage)).one()
        assert (message.text, message.blocks[0]["text"]["text"]) == ("MARKER-outbox", "MARKER-blocks")
        assert session.scalar(select(Answer.text)) == "MARKER-edited"
        assert session.scalar(select(AnswerRevision.previous_text)) == "MARKER-answer"


def test_rows_written_before_encryption_read_as_they_were(uow, session_factory):
    engineer_id = add_engineer(session_factory, "U1")
    with uow.writing() as session:
        session.execute(text("INSERT INTO assessments (engineer_id, framework_id, picks, created_at) "
                             "VALUES (:e, 'fw', :picks, :at)"),
                        {"e": engineer_id, "picks": '{"delivery": "L4"}', "at": NOW.replace(tzinfo=None)})
    with uow.reading() as session:
        assert session.scalar(select(Assessment.picks)) == {"delivery": "L4"}


def test_a_wrong_key_never_shows_half_a_page(uow, session_factory):
    engineer_id = add_engineer(session_factory, "U1")
    with uow.writing() as session:
        Assessments(session).add(engineer_id, "fw", {"delivery": "L4"}, NOW)
    previous = install_keyring(Keyring.from_texts([new_key()]))
    try:
        with uow.reading() as session, pytest.raises(UnreadableValue):
            session.scalars(select(Assessment)).all()
    finally:
        install_keyring(previous)
