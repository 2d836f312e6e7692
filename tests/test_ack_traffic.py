"""After-ack work waits for a lull in the front door's requests, but never past its deadline."""

from __future__ import annotations

from bot.ack_traffic import MAX_DEFER_SECONDS, QUIET_SECONDS, AckTraffic


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.on_sleep = None

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep()


def test_with_nobody_in_the_door_work_runs_once_the_last_request_is_quiet_for_a_moment():
    clock = Clock()
    traffic = AckTraffic(clock=clock, sleep=clock.sleep)
    with traffic.serving():
        pass
    left = clock.now
    assert traffic.wait_for_lull(clock.now) is True
    assert QUIET_SECONDS <= clock.now - left < QUIET_SECONDS + 0.01


def test_work_waits_while_requests_are_in_the_door_and_runs_when_they_leave():
    clock = Clock()
    traffic = AckTraffic(clock=clock, sleep=clock.sleep)
    request = traffic.serving()
    request.__enter__()
    handed_over = clock.now

    def leave_after_a_while():
        if clock.now - handed_over >= 0.3 and request is not None:
            request.__exit__(None, None, None)
            clock.on_sleep = None

    clock.on_sleep = leave_after_a_while
    assert traffic.wait_for_lull(handed_over) is True
    assert 0.3 <= clock.now - handed_over < 0.3 + QUIET_SECONDS + 0.01


def test_traffic_that_never_pauses_holds_work_back_no_longer_than_its_deadline():
    clock = Clock()
    traffic = AckTraffic(clock=clock, sleep=clock.sleep)
    with traffic.serving():
        handed_over = clock.now
        assert traffic.wait_for_lull(handed_over) is False
        assert MAX_DEFER_SECONDS <= clock.now - handed_over < MAX_DEFER_SECONDS + 0.01


def test_a_child_process_view_shares_the_counts():
    parent = AckTraffic()
    child = AckTraffic(shared=parent.shared)
    with parent.serving():
        assert child.shared[0] == 1
    assert child.shared[0] == 0


def test_work_waiting_for_the_same_lull_starts_in_the_order_it_began_waiting():
    import threading
    import time

    traffic = AckTraffic()
    started: list[int] = []
    request = traffic.serving()
    request.__enter__()
    threads = []
    for index in range(6):
        thread = threading.Thread(target=lambda i=index: (traffic.wait_for_lull(traffic.now()), started.append(i)))
        thread.start()
        threads.append(thread)
        while len(traffic._waiting) < index + 1:  # each one waiting before the next comes
            time.sleep(0.001)
    request.__exit__(None, None, None)
    for thread in threads:
        thread.join(timeout=10)
    assert started == list(range(6))


def test_once_the_door_is_closed_work_stuck_behind_a_dead_process_requests_runs_at_once():
    # A SIGKILLed bot leaves its in-flight requests counted for ever; its worker closes the door.
    clock = Clock()
    traffic = AckTraffic(clock=clock, sleep=clock.sleep)
    request = traffic.serving()
    request.__enter__()                    # never leaves (kept: collected, it would leave)
    handed_over = clock.now
    clock.on_sleep = lambda: traffic.close_door() if clock.now - handed_over >= 0.1 else None
    assert traffic.wait_for_lull(handed_over) is False
    assert clock.now - handed_over < 0.1 + 0.01        # not the 5 s deadline
    assert traffic.wait_for_lull(clock.now) is False and clock.now - handed_over < 0.1 + 0.01
