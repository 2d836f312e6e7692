"""Posting what the outbox holds: each message once, whatever Slack or the process does.

A message is queued (`queue`) in the same transaction as its cause (a saved answer, a new
manager), so it exists exactly when the cause does. Sending claims it, commits, posts it with
its id in the message metadata, and records the post. One retry policy for all of it:

- 429: the client's rate-limit handler waits `Retry-After` and tries again (nothing was posted);
- 5xx, timeout, dropped connection: maybe posted, so never re-posted blindly: the message is
  marked `maybe_posted` and the next attempt first looks for it by its metadata;
- any other Slack error (the user left, the channel is gone): failed for good, kept with its reason;
- its workspace uninstalled the app: held, unsent (drains skip it), until a reinstall or the purge.

A process that dies mid-send leaves a claim whose lease runs out; the next drain finds the
message (it may have been posted) the same way.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import metrics
from bot.outbox.finding import find_posted, maybe_posted, outbox_metadata
from bot.workspace_clients import WorkspaceGone, for_workspace
from storage.models import OutboxMessage
from storage.repositories.outbox import Outbox
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

# Longer than one post can take (timeout 15 s, a few 429 waits); after it another sender may look.
SEND_LEASE = timedelta(minutes=2)
# A claim closer than this to its lease's end is given back instead of posted: a post with its
# look-up and a few 429 waits must end before another sender may take the message over.
LEASE_MARGIN = timedelta(seconds=45)
# After the n-th failed attempt, wait RETRY_DELAYS[n-1] (the last one repeats) before the next.
RETRY_DELAYS = (timedelta(seconds=20), timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
# Past this many attempts a message that keeps failing is given up on (about a day of tries).
MAX_ATTEMPTS = 50
# A message claimed just as its workspace uninstalled is looked at again after this.
HOLD_UNINSTALLED = timedelta(hours=1)
SENT, FOUND, RETRY, FAILED, BUSY = "sent", "found", "retry", "failed", "busy"


def retry_delay(attempts: int) -> timedelta:
    """How long after its `attempts`-th failed attempt a message is tried again."""
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


def queue_message(session, key: str, message, *, channel: str, now: datetime, team_id: str | None = None,
                  thread_ts: str | None = None) -> list[int]:
    """Queue what `message` (bot.outbox.messages) renders to, in the caller's transaction: the
    ids to send after the commit, in order ([] if `key` was queued before). A message of several
    parts (a long digest) is queued as `key:0`, `key:1`, …"""
    from bot.outbox.rendering import render

    parts = render(message)
    keys = [key] if len(parts) == 1 else [f"{key}:{n}" for n in range(len(parts))]
    queued = [queue(session, part_key, channel=channel, text=text, blocks=blocks, now=now, team_id=team_id,
                    thread_ts=thread_ts) for part_key, (text, blocks) in zip(keys, parts)]
    return [message_id for message_id in queued if message_id is not None]


def queue(session, key: str, *, channel: str, text: str, blocks: list[Any], now: datetime,
          team_id: str | None = None, thread_ts: str | None = None) -> int | None:
    """Queue one message in the caller's transaction; its id, or None if `key` was queued before."""
    plain = [block.to_dict() if hasattr(block, "to_dict") else block for block in blocks]
    return Outbox(session).add_one(key, channel=channel, text=text, blocks=plain, now=now, team_id=team_id,
                                   thread_ts=thread_ts)


def queue_many(session, messages: list[list[dict[str, Any]]], *, now: datetime) -> list[int]:
    """Queue many messages at once in the caller's transaction, each a list of parts (the
    keyword arguments of `queue`, with `key`); the ids to send after the commit (none for a key
    queued before). Each part n is queued after every part n - 1, so parts keep their order
    of ids (the order the outbox sends a channel's messages in)."""
    outbox = Outbox(session)
    ids: list[int] = []
    for part in range(max((len(parts) for parts in messages), default=0)):
        rows = [dict(parts[part], blocks=[b.to_dict() if hasattr(b, "to_dict") else b for b in parts[part]["blocks"]])
                for parts in messages if len(parts) > part]
        ids.extend(outbox.add_many(rows, now).values())
    return ids


def process_space() -> str | None:
    """This process's host and pid namespace ("host@inode"), or None where that can't be told.

    A pid means something only within its pid namespace: two containers sharing a hostname
    (host networking) both run as pid 1. So "this host" is the hostname *and* the namespace.
    """
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return None
    return f"{socket.gethostname()}@{namespace}"


def _dead_here(owner: str, me: str) -> bool:
    """An owner ("host@pidns:pid:nonce") of this host and pid namespace whose process is gone.
    There, the same pid with another nonce is an earlier run of ours (pid reused)."""
    host, _, rest = owner.partition(":")
    pid_text, _, nonce = rest.partition(":")
    my_host, _, my_rest = me.partition(":")
    if "@" not in my_host or host != my_host or not pid_text.isdigit() or owner == me:
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


@dataclass(frozen=True)
class Claimed:
    id: int
    channel: str
    thread_ts: str | None
    text: str
    blocks: list[dict[str, Any]]
    maybe_posted: bool
    attempts: int
    created_at: datetime
    lease_until: datetime
    team_id: str | None = None

    @classmethod
    def of(cls, row: OutboxMessage) -> "Claimed":
        return cls(row.id, row.channel, row.thread_ts, row.text, list(row.blocks or []), row.maybe_posted,
                   row.attempts, row.created_at, row.lease_until, row.team_id)


class OutboxSender:
    def __init__(self, uow: UnitOfWork, client: WebClient, now: Callable[[], datetime], concurrency: int = 1):
        self._uow = uow
        self._client = client
        self._now = now
        self.concurrency = concurrency  # senders of a drain (bot.outbox.dispatch), SEND_CONCURRENCY
        # Where the process space can't be told, claims are never released early (leases only).
        self.owner = f"{process_space() or socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def now(self) -> datetime:
        return self._now()

    @property
    def client(self) -> WebClient:
        """The client it posts with: no blind retries (see bot.slack_client); each message goes
        out with its own workspace's client (bot.workspace_clients)."""
        return self._client

    def send(self, message_id: int | None) -> str:
        """Try to post one message now; what came of it (SENT, FOUND, RETRY, FAILED or BUSY)."""
        outcome = self._send(message_id)
        if outcome != BUSY:
            metrics.OUTBOX_OUTCOMES.labels(outcome).inc()
        return outcome

    def _send(self, message_id: int | None) -> str:
        if message_id is None:
            return BUSY
        with self._uow.writing() as session:
            row = Outbox(session).claim(message_id, self.owner, self._now(), SEND_LEASE)
            claimed = Claimed.of(row) if row is not None else None
        if claimed is None:
            return BUSY  # sent already, or another sender has it
        return self._post(claimed)

    def _post(self, claimed: Claimed) -> str:
        outcome, posting = self.deliver(claimed)
        if posting is not None:
            self._finish(claimed, *posting)
        return outcome

    def deliver(self, claimed: Claimed) -> tuple[str, tuple[str, str] | None]:
        """Post a message claimed here (or find its earlier post), in its workspace, without
        recording the post: (SENT or FOUND, (channel id, ts)) for `record_posted`, or another
        outcome already recorded (a retry, a failure, a claim given back)."""
        if self._now() > claimed.lease_until - LEASE_MARGIN:
            # Its claim waited too long for its turn: another sender may take it over any moment.
            return self.give_back(claimed, "claim too old to post on"), None
        with for_workspace(claimed.team_id):
            try:
                # A claim taken over from a dead sender may have been posted as well.
                if claimed.maybe_posted or claimed.attempts > 1:
                    found = find_posted(self._client, claimed.channel, claimed.thread_ts, claimed.id)
                    if found is not None:
                        return FOUND, found
                response = self._client.chat_postMessage(
                    channel=claimed.channel, thread_ts=claimed.thread_ts, text=claimed.text, blocks=claimed.blocks,
                    metadata=outbox_metadata(claimed.id), unfurl_links=False, unfurl_media=False,
                )
            except SlackApiError as exc:
                return self._after_error(claimed, exc), None
            except WorkspaceGone as exc:
                return self._hold(claimed, str(exc)), None
            except Exception as exc:  # noqa: BLE001 - a timeout, a dropped connection: maybe posted
                return self._retry(claimed, f"{type(exc).__name__}: {exc}", maybe_posted=True), None
        return SENT, (response["channel"], response["ts"])

    def claim_many(self, message_ids: list[int]) -> list[Claimed]:
        """Claim several messages in one transaction (committed before any is posted); those
        claimed here, in the order of their ids (other senders' and finished ones left out).
        Rows are locked in id order, so two instances claiming overlapping sets never deadlock."""
        with self._uow.writing() as session:
            rows = Outbox(session).claim_many(message_ids, self.owner, self._now(), SEND_LEASE)
            return [Claimed.of(row) for row in rows]

    def record_posted(self, posted: list[tuple[Claimed, tuple[str, str]]]) -> None:
        """Record several posts (from `deliver`) in one transaction. Until then a crash only
        costs a look-up: their claims run out and the next sender finds them by their metadata."""
        if not posted:
            return
        with self._uow.writing() as session:
            outbox = Outbox(session)
            for claimed, (channel_id, ts) in sorted(posted, key=lambda item: item[0].id):
                outbox.mark_sent(claimed.id, self.owner, channel_id, ts, self._now())

    def release_dead_local_claims(self) -> int:
        """At start-up: claims held by an earlier process on this host that is no longer running
        (killed mid-send) are taken back at once, instead of after their lease."""
        with self._uow.reading() as session:
            owners = Outbox(session).claim_owners()
        dead = {owner for owner in owners if owner and _dead_here(owner, self.owner)}
        if not dead:
            return 0
        with self._uow.writing() as session:
            return Outbox(session).release_claims_of(dead, self._now())

    def drain(self, limit: int = 200) -> dict[str, int]:
        """Send every message that is due (after a crash, a failed attempt, a busy moment), by
        `concurrency` senders, each channel's in order; how many came to what."""
        from bot.outbox.dispatch import Dispatch

        with self._uow.reading() as session:
            due = Outbox(session).due_ids(self._now(), limit)
        if not due:
            return {}  # the usual tick: no sender threads started for nothing
        with Dispatch(self, self.concurrency) as dispatch:
            dispatch.add(due)
        return dispatch.outcomes

    def _finish(self, claimed: Claimed, channel_id: str, ts: str) -> None:
        with self._uow.writing() as session:
            Outbox(session).mark_sent(claimed.id, self.owner, channel_id, ts, self._now())

    def _after_error(self, claimed: Claimed, exc: SlackApiError) -> str:
        status = getattr(exc.response, "status_code", 200)
        error = str(exc.response.get("error") or f"HTTP {status}")
        if status == 429 or error == "ratelimited":
            return self._retry(claimed, error, maybe_posted=False)  # the handler gave up waiting
        if maybe_posted(exc):
            return self._retry(claimed, error, maybe_posted=True)
        logger.warning("Outbox message %d refused by Slack: %s", claimed.id, error)
        with self._uow.writing() as session:
            Outbox(session).mark_failed(claimed.id, self.owner, error)
        return FAILED

    def give_back(self, claimed: Claimed, reason: str, at: datetime | None = None) -> str:
        """A claimed message not posted after all (its claim grew old waiting, or an earlier
        message to its channel did not go out): pending again from `at` (now), as if never tried."""
        with self._uow.writing() as session:
            Outbox(session).give_back(claimed.id, self.owner, reason, at or self._now())
        return RETRY

    def _hold(self, claimed: Claimed, reason: str) -> str:
        """Nothing was posted and nothing may be: back to pending, not counted as an attempt's failure."""
        with self._uow.writing() as session:
            Outbox(session).retry_later(claimed.id, self.owner, reason, self._now() + HOLD_UNINSTALLED,
                                        claimed.maybe_posted)
        return RETRY

    def _retry(self, claimed: Claimed, error: str, *, maybe_posted: bool) -> str:
        with self._uow.writing() as session:
            outbox = Outbox(session)
            if claimed.attempts >= MAX_ATTEMPTS:
                outbox.mark_failed(claimed.id, self.owner, f"gave up after {claimed.attempts} attempts: {error}")
                return FAILED
            outbox.retry_later(claimed.id, self.owner, error, self._now() + retry_delay(claimed.attempts),
                               maybe_posted)
        return RETRY
