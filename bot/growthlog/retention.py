"""ANSWER_RETENTION_MONTHS: answers, their revisions, self-assessments and the record of who
read them, once older than the org's setting, are deleted by the daily pass.

The pass runs from every scheduler tick and from `growth-bot checkins run-due`, but does its
work once a day across every instance: the first to record the day's key
(`retention:<UTC date>`, ProcessedEvents) prunes, the others find it taken. It deletes in
batches, each its own short transaction, so on SQLite no request waits long for the write
lock and on PostgreSQL no long transaction holds rows. A pass cut short (a crash, a deploy)
leaves only whole batches done; the next day's pass deletes the rest, as the cutoff only moves on.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import datetime

from storage.repositories import Answers, Assessments, ProcessedEvents
from storage.repositories.log_reads import LogReads
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)
BATCH = 500


@dataclass
class Pruned:
    answers: int = 0
    revisions: int = 0
    assessments: int = 0
    reads: int = 0

    def summary(self) -> str:
        return (f"retention: deleted {self.answers} answers, {self.revisions} revisions, "
                f"{self.assessments} self-assessments, {self.reads} read records")


def months_before(now: datetime, months: int) -> datetime:
    """The same instant `months` calendar months earlier (31 Mar - 1 month: the last of February)."""
    index = now.year * 12 + now.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    day = min(now.day, calendar.monthrange(year, month)[1])
    return now.replace(year=year, month=month, day=day)


def run_retention(uow: UnitOfWork, months: int | None, now: datetime, batch: int = BATCH) -> Pruned | None:
    """Today's retention pass, if this process is the first to claim it; None when there is no
    retention setting or today's pass is another's (or done)."""
    if months is None:
        return None
    with uow.writing() as session:
        if not ProcessedEvents(session).first_time(f"retention:{now.date().isoformat()}", now):
            return None
    pruned = prune_before(uow, months_before(now, months), batch)
    logger.info("%s (older than %d months)", pruned.summary(), months)
    return pruned


def prune_before(uow: UnitOfWork, cutoff: datetime, batch: int = BATCH) -> Pruned:
    """Delete everything the retention covers from before `cutoff`, a batch per transaction."""
    pruned = Pruned()
    while True:
        with uow.writing() as session:
            answers, revisions = Answers(session).delete_older_than(cutoff, batch)
        pruned.answers += answers
        pruned.revisions += revisions
        if answers < batch and revisions < batch:
            break
    while True:
        with uow.writing() as session:
            count = Assessments(session).delete_older_than(cutoff, batch)
        pruned.assessments += count
        if count < batch:
            break
    while True:
        with uow.writing() as session:
            count = LogReads(session).delete_older_than(cutoff, batch)
        pruned.reads += count
        if count < batch:
            break
    return pruned
