"""Engineers answering their check-ins all at once, as Slack delivers it: the load of the fault tests.

`seed` puts engineers in the database with check-ins already sent (their DMs are in the fake
Slack, so the threads exist there too). `plan` gives each client its own list of deliveries: a
modal submission for a check-in nobody has answered yet, alternating with replies in the
threads of its engineers' check-ins, each with text of its own. `Traffic` sends them from
concurrent clients, signed, and records what came of each one: an acknowledgement (HTTP 200),
another status, or a connection error (what Slack sees of a process that died or closed its
door: not acknowledged, so it retries).
"""

from __future__ import annotations

import http.client
import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot import ids
from bot.blocks.checkin import build_answer_modal
from storage.models import Answer, CheckIn, CheckInStatus, OutboxMessage
from tests import slack_requests as req
from tests.checkins.desk import TEAM, add_engineers, engineer_row
from tests.checkins.test_checkins_e2e import state_for
from tests.fake_slack import FakeSlack

CONFIRMATION = "Saved to your growth log"
QUESTIONS = [{"id": "q-shipped", "text": "What did you ship or unblock this week?", "kind": "reflection"},
             {"id": "q-next", "text": "What will you stretch for next week?", "kind": "reflection"}]
FIRST_WEEK = date(2026, 1, 5)  # a Monday


@dataclass(frozen=True)
class SentCheckIn:
    id: int
    user_id: str
    channel_id: str
    message_ts: str


def seed(session_factory: sessionmaker[Session], fake: FakeSlack, engineers: int, weeks: int) -> list[SentCheckIn]:
    """`engineers` engineers, each with `weeks` check-ins posted to their DM (status sent)."""
    users = [f"U{n:04d}" for n in range(engineers)]
    engineer_ids = add_engineers(session_factory, [engineer_row(user) for user in users])
    rows = [{"engineer_id": engineer_ids[user], "week_start": FIRST_WEEK + timedelta(weeks=week),
             "due_at": datetime.combine(FIRST_WEEK + timedelta(weeks=week, days=4), datetime.min.time(), UTC),
             "status": CheckInStatus.SENT.value, "questions": QUESTIONS, "attempts": 1}
            for user in users for week in range(weeks)]
    with session_factory.begin() as session:
        session.execute(insert(CheckIn), rows)
        made = session.execute(select(CheckIn.id, CheckIn.engineer_id).order_by(CheckIn.id)).all()
    user_of = {engineer_id: user for user, engineer_id in engineer_ids.items()}
    client = WebClient(base_url=fake.base_url, token="xoxb-seed")
    sent: list[SentCheckIn] = []
    for checkin_id, engineer_id in made:
        user = user_of[engineer_id]
        posted = client.chat_postMessage(channel=user, text="Your weekly reflection",
                                         metadata={"event_type": ids.CHECKIN_METADATA_EVENT,
                                                   "event_payload": {"checkin_id": checkin_id}})
        sent.append(SentCheckIn(checkin_id, user, posted["channel"], posted["ts"]))
    with session_factory.begin() as session:
        for checkin in sent:
            session.execute(update(CheckIn).where(CheckIn.id == checkin.id)
                            .values(channel_id=checkin.channel_id, message_ts=checkin.message_ts,
                                    sent_at=datetime.now(UTC)))
    return sent


@dataclass(frozen=True)
class Delivery:
    """One request as Slack would send it, and what it must leave in the log once acknowledged."""

    kind: str  # "modal" or "thread"
    body: str
    content_type: str
    texts: tuple[str, ...]  # one answer row each
    checkin: SentCheckIn
    reply_ts: str | None = None  # a thread reply's own ts

    def confirmation_of(self, outbox: list[OutboxMessage]) -> OutboxMessage | None:
        """The outbox message confirming this delivery (each check-in gets one modal submission)."""
        if self.kind == "thread":
            key = f"thread-reply:{self.checkin.channel_id}:{self.reply_ts}"
            return next((m for m in outbox if m.key == key), None)
        return next((m for m in outbox if m.key.startswith("saved:") and m.channel == self.checkin.channel_id
                     and m.thread_ts == self.checkin.message_ts), None)


def modal_submission(checkin: SentCheckIn, label: str) -> Delivery:
    view = build_answer_modal(checkin.id, QUESTIONS, {}).to_dict()
    texts = {f"{ids.CHECKIN_QUESTION_BLOCK}{q['id']}": f"{label} {q['id']}" for q in QUESTIONS}
    body, ctype = req.view_submission(user_id=checkin.user_id, callback_id=view["callback_id"],
                                      state_values=state_for(view, texts),
                                      private_metadata=view["private_metadata"], view_id=f"V-{label}")
    return Delivery("modal", body, ctype, tuple(texts.values()), checkin)


def thread_reply(checkin: SentCheckIn, label: str, ts: str) -> Delivery:
    text = f"{label} in the thread"
    event = {"type": "message", "channel": checkin.channel_id, "channel_type": "im", "user": checkin.user_id,
             "team": TEAM, "text": text, "ts": ts, "event_ts": ts, "thread_ts": checkin.message_ts}
    body, ctype = req.event_callback(event, event_id=f"Ev-{label}")
    return Delivery("thread", body, ctype, (text,), checkin, reply_ts=ts)


def plan(checkins: list[SentCheckIn], clients: int, per_client: int, run: str) -> list[list[Delivery]]:
    """Each client answers its own engineers: modal submissions (one per check-in, while there are
    any left) alternating with thread replies. `run` keeps every text and id unique."""
    users = sorted({c.user_id for c in checkins})
    stamps = itertools.count(1)
    plans = []
    for n in range(clients):
        own = [c for c in checkins if c.user_id in users[n::clients]]
        unanswered = list(own)
        deliveries = []
        for i in range(per_client):
            label = f"{run}-c{n:02d}-{i:03d}"
            if i % 2 == 0 and unanswered:
                deliveries.append(modal_submission(unanswered.pop(0), label))
            else:
                # Slack's ts is seconds.micros; ours are far from the fake's own.
                deliveries.append(thread_reply(own[i % len(own)], label, f"1800000000.{next(stamps):06d}"))
        plans.append(deliveries)
    return plans


@dataclass
class Outcome:
    delivery: Delivery
    status: int | None = None  # None: a connection error
    body: str = ""
    error: str | None = None

    @property
    def acked(self) -> bool:
        return self.status == 200


def send(url: str, secret: str, delivery: Delivery, retry: bool = False, timeout: float = 10) -> Outcome:
    kwargs = {"retry_num": 1, "retry_reason": "http_error"} if retry and delivery.kind == "thread" else {}
    try:
        status, _, body = req.post_to_app(url, delivery.body, delivery.content_type, secret, timeout=timeout, **kwargs)
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(delivery, error=f"{type(exc).__name__}: {exc}")
    return Outcome(delivery, status, body)


@dataclass
class Traffic:
    """Concurrent clients, each sending its deliveries one after another until its first
    connection error (the bot is gone) or `stop()`."""

    url: str
    secret: str
    plans: list[list[Delivery]]
    outcomes: list[Outcome] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _acked: threading.Condition = field(init=False)
    _in_flight: int = 0
    _stopping: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._acked = threading.Condition(self._lock)

    def start(self) -> "Traffic":
        self._threads = [threading.Thread(target=self._client, args=(deliveries,), daemon=True)
                         for deliveries in self.plans]
        for thread in self._threads:
            thread.start()
        return self

    def _client(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            if self._stopping.is_set():
                return
            with self._lock:
                self._in_flight += 1
            outcome = send(self.url, self.secret, delivery)
            with self._acked:
                self._in_flight -= 1
                self.outcomes.append(outcome)
                self._acked.notify_all()
            if outcome.status is None:
                return

    def wait_for_acks(self, count: int, timeout: float = 20) -> int:
        """Block until `count` deliveries were acknowledged; how many are in flight right then."""
        with self._acked:
            if not self._acked.wait_for(lambda: sum(o.acked for o in self.outcomes) >= count, timeout):
                raise AssertionError(f"only {sum(o.acked for o in self.outcomes)} of {count} acks in {timeout} s: "
                                     f"{self._summary()}")
            return self._in_flight

    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def join(self, timeout: float = 20) -> None:
        for thread in self._threads:
            thread.join(timeout)
        assert not self.running(), "clients still sending"

    def stop(self) -> None:
        self._stopping.set()

    def acked(self) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if o.acked]

    def failed(self) -> list[Outcome]:
        """Attempted, not acknowledged: what Slack would send again."""
        with self._lock:
            return [o for o in self.outcomes if not o.acked]

    def _summary(self) -> str:
        statuses: dict[object, int] = {}
        for outcome in self.outcomes:
            statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
        return f"{len(self.outcomes)} sent, statuses {statuses}"


def answer_counts(session_factory: sessionmaker[Session], checkin_ids: list[int]) -> dict[str, int]:
    """How many rows hold each answer text, over the given check-ins."""
    counts: dict[str, int] = {}
    with session_factory() as session:
        for (text,) in session.execute(select(Answer.text).where(Answer.checkin_id.in_(checkin_ids))):
            counts[text] = counts.get(text, 0) + 1
    return counts


def outbox_messages(session_factory: sessionmaker[Session]) -> list[OutboxMessage]:
    with session_factory() as session:
        rows = list(session.scalars(select(OutboxMessage)))
        session.expunge_all()
        return rows


def confirmations_posted(fake: FakeSlack, channels: set[str]) -> dict[int | None, int]:
    """How many times each outbox message was posted, by the id in its metadata, as Slack shows
    the DMs (a confirmation without that id counts under None)."""
    counts: dict[int | None, int] = {}
    for channel in channels:
        for message in fake.messages_in(channel):
            if message.get("text") != CONFIRMATION:
                continue
            metadata = message.get("metadata") or {}
            outbox_id = (metadata.get("event_payload") or {}).get("outbox_id") \
                if metadata.get("event_type") == ids.OUTBOX_METADATA_EVENT else None
            counts[outbox_id] = counts.get(outbox_id, 0) + 1
    return counts
