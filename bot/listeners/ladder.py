"""`/ladder` and its buttons: look-ups, follow-ups, and "Share in channel"."""

from __future__ import annotations

import re

from slack_bolt import Ack, App, BoltContext, Respond

from bot import ids
from bot.blocks.ladder import build_ladder_messages
from bot.blocks.serialize import block_dicts
from bot.ladder.refs import answer_for
from bot.services import Services


def fallback_text(blocks) -> str:
    """Notification text for a message: its header, or a generic line."""
    for block in blocks:
        text = getattr(getattr(block, "text", None), "text", None)
        if text:
            return text[:150]
    return "Career ladder"


def handle_ladder_command(ack: Ack, command: dict, respond: Respond, context: BoltContext) -> None:
    services: Services = context["services"]
    messages = build_ladder_messages(services.ladder.answer(command.get("text", "")), services.catalog)
    # The whole (first) answer goes in the ack itself: no second round-trip, well within 3 s.
    ack(response_type="ephemeral", blocks=block_dicts(messages[0]), text=fallback_text(messages[0]))
    for message in messages[1:]:
        respond(response_type="ephemeral", replace_original=False, blocks=block_dicts(message), text=fallback_text(message))


def handle_open(ack: Ack, action: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    messages = build_ladder_messages(answer_for(action.get("value", ""), services.ladder), services.catalog)
    for message in messages:
        respond(response_type="ephemeral", replace_original=False, blocks=block_dicts(message), text=fallback_text(message))


def handle_share(ack: Ack, action: dict, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    answer = answer_for(action.get("value", ""), services.ladder)
    messages = build_ladder_messages(answer, services.catalog, shared_by=body.get("user", {}).get("id", ""))
    for message in messages:
        respond(response_type="in_channel", replace_original=False, blocks=block_dicts(message), text=fallback_text(message))


def register(app: App) -> None:
    app.command(ids.LADDER_COMMAND)(handle_ladder_command)
    app.action(re.compile(rf"^{ids.LADDER_OPEN}(:\d+)?$"))(handle_open)
    app.action(ids.LADDER_SHARE)(handle_share)
