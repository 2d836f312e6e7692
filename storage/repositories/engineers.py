"""Engineers: who is who, who is schedulable, and forgetting someone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from storage.models import Answer, AnswerRevision, Assessment, CheckIn, Engineer, LogRead, OneOnOne, ReadNotice
from storage.repositories._common import insert_or_get, rowcount


class Engineers:
    def __init__(self, session: Session):
        self.session = session

    def get(self, team_id: str, user_id: str) -> Engineer | None:
        """The engineer with this Slack identity, or None."""
        return self.session.scalars(_BY_IDENTITY, {"team_id": team_id, "user_id": user_id}).one_or_none()

    def get_many(self, team_id: str, user_ids: Iterable[str]) -> dict[str, Engineer]:
        """The engineers with these Slack user ids in `team_id`, by user id (absent ones left out).

        One statement: for a request about two people (a manager and a report) instead of two."""
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        found = self.session.scalars(_BY_IDENTITIES, {"team_id": team_id, "user_ids": wanted})
        return {engineer.user_id: engineer for engineer in found}

    def get_or_create(self, team_id: str, user_id: str) -> Engineer:
        """The engineer with this Slack identity, created with defaults if new (race-safe)."""
        found = self.get(team_id, user_id)
        if found is not None:
            return found
        engineer, _ = insert_or_get(
            self.session, Engineer(team_id=team_id, user_id=user_id), self._by_identity(team_id, user_id)
        )
        return engineer

    def by_id(self, engineer_id: int) -> Engineer | None:
        return self.session.get(Engineer, engineer_id)

    def by_ids(self, engineer_ids: Iterable[int]) -> list[Engineer]:
        """These engineers in id order: writers that lock several rows lock them in the same
        order, so two processes cannot deadlock each other on PostgreSQL."""
        return list(self.session.scalars(
            select(Engineer).where(Engineer.id.in_(list(engineer_ids))).order_by(Engineer.id)))

    def all_schedulable(self, now: datetime) -> list[Engineer]:
        """Engineers with a level who are not paused at `now`, in id order."""
        return list(
            self.session.scalars(
                select(Engineer)
                .where(Engineer.level_id.is_not(None))
                .where(or_(Engineer.paused_until.is_(None), Engineer.paused_until <= now))
                .order_by(Engineer.id)
            )
        )

    def reports_of(self, team_id: str, manager_user_id: str) -> list[Engineer]:
        """Engineers in `team_id` who name `manager_user_id` as their manager, by user id."""
        return list(
            self.session.scalars(
                select(Engineer)
                .where(Engineer.team_id == team_id, Engineer.manager_user_id == manager_user_id)
                .order_by(Engineer.user_id)
            )
        )

    def forget(self, team_id: str, user_id: str) -> int:
        """Delete everything stored about one person; return the number of rows deleted.

        Removes their engineer row with its check-ins, answers, answer revisions,
        assessments and the record of who read their log, their "reads are visible" notice
        as a reader, and every one-on-one row where they are manager or report (even if
        they never had an engineer row). Engineers who named them as manager keep their
        rows with `manager_user_id` set to NULL (not counted as deleted).
        """
        deleted = 0
        engineer = self.get(team_id, user_id)
        if engineer is not None:
            # Explicit deletes, children first, rather than relying on ON DELETE CASCADE:
            # we want the count, and the ORM identity map to notice the deletions.
            answer_ids = select(Answer.id).where(Answer.engineer_id == engineer.id)
            for statement in (
                delete(AnswerRevision).where(AnswerRevision.answer_id.in_(answer_ids)),
                delete(Answer).where(Answer.engineer_id == engineer.id),
                delete(CheckIn).where(CheckIn.engineer_id == engineer.id),
                delete(Assessment).where(Assessment.engineer_id == engineer.id),
                delete(LogRead).where(LogRead.engineer_id == engineer.id),
                delete(Engineer).where(Engineer.id == engineer.id),
            ):
                deleted += rowcount(self.session.execute(statement))
        deleted += rowcount(
            self.session.execute(
                delete(OneOnOne).where(
                    OneOnOne.team_id == team_id,
                    or_(OneOnOne.manager_user_id == user_id, OneOnOne.report_user_id == user_id),
                )
            )
        )
        # Their reads of other people's logs stay: those records are the other engineers'.
        deleted += rowcount(self.session.execute(
            delete(ReadNotice).where(ReadNotice.team_id == team_id, ReadNotice.reader_user_id == user_id)))
        self.session.execute(
            update(Engineer)
            .where(Engineer.team_id == team_id, Engineer.manager_user_id == user_id)
            .values(manager_user_id=None)
        )
        return deleted

    @staticmethod
    def _by_identity(team_id: str, user_id: str) -> Select[Engineer]:
        return select(Engineer).where(Engineer.team_id == team_id, Engineer.user_id == user_id)


# Built once, with bound parameters: a request looks someone up first thing, and building the
# statement (and its cache key) each time cost more than SQLite takes to run it.
_BY_IDENTITY = select(Engineer).where(Engineer.team_id == bindparam("team_id"),
                                      Engineer.user_id == bindparam("user_id"))
_BY_IDENTITIES = select(Engineer).where(Engineer.team_id == bindparam("team_id"),
                                        Engineer.user_id.in_(bindparam("user_ids", expanding=True)))
