"""Finishing what a crash left half-done: inbox deliveries not yet processed, outbox messages
not yet (known to be) posted. Runs at start-up and then every few seconds, in every process
(whether or not it runs the check-in scheduler): both passes are safe to run anywhere at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from bot.inbox.intake import recover as recover_inbox
from storage.repositories.inbox import Inbox
from storage.repositories.outbox import Outbox

logger = logging.getLogger(__name__)
RECOVERY_SECONDS = 10
# Slack retries an event for about an hour: a processed delivery's key is kept a day. A sent
# message's key is kept as long, so a cause replayed within that time still posts nothing new.
KEEP_DONE = timedelta(days=1)


def recover_once(services) -> None:
    """One pass over both; each step on its own, so one failing never stops the other."""
    for name, step in (("Inbox recovery", lambda: recover_inbox(services)),
                       ("Outbox drain", lambda: services.outbox.drain())):
        try:
            step()
        except Exception:  # noqa: BLE001 - log it; the next pass retries
            logger.exception("%s failed", name)


def prune_done(services) -> tuple[int, int]:
    """Forget processed deliveries and finished messages older than KEEP_DONE."""
    cutoff = services.now() - KEEP_DONE
    with services.uow.writing() as session:
        return Inbox(session).prune(cutoff), Outbox(session).prune(cutoff)


def start_recovery(services) -> BackgroundScheduler:
    try:
        services.outbox.release_dead_local_claims()
    except Exception:  # noqa: BLE001 - their leases run out anyway; say why it failed
        logger.exception("Releasing the claims of a dead earlier process failed")
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(lambda: recover_once(services), "interval", seconds=RECOVERY_SECONDS, id="recovery",
                      max_instances=1, coalesce=True, next_run_time=services.now())
    scheduler.add_job(lambda: prune_done(services), "interval", hours=1, id="prune-done", max_instances=1,
                      coalesce=True)
    scheduler.start()
    return scheduler
