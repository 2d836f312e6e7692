"""SQLite writers queue in the process, urgent ones (an ack waits on them) first, and the gate
never stays shut behind a transaction that failed."""

from __future__ import annotations

import threading
import time

import pytest

from storage.db import make_engine, make_session_factory
from storage.models import Engineer
from storage.repositories import Engineers
from storage.uow import UnitOfWork
from storage.write_gate import WriteGate, urgent_writes


def test_the_gate_serves_urgent_writers_first_then_the_others_in_order():
    gate = WriteGate()
    assert gate.acquire(urgent=False, timeout=1)
    order: list[str] = []

    def writer(name: str, urgent: bool) -> None:
        assert gate.acquire(urgent=urgent, timeout=5)
        order.append(name)
        gate.release()

    threads = []
    for name, urgent in (("n1", False), ("n2", False), ("u1", True), ("u2", True)):
        thread = threading.Thread(target=writer, args=(name, urgent))
        thread.start()
        threads.append(thread)
        time.sleep(0.05)  # queue in this order
    gate.release()
    for thread in threads:
        thread.join(5)
    assert order == ["u1", "u2", "n1", "n2"]


def test_a_writer_that_waits_too_long_gives_up_and_leaves_the_queue():
    gate = WriteGate()
    assert gate.acquire(urgent=False, timeout=1)
    assert not gate.acquire(urgent=True, timeout=0.05)
    gate.release()
    assert gate.acquire(urgent=False, timeout=0.05)  # nobody ghost-queued ahead


@pytest.fixture
def uow(sqlite_url):
    engine = make_engine(sqlite_url)
    yield UnitOfWork(make_session_factory(engine))
    engine.dispose()


def test_an_urgent_write_overtakes_the_queued_background_writes(uow):
    holding, release, order = threading.Event(), threading.Event(), []

    def holder():
        with uow.writing() as session:
            Engineers(session).get_or_create("T1", "U0")
            holding.set()
            release.wait(5)

    def write(name: str, urgent: bool) -> None:
        if urgent:
            with urgent_writes(), uow.writing() as session:
                Engineers(session).get_or_create("T1", name)
        else:
            with uow.writing() as session:
                Engineers(session).get_or_create("T1", name)
        order.append(name)

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    assert holding.wait(5)
    for name, urgent in (("UB1", False), ("UB2", False), ("UACK", True)):
        threads.append(threading.Thread(target=write, args=(name, urgent)))
        threads[-1].start()
        time.sleep(0.05)
    release.set()
    for thread in threads:
        thread.join(10)
    assert order[0] == "UACK" and sorted(order) == ["UACK", "UB1", "UB2"]
    with uow.reading() as session:
        assert session.query(Engineer).count() == 4


def test_a_failed_write_opens_the_gate_for_the_next(uow):
    with pytest.raises(RuntimeError), uow.writing() as session:
        Engineers(session).get_or_create("T1", "U1")
        raise RuntimeError("half done")
    done = threading.Event()

    def next_writer():
        with uow.writing() as session:
            Engineers(session).get_or_create("T1", "U2")
        done.set()

    threading.Thread(target=next_writer).start()
    assert done.wait(2)
    with uow.reading() as session:
        assert [e.user_id for e in session.query(Engineer)] == ["U2"]


def test_urgent_writers_never_starve_a_background_writer():
    now = [0.0]
    gate = WriteGate(clock=lambda: now[0])
    assert gate.acquire(urgent=False, timeout=1)
    got: list[str] = []

    def writer(name: str, urgent: bool) -> None:
        assert gate.acquire(urgent=urgent, timeout=5)
        got.append(name)

    background = threading.Thread(target=writer, args=("background", False))
    background.start()
    time.sleep(0.05)
    urgent = threading.Thread(target=writer, args=("urgent", True))
    urgent.start()
    time.sleep(0.05)
    now[0] = 1.0                      # the background writer has waited past its bypass allowance
    gate.release()
    background.join(5)
    assert got == ["background"]
    gate.release()
    urgent.join(5)
    assert got == ["background", "urgent"]
