"""The Slack Web API clients, pointed at `SLACK_API_URL` and polite about rate limits.

Neither retries a 5xx, a timeout or a dropped connection: those can come *after* Slack did the
work, and a blind retry of a post is a message sent twice. Messages the bot sends on its own go
through the outbox (bot.outbox), which looks for an earlier post by its metadata first.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler


def make_web_client(token: str | None, base_url: str, rate_limit_handler: RetryHandler | None = None) -> WebClient:
    """Bolt's client (views, ephemeral answers, look-ups): waits out 429 `Retry-After`."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=15,
        retry_handlers=[rate_limit_handler or RateLimitErrorRetryHandler(max_retry_count=5)],
    )


def make_poster_client(token: str | None, base_url: str) -> WebClient:
    """The outbox's client: a 429 waits `Retry-After` (nothing was posted); nothing else is retried."""
    return make_web_client(token, base_url)
