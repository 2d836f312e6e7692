"""A manager's weekly team note: who took part, never what anyone wrote.

For each report: answered or not this week and the few weeks before, a streak, quiet for N
weeks, paused until, the next 1:1 and whether its digest is out. Only shared answers count:
an answer marked private is not even counted, so a week answered only privately reads as not
answered. The reports are read under the log's access rule (bot.growthlog.access): whoever
names someone else as manager, or nobody, is not in the note from that moment on.

Sent once a week (default Monday 09:00, the manager's time) through the outbox; the week is
claimed on the manager's row in the same transaction as the note is queued, so two processes,
a crash or a pruned outbox never make a second one.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.blocks.text import escape
from bot.checkins.plan import plan_for
from bot.domain.clock import format_clock, parse_clock, weekday_name
from bot.domain.schedule import current_slot, zone
from bot.growthlog.access import Reader, can_read
from bot.growthlog.home import streak
from bot.growthlog.one_on_ones import next_meeting
from bot.leaders.plan import read_day_and_time
from bot.outbox.dispatch import Dispatch
from bot.outbox.sender import queue_many
from bot.services import Services
from storage.repositories import Engineers
from storage.repositories.leaders import Leaders

logger = logging.getLogger(__name__)

RECENT_WEEKS = 4          # weeks before this one the note shows, one mark each
STREAK_WEEKS = 52         # how far back a streak is counted
DEFAULT_DAY, DEFAULT_TIME = 0, time(9, 0)
NOTE_CHUNK = 100          # notes read and queued together
USAGE = "`/growth team` (the note now), `/growth team note off`, `/growth team note on`, `/growth team note mon 09:00`"


@dataclass(frozen=True)
class ReportStatus:
    user_id: str
    this_week: bool
    recent: tuple[bool, ...]            # the RECENT_WEEKS weeks before this one, newest first
    streak: int
    quiet_weeks: int | None             # whole weeks since the last shared answer; None: never one
    paused_until: datetime | None       # only while paused
    next_one_on_one: datetime | None
    prep_ready: bool                    # the digest for that 1:1 has gone out


@dataclass(frozen=True)
class TeamNote:
    manager_user_id: str
    tz: ZoneInfo
    reports: tuple[ReportStatus, ...]


def gather(session, services: Services, team_id: str, manager_user_id: str, now: datetime) -> TeamNote:
    """The note for a manager, in the caller's unit of work (reads only)."""
    own = Engineers(session).get(team_id, manager_user_id)
    return gather_many(session, services, team_id, {manager_user_id: own.tz if own else None}, now)[manager_user_id]


def gather_many(session, services: Services, team_id: str, managers: dict[str, str | None],
                now: datetime) -> dict[str, TeamNote]:
    """The notes of several managers of one workspace (user id -> their time zone), in a few
    statements whatever their number: what a Monday's pass reads."""
    leaders = Leaders(session)
    by_manager: dict[str, list] = {m: [] for m in managers}
    for report in leaders.reports_of_many(team_id, list(managers)):
        if can_read(Reader(team_id, report.manager_user_id), report):
            by_manager[report.manager_user_id].append(report)
    reports = [r for found in by_manager.values() for r in found]
    current = {r.id: plan_for(r, services.settings).slot(now).week_start for r in reports}
    since = min(current.values(), default=now.date()) - timedelta(weeks=STREAK_WEEKS)
    weeks = leaders.shared_weeks(list(current), since)
    last = leaders.last_shared_answer_weeks(list(current))
    meetings = {(o.manager_user_id, o.report_user_id): o for o in leaders.one_on_ones_of_many(team_id, list(managers))}
    notes = {}
    for manager_user_id, tz in managers.items():
        statuses = [_status(report, current[report.id], weeks.get(report.id, set()), last.get(report.id),
                            meetings.get((manager_user_id, report.user_id)), now)
                    for report in by_manager[manager_user_id]]
        notes[manager_user_id] = TeamNote(manager_user_id, zone(tz), tuple(statuses))
    return notes


def _status(report, week, answered: set, latest, meeting, now: datetime) -> ReportStatus:
    upcoming = None
    if meeting is not None and meeting.weekday is not None and meeting.time and parse_clock(meeting.time):
        upcoming = next_meeting(now, meeting.weekday, parse_clock(meeting.time), meeting.tz)
    return ReportStatus(
        user_id=report.user_id,
        this_week=week in answered,
        recent=tuple(week - timedelta(weeks=n) in answered for n in range(1, RECENT_WEEKS + 1)),
        streak=streak(answered, week),
        quiet_weeks=None if latest is None else max(0, (week - latest).days // 7),
        paused_until=report.paused_until if report.paused_until and report.paused_until > now else None,
        next_one_on_one=upcoming,
        prep_ready=bool(upcoming and meeting.last_auto_prep_for == upcoming),
    )


# -- the weekly pass --------------------------------------------------------------------------

def note_slot(manager, now: datetime):
    clock = parse_clock(manager.team_note_time) if manager.team_note_time else None
    weekday = manager.team_note_weekday if manager.team_note_weekday is not None else DEFAULT_DAY
    return current_slot(now, weekday, clock or DEFAULT_TIME, zone(manager.tz))


def run_team_notes(services: Services, now: datetime) -> int:
    """Queue and send every manager's note due at `now`; how many were queued."""
    with services.uow.reading() as session:
        due = []
        for manager in Leaders(session).managers():
            slot = note_slot(manager, now)
            if manager.team_note_enabled and slot.is_open(now) and \
                    (manager.team_note_week is None or manager.team_note_week < slot.week_start):
                due.append((manager.id, manager.team_id, manager.user_id, manager.tz, slot.week_start))
    queued = 0
    # Pipelined: a chunk of notes is read in a few statements and queued in one transaction
    # (each week claimed on its manager's row there, so two passes never both queue one),
    # while SEND_CONCURRENCY senders post the chunks before it (bot.outbox.dispatch: claimed
    # and recorded a batch at a time, paced like the due pass). A note's parts go out in order.
    with Dispatch(services.outbox, services.settings.send_concurrency) as dispatch:
        for start in range(0, len(due), NOTE_CHUNK):
            chunk = due[start:start + NOTE_CHUNK]
            by_team: dict[str, dict[str, str | None]] = {}
            for _, team_id, user_id, tz, _ in chunk:
                by_team.setdefault(team_id, {})[user_id] = tz
            with services.uow.reading() as session:
                notes = {(team_id, user_id): note for team_id, managers in by_team.items()
                         for user_id, note in gather_many(session, services, team_id, managers, now).items()}
            # Built before the transaction: on SQLite it holds the one write lock the senders
            # need for their claims, so it does nothing but write.
            messages = {engineer_id: _note_messages(notes[(team_id, user_id)], engineer_id, team_id, week, now)
                        for engineer_id, team_id, user_id, _, week in chunk
                        if notes[(team_id, user_id)].reports}                   # nobody to report on: no note
            with services.uow.writing() as session:
                # Each week claimed on its manager's row in the transaction queueing the note:
                # of two passes (or a pass run twice), one queues it.
                weeks = {engineer_id: week for engineer_id, _, _, _, week in chunk if engineer_id in messages}
                claimed = Leaders(session).mark_team_notes(weeks)
                message_ids = queue_many(session, [messages[engineer_id] for engineer_id in weeks
                                                   if engineer_id in claimed], now=now)
            queued += len(claimed)
            dispatch.add(message_ids)
    return queued


def _note_messages(note: TeamNote, engineer_id: int, team_id: str, week, now: datetime) -> list[dict]:
    """The outbox parts of a manager's note (bot.outbox.sender.queue_many), one key per week."""
    from bot.blocks.leaders import build_team_note, team_note_text

    text = team_note_text(note)
    return [{"key": f"team-note:{engineer_id}:{week.isoformat()}:{part}", "channel": note.manager_user_id,
             "text": text, "blocks": blocks, "team_id": team_id}
            for part, blocks in enumerate(build_team_note(note, now))]


# -- /growth team --------------------------------------------------------------------------------

_NOTE_SCHEDULE = re.compile(r"^note\s+(?P<day>[a-z.]+)\s+(?:at\s+)?(?P<time>.+)$")


def team_command(services: Services, team_id: str, user_id: str, text: str) -> TeamNote | str:
    """`/growth team`: the note now (a TeamNote), or what a settings change did (a sentence)."""
    words = " ".join(text.lower().split())
    now = services.now()
    if words in ("", "note", "now"):
        with services.uow.reading() as session:
            return gather(session, services, team_id, user_id, now)
    if words in ("note off", "off"):
        with services.uow.writing() as session:
            Engineers(session).get_or_create(team_id, user_id).team_note_enabled = False
        return "Your weekly team note is now *off*. `/growth team` still shows it whenever you ask."
    if words in ("note on", "on"):
        with services.uow.writing() as session:
            manager = Engineers(session).get_or_create(team_id, user_id)
            manager.team_note_enabled = True
            return f"Your weekly team note is *on*: {_when(manager)}, your local time."
    schedule = _NOTE_SCHEDULE.match(words)
    if schedule:
        day, clock, problem = read_day_and_time(schedule.group("day"), schedule.group("time"))
        if problem:
            return f"{problem} Try {USAGE}. Nothing was changed."
        with services.uow.writing() as session:
            manager = Engineers(session).get_or_create(team_id, user_id)
            manager.team_note_enabled = True
            manager.team_note_weekday, manager.team_note_time = day, format_clock(clock)
            return f"Done: your team note now comes {_when(manager)}, your local time."
    return f"I don't know `/growth team {escape(text.strip())}`. Try {USAGE}. Nothing was changed."


def _when(manager) -> str:
    clock = parse_clock(manager.team_note_time) if manager.team_note_time else DEFAULT_TIME
    weekday = manager.team_note_weekday if manager.team_note_weekday is not None else DEFAULT_DAY
    return f"{weekday_name(weekday)}s at {format_clock(clock)} ({zone(manager.tz).key})"
