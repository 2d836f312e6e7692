"""Sending many outbox messages at once: a bounded pool of senders through the same pacer.

A Monday's team notes, or a drain after an outage, are hundreds of messages. One at a time,
each is a claim transaction, a post and a transaction recording it, and on SQLite the two
transactions cost more than the post. Here the guarantees stay those of one message
(bot.outbox.sender), only bunched:

- a batch is claimed in one transaction, committed before anything in it is posted;
- SEND_CONCURRENCY sender threads post it, each post waiting for its slot of the workspace's
  pace (the pacer the due pass's senders use), with its id in the metadata, a 429 waiting out
  Retry-After, a 5xx or timeout marked for a look-up before any second post;
- the posts are recorded a batch at a time: a crash before that leaves claims that run out,
  and whoever takes them over finds the post by its metadata first.

Messages to one channel go out in the order of their ids, from one sender, and one that does
not go out holds back the later ones (a long note's parts never arrive out of order). While one
batch is being posted the next is claimed, so the senders never wait on the database.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import groupby

from bot import metrics
from bot.outbox.sender import BUSY, OutboxSender, Claimed, retry_delay

# Messages claimed in one transaction: enough that a claim and a record cost little per message,
# few enough that the last of a batch is posted long before its lease runs out.
BATCH = 32
# Batches posted or waiting for a sender at once, besides the one being claimed.
IN_FLIGHT = 2
_FLUSH = object()  # nothing more waiting: claim what there is


class Dispatch:
    """Send outbox messages, handed in as they are queued (`add`), by `concurrency` senders.

        with Dispatch(services.outbox, concurrency) as dispatch:
            dispatch.add(ids)        # after the transaction that queued them has committed
        dispatch.outcomes            # how many were SENT, FOUND, RETRY, FAILED, BUSY

    `add` returns at once; one coordinating thread claims, hands out and records."""

    def __init__(self, sender: OutboxSender, concurrency: int):
        self._sender = sender
        self._pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="outbox-send")
        self._waiting: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._tails: dict[str, Future] = {}  # channel -> the last group of its messages handed out
        self.outcomes: dict[str, int] = {}
        self._error: BaseException | None = None
        self._coordinator = threading.Thread(target=self._run, name="outbox-dispatch", daemon=True)
        self._coordinator.start()

    def __enter__(self) -> "Dispatch":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def add(self, message_ids: list[int]) -> None:
        """Send these (queued and committed) messages; returns at once."""
        if message_ids:
            self._waiting.put(list(message_ids))

    def close(self) -> dict[str, int]:
        """Wait until everything added has been tried; the outcomes. Re-raises what stopped it."""
        if self._coordinator.is_alive():
            self._waiting.put(None)
            self._coordinator.join()
            self._pool.shutdown(wait=True)
        if self._error is not None:
            raise self._error
        return self.outcomes

    # -- the coordinating thread ---------------------------------------------------------------

    def _run(self) -> None:
        in_flight: deque[list[Future]] = deque()
        try:
            for batch in self._batches():
                claimed = self._sender.claim_many(batch)
                self._count(BUSY, len(set(batch)) - len(claimed), report=False)
                by_channel = groupby(sorted(claimed, key=lambda c: (c.channel, c.id)), key=lambda c: c.channel)
                in_flight.append([self._hand_out(list(group)) for _, group in by_channel])
                while len(in_flight) > IN_FLIGHT:
                    self._record(in_flight.popleft())
            while in_flight:
                self._record(in_flight.popleft())
        except BaseException as exc:  # noqa: BLE001 - for close() to raise; unrecorded claims run out
            self._error = exc

    def _batches(self):
        """Batches of at most BATCH ids from what `add` hands in; a smaller one as soon as
        nothing more is waiting, so a few messages never wait for more to come."""
        pending: list[int] = []
        while True:
            try:
                item = self._waiting.get(block=not pending)
            except queue.Empty:
                item = _FLUSH
            if item is None or item is _FLUSH:
                if pending:
                    yield pending
                    pending = []
                if item is None:
                    return
                continue
            pending.extend(item)
            while len(pending) >= BATCH:
                yield pending[:BATCH]
                pending = pending[BATCH:]

    def _hand_out(self, group: list[Claimed]) -> Future:
        """One sender posts a channel's messages of this batch in order, after that channel's
        messages of earlier batches (still being posted, maybe) and only if they went out."""
        channel = group[0].channel
        future = self._pool.submit(self._post_in_order, group, self._tails.get(channel))
        self._tails[channel] = future
        return future

    def _record(self, futures: list[Future]) -> None:
        posted = []
        for future in futures:
            posted.extend(future.result()[0])
        self._sender.record_posted(posted)
        for channel, tail in list(self._tails.items()):
            if tail.done() and tail in futures:
                del self._tails[channel]

    # -- a sender thread -----------------------------------------------------------------------

    def _post_in_order(self, group: list[Claimed], before: Future | None):
        """(posts to record, None if every message went out, else when the first that did not
        is tried again: the later ones are held back until then, so it is still first)."""
        hold_until = before.result()[1] if before is not None else None
        posted = []
        for claimed in group:
            if hold_until is not None:
                self._count(self._sender.give_back(claimed, "an earlier message to its channel has not gone out",
                                                   hold_until))
                continue
            outcome, posting = self._sender.deliver(claimed)
            self._count(outcome)
            if posting is None:
                hold_until = self._sender.now() + retry_delay(claimed.attempts)
            else:
                posted.append((claimed, posting))
        return posted, hold_until

    def _count(self, outcome: str, n: int = 1, report: bool = True) -> None:
        if n <= 0:
            return
        with self._lock:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + n
        if report:
            metrics.OUTBOX_OUTCOMES.labels(outcome).inc(n)

