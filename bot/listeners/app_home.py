"""The App Home tab: published afresh each time someone opens it."""

from __future__ import annotations

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.growthlog.home import publish_home


def handle_app_home_opened(event: dict, body: dict, client: WebClient, context: BoltContext) -> None:
    if event.get("tab") != "home":
        return  # the Messages tab is our DM: nothing to publish
    publish_home(context["services"], client, body.get("team_id") or context.team_id, event["user"])


def register(app: App) -> None:
    app.event("app_home_opened")(handle_app_home_opened)
