"""The work that follows an acknowledgement: processing a written-down event, sending the
confirmation of a saved answer. It runs on threads of its own, not Bolt's: Bolt's listener
threads are what a modal's ack waits for, and a confirmation's Slack call holds a thread for a
round trip. What is submitted here is on disk already (bot.inbox, bot.outbox): if the process
dies first, the recovery pass does it. SIGTERM waits for it (bot.graceful).
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

logger = logging.getLogger(__name__)
# Enough to overlap Slack round trips; on SQLite the writes queue in the write gate anyway.
WORKERS = 4


class AfterAck:
    def __init__(self, workers: int = WORKERS):
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="after-ack")

    def submit(self, work: Callable[..., Any], *args: Any) -> Future:
        return self.executor.submit(_logged, work, *args)


def _logged(work: Callable[..., Any], *args: Any) -> Any:
    try:
        return work(*args)
    except Exception:  # noqa: BLE001 - the recovery pass retries; say what failed
        logger.exception("After-ack work %s failed; the recovery pass retries it", getattr(work, "__name__", work))
        return None
