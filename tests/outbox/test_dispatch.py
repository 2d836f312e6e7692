"""Many outbox messages at once (bot.outbox.dispatch): each posted once by a pool of senders,
claimed before posting, a channel's messages in order, a crash before the posts are recorded
found by metadata, two instances racing for the same messages. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.outbox import dispatch as dispatch_module
from bot.outbox.dispatch import Dispatch
from bot.outbox.sender import BUSY, FOUND, LEASE_MARGIN, RETRY, SEND_LEASE, SENT, OutboxSender
from bot.slack_client import make_poster_client
from storage.models import OutboxMessage
from storage.uow import UnitOfWork
from tests.outbox.test_outbox import queued, row


def new_sender(session_factory, fake_slack, clock) -> OutboxSender:
    return OutboxSender(UnitOfWork(session_factory), make_poster_client("xoxb-test", fake_slack.base_url), clock)


def statuses(session_factory) -> dict[str, int]:
    with session_factory() as session:
        return dict(session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())


def ids_posted_in(fake_slack, channel: str) -> list[int]:
    return [m["metadata"]["event_payload"]["outbox_id"] for m in fake_slack.messages_in(channel)]


def test_many_messages_are_each_posted_once_with_their_id_by_several_senders(session_factory, fake_slack, sender):
    ids = [queued(session_factory, f"k{n}", channel=f"U{n}") for n in range(80)]
    with Dispatch(sender, 4) as dispatch:
        dispatch.add(ids[:50])
        dispatch.add(ids[50:])
    assert dispatch.outcomes == {SENT: 80}
    for n, message_id in enumerate(ids):
        assert ids_posted_in(fake_slack, f"DU{n}") == [message_id]
    assert statuses(session_factory) == {"sent": 80}
    assert row(session_factory, ids[0]).message_ts == fake_slack.messages_in("DU0")[0]["ts"]


def test_a_channels_messages_go_out_in_order_across_batches(session_factory, fake_slack, sender):
    parts = []
    for n in range(dispatch_module.BATCH * 2 + 5):           # spans three claims
        parts.append(queued(session_factory, f"part{n}", channel="U1"))
        queued(session_factory, f"other{n}", channel=f"U{100 + n}")
    with session_factory() as session:
        every = list(session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))
    with Dispatch(sender, 4) as dispatch:
        dispatch.add(every)
    assert ids_posted_in(fake_slack, "DU1") == parts


def test_a_message_that_does_not_go_out_holds_back_the_later_ones_to_its_channel(session_factory, fake_slack,
                                                                                  sender, clock):
    first, second, third = (queued(session_factory, f"p{n}", channel="U1") for n in range(3))
    fake_slack.fail_next("chat.postMessage", "internal_error", status=500)   # before the work: nothing posted
    with Dispatch(sender, 4) as dispatch:
        dispatch.add([first, second, third])
    assert dispatch.outcomes == {RETRY: 3}
    assert fake_slack.messages_in("DU1") == []
    assert row(session_factory, first).maybe_posted and not row(session_factory, second).maybe_posted
    assert row(session_factory, second).attempts == 0                      # never tried: no look-up first
    assert row(session_factory, second).next_attempt_at >= row(session_factory, first).next_attempt_at
    assert sender.drain() == {}                                             # none due yet: first stays first
    clock.now += timedelta(minutes=1)
    assert sender.drain() == {SENT: 3}
    assert ids_posted_in(fake_slack, "DU1") == [first, second, third]


def test_posts_not_yet_recorded_when_the_process_dies_are_found_by_their_metadata(session_factory, fake_slack,
                                                                                   clock, monkeypatch):
    ids = [queued(session_factory, f"k{n}", channel=f"U{n}") for n in range(10)]
    dying = new_sender(session_factory, fake_slack, clock)

    def killed(posted):
        raise SystemExit("killed before recording")

    monkeypatch.setattr(dying, "record_posted", killed)
    with pytest.raises(SystemExit):
        with Dispatch(dying, 3) as dispatch:
            dispatch.add(ids)
    assert statuses(session_factory) == {"sending": 10}                   # claimed, posted, not recorded
    later = new_sender(session_factory, fake_slack, clock)
    assert later.drain() == {}                                              # their leases still hold
    clock.now += SEND_LEASE + timedelta(seconds=1)
    assert later.drain() == {FOUND: 10}
    for n in range(10):
        assert len(fake_slack.messages_in(f"DU{n}")) == 1
    assert statuses(session_factory) == {"sent": 10}


def test_a_claim_grown_too_old_waiting_for_its_turn_is_given_back_not_posted(session_factory, fake_slack, sender,
                                                                             clock):
    message_id = queued(session_factory)
    [claimed] = sender.claim_many([message_id])
    clock.now += SEND_LEASE - LEASE_MARGIN + timedelta(seconds=1)
    assert sender.deliver(claimed) == (RETRY, None)
    assert fake_slack.messages_in("DU1") == []
    stored = row(session_factory, message_id)
    assert (stored.status, stored.attempts, stored.owner) == ("pending", 0, None)
    assert sender.drain() == {SENT: 1}
    assert len(fake_slack.messages_in("DU1")) == 1


def test_two_instances_dispatching_the_same_messages_post_each_once(session_factory, fake_slack, clock):
    ids = [queued(session_factory, f"k{n}", channel=f"U{n}") for n in range(120)]
    senders = [new_sender(session_factory, fake_slack, clock) for _ in range(2)]
    dispatches = [Dispatch(s, 4) for s in senders]
    start = threading.Barrier(2)

    def run(dispatch: Dispatch, order: list[int]) -> None:
        start.wait()
        for n in range(0, len(order), 7):
            dispatch.add(order[n:n + 7])

    threads = [threading.Thread(target=run, args=(dispatches[0], ids)),
               threading.Thread(target=run, args=(dispatches[1], ids[::-1]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = [d.close() for d in dispatches]
    assert sum(o.get(SENT, 0) for o in outcomes) == 120
    assert sum(o.get(BUSY, 0) for o in outcomes) == 120
    for n in range(120):
        assert len(fake_slack.messages_in(f"DU{n}")) == 1
    assert statuses(session_factory) == {"sent": 120}
