"""Posting check-ins and reminders to Slack, and finding one already posted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids, metrics
from bot.blocks.checkin import build_checkin_message, build_reminder_message, checkin_fallback_text
from bot.outbox.finding import maybe_posted


@dataclass(frozen=True)
class Delivery:
    channel_id: str
    ts: str


def post_checkin(client: WebClient, job) -> Delivery:
    """Post the check-in DM (once: a retried claim first looks for an earlier post)."""
    if job.recovering:
        found = find_posted_checkin(client, job.user_id, job.checkin_id)
        if found is not None:
            metrics.FOUND_AFTER_CRASH.inc()
            return found
    try:
        response = client.chat_postMessage(
            channel=job.user_id,  # a user id posts to the app's DM with them, no conversations.open
            text=checkin_fallback_text(job.questions),
            blocks=build_checkin_message(job.checkin_id, job.questions, job.stage_name, job.framework_name,
                                         job.week_start, job.reads_line),
            metadata={"event_type": ids.CHECKIN_METADATA_EVENT,
                      "event_payload": {"checkin_id": job.checkin_id}},
            unfurl_links=False,
        )
    except Exception as exc:
        # A 5xx or a timeout may come after Slack posted: look before calling it a failure,
        # so `/growth now` never says "failed" about a DM that is there.
        if not maybe_posted(exc):
            raise
        found = find_posted_checkin(client, job.user_id, job.checkin_id)
        if found is None:
            raise
        return found
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
                  week_start: date, recovering: bool = False) -> None:
    """The one reminder, as a reply in the check-in's thread so the conversation stays together.

    Once: a reminder claim taken over from a dead sender, or a 5xx/timeout, first looks for it
    in the thread by its metadata."""
    if recovering and _reminder_posted(client, channel_id, thread_ts, checkin_id):
        return
    try:
        client.chat_postMessage(
            channel=channel_id,
            thread_ts=thread_ts,
            reply_broadcast=True,  # also shown in the DM itself, or the nudge would go unseen
            text="Your weekly reflection is still open",
            blocks=build_reminder_message(checkin_id, week_start),
            metadata={"event_type": ids.REMINDER_METADATA_EVENT, "event_payload": {"checkin_id": checkin_id}},
        )
    except Exception as exc:
        if not maybe_posted(exc) or not _reminder_posted(client, channel_id, thread_ts, checkin_id):
            raise


def _reminder_posted(client: WebClient, channel_id: str, thread_ts: str | None, checkin_id: int) -> bool:
    if not thread_ts:
        return False
    thread = client.conversations_replies(channel=channel_id, ts=thread_ts, limit=100, include_all_metadata=True)
    return any((m.get("metadata") or {}).get("event_type") == ids.REMINDER_METADATA_EVENT
               and ((m.get("metadata") or {}).get("event_payload") or {}).get("checkin_id") == checkin_id
               for m in thread.get("messages") or [])
