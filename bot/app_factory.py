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
    common = dict(
        client=client,
        # The ack of a modal waits for one of these threads; the work after an ack runs on
        # bot.after_ack's, so these are only ever busy briefly. As many as the HTTP server's.
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="bolt-listener"),
        signing_secret=settings.slack_signing_secret,
        # Socket Mode connections are authenticated by the app token. HTTP requests are verified
        # by the front door (bot.server) before anything parses them; Bolt's own check would
        # come after parsing, and it logs the body of every request it refuses.
        request_verification_enabled=False,
    )
    if settings.multi_workspace:
        app = _multi_workspace_app(services, common)
    else:
        # A wrong token or an unreachable Slack is one clear line (SlackUnavailable), not the
        # traceback Bolt's own auth.test below would print.
        check_slack(client, settings.slack_api_url)
        # auth.test at start-up catches a wrong token before the first user does.
        app = App(**common, token_verification_enabled=True)

    @app.use
    def provide_services(context: BoltContext, next) -> None:  # noqa: A002 - Bolt's name
        context["services"] = services
        next()

    register_listeners(app)
    if settings.multi_workspace:
        # Registered here, not in register_listeners: these events only mean something when
        # the app is installed through OAuth (single-workspace mode has no installation to drop).
        from bot.listeners import workspace_events

        workspace_events.register(app)
    return app


def _multi_workspace_app(services: Services, common: dict) -> App:
    """Bolt's OAuth flow and per-request authorize from the installation store (bot.installs).

    The store is also given to the App itself so that Bolt builds `authorize` with the App's
    client: token rotation (the refresh exchange) then goes to SLACK_API_URL too."""
    from bot.installs import oauth_settings
    from bot.workspace_lifecycle import note_workspace

    settings, store = oauth_settings(services.settings, services.uow)
    app = App(**common, oauth_settings=settings, installation_store=store)
    seen: set[str] = set()

    @app.use
    def remember_workspace(context: BoltContext, next) -> None:  # noqa: A002 - Bolt's name
        # Which Enterprise Grid org a workspace belongs to is how an org-wide install's token is
        # found for the sends to it; recorded once per workspace and process.
        # Not for app_uninstalled / tokens_revoked, which Bolt lets through unauthorized: a
        # workspace that never installed would be recorded as installed.
        if context.team_id and context.bot_token and context.team_id not in seen:
            note_workspace(services, context.team_id, context.enterprise_id)
            seen.add(context.team_id)
        next()

    return app
