"""Hostile clients at the front door: what the HTTP layer answers besides Slack's requests."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest


def _exchange(url: str, request: bytes, until: int) -> bytes:
    """Send `request` on one kept-alive connection; read until `until` responses' heads arrived."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(request)
        answer, deadline = b"", time.monotonic() + 5
        while answer.count(b"HTTP/1.1 ") < until and time.monotonic() < deadline:
            answer += sock.recv(65536)
        time.sleep(0.2)  # anything sent after the last head arrives too
        sock.setblocking(False)
        try:
            answer += sock.recv(65536)
        except BlockingIOError:
            pass
    return answer


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
def test_a_head_request_gets_headers_only_on_a_kept_alive_connection(running_bot, path):
    # A load balancer probing with HEAD on a kept-alive connection reads the next response
    # right after the headers: a body sent anyway is read as the start of that response.
    head = f"HEAD {path} HTTP/1.1\r\nHost: bot\r\n\r\n".encode()
    get = b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n"
    answer = _exchange(running_bot.url, head + get, until=2)
    first, _, rest = answer.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200 ")
    assert rest.startswith(b"HTTP/1.1 200 "), rest[:80]
    assert rest.endswith(b"\r\n\r\nok\n")
