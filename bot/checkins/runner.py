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

A pass runs "as of" an instant (the scheduler's now, or `run-due --now`), and its clock then
moves on with real elapsed time: a pass that takes minutes (a big fan-out against Slack's rate
limit) claims with leases counted from when it actually claims, and never sends a week's
check-in after that week is over.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Callable

from slack_sdk import WebClient

from bot import metrics
from bot.blocks.reads import weekly_line
from bot.catalog.model import Catalog
from bot.checkins.delivery import Delivery, post_checkin
from bot.checkins.pacing import SharedBackoff
from bot.checkins.plan import plan_for, pool_for, question_payload
from bot.checkins.outcomes import CLAIM_LEASE, WeekOver, outcome_of
from bot.checkins.reminders import send_reminders
from bot.checkins.timezones import refresh_zones, zones_worth_refreshing
from bot.domain.rotation import pick_questions
from bot.domain.schedule import Slot, due_this_week
from bot.settings import Settings
from bot.workspace_clients import for_workspace
from storage.models import CheckInStatus, Engineer
from storage.repositories import CheckIns, Engineers
from storage.repositories.log_reads import LogReads
from storage.repositories.workspaces import Workspaces
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

CHUNK = 50
# A lane's first claim is this small: every lane's first claim waits its turn for the write lock
# (twenty workspaces' first chunks of 50 held the last lane's first DM back by two seconds),
# and a few are enough to start sending while the next, full chunk is claimed.
FIRST_CHUNK = 4
# Workspaces sent to side by side in one pass (each its own lane of SEND_CONCURRENCY senders);
# more wait for a lane, biggest first.
MAX_PARALLEL_WORKSPACES = 32
READS_WEEK = timedelta(days=7)  # the check-in DM's line counts the reads since last week's
# A send Slack refused for a reason that will not go away by itself (the user left, DMs with
# the app are off) is given up after this many attempts; anything else (Slack down, timeouts)
# is retried every tick until the week is over, so an outage never drops a check-in.
MAX_ATTEMPTS = 12
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "user_not_found", "user_disabled", "account_inactive", "cannot_dm_bot",
    "messages_tab_disabled", "is_archived", "not_in_channel", "restricted_action",
})


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
    week_ends_at: datetime | None = None  # nothing is posted for the week after this
    team_id: str | None = None  # the engineer's workspace: its token and allowance (bot.workspace_clients)
    due_at: datetime | None = None  # when it was scheduled; None when sent on request (`/growth now`)
    reads_line: str | None = None  # "Your manager read 3 entries of your log this week" (bot.growthlog.reads)


class PassClock:
    """The pass's instant, moving on with real elapsed time (monotonic, so never backwards)."""

    def __init__(self, start: datetime, monotonic: Callable[[], float] = time.monotonic):
        self.start = start
        self._monotonic = monotonic
        self._origin = monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=max(0.0, self._monotonic() - self._origin))


def with_reads_lines(session, jobs: list[Job], engineers: dict[int, Engineer], now: datetime) -> list[Job]:
    """The jobs, each with the week's line about reads of the engineer's log by others, where
    they keep it on and there were any (one grouped query for the chunk)."""
    wanted = [job.engineer_id for job in jobs if engineers[job.engineer_id].reads_weekly_line]
    totals = LogReads(session).totals_since(wanted, now - READS_WEEK)
    return [replace(job, reads_line=weekly_line(totals[job.engineer_id], engineers[job.engineer_id].manager_user_id))
            if job.engineer_id in totals else job for job in jobs]


def is_permanent(error: str | None) -> bool:
    return bool(error) and error.removeprefix("slack error: ") in PERMANENT_ERRORS


class DueRunner:
    """Runs due passes; one instance per process (the scheduler job or the CLI)."""

    def __init__(self, uow: UnitOfWork, catalog: Catalog, settings: Settings, client: WebClient,
                 backoff: SharedBackoff | None = None):
        self.uow = uow
        self.catalog = catalog
        self.settings = settings
        self.client = client
        self.backoff = backoff or SharedBackoff()

    def run(self, now: datetime) -> RunReport:
        """Send every check-in and reminder due at `now`; never raises for a failed send."""
        report = RunReport()
        owner = new_owner()
        clock = PassClock(now)
        with ThreadPoolExecutor(max_workers=self.settings.send_concurrency,
                                thread_name_prefix="checkin-send") as pool:
            teams: dict[int, str] = {}  # each engineer's workspace, as read for the pass
            due = self._due_engineers(now, report, pool, teams)
            retries = self._failed_this_week(now, set(due), teams)
            ids = sorted(set(due) | retries)
            lanes = self._by_workspace(ids, teams) if self.settings.multi_workspace else [ids]
            if len(lanes) <= 1:
                for lane in lanes:
                    self._send_checkins(lane, clock, owner, pool, report, retries)
            else:
                self._send_in_parallel(lanes, clock, owner, report, retries)
            send_reminders(self, clock, owner, pool, report)
        logger.info("Due pass at %s: %s", now.isoformat(), report.summary())
        return report

    def send_one(self, engineer_id: int, now: datetime) -> RunReport:
        """Send one engineer's check-in for this week now, whatever their schedule (`/growth now`)."""
        report = RunReport()
        owner = new_owner()
        clock = PassClock(now)
        jobs = self._claim_chunk([engineer_id], clock, owner, report, force=True)
        with ThreadPoolExecutor(max_workers=1) as pool:
            self._record([(job, pool.submit(self._deliver, job, clock)) for job in jobs], clock, owner, report)
        return report

    # -- who is due ---------------------------------------------------------------------------

    def _failed_this_week(self, now: datetime, due: set[int], teams: dict[int, str]) -> set[int]:
        """Engineers whose check-in for this week failed to send, outside their scheduled moment
        (a `/growth now` Slack refused): retried on this tick, not on next week's day."""
        with self.uow.reading() as session:
            failed = dict(CheckIns(session).failed_sends(since=now - timedelta(days=8), max_attempts=MAX_ATTEMPTS))
            engineers = Engineers(session).by_ids([eid for eid in failed if eid not in due])
        teams.update((e.id, e.team_id) for e in engineers)
        plans = {e.id: plan_for(e, self.settings) for e in engineers}
        return {eid for eid, plan in plans.items()
                if not plan.paused_at(now) and plan.slot(now).week_start == failed[eid]}

    def _due_engineers(self, now: datetime, report: RunReport, pool: ThreadPoolExecutor,
                       teams: dict[int, str]) -> list[int]:
        with self.uow.reading() as session:
            engineers = Engineers(session).all_schedulable(now)
            due, settled = self._due_among(session, engineers, now)
        teams.update((e.id, e.team_id) for e in engineers)
        # Slack calls outside any session (on SQLite an open write session holds the write lock).
        candidates = zones_worth_refreshing(engineers, due, now, self.settings)
        moved = refresh_zones(self.uow, self.client, candidates, now, pool)
        if moved:
            # Someone's Slack time zone changed: their moment is where they are now.
            with self.uow.reading() as session:
                due_moved, settled_moved = self._due_among(session, moved, now)
            ids = {e.id for e in moved}
            due = [eid for eid in due if eid not in ids] + due_moved
            settled = {eid for eid in settled if eid not in ids} | settled_moved
        report.skipped += len(settled)
        return sorted(due)

    def _due_among(self, session, engineers: list[Engineer], now: datetime) -> tuple[list[int], set[int]]:
        """(engineers whose check-in is owed and open now, those among them already settled)."""
        open_slots = {}
        for engineer in engineers:
            slot = plan_for(engineer, self.settings).slot(now)
            if slot.is_open(now) and due_this_week(slot, engineer.created_at, engineer.paused_until):
                open_slots[engineer.id] = slot.week_start
        done = self._settled(session, open_slots, now)
        return [eid for eid in open_slots if eid not in done], done

    @staticmethod
    def _settled(session, open_slots: dict[int, object], now: datetime) -> set[int]:
        """Engineers whose check-in for the week is sent, answered, being sent, or given up."""
        settled: set[int] = set()
        for engineer_id, status, lease_until, attempts, last_error in CheckIns(session).states_for_weeks(open_slots):
            live_claim = status == CheckInStatus.SENDING.value and lease_until and lease_until >= now
            gave_up = status == CheckInStatus.PENDING.value and attempts >= MAX_ATTEMPTS and is_permanent(last_error)
            if status in (CheckInStatus.SENT.value, CheckInStatus.ANSWERED.value) or live_claim or gave_up:
                settled.add(engineer_id)
        return settled

    # -- sending check-ins --------------------------------------------------------------------

    def _by_workspace(self, engineer_ids: list[int], known: dict[int, str]) -> list[list[int]]:
        """The ids split by workspace, the biggest first (each in id order): every workspace has
        its own allowance, so each is a lane of its own; the biggest sets the pass's length.
        `known` holds the workspaces already read for the pass (reading ten thousand engineers
        again would hold up every lane's first send by half a second)."""
        if not engineer_ids:
            return []
        teams: dict[str, list[int]] = {}
        with self.uow.reading() as session:
            gone = Workspaces(session).uninstalled_teams()
            unknown = [eid for eid in engineer_ids if eid not in known]
            for start in range(0, len(unknown), 5000):
                for engineer in Engineers(session).by_ids(unknown[start:start + 5000]):
                    known[engineer.id] = engineer.team_id
        for eid in engineer_ids:
            if eid in known:
                teams.setdefault(known[eid], []).append(eid)
        # An uninstalled workspace gets nothing, and nothing is claimed for it (its data waits
        # out the grace period untouched).
        return sorted((ids for team, ids in teams.items() if team not in gone), key=len, reverse=True)

    def _send_in_parallel(self, lanes: list[list[int]], clock: PassClock, owner: str, report: RunReport,
                          forced: set[int]) -> None:
        """One lane per workspace, side by side, each with SEND_CONCURRENCY senders: a workspace
        waiting for its allowance never holds up another's sends (one sender pool for all
        would queue every workspace behind the slowest)."""
        reports = [RunReport() for _ in lanes]

        def lane(index: int) -> None:
            try:
                with ThreadPoolExecutor(max_workers=self.settings.send_concurrency,
                                        thread_name_prefix="checkin-send") as pool:
                    self._send_checkins(lanes[index], clock, owner, pool, reports[index], forced)
            except Exception as error:  # noqa: BLE001 - one workspace's failure must not end the others' pass
                # (A claim that waited out the write lock, a database hiccup.) What this lane
                # claimed and did not send is claimed again on a later tick, once its lease ends.
                logger.exception("Check-ins for one workspace stopped early this pass; the rest is retried")
                reports[index].errors.append(f"workspace lane stopped: {error!r}")

        with ThreadPoolExecutor(max_workers=min(len(lanes), MAX_PARALLEL_WORKSPACES),
                                thread_name_prefix="workspace-lane") as lanes_pool:
            for future in [lanes_pool.submit(lane, n) for n in range(len(lanes))]:
                future.result()
        for part in reports:
            report.sent, report.skipped, report.failed = (report.sent + part.sent, report.skipped + part.skipped,
                                                          report.failed + part.failed)
            report.errors += part.errors

    def _send_checkins(self, due: list[int], clock: PassClock, owner: str, pool: ThreadPoolExecutor,
                       report: RunReport, forced: set[int] = frozenset()) -> None:
        in_flight: deque[list[tuple[Job, Future]]] = deque()
        bounds = [0] + list(range(min(FIRST_CHUNK, len(due)), len(due), CHUNK)) + [len(due)] if due else []
        for start, end in zip(bounds, bounds[1:]):
            jobs = self._claim_chunk(due[start:end], clock, owner, report, forced=forced)
            in_flight.append([(job, pool.submit(self._deliver, job, clock)) for job in jobs])
            if len(in_flight) >= 2:
                self._record(in_flight.popleft(), clock, owner, report)
        while in_flight:
            self._record(in_flight.popleft(), clock, owner, report)

    def _claim_chunk(self, engineer_ids: list[int], clock: PassClock, owner: str, report: RunReport,
                     force: bool = False, forced: set[int] = frozenset()) -> list[Job]:
        jobs: list[Job] = []
        now = clock()
        with self.uow.writing() as session, session.no_autoflush:
            checkins = CheckIns(session)
            engineers = Engineers(session).by_ids(engineer_ids)
            for engineer in engineers:
                job = self._claim_one(checkins, engineer, now, owner, report, force or engineer.id in forced)
                if job is not None:
                    jobs.append(job)
            jobs = with_reads_lines(session, jobs, {e.id: e for e in engineers}, now)
            # The chosen questions and rotation offsets go in one flush for the chunk (batched
            # UPDATEs) rather than one autoflush before every claim; each claim touches only its
            # own engineer's rows, so nothing read in between depends on them.
            session.flush()
        metrics.MESSAGES_CLAIMED.labels(metrics.CHECKIN).inc(len(jobs))
        return jobs

    def _claim_one(self, checkins: CheckIns, engineer: Engineer, now: datetime, owner: str,
                   report: RunReport, force: bool) -> Job | None:
        pool = pool_for(self.catalog, engineer.framework_id, engineer.level_id)
        if pool is None or not pool.questions:
            report.skipped += 1  # nothing to ask: never an empty DM
            return None
        plan = plan_for(engineer, self.settings)
        slot = plan.slot(now)
        if not force and not self._still_due(engineer, plan, slot, now):
            report.skipped += 1  # paused, rescheduled or moved since the pass looked
            return None
        row = checkins.claim(engineer.id, slot.week_start, slot.due_at, owner, now, CLAIM_LEASE)
        if row is None:
            report.skipped += 1  # another process has it, or it is done
            return None
        if not row.questions:
            if engineer.rotation_pool_key != pool.key:
                engineer.rotation_pool_key, engineer.rotation_offset = pool.key, 0
            pick = pick_questions(pool.questions, engineer.rotation_offset, plan.questions_per_checkin)
            row.questions = [question_payload(q) for q in pick.items]
            engineer.rotation_offset = pick.next_offset
        framework = self.catalog.framework(pool.source.framework_id)
        return Job(row.id, engineer.id, engineer.user_id, list(row.questions), pool.source.name,
                   framework.name, slot.week_start, recovering=row.attempts > 1, week_ends_at=slot.ends_at,
                   due_at=None if force else slot.due_at, team_id=engineer.team_id)

    @staticmethod
    def _still_due(engineer: Engineer, plan, slot: Slot, now: datetime) -> bool:
        return (engineer.level_id is not None and not plan.paused_at(now) and slot.is_open(now)
                and due_this_week(slot, engineer.created_at, engineer.paused_until))

    def _deliver(self, job: Job, clock: PassClock) -> Delivery:
        with for_workspace(job.team_id):
            self.backoff.wait()
            if job.week_ends_at is not None and clock() >= job.week_ends_at:
                raise WeekOver(f"the week of {job.week_start} is over")
            return post_checkin(self.client, job)

    def _record(self, batch: list[tuple[Job, Future]], clock: PassClock, owner: str, report: RunReport) -> None:
        outcomes = [(job, outcome_of(future)) for job, future in batch]
        now = clock()
        with self.uow.writing() as session:
            checkins = CheckIns(session)
            for job, outcome in outcomes:
                if isinstance(outcome, Delivery):
                    if checkins.mark_sent(job.checkin_id, owner, outcome.channel_id, outcome.ts, now):
                        report.sent += 1
                        metrics.MESSAGES_SENT.labels(metrics.CHECKIN).inc()
                        if job.due_at is not None:
                            metrics.CHECKIN_LAG.observe(max(0.0, (now - job.due_at).total_seconds()))
                    else:
                        # Our lease ran out mid-send and another sender took over: it looks for
                        # this DM before posting, but say so in case two went out.
                        logger.warning("Check-in %s was posted (%s) after its claim was taken over",
                                       job.checkin_id, outcome.ts)
                elif isinstance(outcome, WeekOver):
                    checkins.release_failed(job.checkin_id, owner, str(outcome))
                    report.skipped += 1
                    metrics.MESSAGES_FAILED.labels(metrics.CHECKIN, "week_over").inc()
                else:
                    checkins.release_failed(job.checkin_id, owner, outcome)
                    report.failed += 1
                    report.errors.append(f"{job.user_id}: {outcome}")
                    metrics.MESSAGES_FAILED.labels(metrics.CHECKIN, metrics.failure_reason(outcome)).inc()
