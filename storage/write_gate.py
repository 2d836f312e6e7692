"""SQLite's writers, queued in the process, with the ones an acknowledgement waits on first.

SQLite lets one transaction write at a time. Its own busy handler makes a waiting writer sleep
and retry (1, 2, 5 … 100 ms), so under load an unlucky writer keeps losing to newcomers: with
16 engineers answering at once, an answer's ack waited over a second behind the work that
follows other answers' acks (benchmarks/answer_ack.py). Within one process, writers instead wait
here, in order, and a writer marked urgent (`urgent_writes()`: the INSERT or save that stands
between Slack and its 200) goes before every other waiting writer. Across processes SQLite's
busy handler still decides; PostgreSQL needs none of this.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Iterator

_urgency = threading.local()


@contextmanager
def urgent_writes() -> Iterator[None]:
    """Mark the write transactions this thread begins inside as urgent."""
    before = getattr(_urgency, "on", False)
    _urgency.on = True
    try:
        yield
    finally:
        _urgency.on = before


def is_urgent() -> bool:
    return getattr(_urgency, "on", False)


# A background writer that has waited this long goes next even if urgent ones are queued:
# urgency reorders the queue, it must not starve the work that follows every ack.
MAX_BYPASS_SECONDS = 0.25


class WriteGate:
    """One writer at a time, first come first served, urgent ones before the rest (but never
    before a background writer that has waited MAX_BYPASS_SECONDS)."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._held = False
        self._urgent: deque[threading.Event] = deque()
        self._normal: deque[tuple[float, threading.Event]] = deque()

    def acquire(self, urgent: bool, timeout: float) -> bool:
        with self._lock:
            if not self._held and not self._urgent and not (self._normal and not urgent):
                self._held = True
                return True
            turn = threading.Event()
            entry = turn if urgent else (self._clock(), turn)
            (self._urgent if urgent else self._normal).append(entry)
        if turn.wait(timeout):
            return True  # release() handed the gate to us
        with self._lock:
            if turn.is_set():
                return True  # handed over just as we gave up
            (self._urgent if urgent else self._normal).remove(entry)
            return False

    def release(self) -> None:
        with self._lock:
            overdue = self._normal and self._clock() - self._normal[0][0] >= MAX_BYPASS_SECONDS
            if self._urgent and not overdue:
                self._urgent.popleft().set()  # the gate passes straight to the next writer
            elif self._normal:
                self._normal.popleft()[1].set()
            else:
                self._held = False
