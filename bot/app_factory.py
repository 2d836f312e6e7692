"""Builds the Bolt `App` with every listener, and the dependencies they reach through context."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.listeners import register_listeners
from bot.services import Services
from bot.slack_client import check_slack, make_web_client


LISTENER_THREADS = 8


def create_app(services: Services, client: WebClient | None = None) -> App:
    settings = services.settings
    client = client or make_web_client(settings.slack_bot_token, settings.slack_api_url)
    # A wrong token or an unreachable Slack is one clear line (SlackUnavailable), not the
    # traceback Bolt's own auth.test below would print.
    check_slack(client, settings.slack_api_url)
    app = App(
        client=client,
        # The ack of a modal waits for one of these threads; the work after an ack runs on
        # bot.after_ack's, so these are only ever busy briefly. As many as the HTTP server's.
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="bolt-listener"),
        signing_secret=settings.slack_signing_secret,
        # Socket Mode connections are authenticated by the app token. HTTP requests are verified
        # by the front door (bot.server) before anything parses them; Bolt's own check would
        # come after parsing, and it logs the body of every request it refuses.
        request_verification_enabled=False,
        # auth.test at start-up catches a wrong token before the first user does.
        token_verification_enabled=True,
    )

    @app.use
    def provide_services(context: BoltContext, next) -> None:  # noqa: A002 - Bolt's name
        context["services"] = services
        next()

    register_listeners(app)
    return app
