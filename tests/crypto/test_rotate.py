"""`keys rotate`'s walk: every value ends under the newest key, readable; plain text is encrypted in
place; a stopped rotation carries on where it stopped."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from storage.crypto import Keyring, UnreadableValue, install_keyring, key_id_of, new_key
from storage.encrypted_columns import encrypted_columns
from storage.key_rotation import left_behind, rotate
from storage.models import Answer, AnswerRevision, Assessment, InboxItem, OutboxMessage
from storage.repositories import Answers, Assessments
from storage.repositories.inbox import Inbox
from storage.repositories.outbox import Outbox
from tests.growthlog import log_seed as seed

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
OLD, NEW = new_key(), new_key()
LONG_PLAIN = "plain MARKER " * 800          # longer than a page: SQLite frees its overflow pages


@pytest.fixture
def old_key():
    previous = install_keyring(Keyring.from_texts([OLD]))
    yield
    install_keyring(previous)


def write_some(uow, answers: int = 7) -> None:
    with uow.writing() as session:
        owner = seed.engineer(session, "U1")
        row = seed.checkin(session, owner, date(2026, 11, 23), [(f"q{n}", f"Question {n}") for n in range(answers)])
        for n in range(answers):
            seed.answer(session, row, f"q{n}", f"answer {n} MARKER")
        Answers(session).edit_text(session.scalars(select(Answer)).first(), "edited MARKER", NOW)
        Assessments(session).add(owner.id, "fw", {"delivery": "senior"}, NOW)
        Inbox(session).add("event:E1", "message", "T1", {"event": {"text": "reply MARKER"}}, NOW)
        Outbox(session).add("prep:1", channel="U2", text="prep MARKER", now=NOW,
                            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "prep MARKER"}}])


def readable(uow) -> dict:
    with uow.reading() as session:
        return {"answers": sorted(session.scalars(select(Answer.text))),
                "revisions": list(session.scalars(select(AnswerRevision.previous_text))),
                "picks": list(session.scalars(select(Assessment.picks))),
                "payload": list(session.scalars(select(InboxItem.payload))),
                "outbox": [(m.text, m.blocks) for m in session.scalars(select(OutboxMessage))]}


def stored_key_ids(uow) -> set[str | None]:
    with uow.reading() as session:
        found = set()
        for column in encrypted_columns():
            for value in session.execute(text(f"SELECT {column.name} FROM {column.table.name}")).scalars():
                found.add(key_id_of(str(value).strip('"')))
        return found


def test_rotation_moves_every_value_to_the_newest_key_and_keeps_it_readable(uow, old_key):
    write_some(uow)
    before = readable(uow)
    old_ring = Keyring.from_texts([OLD])
    assert stored_key_ids(uow) == {old_ring.current_id}

    both = Keyring.from_texts([NEW, OLD])
    install_keyring(both)
    done = rotate(uow, both, batch=3)
    assert {p.column: p.rewritten for p in done} == {
        "inbox.payload": 1, "outbox.text": 1, "outbox.blocks": 1, "assessments.picks": 1, "answers.text": 7,
        "answer_revisions.previous_text": 1}
    assert set(left_behind(uow, both).values()) == {0}
    assert stored_key_ids(uow) == {both.current_id}

    install_keyring(Keyring.from_texts([NEW]))           # the old key can go
    assert readable(uow) == before
    assert all(p.rewritten == 0 for p in rotate(uow, Keyring.from_texts([NEW])))   # nothing left to do


def test_a_plain_text_database_is_encrypted_in_place(uow):
    with uow.writing() as session:
        owner = seed.engineer(session, "U1")
        row = seed.checkin(session, owner, date(2026, 11, 23), [("q1", "Question")])
    # As a database from before encryption holds them: plain text and plain JSON.
    with uow.writing() as session:
        session.execute(text(
            "INSERT INTO answers (checkin_id, engineer_id, question_id, question_text, text, source, is_private, "
            "created_at, updated_at) VALUES (:c, :e, 'q1', 'Question', :text, 'modal', false, :at, :at)"),
            {"c": row.id, "e": owner.id, "at": NOW.replace(tzinfo=None), "text": LONG_PLAIN})
        session.execute(text("INSERT INTO assessments (engineer_id, framework_id, picks, created_at) "
                             "VALUES (:e, 'fw', :picks, :at)"),
                        {"e": owner.id, "picks": '{"delivery": "senior"}', "at": NOW.replace(tzinfo=None)})
    ring = Keyring.from_texts([NEW])
    install_keyring(ring)
    assert left_behind(uow, ring) == {"inbox.payload": 0, "outbox.text": 0, "outbox.blocks": 0,
                                      "assessments.picks": 1, "answers.text": 1, "answer_revisions.previous_text": 0}
    assert readable(uow)["answers"] == [LONG_PLAIN]        # read as it is meanwhile

    rotate(uow, ring)
    assert stored_key_ids(uow) == {ring.current_id}
    assert readable(uow)["answers"] == [LONG_PLAIN]
    assert readable(uow)["picks"] == [{"delivery": "senior"}]
    if uow.engine.dialect.name == "sqlite":
        # secure_delete zeroed the plain text the rotation overwrote (a long answer's overflow pages
        # would keep it otherwise); once checkpointed, no copy is left.
        uow.engine.dispose()
        database = Path(uow.engine.url.database)
        assert b"plain MARKER" not in database.read_bytes()


def test_a_rotation_stopped_half_way_carries_on_where_it_stopped(uow, old_key):
    write_some(uow, answers=9)
    both = Keyring.from_texts([NEW, OLD])
    install_keyring(both)

    class Stop(Exception):
        pass

    def stop_in_answers(progress):
        if progress.column == "answers.text" and progress.seen >= 4:
            raise Stop

    with pytest.raises(Stop):
        rotate(uow, both, batch=2, report=stop_in_answers)
    assert left_behind(uow, both)["answers.text"] == 5
    again = {p.column: p.rewritten for p in rotate(uow, both, batch=2)}
    assert again["answers.text"] == 5 and again["inbox.payload"] == 0     # done ones are skipped
    assert set(left_behind(uow, both).values()) == {0}


def test_rotation_without_the_key_of_some_rows_stops_and_names_it(uow, old_key):
    write_some(uow, answers=2)
    stranger = Keyring.from_texts([NEW])
    install_keyring(stranger)
    with pytest.raises(UnreadableValue, match=f"under key {Keyring.from_texts([OLD]).current_id}"):
        rotate(uow, stranger)
