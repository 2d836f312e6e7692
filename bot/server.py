"""Serving Slack's HTTP requests in production: Bolt's WSGI adapter under waitress.

Bolt's built-in `app.start()` server is documented as development-only; waitress is a
production WSGI server with no C dependencies. `GET /healthz` answers readiness probes.
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

logger = logging.getLogger(__name__)
HEALTH_PATH = "/healthz"


def make_wsgi_app(app: App, is_ready: Callable[[], bool]) -> Callable:
    """WSGI app: `POST /slack/events` to Bolt, `GET /healthz` to the readiness check."""
    slack = SlackRequestHandler(app, path="/slack/events")

    def wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            try:
                ready = is_ready()
            except Exception:  # noqa: BLE001 - a failing probe means "not ready", with the reason logged
                logger.exception("Readiness check failed")
                ready = False
            status, body = ("200 OK", b"ok\n") if ready else ("503 Service Unavailable", b"not ready\n")
            start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
            return [body]
        return slack(environ, start_response)

    return wsgi


def serve_http(app: App, port: int, is_ready: Callable[[], bool], host: str = "0.0.0.0", threads: int = 8) -> None:
    from waitress import serve

    logger.info("Listening for Slack requests on http://%s:%d/slack/events", host, port)
    serve(make_wsgi_app(app, is_ready), host=host, port=port, threads=threads, ident="growth-bot")


def serve_socket_mode(app: App, app_token: str) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    logger.info("Connecting to Slack in Socket Mode")
    SocketModeHandler(app, app_token).start()
