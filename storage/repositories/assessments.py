"""Self-assessments against a framework."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from storage.models import Assessment
from storage.repositories._common import literal_limit, rowcount


class Assessments:
    def __init__(self, session: Session):
        self.session = session

    def add(self, engineer_id: int, framework_id: str, picks: dict[str, str], now: datetime) -> Assessment:
        """Store a self-assessment: `picks` maps capability id -> role level id."""
        assessment = Assessment(engineer_id=engineer_id, framework_id=framework_id, picks=dict(picks), created_at=now)
        self.session.add(assessment)
        self.session.flush()
        return assessment

    def delete_older_than(self, cutoff: datetime, batch: int) -> int:
        """Delete up to `batch` self-assessments made before `cutoff` (the retention pass)."""
        ids = list(self.session.scalars(select(Assessment.id).where(Assessment.created_at < cutoff)
                                        .order_by(Assessment.id).limit(batch)))
        if not ids:
            return 0
        return rowcount(self.session.execute(delete(Assessment).where(Assessment.id.in_(ids))
                                             .execution_options(synchronize_session=False)))

    def for_engineer(self, engineer_id: int, limit: int | None = None) -> list[Assessment]:
        """The engineer's assessments, newest first; the newest `limit` when given."""
        if limit is None:
            return list(self.session.scalars(_NEWEST_FIRST, {"engineer_id": engineer_id}))
        return list(self.session.scalars(_NEWEST, {"engineer_id": engineer_id, "limit": limit}))


# Built once, with bound parameters (read for every prep digest and profile).
_NEWEST_FIRST = (select(Assessment).where(Assessment.engineer_id == bindparam("engineer_id"))
                 .order_by(Assessment.created_at.desc(), Assessment.id.desc()))
_NEWEST = _NEWEST_FIRST.limit(literal_limit())
