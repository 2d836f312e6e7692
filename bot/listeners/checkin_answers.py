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
    TOP_LEVEL_HINT,
    ThreadReply,
    answer_modal,
    edit_thread_reply,
    first_delivery,
    owns_checkin,
    record_thread_reply,
    save_modal_answers,
    submission_key,
)
from bot.checkins.delivery import find_checkin_id_of_message
from bot.services import Services

logger = logging.getLogger(__name__)


def handle_answer_button(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient,
                         context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    view = None
    if (action.get("value") or "").isdigit():
        view = answer_modal(services.session_factory, int(action["value"]), body["team"]["id"], body["user"]["id"])
    if view is not None:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    elif body.get("response_url"):
        respond(response_type="ephemeral", replace_original=False, blocks=reply(NOT_YOURS), text=NOT_YOURS)
    else:
        # The App Home has no response_url: say it in the DM instead of failing silently.
        client.chat_postMessage(channel=body["user"]["id"], blocks=reply(NOT_YOURS), text=NOT_YOURS)


def handle_answer_submission(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    team_id, user_id = body["team"]["id"], body["user"]["id"]
    metadata = view.get("private_metadata") or ""
    checkin_id = int(metadata) if metadata.isdigit() else 0
    # Refuse or acknowledge first (a quick read), then save: the ack must beat Slack's 3 s.
    if not owns_checkin(services.session_factory, checkin_id, team_id, user_id):
        ack(response_action="errors", errors={ids.CHECKIN_PRIVATE_BLOCK: NOT_YOURS})
        return
    ack()
    values, private = _submitted(view)
    saved = save_modal_answers(services.session_factory, checkin_id, team_id, user_id, values, private,
                               submission_key(view["id"], values, private), services.now())
    if saved is None or saved.duplicate:
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
    """A message in the app's DM: a reply in a check-in thread is an answer; edits follow it."""
    if event.get("channel_type") != "im" or event.get("bot_id"):
        return
    services: Services = context["services"]
    team_id = body.get("team_id") or event.get("team")
    subtype = event.get("subtype")
    if subtype in ("message_changed", "message_deleted"):
        _follow_edit(services, team_id, event)
        return
    if subtype:
        return  # joins, bot messages, file shares without text…
    thread_ts = event.get("thread_ts")
    if not thread_ts or thread_ts == event.get("ts"):
        _hint_once(services, client, event, body.get("event_id"))
        return
    thread_reply = ThreadReply(team_id, event["user"], event["channel"], thread_ts, event["ts"], event.get("text") or "")
    created = record_thread_reply(services.session_factory, thread_reply, body.get("event_id"), services.now())
    if created is None:
        # The reply may have beaten the sender's bookkeeping: the parent's metadata names its check-in.
        hint = find_checkin_id_of_message(client, event["channel"], thread_ts)
        if hint is not None:
            created = record_thread_reply(services.session_factory, thread_reply, body.get("event_id"),
                                          services.now(), checkin_id_hint=hint)
    if created:
        client.chat_postMessage(channel=event["channel"], thread_ts=thread_ts,
                                blocks=build_thread_reply_confirmation(), text="Saved to your growth log")


def _follow_edit(services: Services, team_id: str, event: dict) -> None:
    if event.get("subtype") == "message_deleted":
        previous = event.get("previous_message") or {}
        ts, user, text = event.get("deleted_ts") or previous.get("ts"), previous.get("user"), None
    else:
        message = event.get("message") or {}
        ts, user, text = message.get("ts"), message.get("user"), message.get("text") or ""
    if ts and user:
        edit_thread_reply(services.session_factory, team_id, user, ts, text, services.now())


def _hint_once(services: Services, client: WebClient, event: dict, event_id: str | None) -> None:
    """A top-level DM isn't tied to a check-in: say how to answer, once per message (not per retry)."""
    if not event.get("user") or not first_delivery(services.session_factory, event_id, services.now()):
        return
    client.chat_postMessage(channel=event["channel"], blocks=reply(TOP_LEVEL_HINT), text=TOP_LEVEL_HINT)


def register(app: App) -> None:
    app.action(ids.CHECKIN_ANSWER)(handle_answer_button)
    app.view(ids.CHECKIN_MODAL)(handle_answer_submission)
    app.event("message")(handle_direct_message)
