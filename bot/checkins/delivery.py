"""Posting check-ins and reminders to Slack, and finding one already posted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.blocks.checkin import build_checkin_message, build_reminder_message, checkin_fallback_text


@dataclass(frozen=True)
class Delivery:
    channel_id: str
    ts: str


def post_checkin(client: WebClient, job) -> Delivery:
    """Post the check-in DM (once: a retried claim first looks for an earlier post)."""
    if job.recovering:
        found = find_posted_checkin(client, job.user_id, job.checkin_id)
        if found is not None:
            return found
    response = client.chat_postMessage(
        channel=job.user_id,  # a user id posts to the app's DM with them, no conversations.open
        text=checkin_fallback_text(job.questions),
        blocks=build_checkin_message(job.checkin_id, job.questions, job.stage_name, job.framework_name,
                                     job.week_start),
        metadata={"event_type": ids.CHECKIN_METADATA_EVENT,
                  "event_payload": {"checkin_id": job.checkin_id}},
        unfurl_links=False,
    )
    return Delivery(response["channel"], response["ts"])


def find_posted_checkin(client: WebClient, user_id: str, checkin_id: int) -> Delivery | None:
    """The check-in's DM if a sender already posted it (found by its message metadata)."""
    channel = client.conversations_open(users=user_id)["channel"]["id"]
    history = client.conversations_history(channel=channel, limit=50, include_all_metadata=True)
    for message in history.get("messages", []):
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == ids.CHECKIN_METADATA_EVENT and payload.get("checkin_id") == checkin_id:
            return Delivery(channel, message["ts"])
    return None


def find_checkin_id_of_message(client: WebClient, channel_id: str, ts: str) -> int | None:
    """The check-in id in message `ts`'s metadata, or None (not a check-in, or Slack said no)."""
    try:
        history = client.conversations_history(channel=channel_id, latest=ts, inclusive=True, limit=1,
                                               include_all_metadata=True)
    except SlackApiError:
        return None
    for message in history.get("messages", []):
        metadata = message.get("metadata") or {}
        checkin_id = (metadata.get("event_payload") or {}).get("checkin_id")
        if message.get("ts") == ts and metadata.get("event_type") == ids.CHECKIN_METADATA_EVENT:
            return checkin_id if isinstance(checkin_id, int) else None
    return None


def post_reminder(client: WebClient, channel_id: str, thread_ts: str | None, checkin_id: int,
                  week_start: date) -> None:
    """The one reminder, as a reply in the check-in's thread so the conversation stays together."""
    client.chat_postMessage(
        channel=channel_id,
        thread_ts=thread_ts,
        reply_broadcast=True,  # also shown in the DM itself, or the nudge would go unseen
        text="Your weekly reflection is still open",
        blocks=build_reminder_message(checkin_id, week_start),
    )
