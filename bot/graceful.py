"""Serving until SIGTERM, then stopping without costing anyone an answer.

Every deploy and every rolling restart sends SIGTERM. waitress's own `serve` dies on it
mid-request; here the bot instead stops accepting connections, lets the requests it has
(including ones whose body is still arriving) run to their response, then waits for Bolt's
background work, i.e. what runs after an ack, and only then returns. A request that arrives
after the listener closed is refused at the TCP level, never acknowledged, so Slack retries it
against another instance. What an ack covers is on disk already (bot.inbox); the wait only
saves the next process the recovery pass.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from concurrent.futures import Executor
from typing import Callable, Sequence

from waitress import wasyncore
from waitress.server import create_server

logger = logging.getLogger(__name__)
# Kubernetes waits 30 s between SIGTERM and SIGKILL by default: finish well inside it.
DRAIN_SECONDS = 20.0


def serve_until_terminated(wsgi_app: Callable, *, host: str, port: int, threads: int,
                           background: Sequence[Executor] = (), drain_seconds: float = DRAIN_SECONDS,
                           stop: threading.Event | None = None, **adjustments) -> None:
    """Serve `wsgi_app` until SIGTERM or SIGINT (or `stop` is set), then drain and return.

    `background`: executors of the work requests start after their response, drained in order
    (Bolt's listeners first: they hand work on to the after-ack pool)."""
    server = create_server(wsgi_app, host=host, port=port, threads=threads, ident="growth-bot", **adjustments)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    logger.info("Listening for Slack requests on http://%s:%s/slack/events", host, server.effective_port)
    while not stop.is_set():
        server.asyncore.loop(timeout=0.2, map=server._map, count=1)
    logger.info("Stopping: no new requests; finishing the ones in hand")
    wasyncore.dispatcher.close(server)  # the listening socket only: connections in hand stay open
    deadline = time.monotonic() + drain_seconds
    while _busy(server) and time.monotonic() < deadline:
        server.asyncore.loop(timeout=0.05, map=server._map, count=1)
    server.task_dispatcher.shutdown(cancel_pending=False, timeout=max(0.0, deadline - time.monotonic()))
    for executor in background:
        _wait_for(executor, max(1.0, deadline - time.monotonic()))
    server.trigger.close()
    wasyncore.close_all(server._map)
    logger.info("Stopped")


def _busy(server) -> bool:
    """A request being received, run or answered on any connection."""
    return any(channel.request is not None or channel.requests or channel.total_outbufs_len
               for channel in list(server.active_channels.values()))


def _wait_for(executor: Executor, seconds: float) -> None:
    done = threading.Thread(target=executor.shutdown, kwargs={"wait": True}, daemon=True)
    done.start()
    done.join(seconds)
    if done.is_alive():
        logger.warning("Background work still running after %.0f s; the next start finishes it", seconds)
