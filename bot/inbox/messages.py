"""What a DM event does to the growth log: a thread reply is an answer, edits follow it, a
top-level message gets a hint. Each runs in one transaction with the inbox item's "done"."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.checkins.answering import ThreadReply, edit_thread_reply, record_thread_reply, top_level_hint
from bot.checkins.delivery import find_checkin_id_of_message
from bot.workspace_clients import for_workspace
from storage.repositories import Answers
from storage.repositories.inbox import Inbox


def process_message_event(services, item_id: int) -> list[int]:
    """Apply inbox item `item_id` once; the outbox messages it queued (to send after the commit)."""
    with services.uow.reading() as session:
        body = Inbox(session).payload(item_id)
    if body is None:
        return []  # done already
    event = body.get("event") or {}
    team_id = body.get("team_id") or event.get("team")
    thread_ts = event.get("thread_ts")
    if not event.get("subtype") and thread_ts and thread_ts != event.get("ts"):
        reply = ThreadReply(team_id, event.get("user") or "", event.get("channel") or "", thread_ts,
                            event.get("ts") or "", event.get("text") or "")
        queued = _record_reply(services, item_id, reply, hint=None)
        if queued is None:
            # The reply may have beaten the sender's bookkeeping: the parent's metadata names its
            # check-in. Asked outside the transaction: no write lock is held across a Slack call.
            with for_workspace(team_id):  # asked with the reply's own workspace's token
                hint = find_checkin_id_of_message(_client(services), reply.channel_id, thread_ts)
            queued = _record_reply(services, item_id, reply, hint=hint, last_try=True)
        return queued or []
    with services.uow.writing() as session:
        if Inbox(session).take(item_id, services.now()) is None:
            return []
        subtype = event.get("subtype")
        if subtype in ("message_changed", "message_deleted"):
            ts, user, text = _edit_of(event)
            if ts and user and not edit_thread_reply(session, team_id, user, ts, text, services.now()):
                return _edit_before_reply(session, team_id, event, services.now())
            return []
        if not subtype and event.get("user") and event.get("channel"):
            queued = top_level_hint(session, team_id, event["channel"], event.get("ts") or "", services.now())
            return [queued] if queued else []
        return []


class _NotYet(Exception):
    """Rolls back a try that found no check-in for the thread, so the caller can look further."""


def _record_reply(services, item_id: int, reply: ThreadReply, hint: int | None,
                  last_try: bool = False) -> list[int] | None:
    """The confirmation to send ([] if none); None, with nothing written, if the thread is not
    (yet known to be) one of this user's check-ins and this is not the last try."""
    try:
        with services.uow.writing() as session:
            if Inbox(session).take(item_id, services.now()) is None:
                return []  # someone else processed it first
            recorded = record_thread_reply(session, reply, services.now(), checkin_id_hint=hint)
            if recorded is None and not last_try:
                raise _NotYet
    except _NotYet:
        return None
    created, confirmation_id = recorded or (False, None)
    return [confirmation_id] if created and confirmation_id else []


def _edit_before_reply(session, team_id: str | None, event: dict, now) -> list[int]:
    """An edit that beat its reply's own (retried, late) delivery: the edited message is the
    reply as it now reads, so it is recorded as such and the late delivery is the duplicate."""
    message = event.get("message") or {}
    ts, thread_ts = message.get("ts"), message.get("thread_ts")
    if event.get("subtype") != "message_changed" or not thread_ts or thread_ts == ts:
        return []
    if Answers(session).by_slack_ts(ts, team_id, message.get("user")) is not None:
        return []  # the reply is there: the edit changed nothing, or was not its author's
    reply = ThreadReply(team_id, message.get("user") or "", event.get("channel") or "", thread_ts, ts,
                        message.get("text") or "")
    created, confirmation_id = record_thread_reply(session, reply, now) or (False, None)
    return [confirmation_id] if created and confirmation_id else []


def _edit_of(event: dict) -> tuple[str | None, str | None, str | None]:
    if event.get("subtype") == "message_deleted":
        previous = event.get("previous_message") or {}
        return event.get("deleted_ts") or previous.get("ts"), previous.get("user"), None
    message = event.get("message") or {}
    return message.get("ts"), message.get("user"), message.get("text") or ""


def _client(services) -> WebClient:
    return services.outbox.client
