"""Leaders: who is offered a team reflection, who has it on, and each week's reflection row."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from storage.models import Answer, CheckIn, CheckInKind, CheckInStatus, Engineer, OneOnOne
from storage.repositories._common import insert_or_get, update_if


class Leaders:
    def __init__(self, session: Session):
        self.session = session

    def unoffered_managers(self, limit: int = 200) -> list[tuple[str, str]]:
        """(team id, user id) of people named as a manager by someone who have never been
        offered a team reflection (no engineers row of their own yet, or one never offered)."""
        report, own = Engineer, aliased(Engineer)
        query = (select(report.team_id, report.manager_user_id).distinct()
                 .outerjoin(own, and_(own.team_id == report.team_id, own.user_id == report.manager_user_id))
                 .where(report.manager_user_id.is_not(None), own.lead_offered_at.is_(None))
                 .order_by(report.team_id, report.manager_user_id)
                 .limit(limit))
        return [(team_id, user_id) for team_id, user_id in self.session.execute(query)]

    def enabled(self) -> list[Engineer]:
        return list(self.session.scalars(select(Engineer).where(Engineer.lead_enabled.is_(True)).order_by(Engineer.id)))

    def reflections_for_weeks(self, weeks: dict[int, date]) -> set[int]:
        """Of these (engineer id -> week start), the engineers who have that week's reflection."""
        found: set[int] = set()
        ids = list(weeks)
        for start in range(0, len(ids), 500):
            batch = ids[start:start + 500]
            rows = self.session.execute(
                select(CheckIn.engineer_id, CheckIn.week_start)
                .where(CheckIn.kind == CheckInKind.LEAD.value, CheckIn.engineer_id.in_(batch),
                       CheckIn.week_start.in_({weeks[i] for i in batch})))
            found.update(eid for eid, week in rows if weeks.get(eid) == week)
        return found

    def add_reflection(self, engineer_id: int, week_start: date, due_at: datetime,
                       now: datetime) -> tuple[CheckIn, bool]:
        """This week's reflection row, created here unless it exists: (row, created). Only the
        creator (one, whatever races) fills in its questions and queues its DM."""
        return insert_or_get(
            self.session,
            CheckIn(engineer_id=engineer_id, week_start=week_start, due_at=due_at, kind=CheckInKind.LEAD.value,
                    status=CheckInStatus.SENT.value, questions=[], sent_at=now, attempts=0),
            select(CheckIn).where(CheckIn.engineer_id == engineer_id, CheckIn.week_start == week_start,
                                  CheckIn.kind == CheckInKind.LEAD.value),
        )

    def latest_reflection(self, engineer_id: int) -> CheckIn | None:
        return self.session.scalars(
            select(CheckIn).where(CheckIn.engineer_id == engineer_id, CheckIn.kind == CheckInKind.LEAD.value)
            .order_by(CheckIn.week_start.desc()).limit(1)).first()

    # -- the weekly team note ---------------------------------------------------------------

    def managers(self) -> list[Engineer]:
        """The own rows of everyone at least one engineer names as their manager."""
        report = aliased(Engineer)
        has_reports = (select(report.id).where(report.team_id == Engineer.team_id,
                                               report.manager_user_id == Engineer.user_id).exists())
        return list(self.session.scalars(select(Engineer).where(has_reports).order_by(Engineer.id)))

    def shared_weeks(self, engineer_ids: list[int], since: date) -> dict[int, set[date]]:
        """The weeks since `since` in which each engineer's check-in has a shared answer. Private
        answers count for nothing here: a manager must not learn even that one exists."""
        found: dict[int, set[date]] = {eid: set() for eid in engineer_ids}
        for start in range(0, len(engineer_ids), 500):
            batch = engineer_ids[start:start + 500]
            rows = self.session.execute(
                select(CheckIn.engineer_id, CheckIn.week_start).distinct()
                .join(Answer, Answer.checkin_id == CheckIn.id)
                .where(CheckIn.engineer_id.in_(batch), CheckIn.kind == CheckInKind.GROWTH.value,
                       CheckIn.week_start >= since, Answer.is_private.is_(False)))
            for engineer_id, week in rows:
                found[engineer_id].add(week)
        return found

    def last_shared_answer_weeks(self, engineer_ids: list[int]) -> dict[int, date]:
        """The newest week with a shared answer to a check-in, per engineer (absent: none ever)."""
        if not engineer_ids:
            return {}
        rows = self.session.execute(
            select(CheckIn.engineer_id, func.max(CheckIn.week_start))
            .join(Answer, Answer.checkin_id == CheckIn.id)
            .where(CheckIn.engineer_id.in_(engineer_ids), CheckIn.kind == CheckInKind.GROWTH.value,
                   Answer.is_private.is_(False))
            .group_by(CheckIn.engineer_id))
        return {engineer_id: week for engineer_id, week in rows}

    def mark_team_note(self, engineer_id: int, week_start: date) -> bool:
        """Claim this week's note for the manager: True once per (manager, week), whoever races."""
        return update_if(self.session, Engineer, engineer_id,
                         [or_(Engineer.team_note_week.is_(None), Engineer.team_note_week < week_start)],
                         team_note_week=week_start)

    def mark_team_notes(self, weeks: dict[int, date]) -> set[int]:
        """`mark_team_note` for several managers (engineer id -> week) in a statement per week:
        the ids whose week was claimed here."""
        by_week: dict[date, list[int]] = {}
        for engineer_id, week in weeks.items():
            by_week.setdefault(week, []).append(engineer_id)
        claimed: set[int] = set()
        for week, ids in by_week.items():
            for start in range(0, len(ids), 500):
                claimed.update(self.session.scalars(
                    update(Engineer)
                    .where(Engineer.id.in_(sorted(ids[start:start + 500])),
                           or_(Engineer.team_note_week.is_(None), Engineer.team_note_week < week))
                    .values(team_note_week=week)
                    .returning(Engineer.id)
                    .execution_options(synchronize_session=False)))
        return claimed

    def reports_of_many(self, team_id: str, manager_user_ids: list[str]) -> list[Engineer]:
        """The reports of each of these managers in `team_id`, in batches of 500 managers."""
        found: list[Engineer] = []
        for start in range(0, len(manager_user_ids), 500):
            found.extend(self.session.scalars(
                select(Engineer).where(Engineer.team_id == team_id,
                                       Engineer.manager_user_id.in_(manager_user_ids[start:start + 500]))
                .order_by(Engineer.user_id)))
        return found

    def one_on_ones_of_many(self, team_id: str, manager_user_ids: list[str]) -> list[OneOnOne]:
        found: list[OneOnOne] = []
        for start in range(0, len(manager_user_ids), 500):
            found.extend(self.session.scalars(
                select(OneOnOne).where(OneOnOne.team_id == team_id,
                                       OneOnOne.manager_user_id.in_(manager_user_ids[start:start + 500]))))
        return found
