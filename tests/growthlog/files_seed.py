"""Seeding growth logs for the export / forget-me / App Home tests (repositories and models only)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from storage.models import AnswerSource, CheckIn, CheckInStatus
from storage.repositories import Answers, Assessments, Engineers, OneOnOnes


def add_checkin(session_factory, user_id: str, week: date, answers: list[tuple], team_id: str = "T1",
                status: str = CheckInStatus.ANSWERED.value, **engineer_fields) -> int:
    """One check-in for `week` with `answers` as (question_id, question, text, private); returns its id."""
    written = datetime.combine(week + timedelta(days=4), time(16, 30), tzinfo=UTC)
    with session_factory.begin() as session:
        engineer = Engineers(session).get_or_create(team_id, user_id)
        for name, value in engineer_fields.items():
            setattr(engineer, name, value)
        session.flush()
        questions = [{"id": qid, "text": question, "kind": "reflection"} for qid, question, _, _ in answers]
        questions = questions or [{"id": "q1", "text": "How was it?", "kind": "reflection"}]
        checkin = CheckIn(engineer_id=engineer.id, week_start=week, due_at=written - timedelta(minutes=30),
                          status=status, questions=questions,
                          channel_id="D" + user_id, message_ts=f"{written.timestamp():.6f}",
                          sent_at=written - timedelta(minutes=30))
        session.add(checkin)
        session.flush()
        for qid, question, text, private in answers:
            Answers(session).record(checkin, qid, question, text, AnswerSource.MODAL.value, written,
                                    is_private=private)
        return checkin.id


def add_engineer(session_factory, user_id: str, team_id: str = "T1", **fields) -> int:
    with session_factory.begin() as session:
        engineer = Engineers(session).get_or_create(team_id, user_id)
        for name, value in fields.items():
            setattr(engineer, name, value)
        session.flush()
        return engineer.id


def add_extras(session_factory, user_id: str, team_id: str = "T1", now: datetime | None = None) -> None:
    """An assessment and 1:1s in both directions, so forgetting has something of each kind."""
    now = now or datetime(2026, 3, 2, tzinfo=UTC)
    with session_factory.begin() as session:
        engineer = Engineers(session).get_or_create(team_id, user_id)
        session.flush()
        Assessments(session).add(engineer.id, "engineering-levels", {"discover": "senior"}, now)
        OneOnOnes(session).set(team_id, user_id, "UREPORT", 2, "10:00", "UTC")
        OneOnOnes(session).set(team_id, "UBOSS", user_id, 3, "11:00", "UTC")
