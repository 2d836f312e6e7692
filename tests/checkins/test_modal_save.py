"""The modal's save (bot.checkins.answering.save_modal_answers): a first answer is one INSERT of
every answer, and a submission that loses a race for the same check-in still stores each answer
once, as typed. On both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import select

from bot.checkins.answering import save_modal_answers
from storage.models import Answer, CheckIn, CheckInStatus, Engineer, OutboxMessage
from storage.repositories import Answers
from tests.storage.helpers import race

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
QUESTIONS = [{"id": "q1", "text": "What went well?"}, {"id": "q2", "text": "What was hard?"},
             {"id": "q3", "text": "What next?"}]
TYPED = {"q1": "Shipped the plan", "q2": "The rollback", "q3": "The load test"}


def sent_checkin(session_factory) -> int:
    with session_factory.begin() as session:
        engineer = Engineer(team_id="T1", user_id="U1", framework_id="delivery", level_id="senior", tz="UTC",
                            created_at=NOW, updated_at=NOW)
        session.add(engineer)
        session.flush()
        checkin = CheckIn(engineer_id=engineer.id, week_start=date(2026, 11, 30), due_at=NOW, status="sent",
                          questions=QUESTIONS, attempts=1, channel_id="DU1", message_ts="1764493200.000100",
                          sent_at=NOW)
        session.add(checkin)
        session.flush()
        return checkin.id


def save(session_factory, checkin_id: int, values: dict[str, str], key: str, private: bool = False):
    with session_factory.begin() as session:
        return save_modal_answers(session, checkin_id, "T1", "U1", values, private, key, NOW)


def stored(session_factory, checkin_id: int) -> dict[str, tuple[str, bool]]:
    with session_factory() as session:
        return {a.question_id: (a.text, a.is_private) for a in Answers(session).for_checkin(checkin_id)}


def test_a_first_answer_stores_every_answer_marks_the_checkin_and_queues_one_confirmation(session_factory):
    checkin_id = sent_checkin(session_factory)
    saved = save(session_factory, checkin_id, {**TYPED, "q2": "   "}, "view:1", private=True)
    assert (saved.saved, saved.edited, saved.duplicate) == (2, 0, False)
    assert stored(session_factory, checkin_id) == {"q1": ("Shipped the plan", True), "q3": ("The load test", True)}
    with session_factory() as session:
        assert session.get(CheckIn, checkin_id).status == CheckInStatus.ANSWERED.value
        [confirmation] = session.scalars(select(OutboxMessage)).all()
        assert confirmation.id == saved.confirmation_id and confirmation.thread_ts == "1764493200.000100"


def test_a_submission_that_read_before_another_one_committed_revises_what_that_one_stored(
        session_factory, monkeypatch):
    checkin_id = sent_checkin(session_factory)
    save(session_factory, checkin_id, {"q1": "An earlier draft"}, "view:1")
    # As if this submission had read the check-in before the other one committed: the one-INSERT
    # path finds q1 taken, stores q2 and q3, and must fall back to revising q1, losing nothing.
    target = Answers.target
    monkeypatch.setattr(Answers, "target", lambda self, *args: replace(target(self, *args), answered=False))
    saved = save(session_factory, checkin_id, TYPED, "view:2")
    monkeypatch.undo()
    assert (saved.saved, saved.edited) == (2, 1)
    assert stored(session_factory, checkin_id) == {q: (text, False) for q, text in TYPED.items()}
    with session_factory() as session:
        [answer] = [a for a in Answers(session).for_checkin(checkin_id) if a.question_id == "q1"]
        assert [r.previous_text for r in Answers(session).revisions(answer.id)] == ["An earlier draft"]


def test_two_submissions_of_the_same_checkin_at_once_store_each_answer_once(session_factory):
    checkin_id = sent_checkin(session_factory)
    results = race(2, lambda n: save(session_factory, checkin_id, {q: f"{text} ({n})" for q, text in TYPED.items()},
                                     f"view:{n}"))
    assert sorted((r.saved, r.edited) for r in results) == [(0, 3), (3, 0)]
    with session_factory() as session:
        rows = session.scalars(select(Answer).where(Answer.checkin_id == checkin_id)).all()
    assert sorted(a.question_id for a in rows) == ["q1", "q2", "q3"]
    assert len({a.text[-3:] for a in rows}) == 1  # all three from the submission that committed last
