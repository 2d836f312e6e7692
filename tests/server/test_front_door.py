"""The front door: what is not Slack's is refused cheaply, before anything parses it or logs it."""

from __future__ import annotations

import logging
import socket
import time
import urllib.request
from urllib.parse import urlsplit

import pytest

from bot.server import MAX_BODY_BYTES
from tests import slack_requests as req
from tests.running_bot import SIGNING_SECRET

MARKER = "SECRET-BODY-MARKER"
GARBAGE = [
    ("payload=notjson", req.FORM),
    ("payload=null", req.FORM),
    ("payload=" + MARKER, req.FORM),
    ("{broken", req.JSON),
    ("[1]", req.JSON),
    ("null", req.JSON),
    ("", req.FORM),
    (f"text=hi%0A2026-12-03 06:00:00,000 INFO growth_bot: {MARKER}", req.FORM),
]


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url + "/slack/events", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _raw(url: str, head: str, chunks, timeout: float = 10) -> bytes:
    """Send `head` then `chunks` over a socket until the server answers or closes; the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(head.encode())
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the server answered and closed while we were still sending: what we want
        answer = b""
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        except OSError:
            pass
    return answer


def _no_traceback(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("body, content_type", GARBAGE)
def test_unsigned_garbage_is_401_without_a_traceback_or_its_body_in_the_log(running_bot, caplog, body, content_type):
    caplog.set_level(logging.DEBUG)
    status, text = _post(running_bot.url, body.encode(), {"Content-Type": content_type})
    assert status == 401
    assert "invalid request" in text
    _no_traceback(caplog)
    assert MARKER not in caplog.text and "notjson" not in caplog.text


@pytest.mark.parametrize("timestamp", ["abc", "", "-1", "²", "1e9", "9" * 40, str(int(time.time()) - 3600)])
def test_a_bad_timestamp_is_401(running_bot, caplog, timestamp):
    caplog.set_level(logging.DEBUG)
    body, content_type = req.slash_command(text="senior")
    headers = req.sign(body, SIGNING_SECRET, content_type=content_type)
    headers["X-Slack-Request-Timestamp"] = timestamp
    assert _post(running_bot.url, body.encode(), headers)[0] == 401
    _no_traceback(caplog)


def test_bytes_that_are_not_utf8_are_401(running_bot, caplog):
    caplog.set_level(logging.DEBUG)
    headers = req.sign("x", SIGNING_SECRET, content_type=req.FORM)
    assert _post(running_bot.url, b"payload=\xff\xfe\x80" + MARKER.encode(), headers)[0] == 401
    _no_traceback(caplog)
    assert MARKER not in caplog.text


@pytest.mark.parametrize("body, content_type", GARBAGE[:5])
def test_signed_garbage_is_400_not_500(running_bot, caplog, body, content_type):
    """Only someone holding the signing secret can send these; still no crash."""
    caplog.set_level(logging.DEBUG)
    status, _, _ = running_bot.post(body, content_type)
    assert status in (400, 401) or (status == 200 and body == "")
    _no_traceback(caplog)
    assert MARKER not in caplog.text


def test_a_20_mb_request_is_refused_by_its_length_before_it_is_read(running_bot, caplog):
    caplog.set_level(logging.DEBUG)
    size = 20 * 1024 * 1024
    head = (f"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: {req.FORM}\r\n"
            f"Content-Length: {size}\r\n\r\n")
    chunk = (MARKER + "\n") .encode() * 4096
    started = time.monotonic()
    answer = _raw(running_bot.url, head, (chunk for _ in range(size // len(chunk) + 1)))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 5
    assert MARKER not in caplog.text
    assert len(caplog.text) < 10_000
    # The bot still answers Slack afterwards.
    assert running_bot.command("/ladder senior").status == 200


def test_a_chunked_request_is_refused_once_it_grows_past_the_limit(running_bot, caplog):
    caplog.set_level(logging.DEBUG)
    head = (f"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: {req.FORM}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    data = (MARKER * 1000).encode()
    chunk = f"{len(data):x}\r\n".encode() + data + b"\r\n"
    answer = _raw(running_bot.url, head, (chunk for _ in range(3 * MAX_BODY_BYTES // len(data))))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert MARKER not in caplog.text


def test_a_body_at_the_limit_is_read_and_checked(running_bot, caplog):
    caplog.set_level(logging.DEBUG)
    body = "payload=" + "x" * (MAX_BODY_BYTES - len("payload="))
    assert _post(running_bot.url, body.encode(), {"Content-Type": req.FORM})[0] == 401
    head = (f"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: {req.FORM}\r\n"
            f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n")
    assert _raw(running_bot.url, head, [(body + "x").encode()]).startswith(b"HTTP/1.1 413")
    assert "x" * 100 not in caplog.text


def test_a_refusal_is_one_line_with_the_reason_and_size(running_bot, caplog):
    caplog.set_level(logging.INFO, logger="bot.server")
    _post(running_bot.url, b"payload=%0Aforged", {"Content-Type": req.FORM})
    refusals = [r.getMessage() for r in caplog.records if r.name == "bot.server"]
    assert refusals == ["Refused a request to /slack/events (unsigned, 17 bytes)"]


def test_signed_requests_still_get_through(running_bot):
    reply = running_bot.command("/ladder senior")
    assert reply.status == 200 and "Senior" in reply.text()


def test_other_paths_are_404(running_bot):
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(running_bot.url + "/slack/other", timeout=5)
    assert error.value.code == 404


def test_the_wsgi_app_itself_refuses_by_content_length_without_reading():
    """Under a server without waitress's limit the body is still never read."""
    import io

    from slack_bolt import App

    from bot.server import make_wsgi_app

    class Unreadable(io.RawIOBase):
        def read(self, *args):  # pragma: no cover - the point is that it is never called
            raise AssertionError("the body was read")

    app = App(signing_secret="s", token="xoxb-test", token_verification_enabled=False)
    wsgi = make_wsgi_app(app, is_ready=lambda: True)
    seen = []
    environ = {"PATH_INFO": "/slack/events", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(50 * 1024 * 1024),
               "wsgi.input": Unreadable()}
    wsgi(environ, lambda status, headers: seen.append(status))
    assert seen == ["413 Request Entity Too Large"]
    environ["CONTENT_LENGTH"] = "²"
    wsgi(environ, lambda status, headers: seen.append(status))
    assert seen[-1].startswith("400")
