"""Answers: record, revise, dedupe thread replies, privacy, growth-log queries."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import Answer, CheckIn
from storage.repositories import Answers, CheckIns
from storage.repositories._common import insert_or_get
from tests.storage.helpers import LEASE, NOW, WEEK, add_engineer, race


def make_checkin(session_factory, user_id="U1", week=WEEK) -> tuple[int, int]:
    engineer_id = add_engineer(session_factory, user_id)
    with session_factory() as session, session.begin():
        checkin = CheckIns(session).claim(engineer_id, week, NOW, "a", NOW, LEASE)
        return engineer_id, checkin.id


def test_first_answer_is_created(session_factory):
    engineer_id, checkin_id = make_checkin(session_factory)
    with session_factory() as session, session.begin():
        answer, created = Answers(session).record(
            session.get(CheckIn, checkin_id), "q1", "What went well?", "Shipped", "modal", NOW
        )
        assert created
    assert (answer.engineer_id, answer.question_id, answer.text, answer.source, answer.is_private) == (
        engineer_id,
        "q1",
        "Shipped",
        "modal",
        False,
    )
    assert answer.created_at == answer.updated_at == NOW


def test_answering_the_same_question_again_revises_it(session_factory):
    _, checkin_id = make_checkin(session_factory)
    later, latest = NOW + timedelta(hours=1), NOW + timedelta(hours=2)
    with session_factory() as session, session.begin():
        answers, checkin = Answers(session), session.get(CheckIn, checkin_id)
        first, _ = answers.record(checkin, "q1", "What went well?", "Shipped", "modal", NOW)
        again, created = answers.record(checkin, "q1", "What went well?", "Shipped the thing", "modal", later)
        assert not created and again.id == first.id
        answers.record(checkin, "q1", "What went well?", "Shipped the thing", "modal", latest)  # unchanged
    with session_factory() as session:
        answers = Answers(session)
        [stored] = answers.for_checkin(checkin_id)
        assert (stored.text, stored.created_at, stored.updated_at) == ("Shipped the thing", NOW, later)
        assert [(r.previous_text, r.edited_at) for r in answers.revisions(stored.id)] == [("Shipped", later)]


def test_thread_replies_dedupe_on_slack_ts(session_factory):
    _, checkin_id = make_checkin(session_factory)
    with session_factory() as session, session.begin():
        answers, checkin = Answers(session), session.get(CheckIn, checkin_id)
        first, created = answers.record(checkin, None, "", "a thought", "thread", NOW, slack_ts="1700.01")
        retry, retried = answers.record(checkin, None, "", "a thought", "thread", NOW, slack_ts="1700.01")
        other, other_created = answers.record(checkin, None, "", "another", "thread", NOW, slack_ts="1700.02")
        assert (created, retried, other_created) == (True, False, True)
        assert retry.id == first.id != other.id
    with session_factory() as session:
        assert len(Answers(session).for_checkin(checkin_id)) == 2


def test_a_lost_insert_race_keeps_the_callers_transaction(session_factory):
    # What `record` does after its lookup missed and a competitor then committed the same
    # reply: the INSERT fails inside a SAVEPOINT, the existing row is returned, and the
    # caller's earlier work in the same transaction survives (on PostgreSQL an error
    # outside a savepoint would abort the whole transaction).
    _, checkin_id = make_checkin(session_factory)
    with session_factory() as session, session.begin():
        Answers(session).record(session.get(CheckIn, checkin_id), None, "", "hi", "thread", NOW, slack_ts="1.0")
    with session_factory() as session, session.begin():
        checkin = session.get(CheckIn, checkin_id)
        checkin.last_error = "earlier work"
        session.flush()
        duplicate = Answer(
            checkin_id=checkin_id,
            engineer_id=checkin.engineer_id,
            question_text="",
            text="hi",
            source="thread",
            slack_ts="1.0",
            created_at=NOW,
            updated_at=NOW,
        )
        found, created = insert_or_get(session, duplicate, select(Answer).where(Answer.slack_ts == "1.0"))
        assert not created and found is not duplicate and found.text == "hi"
    with session_factory() as session:
        assert session.get(CheckIn, checkin_id).last_error == "earlier work"
        assert len(Answers(session).for_checkin(checkin_id)) == 1


def test_concurrent_deliveries_of_one_reply_store_it_once(session_factory):
    _, checkin_id = make_checkin(session_factory)

    def deliver(_: int) -> bool:
        with session_factory() as session, session.begin():
            checkin = session.get(CheckIn, checkin_id)
            return Answers(session).record(checkin, None, "", "hi", "thread", NOW, slack_ts="9.9")[1]

    assert sorted(race(6, deliver)) == [False] * 5 + [True]
    with session_factory() as session:
        assert len(Answers(session).for_checkin(checkin_id)) == 1


def test_privacy_and_the_growth_log(session_factory):
    engineer_id, checkin_id = make_checkin(session_factory)
    other_id, other_checkin_id = make_checkin(session_factory, "U2")
    with session_factory() as session, session.begin():
        answers, checkin = Answers(session), session.get(CheckIn, checkin_id)
        for n in range(4):
            answers.record(checkin, f"q{n}", f"Q{n}", f"A{n}", "modal", NOW + timedelta(minutes=n), is_private=(n == 1))
        answers.record(session.get(CheckIn, other_checkin_id), "q0", "Q0", "theirs", "modal", NOW)
    with session_factory() as session, session.begin():
        answers = Answers(session)
        log = answers.for_engineer(engineer_id)
        assert [a.text for a in log] == ["A3", "A2", "A1", "A0"]
        assert [a.text for a in answers.for_engineer(engineer_id, include_private=False)] == ["A3", "A2", "A0"]
        assert [a.text for a in answers.for_engineer(engineer_id, limit=2, offset=1)] == ["A2", "A1"]
        assert [a.text for a in answers.for_engineer(engineer_id, since=NOW + timedelta(minutes=2))] == ["A3", "A2"]
        assert answers.count_since(engineer_id, NOW + timedelta(minutes=1)) == 3
        assert answers.last_answer_at([engineer_id, other_id, 999]) == {
            engineer_id: NOW + timedelta(minutes=3),
            other_id: NOW,
        }
        assert answers.last_answer_at([]) == {}
        private = log[2]
        assert not answers.set_private(private.id, other_id, False)  # not theirs
        assert answers.set_private(private.id, engineer_id, False)
    with session_factory() as session:
        assert len(Answers(session).for_engineer(engineer_id, include_private=False)) == 4


def test_record_keeps_or_sets_the_private_flag(session_factory):
    _, checkin_id = make_checkin(session_factory)
    with session_factory() as session, session.begin():
        answers, checkin = Answers(session), session.get(CheckIn, checkin_id)
        answer, _ = answers.record(checkin, "q1", "Q", "A", "modal", NOW, is_private=True)
        answers.record(checkin, "q1", "Q", "B", "modal", NOW)
        assert answer.is_private
        answers.record(checkin, "q1", "Q", "B", "modal", NOW, is_private=False)
        assert not answer.is_private
