"""Answering a check-in: the Answer button, the modal's submission, and replies in the thread."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.blocks.checkin import build_saved_confirmation, build_thread_reply_confirmation
from bot.blocks.growth import reply
from bot.checkins.answering import (
    NOT_YOURS,
    answer_modal,
    record_thread_reply,
    save_modal_answers,
    submission_key,
)
from bot.services import Services

logger = logging.getLogger(__name__)


def handle_answer_button(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient,
                         context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    view = None
    if (action.get("value") or "").isdigit():
        view = answer_modal(services.session_factory, int(action["value"]), body["team"]["id"], body["user"]["id"])
    if view is None:
        respond(response_type="ephemeral", replace_original=False, blocks=reply(NOT_YOURS), text=NOT_YOURS)
        return
    client.views_open(trigger_id=body["trigger_id"], view=view)


def handle_answer_submission(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    values, private = _submitted(view)
    checkin_id = int(view.get("private_metadata") or 0)
    saved = save_modal_answers(services.session_factory, checkin_id, body["team"]["id"], body["user"]["id"],
                               values, private, submission_key(view["id"], values, private), services.now())
    if saved is None:
        ack(response_action="errors", errors={ids.CHECKIN_PRIVATE_BLOCK: NOT_YOURS})
        return
    ack()
    if saved.duplicate:
        return  # a double-clicked Save: stored once, confirmed once
    confirmation = build_saved_confirmation(saved.saved, saved.edited)
    if saved.channel_id:
        client.chat_postMessage(channel=saved.channel_id, thread_ts=saved.message_ts, blocks=confirmation,
                                text="Saved to your growth log")


def _submitted(view: dict) -> tuple[dict[str, str], bool]:
    values: dict[str, str] = {}
    private = False
    for block_id, inputs in (view.get("state") or {}).get("values", {}).items():
        if block_id.startswith(ids.CHECKIN_QUESTION_BLOCK):
            values[block_id[len(ids.CHECKIN_QUESTION_BLOCK):]] = (inputs.get(ids.CHECKIN_ANSWER_INPUT) or {}).get("value") or ""
        elif block_id == ids.CHECKIN_PRIVATE_BLOCK:
            private = bool((inputs.get(ids.CHECKIN_PRIVATE_INPUT) or {}).get("selected_options"))
    return values, private


def handle_direct_message(event: dict, body: dict, client: WebClient, context: BoltContext) -> None:
    """A message in the app's DM: a reply in a check-in thread is an answer."""
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return
    thread_ts = event.get("thread_ts")
    if not thread_ts or thread_ts == event.get("ts"):
        return
    services: Services = context["services"]
    created = record_thread_reply(
        services.session_factory, body.get("team_id") or event.get("team"), event["user"], event["channel"],
        thread_ts, event["ts"], event.get("text") or "", body.get("event_id"), services.now(),
    )
    if created:
        client.chat_postMessage(channel=event["channel"], thread_ts=thread_ts,
                                blocks=build_thread_reply_confirmation(), text="Saved to your growth log")


def register(app: App) -> None:
    app.action(ids.CHECKIN_ANSWER)(handle_answer_button)
    app.view(ids.CHECKIN_MODAL)(handle_answer_submission)
    app.event("message")(handle_direct_message)
