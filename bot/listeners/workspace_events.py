"""`app_uninstalled` and `tokens_revoked`: stop sending to that workspace at once."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext

from bot.workspace_lifecycle import uninstall

logger = logging.getLogger(__name__)


def register(app: App) -> None:
    app.event("app_uninstalled")(on_app_uninstalled)
    app.event("tokens_revoked")(on_tokens_revoked)


def on_app_uninstalled(context: BoltContext) -> None:
    uninstall(context["services"], context.enterprise_id, context.team_id, bool(context.is_enterprise_install))


def on_tokens_revoked(event: dict, context: BoltContext) -> None:
    # Only the bot's token sends anything; a revoked user token (none is asked for) changes nothing.
    if (event.get("tokens") or {}).get("bot"):
        uninstall(context["services"], context.enterprise_id, context.team_id, bool(context.is_enterprise_install))
