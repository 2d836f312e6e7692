"""`app_uninstalled` and `tokens_revoked`: stop sending to that workspace at once.

`team_access_revoked` / `team_access_granted`: an org-wide (Enterprise Grid) install removed
from some of the org's workspaces, or added to them again. The org's install stays and keeps
serving its other workspaces; only the listed ones stop (and their grace period starts), or
start again with their data as it was.
"""

from __future__ import annotations

import logging
import re

from slack_bolt import App, BoltContext

from bot.workspace_lifecycle import access_granted, access_revoked, uninstall

logger = logging.getLogger(__name__)
TEAM_ID = re.compile(r"T[A-Z0-9]{1,30}")


def register(app: App) -> None:
    app.event("app_uninstalled")(on_app_uninstalled)
    app.event("tokens_revoked")(on_tokens_revoked)
    app.event("team_access_revoked")(on_team_access_revoked)
    app.event("team_access_granted")(on_team_access_granted)


def on_app_uninstalled(context: BoltContext) -> None:
    uninstall(context["services"], context.enterprise_id, context.team_id, bool(context.is_enterprise_install))


def on_tokens_revoked(event: dict, context: BoltContext) -> None:
    # Only the bot's token sends anything; a revoked user token (none is asked for) changes nothing.
    if (event.get("tokens") or {}).get("bot"):
        uninstall(context["services"], context.enterprise_id, context.team_id, bool(context.is_enterprise_install))


def _team_ids(event: dict) -> list[str]:
    # Only ids shaped like a workspace's: whatever else a payload carries names nothing of ours.
    # Each once: a list naming one workspace a thousand times is one workspace.
    ids = event.get("team_ids")
    if not isinstance(ids, list):
        return []
    return list(dict.fromkeys(t for t in ids if isinstance(t, str) and TEAM_ID.fullmatch(t)))


def on_team_access_revoked(event: dict, context: BoltContext) -> None:
    if context.enterprise_id:
        access_revoked(context["services"], context.enterprise_id, _team_ids(event))


def on_team_access_granted(event: dict, context: BoltContext) -> None:
    if context.enterprise_id:
        access_granted(context["services"], context.enterprise_id, _team_ids(event))
