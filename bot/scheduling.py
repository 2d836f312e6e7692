"""The in-process ticker: APScheduler runs the due pass every minute.

Each process has its own in-memory job store (APScheduler's docs say a job store must never be
shared between schedulers). Several instances ticking at once is safe because the due pass
claims every (engineer, week) in the database before sending.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient

from bot.checkins.runner import DueRunner
from bot.growthlog.one_on_ones import run_auto_prep
from bot.growthlog.retention import run_retention
from bot.leaders.reflections import run_leaders
from bot.services import Services
from bot.slack_pacing import DatabaseAllowances, PacedWebClient, Pacer, WorkspaceBackoff
from storage.repositories import ProcessedEvents

logger = logging.getLogger(__name__)
TICK_SECONDS = 60
# Slack retries an event for minutes, a double-clicked Save arrives within seconds: a day is ample.
DEDUPE_RETENTION = timedelta(days=1)


def make_due_runner(services: Services, client: WebClient) -> DueRunner:
    # Bulk sends go out in send slots paced to the workspace's learned rate limit, shared with
    # every other instance through the database, and a 429 pauses them all (bot.slack_pacing).
    # Only a 429 is retried in place: Slack did not post anything. A 5xx or a dropped connection
    # may come *after* the DM was posted, so blindly re-posting could double it; such a send is
    # released instead, and the next tick's retry first looks for the DM (bot.checkins.delivery).
    if services.settings.multi_workspace:
        # Each send goes with its engineer's workspace's token and allowance (bot.workspace_clients).
        sender = services.clients.sender()
        return DueRunner(services.uow, services.catalog, services.settings, sender,
                         WorkspaceBackoff(sender))  # type: ignore[arg-type]
    pacer = Pacer(DatabaseAllowances(services.uow))
    sender = PacedWebClient(token=services.settings.slack_bot_token or client.token,
                            base_url=services.settings.slack_api_url, timeout=15, retry_handlers=[], pacer=pacer)
    return DueRunner(services.uow, services.catalog, services.settings, sender,
                     WorkspaceBackoff(sender))  # type: ignore[arg-type]


def prune_processed_events(services: Services) -> int:
    """Forget dedupe keys older than Slack could still retry (it gives up within the hour)."""
    with services.uow.writing() as session:
        return ProcessedEvents(session).prune(older_than=services.now() - DEDUPE_RETENTION)


def retention_pass(services: Services):
    """The daily ANSWER_RETENTION_MONTHS pass: every tick asks, one process a day does it."""
    return run_retention(services.uow, services.settings.answer_retention_months, services.now())


def _purge_uninstalled(services: Services) -> None:
    from bot.workspace_lifecycle import purge_expired

    try:
        purge_expired(services)
    except Exception:  # noqa: BLE001 - log it; the next hour tries again
        logger.exception("Purging uninstalled workspaces failed")


def start_scheduler(services: Services, client: WebClient) -> BackgroundScheduler:
    if services.settings.multi_workspace:
        # No one token: each pass's calls go to the workspace they are about (bot.workspace_clients).
        client = services.clients.sender()
    runner = make_due_runner(services, client)
    scheduler = BackgroundScheduler(timezone="UTC")

    def tick() -> None:
        # Each step on its own: one failing never stops the others, and the next tick retries.
        for name, step in (("Due pass", lambda: runner.run(services.now())),
                           ("1:1 prep pass", lambda: run_auto_prep(services, client, services.now())),
                           ("Leaders pass", lambda: run_leaders(services, client, services.now())),
                           ("Event dedupe pruning", lambda: prune_processed_events(services)),
                           ("Retention pass", lambda: retention_pass(services))):
            try:
                step()
            except Exception:  # noqa: BLE001 - log it; the ticker must not die
                logger.exception("%s failed", name)

    scheduler.add_job(tick, "interval", seconds=TICK_SECONDS, id="due-pass", max_instances=1,
                      coalesce=True, next_run_time=services.now())
    if services.settings.multi_workspace:
        # Uninstalled workspaces' data goes once their grace period is over (bot.workspace_lifecycle).
        scheduler.add_job(_purge_uninstalled, "interval", args=[services], hours=1, id="workspace-purge",
                          max_instances=1, coalesce=True, next_run_time=services.now())
    scheduler.start()
    logger.info("Check-in scheduler ticking every %d s", TICK_SECONDS)
    return scheduler
