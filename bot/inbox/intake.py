"""Durable before ack: a DM event or a modal submission is on disk before Slack hears "200 OK".

Bolt acknowledges an event before its listener runs, and Slack never resends an acknowledged
event: a crash, a SIGKILL or a deploy between the two used to lose what the engineer typed.
So a listener middleware (which Bolt runs in the request thread, before the ack) writes the raw
event to the inbox in one INSERT, and the listener processes it afterwards; whatever a crash
leaves undone, `recover` finishes (at start-up and on every recovery tick). A check-in modal's
submission goes the same way (bot.listeners.checkin_answers, bot.inbox.submissions), its INSERT
made only if the check-in is the submitter's, so that a refusal can still be shown in the modal.

Why an inbox and not "save, then ack": the save is several statements (a thread reply's may
call Slack: the parent message's metadata names its check-in when the reply beat the sender's
bookkeeping), and on SQLite every other ack waits behind the one writer. Processing waits for a
lull in the front door's requests, one engineer's deliveries in the order they came (bot.after_ack).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from slack_bolt import BoltContext

from bot import metrics
from bot.inbox.messages import process_message_event
from bot.inbox.submissions import MODAL_SUBMISSION, process_modal_submission
from storage.repositories.inbox import Inbox

logger = logging.getLogger(__name__)

MESSAGE_EVENT = "message_event"
SLACK_ID_MAX_LENGTH = 255  # Slack's ids are a dozen characters or so
KEY_MAX_LENGTH = 600  # a delivery key: a few ids and a ts
# Items younger than this are left to the request thread that wrote them down.
RECOVERY_GRACE = timedelta(seconds=10)
# An item that failed this often (every 10 s: a few minutes) is poison, not bad luck.
MAX_ATTEMPTS = 20


def is_kept(event: dict) -> bool:
    """The DM events that can change a growth log or need an answer; the rest need no inbox."""
    if event.get("type") != "message" or event.get("channel_type") != "im" or event.get("bot_id"):
        return False
    return event.get("subtype") in (None, "message_changed", "message_deleted")


def delivery_key(body: dict) -> str:
    event = body.get("event") or {}
    if body.get("event_id"):
        # Scoped by team: a retry is the same delivery to the same workspace, and with several
        # workspaces one id must not swallow another's answer.
        key = f"event:{body.get('team_id') or event.get('team')}:{body['event_id']}"
    else:
        key = f"message:{event.get('channel')}:{event.get('ts') or event.get('event_ts')}:{event.get('subtype') or ''}"
    if slack_id(key, KEY_MAX_LENGTH) is None:
        # A crafted id (a NUL, half a surrogate pair, kilobytes) made the INSERT fail: a 500 that
        # Slack retries for ever. Its digest dedupes its retries as well.
        key = "digest:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return key


def slack_id(found: object, max_length: int = SLACK_ID_MAX_LENGTH) -> str | None:
    """`found` if it can be a Slack id (short, printable ASCII), else None. A crafted id with a NUL
    (PostgreSQL's text cannot hold one) failed its INSERT on PostgreSQL, half a surrogate pair (not
    encodable as UTF-8) on both databases, and one of kilobytes made a key past what PostgreSQL's
    unique index takes."""
    if isinstance(found, str) and 0 < len(found) <= max_length and found.isascii() and found.isprintable():
        return found
    return None


def write_down_first(body: dict, context: BoltContext, next) -> None:  # noqa: A002 - Bolt's name
    """Listener middleware for DM events: the INSERT that makes the ack safe."""
    event = body.get("event") or {}
    context["inbox_id"] = None
    if is_kept(event):
        services = context["services"]
        team_id, key, now = slack_id(body.get("team_id") or event.get("team")), delivery_key(body), services.now()
        # Committed together with the other deliveries arriving meanwhile (one commit, one flush
        # of the WAL, for all of them); back only once this one is on disk. None: Slack's retry
        # of a delivery already here (its first copy is, or was, processed).
        context["inbox_id"] = services.uow.write_together(
            lambda session: Inbox(session).add(key, MESSAGE_EVENT, team_id, body, now))
        if context["inbox_id"] is not None:
            hand_over(services, context["inbox_id"], lane_of(body))
    next()


def hand_over(services, item_id: int, lane: str) -> None:
    """Hand a written-down delivery to the after-ack work (bot.after_ack: the worker process, or
    this one's lanes), from the request thread, before the ack.

    Before the ack: one engineer's hand-overs are then in the order of their acks, and a lane
    keeps that order. Handed over from the listener, after the ack, a listener thread held up (by
    the GIL, the OS) let the next delivery, acked after, into the lane first: an edit ran before
    its reply, a second Save before the first, whose older words won. A hand-over is a queue put;
    the work itself still waits for a lull in the front door, which this request is still in."""
    try:
        services.after_ack.process_inbox(services, item_id, lane)
    except RuntimeError:  # the after-ack threads are shut down (SIGTERM): it is on disk
        logger.warning("Inbox item %d is left to the recovery pass: the after-ack work has stopped", item_id)


def process(services, item_id: int | None) -> None:
    """Process one written-down delivery (exactly once, whoever else tries) and send what it queued."""
    if item_id is None:
        return
    with services.uow.reading() as session:
        kind = Inbox(session).kind_of(item_id)
    if kind is None:
        return  # done already
    handle = process_modal_submission if kind == MODAL_SUBMISSION else process_message_event
    for message_id in handle(services, item_id):
        services.outbox.send(message_id)


def process_after_ack() -> None:
    """The listener: nothing is left to do. `write_down_first` handed the delivery over (see
    `hand_over`), so neither Bolt's threads, which modal acks wait for, nor this process's
    interpreter are busy with it."""


def lane_of(body: dict) -> str:
    """Whose deliveries must be processed in the order they came: the engineer's (a reply, its
    edit, its deletion), by team and user, else by DM channel."""
    event = _mapping(body.get("event"))
    team_id = body.get("team_id") or event.get("team")
    author = _author(event)
    return engineer_lane(team_id, author) if author is not None else f"channel:{team_id}:{event.get('channel')}"


def sent_by(kind: str, payload: dict, user_id: str) -> bool:
    """Whether a written-down delivery (`kind`, its payload) is `user_id`'s own (bot.growthlog.forget)."""
    if kind == MODAL_SUBMISSION:
        return payload.get("user_id") == user_id
    return _author(_mapping(payload.get("event"))) == user_id


def _author(event: dict) -> str | None:
    author = event.get("user") or _mapping(event.get("message")).get("user") \
        or _mapping(event.get("previous_message")).get("user")
    return author if isinstance(author, str) else None


def engineer_lane(team_id: str | None, user_id: str) -> str:
    """The lane (bot.lanes) of everything one engineer sends: modal submissions and DM events."""
    return f"user:{team_id}:{user_id}"


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def recover(services, now: datetime | None = None, limit: int = 200) -> int:
    """Finish deliveries a crash (or a busy moment) left undone; how many were looked at."""
    now = now or services.now()
    with services.uow.reading() as session:
        undone = Inbox(session).undone(received_before=now - RECOVERY_GRACE, max_attempts=MAX_ATTEMPTS, limit=limit)
    for item_id in undone:
        try:
            process(services, item_id)
            metrics.INBOX_RECOVERED.inc()
        except Exception as exc:  # noqa: BLE001 - one bad item must not hold up the others
            logger.exception("Inbox item %d failed; it is retried on the next tick", item_id)
            with services.uow.writing() as session:
                Inbox(session).note_failure(item_id, f"{type(exc).__name__}: {exc}")
    return len(undone)
