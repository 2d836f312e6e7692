"""Stopping on SIGTERM: the request in hand is answered, background work finishes, nothing new
is taken in (a deploy never costs an acknowledged answer)."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.graceful import serve_until_terminated


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_stopping_answers_the_request_in_hand_and_waits_for_background_work():
    background = ThreadPoolExecutor(max_workers=1)
    started, finished_background = threading.Event(), threading.Event()

    def slow_app(environ, start_response):
        started.set()
        time.sleep(0.5)
        background.submit(lambda: (time.sleep(0.5), finished_background.set()))
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    port, stop = free_port(), threading.Event()
    server = threading.Thread(target=serve_until_terminated, args=(slow_app,),
                              kwargs={"host": "127.0.0.1", "port": port, "threads": 2, "background": [background],
                                      "stop": stop})
    server.start()
    replies: list[bytes] = []
    client = threading.Thread(target=lambda: replies.append(
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # wait for the listener
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.02)
    client.start()
    assert started.wait(5)
    stop.set()                                   # SIGTERM arrives mid-request
    client.join(5)
    server.join(10)
    assert replies == [b"ok"]                    # the request in hand got its answer
    assert finished_background.is_set()          # and what it started after the ack ran to the end
    assert not server.is_alive()
    with pytest.raises(OSError):                 # nothing new is taken in
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
