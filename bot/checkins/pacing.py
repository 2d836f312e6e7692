"""Workspace-wide pacing for bulk sends: one shared pause whenever Slack answers 429.

Slack's rate limits are per workspace, not per thread. slack-sdk's stock handler sleeps only
the thread that got the 429 (plus up to a second of jitter) while the other senders keep
hitting the limit. Here a 429 pauses every sender until `Retry-After` has passed, then they
resume together: no request is wasted during the pause and none is dropped.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

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


class SharedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack-sdk retry handler: on 429, pause every sender for `Retry-After`, then retry."""

    def __init__(self, backoff: SharedBackoff, max_retry_count: int = 30):
        super().__init__(max_retry_count=max_retry_count)
        self.backoff = backoff

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None, error: Exception | None = None) -> None:
        if response is None:
            raise error  # type: ignore[misc]
        self.backoff.pause_for(_retry_after(response))
        self.backoff.wait()
        state.next_attempt_requested = True
        state.increment_current_attempt()


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(float(values[0]), 0.0)
            except ValueError:
                break
    return 1.0
