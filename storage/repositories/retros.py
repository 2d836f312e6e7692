"""Team retros in channels and each week's run (its posts, its summary)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Retro, RetroRun
from storage.repositories._common import insert_or_get, update_if


class Retros:
    def __init__(self, session: Session):
        self.session = session

    def get(self, team_id: str, channel_id: str) -> Retro | None:
        return self.session.scalars(
            select(Retro).where(Retro.team_id == team_id, Retro.channel_id == channel_id)).one_or_none()

    def set(self, team_id: str, channel_id: str, **values: Any) -> Retro:
        """Create or replace the channel's retro (one per channel), enabled."""
        retro, created = insert_or_get(self.session, Retro(team_id=team_id, channel_id=channel_id, **values),
                                       select(Retro).where(Retro.team_id == team_id, Retro.channel_id == channel_id))
        if not created:
            for name, value in values.items():
                setattr(retro, name, value)
        retro.enabled = True
        return retro

    def of_owner(self, team_id: str, user_id: str) -> list[Retro]:
        return list(self.session.scalars(
            select(Retro).where(Retro.team_id == team_id, Retro.owner_user_id == user_id, Retro.enabled.is_(True))
            .order_by(Retro.channel_id)))

    def enabled(self) -> list[Retro]:
        return list(self.session.scalars(select(Retro).where(Retro.enabled.is_(True)).order_by(Retro.id)))

    def weeks_run(self, weeks: dict[int, date]) -> set[int]:
        """Of these (retro id -> week start), the retros that have that week's run."""
        if not weeks:
            return set()
        rows = self.session.execute(select(RetroRun.retro_id, RetroRun.week_start)
                                    .where(RetroRun.retro_id.in_(list(weeks))))
        return {rid for rid, week in rows if weeks.get(rid) == week}

    def add_run(self, retro_id: int, week_start: date, summary_due_at: datetime, now: datetime) -> tuple[RetroRun, bool]:
        return insert_or_get(
            self.session,
            RetroRun(retro_id=retro_id, week_start=week_start, posts=[], summary_due_at=summary_due_at, created_at=now),
            select(RetroRun).where(RetroRun.retro_id == retro_id, RetroRun.week_start == week_start))

    def unsummarized(self) -> list[tuple[RetroRun, Retro]]:
        """Runs whose summary is not out yet, with their retro (even one turned off since: its
        questions went out, so its summary still does)."""
        rows = self.session.execute(
            select(RetroRun, Retro).join(Retro, Retro.id == RetroRun.retro_id)
            .where(RetroRun.summarized_at.is_(None)).order_by(RetroRun.id))
        return [(run, retro) for run, retro in rows]

    def mark_summarized(self, run_id: int, now: datetime) -> bool:
        """True once per run, whoever races: the one that may queue its summary."""
        return update_if(self.session, RetroRun, run_id, [RetroRun.summarized_at.is_(None)], summarized_at=now)
