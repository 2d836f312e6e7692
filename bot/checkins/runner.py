"""The due pass: send every check-in and reminder due at an instant, exactly once.

Exactly once, across processes and crashes, rests on the database, not on APScheduler:
each (engineer, week) is *claimed* in a committed transaction before anything is posted
(`CheckIns.claim`: INSERT … ON CONFLICT DO NOTHING, or a conditional UPDATE of an expired
lease). A second process finds the row claimed and moves on. A process killed between the
post and recording it leaves a claim whose lease expires; whoever takes it over first looks
for the DM in the conversation (message metadata carries the check-in id) and only posts if
it is not there.

The pass is pipelined: while one chunk of claimed check-ins is being posted by the sender
threads, the previous chunk's results are recorded and the next chunk is claimed.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot.catalog.model import Catalog
from bot.checkins.delivery import Delivery, post_checkin, post_reminder
from bot.checkins.pacing import SharedBackoff
from bot.checkins.plan import plan_for, pool_for, question_payload
from bot.checkins.timezones import refresh_tz, tz_is_stale
from bot.domain.rotation import pick_questions
from bot.domain.schedule import due_this_week
from bot.settings import Settings
from storage.models import CheckIn, CheckInStatus, Engineer
from storage.repositories import Answers, CheckIns, Engineers

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=10)
CHUNK = 50
MAX_ATTEMPTS = 12


def new_owner() -> str:
    """A claim owner unique to this process and pass."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class RunReport:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    reminders: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"sent {self.sent}, skipped {self.skipped}, failed {self.failed}, "
                f"reminders {self.reminders}")


@dataclass(frozen=True)
class Job:
    checkin_id: int
    engineer_id: int
    user_id: str
    questions: list[dict]
    stage_name: str
    framework_name: str
    week_start: object
    recovering: bool  # a retried claim: an earlier sender may have posted before dying


class DueRunner:
    """Runs due passes; one instance per process (the scheduler job or the CLI)."""

    def __init__(self, session_factory, catalog: Catalog, settings: Settings, client: WebClient,
                 backoff: SharedBackoff | None = None):
        self.session_factory = session_factory
        self.catalog = catalog
        self.settings = settings
        self.client = client
        self.backoff = backoff or SharedBackoff()

    def run(self, now: datetime) -> RunReport:
        report = RunReport()
        owner = new_owner()
        due = self._due_engineers(now, report)
        with ThreadPoolExecutor(max_workers=self.settings.send_concurrency,
                                thread_name_prefix="checkin-send") as pool:
            self._send_checkins(due, now, owner, pool, report)
            self._send_reminders(now, owner, pool, report)
        logger.info("Due pass at %s: %s", now.isoformat(), report.summary())
        return report

    def send_one(self, engineer_id: int, now: datetime) -> RunReport:
        """Send one engineer's check-in for this week now, whatever their schedule (`/growth now`)."""
        report = RunReport()
        owner = new_owner()
        jobs = self._claim_chunk([engineer_id], now, owner, report)
        with ThreadPoolExecutor(max_workers=1) as pool:
            self._record([(job, pool.submit(self._deliver, job)) for job in jobs], now, owner, report)
        return report

    # -- who is due ---------------------------------------------------------------------------

    def _due_engineers(self, now: datetime, report: RunReport) -> list[int]:
        with self.session_factory() as session:
            engineers = Engineers(session).all_schedulable(now)
            open_slots = {}
            for engineer in engineers:
                slot = plan_for(engineer, self.settings).slot(now)
                if slot.is_open(now) and due_this_week(slot, engineer.created_at):
                    open_slots[engineer.id] = slot.week_start
            done = self._settled(session, open_slots, now)
        due = [eid for eid in open_slots if eid not in done]
        report.skipped += len(open_slots) - len(due)
        return due

    @staticmethod
    def _settled(session, open_slots: dict[int, object], now: datetime) -> set[int]:
        """Engineers whose check-in for the week is sent, answered, being sent, or given up."""
        settled: set[int] = set()
        ids = list(open_slots)
        for start in range(0, len(ids), 500):
            rows = session.execute(
                select(CheckIn.engineer_id, CheckIn.week_start, CheckIn.status, CheckIn.lease_until,
                       CheckIn.attempts)
                .where(CheckIn.engineer_id.in_(ids[start:start + 500]))
                .where(CheckIn.week_start.in_(set(open_slots[i] for i in ids[start:start + 500])))
            )
            for engineer_id, week_start, status, lease_until, attempts in rows:
                if week_start != open_slots[engineer_id]:
                    continue
                live_claim = status == CheckInStatus.SENDING.value and lease_until and lease_until >= now
                gave_up = status == CheckInStatus.PENDING.value and attempts >= MAX_ATTEMPTS
                if status in (CheckInStatus.SENT.value, CheckInStatus.ANSWERED.value) or live_claim or gave_up:
                    settled.add(engineer_id)
        return settled

    # -- sending check-ins --------------------------------------------------------------------

    def _send_checkins(self, due: list[int], now: datetime, owner: str, pool: ThreadPoolExecutor,
                       report: RunReport) -> None:
        in_flight: deque[list[tuple[Job, Future]]] = deque()
        for start in range(0, len(due), CHUNK):
            jobs = self._claim_chunk(due[start:start + CHUNK], now, owner, report)
            in_flight.append([(job, pool.submit(self._deliver, job)) for job in jobs])
            if len(in_flight) >= 2:
                self._record(in_flight.popleft(), now, owner, report)
        while in_flight:
            self._record(in_flight.popleft(), now, owner, report)

    def _claim_chunk(self, engineer_ids: list[int], now: datetime, owner: str, report: RunReport) -> list[Job]:
        jobs: list[Job] = []
        with self.session_factory.begin() as session:
            checkins = CheckIns(session)
            for engineer in session.scalars(select(Engineer).where(Engineer.id.in_(engineer_ids))):
                if tz_is_stale(engineer, now) and refresh_tz(engineer, self.client, now):
                    if not plan_for(engineer, self.settings).slot(now).is_open(now):
                        report.skipped += 1  # moved: not yet due where they are now
                        continue
                job = self._claim_one(session, checkins, engineer, now, owner, report)
                if job is not None:
                    jobs.append(job)
        return jobs

    def _claim_one(self, session, checkins: CheckIns, engineer: Engineer, now: datetime, owner: str,
                   report: RunReport) -> Job | None:
        pool = pool_for(self.catalog, engineer.framework_id, engineer.level_id)
        if pool is None or not pool.questions:
            report.skipped += 1
            return None
        slot = plan_for(engineer, self.settings).slot(now)
        row = checkins.claim(engineer.id, slot.week_start, slot.due_at, owner, now, CLAIM_LEASE)
        if row is None:
            report.skipped += 1  # another process has it, or it is done
            return None
        if not row.questions:
            if engineer.rotation_pool_key != pool.key:
                engineer.rotation_pool_key, engineer.rotation_offset = pool.key, 0
            pick = pick_questions(pool.questions, engineer.rotation_offset,
                                  plan_for(engineer, self.settings).questions_per_checkin)
            row.questions = [question_payload(q) for q in pick.items]
            engineer.rotation_offset = pick.next_offset
        framework = self.catalog.framework(pool.source.framework_id)
        return Job(row.id, engineer.id, engineer.user_id, list(row.questions), pool.source.name,
                   framework.name, slot.week_start, recovering=row.attempts > 1)

    def _deliver(self, job: Job) -> Delivery:
        self.backoff.wait()
        return post_checkin(self.client, job)

    def _record(self, batch: list[tuple[Job, Future]], now: datetime, owner: str, report: RunReport) -> None:
        outcomes = [(job, _outcome(future)) for job, future in batch]
        with self.session_factory.begin() as session:
            checkins = CheckIns(session)
            for job, outcome in outcomes:
                if isinstance(outcome, Delivery):
                    if checkins.mark_sent(job.checkin_id, owner, outcome.channel_id, outcome.ts, now):
                        report.sent += 1
                else:
                    checkins.release_failed(job.checkin_id, owner, outcome)
                    report.failed += 1
                    report.errors.append(f"{job.user_id}: {outcome}")

    # -- reminders ----------------------------------------------------------------------------

    def _send_reminders(self, now: datetime, owner: str, pool: ThreadPoolExecutor, report: RunReport) -> None:
        delay = timedelta(hours=self.settings.reminder_delay_hours)
        claimed: list[tuple[CheckIn, Engineer]] = []
        with self.session_factory.begin() as session:
            checkins = CheckIns(session)
            for checkin in checkins.awaiting_reminder(sent_before=now - delay):
                engineer = session.get(Engineer, checkin.engineer_id)
                plan = plan_for(engineer, self.settings)
                # Never for a past week, a paused engineer, or someone who said no reminders.
                if not plan.reminders or plan.paused_at(now) or plan.slot(now).week_start != checkin.week_start:
                    continue
                if Answers(session).for_checkin(checkin.id):
                    checkins.mark_answered(checkin.id, now)
                    continue
                if checkins.claim_reminder(checkin.id, owner, now, CLAIM_LEASE):
                    claimed.append((checkin, engineer))
        futures = [(c, pool.submit(self._remind, c)) for c, _ in claimed]
        with self.session_factory.begin() as session:
            for checkin, future in futures:
                outcome = _outcome(future)
                if outcome is True and CheckIns(session).mark_reminder_sent(checkin.id, owner, now):
                    report.reminders += 1
                elif outcome is not True:
                    report.errors.append(f"reminder {checkin.id}: {outcome}")

    def _remind(self, checkin: CheckIn) -> bool:
        self.backoff.wait()
        post_reminder(self.client, checkin.channel_id, checkin.message_ts, checkin.id, checkin.week_start)
        return True


def _outcome(future: Future):
    """The delivery, or a short error string for the log and the retry."""
    try:
        return future.result()
    except SlackApiError as exc:
        return f"slack error: {exc.response.get('error')}"
    except Exception as exc:  # noqa: BLE001 - any failure is retried on a later tick, with its reason kept
        logger.exception("Sending failed")
        return f"{type(exc).__name__}: {exc}"
