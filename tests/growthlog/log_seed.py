"""Seeding growth logs for the growth-log tests: engineers, check-ins with their questions, answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from storage.models import AnswerSource, CheckIn, CheckInStatus, Engineer
from storage.repositories import Answers, Engineers

TEAM = "T1"


def engineer(session, user_id: str, manager: str | None = None, level: tuple[str, str] | None = ("delivery", "senior"),
             tz: str = "UTC", team_id: str = TEAM) -> Engineer:
    row = Engineers(session).get_or_create(team_id, user_id)
    row.manager_user_id = manager
    row.framework_id, row.level_id = level if level else (None, None)
    row.tz = tz
    row.tz_checked_at = datetime(2030, 1, 1, tzinfo=UTC)  # fresh: no users.info round trip in e2e tests
    session.flush()
    return row


def checkin(session, owner: Engineer, week_start: date, questions: list[tuple[str, str]],
            status: str = CheckInStatus.SENT.value, sent: bool = True) -> CheckIn:
    """A check-in due (and sent) on the Friday of `week_start` at 16:00 UTC."""
    due = datetime.combine(week_start + timedelta(days=4), time(16, 0), tzinfo=UTC)
    row = CheckIn(engineer_id=owner.id, week_start=week_start, due_at=due, status=status,
                  questions=[{"id": qid, "text": text, "kind": "reflection"} for qid, text in questions],
                  sent_at=due if sent else None)
    session.add(row)
    session.flush()
    return row


def answer(session, checkin_row: CheckIn, question_id: str | None, text: str, at: datetime | None = None,
           private: bool = False):
    question = next((q["text"] for q in checkin_row.questions if q["id"] == question_id),
                    "Reply in the check-in thread")
    at = at or checkin_row.due_at + timedelta(hours=1)
    row, _ = Answers(session).record(checkin_row, question_id, question, text, AnswerSource.MODAL.value, at,
                                     is_private=private)
    return row


def weeks_back(start: date, count: int) -> list[date]:
    """`count` Mondays ending with `start`, newest first."""
    return [start - timedelta(weeks=n) for n in range(count)]
