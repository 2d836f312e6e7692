"""`/growth forget-me`: deleting everything stored about one person, and saying what went.

The person is always the one who clicked (their own Slack identity), never someone named in a
button value, so nobody can delete somebody else's log.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.inbox.intake import sent_by
from storage.models import utcnow
from storage.repositories import Answers, Assessments, Engineers
from storage.repositories.inbox import Inbox
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
    _void_their_deliveries(session, team_id, user_id)
    engineers = Engineers(session)
    engineer = engineers.get(team_id, user_id)
    answers = assessments = 0
    if engineer is not None:
        answers = len(Answers(session).for_engineer(engineer.id))
        assessments = len(Assessments(session).for_engineer(engineer.id))
    reports = len(engineers.reports_of(team_id, user_id))
    records = engineers.forget(team_id, user_id)
    return Forgotten(answers=answers, assessments=assessments, reports_unlinked=reports, records=records)


def _void_their_deliveries(session: Session, team_id: str, user_id: str) -> None:
    """What they typed that is written down and not yet saved (a modal's Save, a thread reply,
    acked a moment ago, bot.inbox) is done with unsaved and emptied, first: saved after this, it
    outlived forget-me, and on SQLite, which gives a deleted row's id to the next one, went into
    the check-in `/growth now` made next. First, because on PostgreSQL the UPDATE waits for a save
    already under way, whose answers the deletes after it then see and delete."""
    inbox = Inbox(session)
    theirs = [item_id for item_id, kind, payload in inbox.undone_in_team(team_id)
              if isinstance(payload, dict) and sent_by(kind, payload, user_id)]
    inbox.void(theirs, utcnow())


def forget_me(uow: UnitOfWork, team_id: str, user_id: str) -> Forgotten:
    """`forget_person` as one unit of work: all of it is deleted, or (on any error) none of it."""
    with uow.writing() as session:
        return forget_person(session, team_id, user_id)
