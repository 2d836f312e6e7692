"""The outbox posts each message once: through 5xx and timeouts after Slack did the work, a
sender that died mid-send, and the same cause queued twice. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.outbox.sender import BUSY, FAILED, FOUND, RETRY, SEND_LEASE, SENT, OutboxSender, queue
from bot.slack_client import make_poster_client
from storage.models import OutboxMessage
from storage.repositories.outbox import Outbox
from storage.uow import UnitOfWork
from tests.outbox.conftest import NOW


def queued(session_factory, key: str = "k1", channel: str = "U1", thread_ts: str | None = None) -> int:
    with session_factory.begin() as session:
        return queue(session, key, channel=channel, thread_ts=thread_ts, text="Saved to your growth log",
                     blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "Saved"}}], now=NOW)


def row(session_factory, message_id: int) -> OutboxMessage:
    with session_factory() as session:
        return session.get(OutboxMessage, message_id)


def test_a_message_is_posted_with_its_id_in_the_metadata(session_factory, fake_slack, sender):
    message_id = queued(session_factory)
    assert sender.send(message_id) == SENT
    [posted] = fake_slack.messages_in("DU1")
    assert posted["metadata"]["event_payload"] == {"outbox_id": message_id}
    stored = row(session_factory, message_id)
    assert (stored.status, stored.channel_id, stored.message_ts) == ("sent", "DU1", posted["ts"])
    assert sender.send(message_id) == BUSY  # sent is sent
    assert len(fake_slack.messages_in("DU1")) == 1


def test_the_same_cause_queued_twice_is_one_message(session_factory):
    assert queued(session_factory, "same") is not None
    assert queued(session_factory, "same") is None
    with session_factory() as session:
        assert session.query(OutboxMessage).count() == 1


@pytest.mark.parametrize("error,status", [("internal_error", 500), ("timeout", None)])
def test_a_failure_after_slack_posted_is_found_not_posted_again(session_factory, fake_slack, sender, clock,
                                                                 error, status):
    message_id = queued(session_factory)
    fake_slack.fail_next("chat.postMessage", error, status=status or 200, after_work=True)
    assert sender.send(message_id) == RETRY
    assert len(fake_slack.messages_in("DU1")) == 1       # Slack has it, we could not know
    assert row(session_factory, message_id).maybe_posted
    assert sender.drain() == {}                          # not due yet: no hammering
    clock.now += timedelta(minutes=1)
    assert sender.drain() == {FOUND: 1}
    assert len(fake_slack.messages_in("DU1")) == 1
    assert row(session_factory, message_id).status == "sent"


def test_a_failure_before_slack_posted_is_posted_on_the_next_attempt(session_factory, fake_slack, sender, clock):
    message_id = queued(session_factory)
    fake_slack.fail_next("chat.postMessage", "internal_error", status=500)
    assert sender.send(message_id) == RETRY
    assert fake_slack.messages_in("DU1") == []
    clock.now += timedelta(minutes=1)
    assert sender.drain() == {SENT: 1}
    assert len(fake_slack.messages_in("DU1")) == 1


def test_a_thread_reply_is_found_in_its_thread(session_factory, fake_slack, sender, clock):
    parent = fake_slack_post(fake_slack, "DU1")
    message_id = queued(session_factory, channel="DU1", thread_ts=parent)
    fake_slack.fail_next("chat.postMessage", "internal_error", status=500, after_work=True)
    assert sender.send(message_id) == RETRY
    clock.now += timedelta(minutes=1)
    assert sender.drain() == {FOUND: 1}
    replies = [m for m in fake_slack.messages_in("DU1") if m.get("thread_ts") == parent]
    assert len(replies) == 1
    assert fake_slack.calls_to("conversations.replies")


def test_a_sender_that_died_mid_send_is_taken_over_after_its_lease(session_factory, fake_slack, sender, clock):
    message_id = queued(session_factory)
    dead = OutboxSender(UnitOfWork(session_factory), make_poster_client("xoxb-test", fake_slack.base_url), clock)
    with session_factory.begin() as session:  # claimed and posted, then killed before recording it
        Outbox(session).claim(message_id, dead.owner, clock.now, SEND_LEASE)
    fake_slack_post(fake_slack, "U1", metadata={"event_type": "growth_outbox", "event_payload": {"outbox_id": message_id}})
    assert sender.drain() == {}                          # the lease still holds
    clock.now += SEND_LEASE + timedelta(seconds=1)
    assert sender.drain() == {FOUND: 1}
    assert len(fake_slack.messages_in("DU1")) == 1


def test_a_refusal_for_good_is_kept_and_not_retried(session_factory, fake_slack, sender, clock):
    message_id = queued(session_factory)
    fake_slack.fail_next("chat.postMessage", "channel_not_found")
    assert sender.send(message_id) == FAILED
    clock.now += timedelta(hours=1)
    assert sender.drain() == {}
    stored = row(session_factory, message_id)
    assert (stored.status, stored.last_error) == ("failed", "channel_not_found")


def test_a_lookup_slack_cannot_answer_is_retried_not_guessed(session_factory, fake_slack, sender, clock):
    message_id = queued(session_factory)
    fake_slack.fail_next("chat.postMessage", "internal_error", status=500, after_work=True)
    sender.send(message_id)
    fake_slack.fail_next("conversations.history", "internal_error", status=500)
    clock.now += timedelta(minutes=1)
    assert sender.drain() == {RETRY: 1}
    clock.now += timedelta(minutes=5)
    assert sender.drain() == {FOUND: 1}
    assert len(fake_slack.messages_in("DU1")) == 1


def fake_slack_post(fake_slack, channel: str, **extra) -> str:
    """A message someone else posted (as the bot), straight through the fake's Web API."""
    client = make_poster_client("xoxb-test", fake_slack.base_url)
    return client.chat_postMessage(channel=channel, text="earlier", **extra)["ts"]


def test_outcomes_are_counted_for_operators(session_factory, fake_slack, sender, clock):
    from bot import metrics

    def count(outcome: str) -> float:
        return metrics.OUTBOX_OUTCOMES.labels(outcome)._value.get()

    before = {name: count(name) for name in (SENT, FOUND, RETRY)}
    fake_slack.fail_next("chat.postMessage", "internal_error", status=500, after_work=True)
    sender.send(queued(session_factory, "m1"))
    clock.now += timedelta(minutes=1)
    sender.drain()
    sender.send(queued(session_factory, "m2"))
    assert {name: count(name) - before[name] for name in before} == {SENT: 1, FOUND: 1, RETRY: 1}


def test_at_start_up_a_dead_local_senders_claims_are_taken_back_at_once(session_factory, fake_slack, sender, clock):
    import os
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = sender.owner.split(":")[0]
    mine, dead, elsewhere = (queued(session_factory, key) for key in ("alive", "dead", "other-host"))
    with session_factory.begin() as session:
        outbox = Outbox(session)
        outbox.claim(mine, f"{host}:{os.getppid()}:aaaa", clock.now, SEND_LEASE)   # a live process
        outbox.claim(dead, f"{host}:{gone.pid}:bbbb", clock.now, SEND_LEASE)       # killed mid-send
        outbox.claim(elsewhere, f"another-host:{gone.pid}:cccc", clock.now, SEND_LEASE)
    assert sender.release_dead_local_claims() == 1
    assert sender.drain() == {SENT: 1}                  # looked for (maybe posted), then posted once
    assert row(session_factory, dead).status == "sent"
    assert {row(session_factory, m).status for m in (mine, elsewhere)} == {"sending"}


def test_a_claim_from_another_pid_namespace_on_the_same_hostname_is_never_released_early(
        session_factory, sender, clock):
    # Host-networked containers share a hostname and each runs as pid 1: a pid there is not ours.
    hostname = sender.owner.split(":")[0].split("@")[0]
    other, unknown = queued(session_factory, "other-container"), queued(session_factory, "no-namespace")
    with session_factory.begin() as session:
        Outbox(session).claim(other, f"{hostname}@1:1:dddd", clock.now, SEND_LEASE)
        Outbox(session).claim(unknown, f"{hostname}:999999:eeee", clock.now, SEND_LEASE)
    assert sender.release_dead_local_claims() == 0
