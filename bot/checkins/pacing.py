"""One shared pause for a process's senders: the due runner's backoff when it is built without
the pacer (tests, tools). Production passes `bot.slack_pacing.WorkspaceBackoff`, which learns
Slack's rate per workspace and method and shares it between instances; both honour the same
`wait()` / `pause_for()` before each post.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from bot import metrics


class SharedBackoff:
    """A pause all sender threads honour before each request."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._until = 0.0
        self.rate_limited = 0

    def pause_for(self, seconds: float) -> None:
        with self._lock:
            self.rate_limited += 1
            now = self._clock()
            until = max(self._until, now + seconds)
            # Seconds added to the pause in force: their sum is how long the senders stood still.
            added = until - max(self._until, now)
            self._until = until
        metrics.SLACK_RATE_LIMITED.labels(metrics.SENDERS).inc()
        metrics.SLACK_PAUSED_SECONDS.labels(metrics.SENDERS).inc(added)

    def wait(self) -> None:
        """Return once no pause is in force (at once if none is)."""
        while True:
            with self._lock:
                until = self._until
                remaining = until - self._clock()
            if remaining <= 0:
                return
            self._sleep(remaining)
            with self._lock:
                if self._until == until:
                    # Slept out the whole pause and nobody extended it. Not re-reading the clock
                    # here also means a clock that stands still (a test's frozen time) cannot
                    # keep the senders asleep for ever.
                    return
