"""Keeping each engineer's time zone in step with their Slack profile (moves, travel)."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.checkins.plan import plan_for
from bot.domain.schedule import zone
from bot.settings import Settings
from bot.workspace_clients import for_workspace
from storage.models import Engineer
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)
TZ_REFRESH_AFTER = timedelta(hours=12)
# UTC offsets run from -12:00 to +14:00: a move can bring someone's moment this much closer.
ZONE_SPREAD = timedelta(hours=26)
# users.info look-ups per pass for time zones that may have changed (Slack tier 4: 100+/min).
TZ_REFRESHES_PER_PASS = 50


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


def zones_worth_refreshing(engineers: list[Engineer], due: list[int], now: datetime,
                           settings: Settings) -> list[Engineer]:
    """Engineers whose time zone is worth re-reading now: stale, and due now or possibly soon.

    Due now first (moved west: not yet due where they are), then by how soon their next
    moment is in the zone we know (moved east: due earlier than we think), capped per pass
    so a big fan-out never waits on hundreds of users.info calls.
    """
    due_ids = set(due)
    ranked = []
    for engineer in engineers:
        if not tz_is_stale(engineer, now):
            continue
        if engineer.id in due_ids:
            ranked.append((0, now, engineer.id, engineer))
            continue
        plan = plan_for(engineer, settings)
        slot = plan.slot(now)
        upcoming = slot.due_at if slot.due_at > now else plan.slot(slot.ends_at).due_at
        if upcoming - now <= ZONE_SPREAD:
            ranked.append((1, upcoming, engineer.id, engineer))
    ranked.sort(key=lambda item: item[:3])
    return [item[3] for item in ranked[:TZ_REFRESHES_PER_PASS]]


def _fetch_in_workspace(client: WebClient, engineer: Engineer) -> str | None:
    with for_workspace(engineer.team_id):  # asked with the engineer's own workspace's token
        return fetch_tz(client, engineer.user_id)


def refresh_zones(uow: UnitOfWork, client: WebClient, engineers: list[Engineer], now: datetime,
                  pool: Executor) -> list[Engineer]:
    """Re-read time zones from Slack, outside any transaction; returns those that changed.

    Slack is asked first and the database written after, because on SQLite an open write
    transaction would hold the lock for the length of the Slack calls.
    """
    if not engineers:
        return []
    fetched = [(engineer, pool.submit(_fetch_in_workspace, client, engineer)) for engineer in engineers]
    answers: dict[int, str | None] = {}
    for engineer, future in fetched:
        try:
            answers[engineer.id] = future.result()
        except Exception:  # noqa: BLE001 - Slack unreachable: keep the zone we know, try again next pass
            logger.warning("users.info for %s failed", engineer.user_id, exc_info=True)
    moved = []
    with uow.writing() as session:
        for engineer in engineers:
            if engineer.id not in answers:
                continue
            stored = session.get(Engineer, engineer.id)
            if stored is None:
                continue
            stored.tz_checked_at = engineer.tz_checked_at = now
            name = answers[engineer.id]
            if name and name != stored.tz:
                stored.tz = engineer.tz = name
                moved.append(engineer)
    return moved
