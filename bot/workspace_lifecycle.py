"""A workspace's life in a multi-workspace install: seen, uninstalled, purged.

Uninstalled: nothing more is sent there (the outbox holds its messages, the due pass finds no
client for it), and slack-sdk's installation rows go. Its data stays for the grace period
(UNINSTALL_RETENTION_DAYS), so a reinstall within it finds everything; after it, the daily pass
deletes it all, as `growth-bot workspace purge T…` does at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta


from bot.services import Services
from storage.repositories.workspaces import Workspaces

logger = logging.getLogger(__name__)


def note_workspace(services: Services, team_id: str, enterprise_id: str | None) -> None:
    """A request came from `team_id`: remember it (and its Enterprise Grid org)."""
    with services.uow.writing() as session:
        Workspaces(session).seen(team_id, enterprise_id, services.now())


def uninstall(services: Services, enterprise_id: str | None, team_id: str | None, org_wide: bool) -> list[str]:
    """Stop all sends to the workspace (every workspace of the org, for an org-wide install) and
    remove its installation; the team ids stopped."""
    team = None if org_wide else team_id
    with services.uow.writing() as session:
        stopped = Workspaces(session).uninstalled(team, enterprise_id, services.now())
        Workspaces(session).delete_installations(team, enterprise_id)
    for stopped_team in stopped + [t for t in (team_id, enterprise_id) if t]:
        services.clients.forget(stopped_team)
    logger.info("Uninstalled from %s: sends stopped, data kept %d days",
                team or f"org {enterprise_id}", services.settings.uninstall_retention_days)
    return stopped


def access_revoked(services: Services, enterprise_id: str, team_ids: list[str]) -> list[str]:
    """The org's install no longer reaches `team_ids`: stop sending to those of its workspaces
    (their grace period starts); the org's installation stays for its other workspaces. Ids the
    bot does not know as the org's are left alone (Bolt authorizes no team_access_revoked)."""
    stopped: list[str] = []
    with services.uow.writing() as session:
        workspaces = Workspaces(session)
        for team_id in workspaces.of_org(team_ids, enterprise_id):
            stopped += workspaces.uninstalled(team_id, None, services.now())
    for team_id in stopped:
        services.clients.forget(team_id)
    if stopped:
        logger.info("Org %s removed the app from %s: sends stopped, data kept %d days", enterprise_id,
                    ", ".join(stopped), services.settings.uninstall_retention_days)
    return stopped


def access_granted(services: Services, enterprise_id: str, team_ids: list[str]) -> list[str]:
    """The org's install reaches `team_ids` (again): a workspace of the org removed within its
    grace period gets its data back as it was; the team ids installed again. A workspace the bot
    has not heard from is not recorded here: its first request records it with its org
    (`note_workspace`), as Slack says it. Recording it from the event would let the org's later
    team_access_revoked stop it even once it is a standalone install, and fill the table with
    whatever ids an event names."""
    with services.uow.writing() as session:
        workspaces = Workspaces(session)
        known = workspaces.of_org(team_ids, enterprise_id)
        for team_id in known:
            workspaces.installed(team_id, enterprise_id, services.now())
    for team_id in known:
        services.clients.forget(team_id)
    return known


def purge(services: Services, team_id: str) -> dict[str, int]:
    """Delete every row of the workspace now, in one transaction; rows deleted by table."""
    with services.uow.writing() as session:
        deleted = Workspaces(session).purge(team_id)
    services.clients.forget(team_id)
    return deleted


def purge_expired(services: Services) -> dict[str, dict[str, int]]:
    """The daily pass's part: purge each workspace uninstalled longer than the grace period."""
    before = services.now() - timedelta(days=services.settings.uninstall_retention_days)
    with services.uow.reading() as session:
        expired = Workspaces(session).uninstalled_before(before)
    done = {}
    for team_id in expired:
        done[team_id] = purge(services, team_id)
        logger.info("Deleted the data of %s, uninstalled over %d days ago", team_id,
                    services.settings.uninstall_retention_days)
    return done
