"""Managers' recurring 1:1s and the automatic prep digest."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Engineer, OneOnOne
from storage.repositories._common import insert_or_get, rowcount, update_if


class OneOnOnes:
    def __init__(self, session: Session):
        self.session = session

    def set(
        self, team_id: str, manager: str, report: str, weekday: int | None, time: str | None, tz: str | None
    ) -> OneOnOne:
        """Create or reschedule the manager's recurring 1:1 with `report`."""
        new = OneOnOne(team_id=team_id, manager_user_id=manager, report_user_id=report)
        meeting = (
            self.get(team_id, manager, report)
            or insert_or_get(self.session, new, self._pair(team_id, manager, report))[0]
        )
        meeting.weekday, meeting.time, meeting.tz = weekday, time, tz
        self.session.flush()
        return meeting

    def get(self, team_id: str, manager: str, report: str) -> OneOnOne | None:
        return self.session.scalars(
            _PAIR, {"team_id": team_id, "manager": manager, "report": report}).one_or_none()

    def by_id(self, one_on_one_id: int) -> OneOnOne | None:
        return self.session.get(OneOnOne, one_on_one_id)

    def for_manager(self, team_id: str, manager: str) -> list[OneOnOne]:
        """The manager's 1:1 rows, by report user id."""
        return list(
            self.session.scalars(
                select(OneOnOne)
                .where(OneOnOne.team_id == team_id, OneOnOne.manager_user_id == manager)
                .order_by(OneOnOne.report_user_id)
            )
        )

    def due_candidates(self) -> list[OneOnOne]:
        """Every 1:1 with a weekday and time; the scheduler works out which meeting is next."""
        return list(
            self.session.scalars(
                select(OneOnOne).where(OneOnOne.weekday.is_not(None), OneOnOne.time.is_not(None)).order_by(OneOnOne.id)
            )
        )

    def mark_pair_prepped(self, team_id: str, manager: str, report: str, now: datetime) -> bool:
        """Record a prep digest at `now` for the pair, in one UPDATE by the pair's key (no row
        loaded: this follows every `/growth prep`); False if the pair has no row yet."""
        return rowcount(self.session.execute(
            _MARK_PAIR_PREPPED, {"team": team_id, "manager": manager, "report": report, "at": now})) == 1

    def mark_pair_prepped_if(self, team_id: str, manager: str, report: str, now: datetime, may_prep: Any) -> bool:
        """Record a prep digest at `now` for the pair, creating the pair's row if it has none, in
        one statement (INSERT ... SELECT ... ON CONFLICT DO UPDATE), and only if the report's row
        meets `may_prep` for `manager` now, in this transaction (the access rule's SQL form,
        bot.growthlog.access.can_prep_where); False, nothing written, if it does not. Only
        `last_prep_at` changes on an existing row. It rides in the digest's read-record
        transaction (bot.growthlog.prep.read_digest), so it costs no transaction of its own."""
        dialect = "postgresql" if self.session.bind.dialect.name == "postgresql" else "sqlite"
        return rowcount(self.session.execute(_mark_pair_prepped_if(may_prep, dialect), {
            "team": team_id, "manager": manager, "report": report, "at": now})) == 1

    def mark_prepped(self, one_on_one_id: int, now: datetime) -> bool:
        """Record that a prep digest went out at `now` (manual or automatic)."""
        return self._update_if(one_on_one_id, [], last_prep_at=now)

    def claim_auto_prep(
        self, one_on_one_id: int, meeting_at: datetime, owner: str, now: datetime, lease: timedelta
    ) -> bool:
        """Make `owner` the one process to send the automatic digest for the meeting at `meeting_at`.

        True only if no digest was recorded for this (or a later) meeting and no other
        owner holds a live lease. Commit before posting; then `mark_auto_prepped`.
        """
        return self._update_if(
            one_on_one_id,
            [
                or_(OneOnOne.last_auto_prep_for.is_(None), OneOnOne.last_auto_prep_for < meeting_at),
                or_(OneOnOne.prep_lease_until.is_(None), OneOnOne.prep_lease_until < now),
            ],
            prep_owner=owner,
            prep_lease_until=now + lease,
        )

    def mark_auto_prepped(self, one_on_one_id: int, owner: str, meeting_at: datetime, now: datetime) -> bool:
        """Record the automatic digest for `meeting_at`; True only if `owner` held the claim."""
        return self._update_if(
            one_on_one_id,
            [OneOnOne.prep_owner == owner, OneOnOne.prep_lease_until.is_not(None)],
            last_auto_prep_for=meeting_at,
            last_prep_at=now,
            prep_lease_until=None,
        )

    def remove_for_pair(self, team_id: str, manager: str, report: str) -> int:
        """Delete the pair's 1:1 row; return how many rows went (0 or 1)."""
        return rowcount(
            self.session.execute(
                delete(OneOnOne).where(
                    OneOnOne.team_id == team_id,
                    OneOnOne.manager_user_id == manager,
                    OneOnOne.report_user_id == report,
                )
            )
        )

    def _update_if(self, one_on_one_id: int, conditions: list[Any], **values: Any) -> bool:
        return update_if(self.session, OneOnOne, one_on_one_id, conditions, **values)

    @staticmethod
    def _pair(team_id: str, manager: str, report: str) -> Select[OneOnOne]:
        return select(OneOnOne).where(
            OneOnOne.team_id == team_id, OneOnOne.manager_user_id == manager, OneOnOne.report_user_id == report
        )


# Built once, with bound parameters (read for every prep digest).
_PAIR = select(OneOnOne).where(OneOnOne.team_id == bindparam("team_id"),
                               OneOnOne.manager_user_id == bindparam("manager"),
                               OneOnOne.report_user_id == bindparam("report"))


_PAIRS = OneOnOne.__table__.c
# Built once (a statement per /growth prep cost about as much to build as to run).
_MARK_PAIR_PREPPED = (update(OneOnOne.__table__)
                      .where(_PAIRS.team_id == bindparam("team"), _PAIRS.manager_user_id == bindparam("manager"),
                             _PAIRS.report_user_id == bindparam("report"))
                      .values(last_prep_at=bindparam("at", type_=_PAIRS.last_prep_at.type)))


class _Manager(NamedTuple):
    """The manager as an access rule's SQL form sees a reader: the request's values as parameters."""

    team_id: Any
    user_id: Any


def mark_pair_prepped_statement(may_prep: Any, only_if: Any):
    """PostgreSQL: `mark_pair_prepped_if`'s statement (parameters :team, :manager, :report, :at)
    where `only_if` holds too, for another statement to carry (a writable CTE: the prep's read
    record, LogReads.record_at_once)."""
    return _mark_pair_prepped_if(may_prep, "postgresql", only_if)


@lru_cache(maxsize=8)
def _mark_pair_prepped_if(may_prep: Any, dialect: str, only_if: Any = None):
    # Built once per rule and dialect. The SELECT has a WHERE clause, which SQLite needs to read
    # the ON CONFLICT that follows as the upsert's, not as a join's ON.
    e = Engineer.__table__.alias("e")
    manager = _Manager(bindparam("team", type_=_PAIRS.team_id.type),
                       bindparam("manager", type_=_PAIRS.manager_user_id.type))
    chosen = select(manager.team_id, manager.user_id, e.c.user_id,
                    bindparam("at", type_=_PAIRS.last_prep_at.type)).where(
        e.c.team_id == manager.team_id, e.c.user_id == bindparam("report", type_=e.c.user_id.type),
        may_prep(manager, e.c), *([] if only_if is None else [only_if]))
    upsert = (postgresql if dialect == "postgresql" else sqlite).insert(OneOnOne.__table__).from_select(
        ["team_id", "manager_user_id", "report_user_id", "last_prep_at"], chosen)
    return (upsert.on_conflict_do_update(index_elements=["team_id", "manager_user_id", "report_user_id"],
                                         set_={"last_prep_at": upsert.excluded.last_prep_at})
            # psycopg's rowcount is gone (-1) by the time it is asked without it.
            .execution_options(preserve_rowcount=True))
