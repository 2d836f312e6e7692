"""The App Home tab: what it shows a person, gathered in one short read, then published.

An engineer sees their level, stage, next check-in, streak and latest entries (their private
ones included). A manager also sees their reports with the date each last answered, never
what they wrote: report content stays behind `/growth log`, which applies the access rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.blocks.home import build_home
from bot.checkins.plan import plan_for, pool_for
from bot.checkins.timezones import tz_is_stale
from bot.domain.schedule import next_checkin, zone
from bot.growth.enrolment import Enrolment, Who
from bot.services import Services
from storage.models import CheckInStatus
from storage.repositories import Answers, CheckIns, Engineers
from storage.repositories.growth_log import LoggedCheckin, read_log
from storage.repositories.log_reads import LogReads, ReadRecord

RECENT_CHECKINS = 3
_STREAK_PAGE = 12


def streak(answered_weeks: Iterable[date], current_week: date) -> int:
    """Consecutive weeks with at least one answer, counting back from `current_week`.

    The current week still being open does not break a streak: if it has no answer yet, the
    count starts from the week before. Weeks are the Mondays the check-ins belong to.
    """
    weeks = set(answered_weeks)
    week = current_week if current_week in weeks else current_week - timedelta(days=7)
    count = 0
    while week in weeks:
        count += 1
        week -= timedelta(days=7)
    return count


@dataclass(frozen=True)
class OpenCheckin:
    checkin_id: int
    answered: bool


@dataclass(frozen=True)
class Me:
    level: str | None              # "Senior (Engineering Levels)"
    stage: str | None              # the stage whose questions they reflect with, if not the level itself
    next_checkin: datetime | None  # UTC; None without a level (nothing to send)
    paused_until: datetime | None
    streak: int
    open_checkin: OpenCheckin | None
    recent: tuple[LoggedCheckin, ...]
    manager_user_id: str | None
    latest_read: ReadRecord | None = None   # the last read of their log by someone else

    @property
    def is_new(self) -> bool:
        return self.level is None and not self.recent


@dataclass(frozen=True)
class ReportLine:
    user_id: str
    last_answer_at: datetime | None


@dataclass(frozen=True)
class HomeData:
    user_id: str
    tz: ZoneInfo
    me: Me | None                  # None: the bot stores nothing about them as an engineer
    reports: tuple[ReportLine, ...]
    team: Any = None               # bot.leaders.team_note.TeamNote for a manager: participation only


def gather_home(services: Services, team_id: str, user_id: str) -> HomeData:
    """Everything the Home tab shows for this person, in one read-only session."""
    now = services.now()
    with services.uow.reading() as session:
        engineers = Engineers(session)
        engineer = engineers.get(team_id, user_id)
        reports = engineers.reports_of(team_id, user_id)
        last = Answers(session).last_answer_at((r.id for r in reports), include_private=False)
        lines = tuple(ReportLine(r.user_id, last.get(r.id)) for r in reports)
        team = None
        if reports:
            from bot.leaders.team_note import gather  # it counts streaks with this module's `streak`

            team = gather(session, services, team_id, user_id, now)
        if engineer is None:
            return HomeData(user_id, zone(None), None, lines, team)
        plan = plan_for(engineer, services.settings)
        current = plan.slot(now).week_start
        recent, weeks = _recent_and_weeks(session, engineer.id, current)
        this_week = CheckIns(session).for_week(engineer.id, current)
        sent = this_week is not None and this_week.status in (CheckInStatus.SENT.value, CheckInStatus.ANSWERED.value)
        open_checkin = (OpenCheckin(this_week.id, this_week.status == CheckInStatus.ANSWERED.value)
                        if sent and this_week.questions else None)
        pool = pool_for(services.catalog, engineer.framework_id, engineer.level_id)
        upcoming = None
        if pool is not None and pool.questions:
            upcoming = next_checkin(now, plan.weekday, plan.clock, plan.tz, sent, plan.paused_until,
                                    engineer.created_at)
        me = Me(
            level=_level_text(services, pool),
            stage=_stage_text(services, pool),
            next_checkin=upcoming,
            paused_until=plan.paused_until if plan.paused_at(now) else None,
            streak=streak(weeks, current),
            open_checkin=open_checkin,
            recent=recent,
            manager_user_id=engineer.manager_user_id,
            latest_read=next(iter(LogReads(session).latest(engineer.id, 1)), None),
        )
        return HomeData(user_id, plan.tz, me, lines, team)


def _recent_and_weeks(session, engineer_id: int, current: date) -> tuple[tuple[LoggedCheckin, ...], list[date]]:
    """The latest check-ins with answers, and enough answered weeks to count the streak.

    Pages back through the log only while every week read so far is still part of the streak.
    """
    weeks: list[date] = []
    recent: tuple[LoggedCheckin, ...] = ()
    page_number = 0
    while True:
        page = read_log(session, engineer_id, include_private=True, page=page_number,
                        page_size=_STREAK_PAGE)
        if page_number == 0:
            recent = page.checkins[:RECENT_CHECKINS]
        # The streak counts check-ins; a leader's team reflections are not part of it.
        weeks.extend(c.week_start for c in page.checkins if c.kind != "lead")
        if not page.has_more or streak(weeks, current) < len(weeks):
            return recent, weeks
        page_number += 1


def _level_text(services: Services, pool) -> str | None:
    if pool is None:
        return None
    framework = services.catalog.framework(pool.level.framework_id)
    return f"{pool.level.name} ({framework.name if framework else pool.level.framework_id})"


def _stage_text(services: Services, pool) -> str | None:
    if pool is None or pool.source is None or pool.source is pool.level:
        return None
    framework = services.catalog.framework(pool.source.framework_id)
    return f"{pool.source.name} ({framework.name if framework else pool.source.framework_id})"


def publish_home(services: Services, client: WebClient, team_id: str, user_id: str) -> None:
    """Build and publish the person's Home tab (views.publish replaces whatever was there)."""
    with services.uow.reading() as session:
        engineer = Engineers(session).get(team_id, user_id)
        stale = engineer is not None and tz_is_stale(engineer, services.now())
    if stale:
        # Only for people the bot already knows: opening the Home tab enrols nobody.
        Enrolment(services, client).ensure(Who(team_id, user_id))
    data = gather_home(services, team_id, user_id)
    client.views_publish(user_id=user_id, view=build_home(data, services.now()))
