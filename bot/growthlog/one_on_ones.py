"""Recurring 1:1s (`/growth 1on1 @report thu 10:00`) and the automatic prep digest before each one.

The manager's 1:1 is a weekday and wall-clock time in *their* time zone, so it stays at 10:00
across a daylight-saving change. The digest goes out `PREP_LEAD_HOURS` before the next meeting,
at most once per meeting and never once the meeting has started: every tick computes the next
meeting, and inside its lead window claims it in the database (`OneOnOnes.claim_auto_prep`,
a conditional UPDATE only one process can win) before posting. Access is checked again at send
time; a pair that no longer exists loses its row and gets nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.checkins.runner import new_owner
from bot.domain.clock import format_clock, parse_clock, parse_weekday, weekday_name
from bot.domain.schedule import describe_local, local_week_start, slot_for_week, zone
from bot.growth.enrolment import Enrolment, Who
from bot.growthlog.access import REFUSAL, Reader
from bot.growthlog.mentions import mention, split_mention
from bot.growthlog.prep import build_digest, can_prep, record_digest_read
from bot.outbox.messages import PrepDigestReady
from bot.outbox.sender import FOUND, SENT, queue_message
from bot.services import Services
from storage.repositories import Engineers, OneOnOnes

logger = logging.getLogger(__name__)

PREP_LEASE = timedelta(minutes=10)
OFF_WORDS = frozenset({"off", "remove", "none", "stop", "cancel"})
USAGE = "Try `/growth 1on1 @name thu 10:00` (your time zone), or `/growth 1on1 @name off`."


# -- when ---------------------------------------------------------------------------------------

def next_meeting(now: datetime, weekday: int, clock: time, tz_name: str | None) -> datetime:
    """The first meeting strictly after `now` (UTC), at `clock` on `weekday` in the manager's zone."""
    tz = zone(tz_name)
    meeting = slot_for_week(local_week_start(now, tz), weekday, clock, tz).due_at
    if meeting <= now:
        meeting = slot_for_week(local_week_start(now, tz) + timedelta(days=7), weekday, clock, tz).due_at
    return meeting


def digest_due(now: datetime, meeting: datetime, lead: timedelta) -> bool:
    """Inside the lead window, and never once the meeting has begun."""
    return lead > timedelta(0) and meeting - lead <= now < meeting


# -- /growth 1on1 -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Schedule:
    kind: str  # "set" | "off" | "unclear"
    report_user_id: str | None = None
    weekday: int | None = None
    clock: time | None = None


def parse_schedule(text: str) -> Schedule:
    """`<@U1|ada> thu 10:00` / `<@U1> off` → a Schedule; "unclear" when it can't be read."""
    report, rest = split_mention(text)
    words = rest.lower().split()
    if report is None or not words:
        return Schedule("unclear", report)
    if len(words) == 1 and words[0] in OFF_WORDS:
        return Schedule("off", report)
    weekday = parse_weekday(words[0])
    clock = parse_clock(" ".join(words[1:])) if len(words) > 1 else None
    if weekday is None or clock is None:
        return Schedule("unclear", report)
    return Schedule("set", report, weekday, clock)


class OneOnOneDesk:
    """`/growth 1on1`: one request, one short transaction; Slack calls outside it."""

    def __init__(self, services: Services, client: WebClient):
        self.services = services
        self.client = client

    def handle(self, who: Who, text: str) -> str:
        schedule = parse_schedule(text)
        if schedule.kind == "unclear":
            return f"I couldn't read that. {USAGE}"
        reader = Reader(who.team_id, who.user_id)
        if not self._is_manager_of(reader, schedule.report_user_id):
            return REFUSAL
        if schedule.kind == "off":
            return self._off(reader, schedule.report_user_id)
        # The manager's own time zone, fresh from Slack if we haven't looked lately.
        Enrolment(self.services, self.client).ensure(who)
        clock = format_clock(schedule.clock)
        with self.services.uow.writing() as session:
            if not can_prep(reader, Engineers(session).get(who.team_id, schedule.report_user_id)):
                return REFUSAL
            tz = Engineers(session).get(who.team_id, who.user_id).tz
            OneOnOnes(session).set(who.team_id, who.user_id, schedule.report_user_id, schedule.weekday, clock, tz)
        return self._confirmation(schedule, clock, tz)

    def _is_manager_of(self, reader: Reader, report_user_id: str) -> bool:
        with self.services.uow.reading() as session:
            return can_prep(reader, Engineers(session).get(reader.team_id, report_user_id))

    def _off(self, reader: Reader, report_user_id: str) -> str:
        with self.services.uow.writing() as session:
            meetings = OneOnOnes(session)
            pair = meetings.get(reader.team_id, reader.user_id, report_user_id)
            had = pair is not None and pair.weekday is not None
            if pair is not None:  # keep the row: its last prep still starts the next digest
                meetings.set(reader.team_id, reader.user_id, report_user_id, None, None, None)
        if not had:
            return f"You have no recurring 1:1 with {mention(report_user_id)} set here, so nothing changed."
        return (f"Your recurring 1:1 with {mention(report_user_id)} is off: no more automatic digests. "
                f"`/growth prep {mention(report_user_id)}` still works any time.")

    def _confirmation(self, schedule: Schedule, clock: str, tz_name: str) -> str:
        tz = zone(tz_name)
        report = mention(schedule.report_user_id)
        line = (f"Your 1:1 with {report} is set for {weekday_name(schedule.weekday)}s at {clock} "
                f"({tz.key}, your Slack time zone).")
        lead = timedelta(hours=self.services.settings.prep_lead_hours)
        if lead <= timedelta(0):
            return line + f" Automatic digests are turned off in this workspace; `/growth prep {report}` any time."
        now = self.services.now()
        meeting = next_meeting(now, schedule.weekday, schedule.clock, tz.key)
        send_at = meeting - lead
        if send_at <= now:  # too close to the next meeting for its lead window: the one after
            send_at = next_meeting(meeting, schedule.weekday, schedule.clock, tz.key) - lead
        return (line + f" I'll DM you a prep digest {_hours(lead)} before each one; the first on "
                f"{describe_local(send_at, tz)}. `/growth 1on1 {report} off` stops it.")


def _hours(lead: timedelta) -> str:
    hours = lead.total_seconds() / 3600
    return f"{hours:g} h"


# -- the automatic pass ---------------------------------------------------------------------------

@dataclass
class PrepReport:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"prep digests: sent {self.sent}, skipped {self.skipped}, failed {self.failed}"


@dataclass(frozen=True)
class _Due:
    id: int
    team_id: str
    manager: str
    report: str
    meeting: datetime


def run_auto_prep(services: Services, client: WebClient, now: datetime, owner: str | None = None) -> PrepReport:
    """Send every prep digest due at `now`, each exactly once per meeting across processes."""
    report = PrepReport()
    lead = timedelta(hours=services.settings.prep_lead_hours)
    if lead <= timedelta(0):
        return report
    owner = owner or new_owner()
    for due in _due(services, now, lead):
        with services.uow.writing() as session:
            claimed = OneOnOnes(session).claim_auto_prep(due.id, due.meeting, owner, now, PREP_LEASE)
        if not claimed:
            report.skipped += 1
            continue
        try:
            sent = _send(services, client, due, now, owner)
        except SlackApiError as exc:
            # The lease expires and a later tick (still before the meeting) tries again.
            logger.warning("Prep digest %s for %s failed: %s", due.id, due.manager, exc.response.get("error"))
            report.failed += 1
            report.errors.append(f"1:1 {due.id}: {exc.response.get('error')}")
            continue
        except Exception as exc:  # noqa: BLE001 - one broken pair must not hold up the others
            logger.exception("Prep digest %s for %s failed", due.id, due.manager)
            report.failed += 1
            report.errors.append(f"1:1 {due.id}: {exc!r}")
            continue
        if not sent:
            report.skipped += 1
            continue
        report.sent += 1
    return report


def _due(services: Services, now: datetime, lead: timedelta) -> list[_Due]:
    found = []
    with services.uow.reading() as session:
        for row in OneOnOnes(session).due_candidates():
            clock = parse_clock(row.time or "")
            if clock is None:
                continue
            meeting = next_meeting(now, row.weekday, clock, row.tz)
            if digest_due(now, meeting, lead):
                found.append(_Due(row.id, row.team_id, row.manager_user_id, row.report_user_id, meeting))
    return found


def _send(services: Services, client: WebClient, due: _Due, now: datetime, owner: str) -> bool:
    """Queue every part of the digest and mark the meeting prepped in one transaction, then send
    the parts: a crash in between leaves them queued (each posted once, by whoever drains)."""
    reader = Reader(due.team_id, due.manager)
    with services.uow.writing() as session:
        digest = build_digest(session, services.catalog, reader, due.report, now)
        if digest is None:
            # The report no longer names this manager: the pair is gone, and so is its row.
            OneOnOnes(session).remove_for_pair(due.team_id, due.manager, due.report)
            return False
        # Queued is read: the digest is the manager's from here on, so its record commits with it.
        # The record goes in a savepoint: when the digest was queued before (by a process whose
        # lease ran out under it), that one is the read, and this one records nothing.
        recording = session.begin_nested()
        digest = record_digest_read(session, reader, digest, now)
        parts = queue_message(session, f"prep:{due.id}:{due.meeting.isoformat()}", PrepDigestReady(digest),
                              channel=due.manager, now=now, team_id=due.team_id)
        if parts:
            recording.commit()
        else:
            recording.rollback()
        OneOnOnes(session).mark_auto_prepped(due.id, owner, due.meeting, now)
    for part in parts:  # in order: part 2 waits for part 1
        if services.outbox.send(part) not in (SENT, FOUND):
            break  # the outbox drain posts the rest, in order of their ids
    return True
