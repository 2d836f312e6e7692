"""bot.lanes: one engineer's after-ack work in the order it came, different engineers side by side."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.lanes import Lanes


def test_work_of_one_lane_runs_in_order_even_when_the_first_is_slow():
    done: list[int] = []
    first_started, release = threading.Event(), threading.Event()

    def slow_first():
        first_started.set()
        release.wait(5)
        done.append(1)

    with ThreadPoolExecutor(max_workers=4) as pool:
        lanes = Lanes(pool.submit)
        lanes.run("U1", slow_first)
        assert first_started.wait(5)
        for n in (2, 3, 4):
            lanes.run("U1", lambda n=n: done.append(n))
        release.set()
    assert done == [1, 2, 3, 4]


def test_lanes_do_not_wait_for_each_other():
    blocked, other_ran = threading.Event(), threading.Event()
    with ThreadPoolExecutor(max_workers=2) as pool:
        lanes = Lanes(pool.submit)
        lanes.run("U1", lambda: blocked.wait(5))
        lanes.run("U2", other_ran.set)
        assert other_ran.wait(5), "U2's work waited for U1's"
        blocked.set()


def test_a_failing_item_does_not_stop_its_lane():
    done: list[str] = []

    def fails():
        raise RuntimeError("boom")

    with ThreadPoolExecutor(max_workers=1) as pool:
        lanes = Lanes(pool.submit)
        gate = threading.Event()
        lanes.run("U1", lambda: gate.wait(5))
        lanes.run("U1", fails)
        lanes.run("U1", lambda: done.append("after"))
        gate.set()
    assert done == ["after"]


def test_a_lane_is_forgotten_once_empty_so_later_work_runs_again():
    done: list[int] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        lanes = Lanes(pool.submit)
        lanes.run("U1", lambda: done.append(1))
    with ThreadPoolExecutor(max_workers=2) as pool:
        lanes._submit = pool.submit
        lanes.run("U1", lambda: done.append(2))
    assert done == [1, 2]
    assert lanes._waiting == {}


def test_a_refused_submit_leaves_no_stuck_lane():
    pool = ThreadPoolExecutor(max_workers=1)
    pool.shutdown()
    lanes = Lanes(pool.submit)
    with pytest.raises(RuntimeError):
        lanes.run("U1", lambda: None)
    assert lanes._waiting == {}


def test_even_a_system_exit_in_one_item_leaves_the_lane_going():
    done: list[str] = []

    def dies():
        raise SystemExit("killed")

    with ThreadPoolExecutor(max_workers=1) as pool:
        lanes = Lanes(pool.submit)
        lanes.run("U1", dies)
        lanes.run("U1", lambda: done.append("next"))
    with ThreadPoolExecutor(max_workers=1) as pool:
        lanes._submit = pool.submit
        lanes.run("U1", lambda: done.append("later"))
    assert done == ["next", "later"]
