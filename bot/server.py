"""Serving Slack's HTTP requests in production: a front door, then Bolt, under waitress.

Bolt's built-in `app.start()` server is documented as development-only; waitress is a
production WSGI server with no C dependencies. `GET /healthz` answers readiness probes and
`GET /metrics` serves bot.metrics in Prometheus text format.

The front door stands before Bolt because Bolt parses a body before it checks the signature:
an unsigned `payload=null` was a 500 with a traceback, and Bolt logs the whole body of every
request it refuses. Here a body over `MAX_BODY_BYTES` is refused by its Content-Length before
it is read (waitress enforces the same limit while reading a chunked one), and the signature
is checked on the raw bytes before anything looks inside them. A refusal is logged in one line
that names the reason and the size, never the content.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Callable, Iterable
from urllib.parse import parse_qs, urlencode

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.oauth.callback_options import FailureArgs
from slack_sdk.signature import SignatureVerifier

from bot import metrics
from bot.ack_traffic import FRONT_DOOR
from bot.domain.numbers import strict_int

logger = logging.getLogger(__name__)
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
SLACK_PATH = "/slack/events"
# Slack's own payloads (a full modal's state, an event) are a few tens of kilobytes at most.
MAX_BODY_BYTES = 1024 * 1024
# waitress refuses a body of `max_request_body_size` bytes or more: with a Content-Length before
# reading it, while reading a chunked one. Pass these to `serve` / `create_server`.
WAITRESS_LIMITS = {"max_request_body_size": MAX_BODY_BYTES + 1}
_INVALID = '{"error": "invalid request"}'
# A workspace (T…) or Enterprise Grid org (E…) id, as the install page's `team` may name one.
_TEAM_ID = re.compile(r"[TE][A-Z0-9]{1,30}")


def make_wsgi_app(app: App, is_ready: Callable[[], bool], signing_secret: str | None = None) -> Callable:
    """WSGI app: `POST /slack/events` through the front door to Bolt, `GET /healthz` to the
    readiness check, `GET /metrics` to the counters; in multi-workspace mode also Bolt's
    `GET /slack/install` and `GET /slack/oauth_redirect`. `signing_secret` defaults to the one the
    App was built with; without one no request gets past the front door."""
    secret = signing_secret or getattr(app, "_signing_secret", None)
    if not secret:
        raise ValueError("the front door needs the Slack signing secret")
    verifier = SignatureVerifier(secret)

    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == SLACK_PATH and method == "POST":
            with FRONT_DOOR.serving():
                response = _front_door(app, verifier, environ)
            start_response(response.status, response.get_headers())
            return response.get_body()
        oauth = app.oauth_flow
        if oauth is not None and method == "GET" and path in (oauth.install_path, oauth.redirect_uri_path):
            response = _oauth_page(oauth, path, environ)
            start_response(response.status, response.get_headers())
            return response.get_body()
        if path == METRICS_PATH and method in ("GET", "HEAD"):
            body, content_type = metrics.render()
            start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
            return _body_for(method, body)
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            try:
                ready = is_ready()
            except Exception:  # noqa: BLE001 - a failing probe means "not ready", with the reason logged
                logger.exception("Readiness check failed")
                ready = False
            status, body = ("200 OK", b"ok\n") if ready else ("503 Service Unavailable", b"not ready\n")
            start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
            return _body_for(method, body)
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "10")])
        return [b"Not Found\n"]

    return wsgi


def _oauth_page(oauth, path: str, environ: dict) -> WsgiHttpResponse:
    """Multi-workspace mode: Bolt's "Add to Slack" page, or the end of an install (bot.installs).

    No signature here: a browser makes these requests. Bolt checks the OAuth state against its
    store and the browser's cookie, and exchanges the code with Slack itself."""
    headers = {key[5:].lower().replace("_", "-"): value for key, value in environ.items() if key.startswith("HTTP_")}
    query = environ.get("QUERY_STRING") or ""
    if path == oauth.install_path:
        request = BoltRequest(body="", query=_install_query(query), headers=headers)
        return _wsgi_response(oauth.handle_installation(request))
    request = BoltRequest(body="", query=query, headers=headers)
    try:
        response = oauth.handle_callback(request)
    except Exception as exc:  # noqa: BLE001 - Slack unreachable mid-exchange (only its API errors are Bolt's)
        # The state is spent and the code may be too: the browser gets Bolt's failure page, which
        # says to start again, instead of waitress's bare 500.
        logger.exception("Completing an install failed")
        response = oauth.failure_handler(FailureArgs(
            request=request, reason="slack_unavailable", error=exc, suggested_status_code=502,
            settings=oauth.settings, default=oauth.default_callback_options))
    return _wsgi_response(response)


def _install_query(query: str) -> str:
    """The install page's query as Bolt may see it: at most one `team`, and only a team id.

    Bolt pastes `team` into Slack's authorize URL unencoded, so `?team=T1%26scope%3D...` would
    add parameters of the caller's choosing (scopes, a redirect) to our own "Add to Slack" link."""
    teams = [team for team in parse_qs(query).get("team", []) if _TEAM_ID.fullmatch(team)]
    return urlencode({"team": teams[0]}) if teams else ""


def _wsgi_response(response) -> WsgiHttpResponse:
    return WsgiHttpResponse(status=response.status, headers=response.headers, body=response.body or "")


def _body_for(method: str, body: bytes) -> list[bytes]:
    # waitress writes whatever the app returns, HEAD or not: a probe's kept-alive connection then
    # read the body as the start of its next response.
    return [] if method == "HEAD" else [body]


def _front_door(app: App, verifier: SignatureVerifier, environ: dict) -> WsgiHttpResponse:
    """The answer to a POST to /slack/events."""
    length = strict_int(environ.get("CONTENT_LENGTH") or "0", low=0)
    if length is None:
        return _refuse(400, "bad_length", None, _INVALID)
    if length > MAX_BODY_BYTES:
        return _refuse(413, "too_large", length, '{"error": "request too large"}')
    raw = environ["wsgi.input"].read(length) if length else b""
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or ""
    signature = environ.get("HTTP_X_SLACK_SIGNATURE") or ""
    try:
        # Slack signs UTF-8; bytes that are not UTF-8 cannot carry a valid signature. The
        # timestamp is checked strictly first because SignatureVerifier int()s it unguarded.
        body = raw.decode("utf-8")
        signed = strict_int(timestamp, low=0) is not None and verifier.is_valid(body, timestamp, signature)
    except UnicodeDecodeError:
        signed = False
    if not signed:
        return _refuse(401, "unsigned", len(raw), _INVALID)
    started = time.perf_counter()
    headers = {key[5:].lower().replace("_", "-"): value for key, value in environ.items() if key.startswith("HTTP_")}
    headers["content-type"] = environ.get("CONTENT_TYPE") or ""
    try:
        request = BoltRequest(body=body, query=environ.get("QUERY_STRING") or "", headers=headers)
    except Exception as exc:  # noqa: BLE001 - signed but not a Slack payload: refuse it, don't crash
        return _refuse(400, "unparseable", len(raw), _INVALID, type(exc).__name__)
    response = app.dispatch(request)
    kind = metrics.request_kind(request.body) if isinstance(request.body, dict) else "other"
    metrics.ACK_SECONDS.labels(kind).observe(time.perf_counter() - started)
    return WsgiHttpResponse(status=response.status, headers=response.headers, body=response.body or "")


def _refuse(status: int, reason: str, size: int | None, body: str, detail: str = "") -> WsgiHttpResponse:
    metrics.REQUESTS_REFUSED.labels(reason).inc()
    # Only numbers and our own words: nothing from the request can shape this line.
    logger.info("Refused a request to %s (%s, %s bytes%s)", SLACK_PATH, reason, "?" if size is None else size,
                f", {detail}" if detail else "")
    return WsgiHttpResponse(status=status, headers={"content-type": ["application/json"]}, body=body)


def serve_http(app: App, port: int, is_ready: Callable[[], bool], host: str = "0.0.0.0", threads: int = 8,
               after_ack=None) -> None:
    from bot.graceful import serve_until_terminated

    # SIGTERM (a deploy) stops intake, finishes what was taken in, then returns (bot.graceful).
    background = [app.listener_runner.listener_executor] + ([after_ack] if after_ack is not None else [])
    serve_until_terminated(make_wsgi_app(app, is_ready), host=host, port=port, threads=threads,
                           background=background, **WAITRESS_LIMITS)


def serve_socket_mode(app: App, app_token: str) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    logger.info("Connecting to Slack in Socket Mode")
    SocketModeHandler(app, app_token).start()
