"""Small builders shared by the storage tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from storage.repositories import Engineers

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
WEEK = date(2026, 3, 2)
LEASE = timedelta(minutes=5)


def add_engineer(session_factory: sessionmaker[Session], user_id: str = "U1", team_id: str = "T1", **fields) -> int:
    """Commit an engineer (with a level unless told otherwise) and return its id."""
    with session_factory() as session, session.begin():
        engineer = Engineers(session).get_or_create(team_id, user_id)
        engineer.level_id = fields.pop("level_id", "L3")
        for name, value in fields.items():
            setattr(engineer, name, value)
        session.flush()
        return engineer.id
