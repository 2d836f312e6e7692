"""Finding a message the outbox may already have posted, by the id in its metadata.

A 5xx or a timeout can come after Slack posted the message; so can a crash between the post
and its bookkeeping. Before posting such a message again, the sender looks for it.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids

# Slack's own words for "something broke on our side": the post may have happened.
MAYBE_POSTED_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})
# A DM's history since the message was queued is short.
_LOOKUP_LIMIT = 100
# conversations.replies pages (oldest first) of at most 1,000; a thread past 10,000 is not a check-in's.
_THREAD_PAGE_SIZE = 1000
_THREAD_PAGES = 10


def maybe_posted(exc: Exception) -> bool:
    """Whether a failed post may have been posted all the same (a 5xx, a timeout, a dropped
    connection), as opposed to Slack saying no (channel_not_found, 429: nothing was posted)."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200)
        return status >= 500 or exc.response.get("error") in MAYBE_POSTED_ERRORS
    return isinstance(exc, (OSError, TimeoutError)) or "timed out" in str(exc).lower()


def outbox_metadata(message_id: int) -> dict:
    return {"event_type": ids.OUTBOX_METADATA_EVENT, "event_payload": {"outbox_id": message_id}}


def find_posted(client: WebClient, channel: str, thread_ts: str | None, message_id: int) -> tuple[str, str] | None:
    """(channel id, ts) of the earlier post of outbox message `message_id`, or None.

    Raises SlackApiError (or a connection error) if Slack cannot say: the caller retries later
    rather than guess. `channel` may be a user id (a DM), which conversations.open turns into
    the DM's channel id.
    """
    if channel[:1] in ("U", "W"):
        channel = client.conversations_open(users=channel)["channel"]["id"]
    # No `oldest`: Slack's clock is not ours. A DM's newest messages are enough, because the
    # lookup runs minutes after the post at most. A thread comes oldest first, so a post at the
    # end of a long check-in thread (an engineer's hundredth note) is on its last page: read on.
    cursor = None
    for _ in range(_THREAD_PAGES if thread_ts else 1):
        if thread_ts:
            found = client.conversations_replies(channel=channel, ts=thread_ts, limit=_THREAD_PAGE_SIZE,
                                                 include_all_metadata=True, cursor=cursor)
        else:
            found = client.conversations_history(channel=channel, limit=_LOOKUP_LIMIT, include_all_metadata=True)
        for message in found.get("messages") or []:
            metadata = message.get("metadata") or {}
            if (metadata.get("event_type") == ids.OUTBOX_METADATA_EVENT
                    and (metadata.get("event_payload") or {}).get("outbox_id") == message_id):
                return channel, message["ts"]
        cursor = (found.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return None
