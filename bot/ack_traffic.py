"""Requests Slack is waiting on, counted at the front door, so that the work nobody waits on
(bot.after_ack's confirmations and submitted work) runs in the lulls between them.

An ack and the work it leaves behind share one interpreter: the after-ack work of one answer
(posting its confirmation) costs a few times the CPU of its ack, and
while it runs it holds the GIL that the next acks need. Niceness does not help there: the OS
orders threads, not the GIL's hand-overs. At 16 concurrent answers the acks then waited for the
work their predecessors left (benchmarks/answer_ack.py), when Slack allows an ack 3 s and the
confirmation can just as well come a moment later. So after-ack work waits until no request has
been in the front door for `QUIET_SECONDS`, and never longer than `MAX_DEFER_SECONDS` after it
was handed over: under traffic that never pauses it runs anyway, only a moment late.

The count lives in shared memory (a `multiprocessing.Array`), so the after-ack worker process on
PostgreSQL (bot.after_ack) reads the bot's front door too: the two share the machine's cores.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Callable, Iterator

QUIET_SECONDS = 0.005  # no request in the front door for this long: a lull
MAX_DEFER_SECONDS = 5.0  # the longest after-ack work waits for a lull
POLL_SECONDS = 0.002  # how often a waiting job looks again (a lock-free read of shared memory)


class AckTraffic:
    """How many requests are in the front door now, and when the last one left."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, shared=None):
        # [requests in the front door, when the last one left (clock seconds)]; one lock for both.
        # `shared` is another process's (its `shared` attribute, handed to a child process).
        self.shared = shared if shared is not None else \
            multiprocessing.get_context("spawn").Array("d", [0.0, float("-inf")])
        self._clock = clock
        self._sleep = sleep
        self._order = threading.Condition()  # the waiters of this process, first come first out
        self._waiting: deque[object] = deque()
        self._door_closed = threading.Event()

    def close_door(self) -> None:
        """No lull to wait for any more: the process whose door this counts is gone (a SIGKILLed
        bot leaves its in-flight requests counted for ever), so every wait, now and later, ends."""
        self._door_closed.set()

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Count one request for as long as the front door holds it."""
        with self.shared.get_lock():
            self.shared[0] += 1
        try:
            yield
        finally:
            with self.shared.get_lock():
                self.shared[0] -= 1
                self.shared[1] = self._clock()

    def wait_for_lull(self, handed_over: float) -> bool:
        """Block until the front door has been empty for QUIET_SECONDS (True), or until
        MAX_DEFER_SECONDS after `handed_over` (a clock reading) have passed (False).

        Waiters leave in the order they came (this process's): jobs waiting for the same lull
        would otherwise all start at once in any order, and a thread reply's edit was then
        processed before the reply itself (its revision lost)."""
        me = object()
        with self._order:
            self._waiting.append(me)
            while self._waiting[0] is not me:
                self._order.wait()
        try:
            return self._poll_for_lull(handed_over)
        finally:
            with self._order:
                self._waiting.popleft()
                self._order.notify_all()

    def _poll_for_lull(self, handed_over: float) -> bool:
        deadline = handed_over + MAX_DEFER_SECONDS
        while True:
            in_door, last_left = self.shared[0], self.shared[1]  # a torn read only costs a poll
            now = self._clock()
            if self._door_closed.is_set():
                return False
            if in_door <= 0 and now - last_left >= QUIET_SECONDS:
                return True
            if now >= deadline:
                return False
            wait = QUIET_SECONDS - (now - last_left) if in_door <= 0 else POLL_SECONDS
            self._sleep(max(0.0005, min(wait, POLL_SECONDS, deadline - now)))

    def now(self) -> float:
        return self._clock()


# The process's front door (bot.server counts into it; bot.after_ack waits on it). One per
# process: the interpreter it protects is the process's.
FRONT_DOOR = AckTraffic()
