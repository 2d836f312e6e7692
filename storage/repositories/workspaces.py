"""Workspaces of a multi-workspace install: installed, uninstalled, their bot, purged."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, Table, and_, delete, desc, or_, select, update
from sqlalchemy.orm import Session

from storage.models import Base
from storage.repositories._common import rowcount
from storage.workspace_models import SLACK_BOTS, SLACK_INSTALLATIONS, Workspace


# Well under SQLite's 32,766 bound parameters (and PostgreSQL's 65,535) per statement.
_IDS_PER_STATEMENT = 1000


class Workspaces:
    def __init__(self, session: Session):
        self.session = session

    def installed(self, team_id: str, enterprise_id: str | None, now: datetime) -> bool:
        """Record an install (or reinstall) of `team_id` ("E…" for an org-wide install); True
        if it had been uninstalled: a reinstall within the grace period, whose data is kept."""
        found = self.session.get(Workspace, team_id, populate_existing=True)
        if found is None:
            self.session.add(Workspace(team_id=team_id, enterprise_id=enterprise_id, installed_at=now))
            self.session.flush()
            return False
        was_uninstalled = found.uninstalled_at is not None
        found.enterprise_id, found.uninstalled_at = enterprise_id or found.enterprise_id, None
        if was_uninstalled:
            found.installed_at = now
        return was_uninstalled

    def seen(self, team_id: str, enterprise_id: str | None, now: datetime) -> None:
        """A request came from `team_id` (of org `enterprise_id`): remember which org it is in,
        which is how an org-wide install's token is found for that workspace's sends."""
        found = self.session.get(Workspace, team_id)
        if found is None:
            self.session.add(Workspace(team_id=team_id, enterprise_id=enterprise_id, installed_at=now))
        elif enterprise_id and found.enterprise_id != enterprise_id:
            found.enterprise_id = enterprise_id

    def uninstalled(self, team_id: str | None, enterprise_id: str | None, now: datetime) -> list[str]:
        """Mark a workspace uninstalled, or with `team_id` None every workspace of the org
        `enterprise_id` (an org-wide install removed); the team ids marked."""
        if team_id is not None:
            where: ColumnElement[bool] = Workspace.team_id == team_id
        elif enterprise_id is not None:
            where = or_(Workspace.enterprise_id == enterprise_id, Workspace.team_id == enterprise_id)
        else:
            return []
        # A workspace never installed has no row, and gets none: an uninstall stores nothing.
        teams = list(self.session.scalars(select(Workspace.team_id).where(where, Workspace.uninstalled_at.is_(None))))
        self.session.execute(update(Workspace).where(where, Workspace.uninstalled_at.is_(None))
                             .values(uninstalled_at=now))
        return teams

    def delete_installations(self, team_id: str | None, enterprise_id: str | None) -> int:
        """Remove slack-sdk's installation and bot rows of the workspace (with `team_id` None,
        the org-wide install of `enterprise_id`), as its InstallationStore.delete_all would."""
        deleted = 0
        for table in (SLACK_INSTALLATIONS, SLACK_BOTS):
            where = (table.c.team_id == team_id) if team_id is not None else and_(
                table.c.enterprise_id == enterprise_id, table.c.team_id.is_(None))
            deleted += rowcount(self.session.execute(delete(table).where(where)))
        return deleted

    def of_org(self, team_ids: Iterable[str], enterprise_id: str) -> list[str]:
        """Those of `team_ids` known as workspaces of the org `enterprise_id`, sorted (an event of
        one org must never stop another org's workspace, nor a standalone one): a statement
        per _IDS_PER_STATEMENT ids, not one per id (an event may name thousands, and this runs
        in a write transaction that holds every other writer back on SQLite)."""
        ids = sorted(set(team_ids))
        found: list[str] = []
        for start in range(0, len(ids), _IDS_PER_STATEMENT):
            found += self.session.scalars(select(Workspace.team_id).where(
                Workspace.enterprise_id == enterprise_id, Workspace.team_id.in_(ids[start:start + _IDS_PER_STATEMENT])))
        return sorted(found)

    def get(self, team_id: str) -> Workspace | None:
        return self.session.get(Workspace, team_id)

    def uninstalled_teams(self) -> set[str]:
        """Every workspace uninstalled now (within its grace period, or not yet purged)."""
        return set(self.session.scalars(select(Workspace.team_id).where(Workspace.uninstalled_at.is_not(None))))

    def uninstalled_before(self, before: datetime) -> list[str]:
        """Workspaces uninstalled before `before` (their grace period is over)."""
        return list(self.session.scalars(
            select(Workspace.team_id).where(Workspace.uninstalled_at.is_not(None), Workspace.uninstalled_at < before)
            .order_by(Workspace.team_id)))

    def bot_row(self, team_id: str):
        """slack-sdk's newest bot row that serves `team_id`: its own install, else an org-wide
        install of the org it belongs to (Enterprise Grid); None if neither is there."""
        bots = SLACK_BOTS.c
        newest = (select(SLACK_BOTS).where(bots.bot_token.is_not(None)).order_by(desc(bots.installed_at)).limit(1))
        own = self.session.execute(newest.where(bots.team_id == team_id)).mappings().first()
        if own is not None:
            return own
        org = self.session.scalar(select(Workspace.enterprise_id).where(Workspace.team_id == team_id))
        if org is None:
            return None
        return self.session.execute(newest.where(
            and_(bots.enterprise_id == org, bots.is_enterprise_install.is_(True)))).mappings().first()

    def purge(self, team_id: str) -> dict[str, int]:
        """Delete every row of `team_id`: each table with a team_id column, and every row that
        hangs off one of those through a foreign key (check-ins, answers and their revisions,
        assessments, reads, retro runs…), children first. Rows deleted, by table."""
        scopes: dict[str, ColumnElement[bool]] = {}
        for table in Base.metadata.sorted_tables:  # parents before children
            scope = _scope(table, team_id, scopes)
            if scope is not None:
                scopes[table.name] = scope
        deleted: dict[str, int] = {}
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in scopes:
                count = rowcount(self.session.execute(delete(table).where(scopes[table.name])))
                if count:
                    deleted[table.name] = count
        return deleted


def _scope(table: Table, team_id: str, parents: dict[str, ColumnElement[bool]]) -> ColumnElement[bool] | None:
    """Which rows of `table` belong to the workspace: its own team_id, or a parent's row."""
    clauses: list[ColumnElement[bool]] = []
    if "team_id" in table.c:
        clauses.append(table.c.team_id == team_id)
    for fk in table.foreign_keys:
        parent = fk.column.table
        if parent.name in parents and parent is not table:
            clauses.append(fk.parent.in_(select(fk.column).where(parents[parent.name])))
    return or_(*clauses) if clauses else None
