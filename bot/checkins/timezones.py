"""Keeping each engineer's time zone in step with their Slack profile (moves, travel)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.schedule import zone

logger = logging.getLogger(__name__)
TZ_REFRESH_AFTER = timedelta(hours=12)


def tz_is_stale(engineer, now: datetime) -> bool:
    return engineer.tz_checked_at is None or now - engineer.tz_checked_at >= TZ_REFRESH_AFTER


def fetch_tz(client: WebClient, user_id: str) -> str | None:
    """The user's IANA time zone from `users.info`, or None if Slack would not say."""
    try:
        user = client.users_info(user=user_id).get("user") or {}
    except SlackApiError as exc:
        logger.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
        return None
    name = user.get("tz")
    return name if name and zone(name).key == name else None


def refresh_tz(engineer, client: WebClient, now: datetime, force: bool = False) -> bool:
    """Update `engineer.tz` from Slack when stale (or forced); True if it changed."""
    if not force and not tz_is_stale(engineer, now):
        return False
    name = fetch_tz(client, engineer.user_id)
    if name is None:
        return False
    engineer.tz_checked_at = now
    if name != engineer.tz:
        engineer.tz = name
        return True
    return False
