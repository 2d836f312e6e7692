"""`/growth forget-me`: deleting everything stored about one person, and saying what went.

The person is always the one who clicked (their own Slack identity), never someone named in a
button value, so nobody can delete somebody else's log.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from storage.repositories import Answers, Assessments, Engineers
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Forgotten:
    answers: int            # growth-log entries
    assessments: int
    reports_unlinked: int   # people who had named them as manager (their logs stay theirs)
    records: int            # every row deleted: settings, check-ins, answers, edits, assessments, 1:1s

    @property
    def nothing(self) -> bool:
        return self.records == 0


def forget_person(session: Session, team_id: str, user_id: str) -> Forgotten:
    """Delete the person's engineer row and everything hanging off it, in the caller's transaction."""
    engineers = Engineers(session)
    engineer = engineers.get(team_id, user_id)
    answers = assessments = 0
    if engineer is not None:
        answers = len(Answers(session).for_engineer(engineer.id))
        assessments = len(Assessments(session).for_engineer(engineer.id))
    reports = len(engineers.reports_of(team_id, user_id))
    records = engineers.forget(team_id, user_id)
    return Forgotten(answers=answers, assessments=assessments, reports_unlinked=reports, records=records)


def forget_me(uow: UnitOfWork, team_id: str, user_id: str) -> Forgotten:
    """`forget_person` as one unit of work: all of it is deleted, or (on any error) none of it."""
    with uow.writing() as session:
        return forget_person(session, team_id, user_id)
