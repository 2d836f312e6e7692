"""The Slack Web API clients, pointed at `SLACK_API_URL` and polite about rate limits.

Neither retries a 5xx, a timeout or a dropped connection: those can come *after* Slack did the
work, and a blind retry of a post is a message sent twice. Messages the bot sends on its own go
through the outbox (bot.outbox), which looks for an earlier post by its metadata first.
"""

from __future__ import annotations

import logging
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot import metrics
from bot.settings import SettingsError
from bot.slack_pacing import PacedWebClient, Pacer


_PROBE_LOGGER = logging.getLogger(__name__ + ".start_up_check")
_PROBE_LOGGER.setLevel(logging.CRITICAL)


class SlackUnavailable(SettingsError):
    """At start-up Slack could not be reached, or it refused the token: one line saying which."""


def check_slack(client: WebClient, api_url: str) -> None:
    """Call auth.test once; raise SlackUnavailable with one clear line unless the token works."""
    # The same client with a logger of its own: slack-sdk logs a failed connection at ERROR
    # before raising, which would be a second line saying the same thing.
    probe = WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout,
                      retry_handlers=client.retry_handlers, logger=_PROBE_LOGGER)
    try:
        probe.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        if error in ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"):
            raise SlackUnavailable(
                f"Slack rejected SLACK_BOT_TOKEN (auth.test: {error}): paste the current Bot User OAuth Token "
                "(xoxb-…) from your Slack app's OAuth & Permissions page into .env.") from None
        raise SlackUnavailable(
            f"Slack's auth.test at {api_url} failed ({_first_line(error or exc.response.status_code)}): check "
            "SLACK_API_URL and SLACK_BOT_TOKEN.") from None
    except (OSError, SlackClientError) as exc:  # URLError, refused, DNS, TLS, timeout
        reason = getattr(exc, "reason", None) or exc
        raise SlackUnavailable(
            f"Cannot reach Slack at {api_url} ({type(exc).__name__}: {_first_line(reason)}): check SLACK_API_URL "
            "and this host's network.") from None


def _first_line(value: object) -> str:
    lines = str(value).splitlines()
    return lines[0][:200] if lines else ""


class CountingRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack-sdk's stock 429 handler (this thread sleeps out `Retry-After`), counted in bot.metrics."""

    def prepare_for_next_attempt(self, **kwargs) -> None:
        started = time.monotonic()
        try:
            super().prepare_for_next_attempt(**kwargs)
        finally:
            metrics.SLACK_RATE_LIMITED.labels(metrics.LISTENERS).inc()
            metrics.SLACK_PAUSED_SECONDS.labels(metrics.LISTENERS).inc(time.monotonic() - started)


def make_web_client(token: str | None, base_url: str, rate_limit_handler: RetryHandler | None = None) -> WebClient:
    """Bolt's client (views, ephemeral answers, look-ups): waits out 429 `Retry-After`."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=15,
        retry_handlers=[rate_limit_handler or CountingRateLimitRetryHandler(max_retry_count=5)],
    )


def make_poster_client(token: str | None, base_url: str, pacer: Pacer | None = None) -> WebClient:
    """The outbox's client: a 429 waits `Retry-After` (nothing was posted); nothing else is retried.

    With a `pacer` every call takes a slot of its workspace's schedule (bot.slack_pacing), the
    one the due runner's sends take too, so the outbox neither starts the 429s nor ignores the
    pause another sender's 429 began."""
    if pacer is None:
        return make_web_client(token, base_url)
    return PacedWebClient(token=token, base_url=base_url, timeout=15, retry_handlers=[], pacer=pacer)
