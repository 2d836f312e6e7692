"""The work after an ack runs at a lower OS priority than the acks (bot.after_ack.NICENESS)."""

from __future__ import annotations

import os
import threading

from bot.after_ack import NICENESS, AfterAck


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_after_ack_threads_run_nicer_than_the_thread_that_hands_work_over():
    after_ack = AfterAck(workers=2)
    try:
        seen = after_ack.submit(_niceness).result(timeout=10)
    finally:
        after_ack.executor.shutdown(wait=True)
    assert seen == min(19, _niceness() + NICENESS)
    assert _niceness() < seen  # the caller's own priority is left as it was
