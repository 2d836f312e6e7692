"""The shared state of Slack's rate limits, one row per (workspace, method)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import SlackPace


class SlackPacing:
    def __init__(self, session: Session):
        self.session = session

    def locked(self, team_id: str, method: str, now: datetime) -> SlackPace:
        """The row for (team, method), created if missing, locked until the caller's transaction
        ends (SELECT … FOR UPDATE on PostgreSQL; on SQLite the writing transaction already holds
        the database's write lock). Changes to it are written when the caller commits."""
        insert = (postgresql.insert if self.session.get_bind().dialect.name == "postgresql" else sqlite.insert)
        self.session.execute(
            insert(SlackPace).values(team_id=team_id, method=method, updated_at=now)
            .on_conflict_do_nothing(index_elements=["team_id", "method"])
        )
        return self.session.scalars(
            select(SlackPace).where(SlackPace.team_id == team_id, SlackPace.method == method)
            .with_for_update().execution_options(populate_existing=True)
        ).one()
