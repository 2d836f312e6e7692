"""Self-assessments against a framework."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Assessment


class Assessments:
    def __init__(self, session: Session):
        self.session = session

    def add(self, engineer_id: int, framework_id: str, picks: dict[str, str], now: datetime) -> Assessment:
        """Store a self-assessment: `picks` maps capability id -> role level id."""
        assessment = Assessment(engineer_id=engineer_id, framework_id=framework_id, picks=dict(picks), created_at=now)
        self.session.add(assessment)
        self.session.flush()
        return assessment

    def for_engineer(self, engineer_id: int, limit: int | None = None) -> list[Assessment]:
        """The engineer's assessments, newest first."""
        return list(
            self.session.scalars(
                select(Assessment)
                .where(Assessment.engineer_id == engineer_id)
                .order_by(Assessment.created_at.desc(), Assessment.id.desc())
                .limit(limit)
            )
        )
