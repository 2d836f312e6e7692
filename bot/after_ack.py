"""The work that follows an acknowledgement: processing a written-down event, sending the
confirmation of a saved answer. What is handed over here is on disk already (bot.inbox,
bot.outbox): if the process dies first, the recovery pass does it. SIGTERM waits for it
(bot.graceful drains `executor`).

Where it runs: `start_worker` (called by bot.runtime.run_bot) moves the two kinds of work every
answer leaves, `process_inbox` and `send`, into a worker process of their own. They cost
several times an ack's CPU (a transaction or three, a Slack call), and in the bot's process
they held the interpreter (the GIL) that every ack needs: at 16 concurrent answers, acks queued
behind them (benchmarks/answer_ack.py). The worker is handed ids only, through a pipe; it
builds its own services from the same settings and exits when the pipe closes (the bot drained
it, or died). On PostgreSQL only (see `start_worker`). Without a worker (SQLite, or the worker
gone), the same work runs here, on threads of this process (not Bolt's: a modal's ack waits for
Bolt's threads). Any other callable (`submit`) always runs here.

Either way all of it waits for a lull in the front door's requests (bot.ack_traffic: at most
MAX_DEFER_SECONDS), inbox items one engineer at a time in the order they came (bot.lanes), and
all of it runs at a lower OS priority (NICENESS): it is what nobody is waiting on, and on
a busy machine it ran beside the acks as their equal. On PostgreSQL the worker process took 50 s
of CPU to the bot's 20 s over one benchmark run on 2 cores, and a modal answer, 3.3 ms of CPU,
waited 60 ms for a core (benchmarks/answer_ack.py). Niceness only orders who runs when the
cores are all busy: on an idle machine the work runs as fast as before.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, Callable

from bot import ack_traffic
from bot.lanes import Lanes

logger = logging.getLogger(__name__)
# Enough to overlap Slack round trips; on SQLite the writes queue in the write gate anyway.
WORKERS = 4
INBOX, SEND, _STOP = "inbox", "send", None
# How long the worker may take to open the database before the bot gives up on it.
WORKER_START_SECONDS = 30.0
# How much nicer than the bot (os.nice's scale, 19 at most) the after-ack threads and worker run.
NICENESS = 10


class AfterAck:
    def __init__(self, workers: int = WORKERS):
        self.executor = _Executor(self, max_workers=workers, thread_name_prefix="after-ack",
                                  initializer=lower_priority)
        self._lanes = Lanes(self.executor.submit)
        self._worker: _Worker | None = None

    def submit(self, work: Callable[..., Any], *args: Any) -> Future:
        """Run `work(*args)` on this process's after-ack threads, in a lull between requests
        (bot.ack_traffic: at most MAX_DEFER_SECONDS late)."""
        return self.executor.submit(_in_a_lull, ack_traffic.FRONT_DOOR.now(), work, *args)

    def process_inbox(self, services, item_id: int, lane: str) -> None:
        """Process inbox item `item_id` (bot.inbox.intake.process) after the ack, in a lull, once
        the items handed over before it in `lane` (one engineer's) are done."""
        if not self._hand_over(INBOX, item_id, lane):
            from bot.inbox.intake import process

            self._lanes.run(lane, partial(_in_a_lull, ack_traffic.FRONT_DOOR.now(), process, services, item_id))

    def send(self, services, message_id: int) -> None:
        """Send outbox message `message_id` after the ack."""
        if not self._hand_over(SEND, message_id):
            self.submit(services.outbox.send, message_id)

    def start_worker(self, services) -> bool:
        """Start the worker process for `process_inbox` and `send`, and wait until it has opened
        the database (a second or two); False, the work staying in this process, on SQLite or if
        the worker did not start.

        Not on SQLite: there the one writer is ordered by this process's write gate, acks first
        (storage.write_gate), and between two processes only SQLite's busy handler decides, which
        sleeps up to 100 ms between tries. Tried (benchmarks/answer_ack.py, 16 clients): thread
        reply acks waited up to a second for the worker's transactions, and once past the 5 s busy
        timeout; yielding to a shared count of the bot's urgent writes, or an flock around every
        write transaction, did not bring it below the in-process figures."""
        if services.uow.engine.dialect.name != "postgresql":
            return False
        self._worker = _Worker(services.settings)
        return self._worker.start()

    @property
    def worker_pid(self) -> int | None:
        """The worker process's pid once it takes the work, else None."""
        worker = self._worker
        return worker._process.pid if worker is not None and worker._alive else None

    def _hand_over(self, kind: str, item_id: int, lane: str | None = None) -> bool:
        worker = self._worker
        return worker is not None and worker.put(kind, item_id, lane)

    def _drain_worker(self) -> None:
        if self._worker is not None:
            self._worker.stop()


class _Executor(ThreadPoolExecutor):
    """The after-ack threads; shutting them down (bot.graceful, on SIGTERM) also lets the worker
    process finish what it was handed and waits for it to exit."""

    def __init__(self, owner: AfterAck, **kwargs: Any):
        super().__init__(**kwargs)
        self._owner = owner

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        if wait:
            self._owner._drain_worker()


class _Worker:
    """The parent's end: a feeder thread writes ids to the pipe, so a hand-over never blocks
    the listener thread that makes it, even while the worker is busy."""

    def __init__(self, settings):
        self._settings = settings
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._alive = False
        self._process = None
        self._feeder: threading.Thread | None = None

    def start(self) -> bool:
        context = multiprocessing.get_context("spawn")
        receive, send = context.Pipe(duplex=False)
        ready, started = context.Pipe(duplex=False)
        # A daemon: if this process exits without draining it (a crash), it is terminated, and
        # what it had is on disk for the next start's recovery pass.
        self._process = context.Process(target=_worker_main,
                                        args=(self._settings, receive, started, ack_traffic.FRONT_DOOR.shared),
                                        name="growth-bot-after-ack", daemon=True)
        self._process.start()
        receive.close()  # the child has its own: it sees EOF once this process lets go of `send`
        started.close()
        try:
            if not ready.poll(WORKER_START_SECONDS) or ready.recv() != "ready":
                raise EOFError
        except (EOFError, OSError):
            logger.warning("The after-ack worker process did not start (exit code %s); its work runs in this "
                           "process", self._process.exitcode)
            self._process.kill()
            send.close()
            return False
        finally:
            ready.close()
        self._alive = True
        logger.info("After-ack work runs in worker process %d", self._process.pid)
        self._feeder = threading.Thread(target=self._feed, args=(send,), name="after-ack-feeder", daemon=True)
        self._feeder.start()
        return True

    def put(self, kind: str, item_id: int, lane: str | None) -> bool:
        if not self._alive:
            return False
        self._queue.put((kind, item_id, lane))
        return True

    def stop(self, timeout: float | None = None) -> None:
        """Hand over nothing more, let the worker finish what it has, and wait for it to exit."""
        self._alive = False
        self._queue.put(_STOP)
        if self._feeder is not None:
            self._feeder.join(timeout)
        if self._process is not None:
            self._process.join(timeout)

    def _feed(self, send) -> None:
        try:
            while (item := self._queue.get()) is not _STOP:
                send.send(item)
        except OSError:
            # The worker is gone: what it was handed is on disk, and the recovery pass finds it.
            self._alive = False
            logger.error("The after-ack worker process exited (%s); its work runs in this process from now on",
                         self._process.exitcode)
        finally:
            send.close()


def _worker_main(settings, receive, started, front_door) -> None:
    """The worker process: the same services as the bot, ids in, work done (in the lulls of the
    bot's front door, whose counts `front_door` shares), until EOF."""
    ack_traffic.FRONT_DOOR = ack_traffic.AckTraffic(shared=front_door)
    # A terminal's Ctrl-C reaches the whole process group: the bot drains the worker instead.
    # SIGTERM is left as it is, so that a kill of the whole group still stops it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lower_priority()  # this thread's; the pool's threads inherit it
    from bot.inbox.intake import process
    from bot.runtime import build_services, configure_logging

    configure_logging(settings.log_level)
    services = build_services(settings)
    started.send("ready")
    started.close()
    work = {INBOX: lambda item_id: process(services, item_id), SEND: services.outbox.send}
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="after-ack") as pool:
        lanes = Lanes(pool.submit)
        while True:
            try:
                kind, item_id, lane = receive.recv()
            except (EOFError, OSError):
                # The bot drained us, or died: with it gone (SIGKILL leaves its requests counted)
                # no lull will come, so what is queued runs now and the worker exits.
                ack_traffic.FRONT_DOOR.close_door()
                break
            job = partial(_in_a_lull, ack_traffic.FRONT_DOOR.now(), work[kind], item_id)
            if kind == INBOX:  # one engineer's in order: see AfterAck.process_inbox
                lanes.run(lane, job)
            else:
                pool.submit(job)
    services.session_factory.kw["bind"].dispose()


def lower_priority() -> None:
    """Make the calling thread NICENESS nicer than it is (on Linux a thread has a niceness of its
    own, and the threads it starts inherit it); nothing where the OS does not allow it."""
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + NICENESS))
    except (AttributeError, OSError):  # no setpriority (Windows), or not permitted
        pass


def _in_a_lull(handed_over: float, work: Callable[..., Any], *args: Any) -> Any:
    """Run `work(*args)` once the front door is quiet (or it has waited long enough), logged."""
    ack_traffic.FRONT_DOOR.wait_for_lull(handed_over)
    return _logged(work, *args)


def _logged(work: Callable[..., Any], *args: Any) -> Any:
    try:
        return work(*args)
    except Exception:  # noqa: BLE001 - the recovery pass retries; say what failed
        logger.exception("After-ack work %s failed; the recovery pass retries it", getattr(work, "__name__", work))
        return None
