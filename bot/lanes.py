"""Work in lanes: items of one lane run one after another, in the order given; lanes side by side.

After-ack work for one engineer must not overtake itself: a thread reply and its edit, or a
modal's save and a second save right after, handed over a moment apart and run side by side,
could be applied in either order (the reply's revision lost, the older answers winning). Work of
different engineers has no order to keep and runs on as many threads as the pool has.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any, Callable

Work = Callable[[], Any]
logger = logging.getLogger(__name__)


class Lanes:
    def __init__(self, submit: Callable[..., Any]):
        # `submit(fn, *args)` runs fn on a pool thread (an executor's submit).
        self._submit = submit
        self._lock = threading.Lock()
        self._waiting: dict[str, deque[Work]] = {}

    def run(self, lane: str, work: Work) -> None:
        """Run `work()` on the pool once everything handed over earlier in `lane` has run."""
        with self._lock:
            waiting = self._waiting.get(lane)
            if waiting is not None:  # the lane's runner picks it up when it is done
                waiting.append(work)
                return
            self._waiting[lane] = deque()
        try:
            self._submit(self._drain, lane, work)
        except BaseException:
            # The pool refused (shut down): nobody runs this lane, so forget it.
            with self._lock:
                del self._waiting[lane]
            raise

    def _drain(self, lane: str, work: Work | None) -> None:
        while work is not None:
            try:
                work()
            except BaseException:  # noqa: BLE001 - even SystemExit: a pool thread would only swallow it, and the lane stalled
                logger.exception("Work in lane %s failed; the lane goes on", lane)
            with self._lock:
                waiting = self._waiting[lane]
                if waiting:
                    work = waiting.popleft()
                else:
                    del self._waiting[lane]
                    return
            # The lane's next item goes to the back of the pool's queue, behind other lanes' work:
            # looping here, one engineer's backlog (a flood of Saves) kept this thread to itself,
            # and as many such lanes as the pool has threads held everyone else's answers.
            try:
                self._submit(self._drain, lane, work)
                return
            except RuntimeError:
                pass  # the pool takes no new work (shutting down, SIGTERM): finish the lane here
