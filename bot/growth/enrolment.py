"""An engineer's check-in settings: reading them, changing them, and "send it now".

Each public method is one unit of work (one short transaction). Slack calls happen outside
transactions, so a slow Slack never holds a database lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from slack_sdk import WebClient

from bot.blocks.growth import build_setup_modal, build_status, level_line
from bot.checkins.plan import plan_for, pool_for
from bot.checkins.runner import DueRunner, RunReport
from bot.checkins.timezones import fetch_tz, tz_is_stale
from bot.domain.clock import format_clock, weekday_name
from bot.domain.schedule import describe_local, next_checkin, paused_indefinitely
from bot.growth.preferences import Change, no_questions_message, resolve_level, set_level
from bot.services import Services
from storage.models import CheckInStatus, Engineer
from storage.repositories import CheckIns, Engineers


@dataclass(frozen=True)
class Who:
    team_id: str
    user_id: str


class Enrolment:
    def __init__(self, services: Services, client: WebClient):
        self.services = services
        self.client = client

    # -- identity and time zone ---------------------------------------------------------------

    def ensure(self, who: Who) -> None:
        """Create the engineer on first contact and keep their time zone current."""
        now = self.services.now()
        with self.services.uow.writing() as session:
            engineer = Engineers(session).get_or_create(who.team_id, who.user_id)
            stale = tz_is_stale(engineer, now)
        if stale:
            tz = fetch_tz(self.client, who.user_id)
            with self.services.uow.writing() as session:
                engineer = Engineers(session).get(who.team_id, who.user_id)
                if tz:
                    engineer.tz = tz
                engineer.tz_checked_at = now

    def change(self, who: Who, apply: Callable[[Engineer], Change]) -> Change:
        """Apply one validated change in one transaction; a refused change leaves everything as it was."""
        self.ensure(who)
        with self.services.uow.writing() as session:
            engineer = Engineers(session).get(who.team_id, who.user_id)
            result = apply(engineer)
            if not result.ok:
                session.rollback()  # nothing of a refused change is kept; the unit of work ends here
        return result

    # -- reading --------------------------------------------------------------------------------

    def status(self, who: Who) -> list:
        self.ensure(who)
        now = self.services.now()
        catalog, settings = self.services.catalog, self.services.settings
        with self.services.uow.reading() as session:
            engineer = Engineers(session).get(who.team_id, who.user_id)
            plan = plan_for(engineer, settings)
            pool = pool_for(catalog, engineer.framework_id, engineer.level_id)
            this_week = CheckIns(session).for_week(engineer.id, plan.slot(now).week_start)
            sent = this_week is not None and this_week.status in (CheckInStatus.SENT.value,
                                                                  CheckInStatus.ANSWERED.value)
            manager = engineer.manager_user_id
            enrolled_at = engineer.created_at
        level = pool.level if pool else None
        source = pool.source if pool and pool.source is not level else None
        framework = catalog.framework(level.framework_id) if level else None
        lines = [
            level_line(level.name if level else None, framework.name if framework else None,
                       f"{source.name} ({catalog.framework(source.framework_id).name})" if source else None),
            f"*Check-in:* {weekday_name(plan.weekday)}s at {format_clock(plan.clock)}, {plan.tz.key} "
            "(from your Slack profile)",
            f"*Questions per check-in:* {plan.questions_per_checkin} · *Reminders:* "
            + (f"on, after {settings.reminder_delay_hours:g} h" if plan.reminders else "off"),
        ]
        if plan.paused_at(now):
            until = "until you resume" if paused_indefinitely(plan.paused_until) else \
                f"until {describe_local(plan.paused_until, plan.tz)}"
            lines.append(f"*Paused* {until}.")
        if level and not pool.questions:
            # Content changed under them: say so rather than promise a check-in that would be empty.
            lines.append(f"*Next check-in:* none. {no_questions_message(level)}")
        elif level:
            upcoming = next_checkin(now, plan.weekday, plan.clock, plan.tz, sent, plan.paused_until, enrolled_at)
            lines.append(f"*Next check-in:* {describe_local(upcoming, plan.tz)}" if upcoming else
                         "*Next check-in:* after you `/growth resume`")
        lines.append(f"*Manager:* <@{manager}>" if manager else "*Manager:* none named (`/growth manager @someone`)")
        return build_status(lines, set_up=level is not None, retention_months=settings.answer_retention_months)

    def setup_view(self, who: Who):
        """The setup form from what is stored: one quick read and no Slack call, because the
        trigger_id that opens it expires 3 s after the click (saving it refreshes the rest)."""
        catalog, settings = self.services.catalog, self.services.settings
        with self.services.uow.reading() as session:
            engineer = Engineers(session).get(who.team_id, who.user_id) or Engineer(reminders_enabled=True)
            plan = plan_for(engineer, settings)
            level = catalog.level(engineer.framework_id or "", engineer.level_id or "")
        frameworks = [(fw.id, fw.name) for fw in catalog.frameworks if fw.levels]
        return build_setup_modal(level.name if level else None, frameworks,
                                 level.framework_id if level else None, plan.weekday, plan.clock,
                                 plan.questions_per_checkin, plan.reminders)

    # -- changing -------------------------------------------------------------------------------

    def set_level_text(self, who: Who, text: str, framework_id: str | None = None) -> Change:
        level, problem = resolve_level(text, self.services.resolver, self.services.catalog, framework_id)
        if level is None:
            return Change(False, problem + " Nothing was changed.")
        return self.change(who, lambda engineer: set_level(engineer, level, self.services.catalog))

    def send_now(self, who: Who, runner: DueRunner) -> tuple[RunReport | None, str, int | None]:
        """This week's check-in, right away, unless it already went out: then the message says
        where it is and the open check-in's id comes back, for an Answer button."""
        self.ensure(who)
        now = self.services.now()
        with self.services.uow.reading() as session:
            engineer = Engineers(session).get(who.team_id, who.user_id)
            pool = pool_for(self.services.catalog, engineer.framework_id, engineer.level_id)
            if pool is None:
                return None, "You have no level yet: `/growth setup` or `/growth level <level>` first.", None
            if not pool.questions:
                return None, no_questions_message(pool.level), None
            week = plan_for(engineer, self.services.settings).slot(now).week_start
            existing = CheckIns(session).for_week(engineer.id, week)
            engineer_id = engineer.id
        if existing is not None and existing.status in (CheckInStatus.SENT.value, CheckInStatus.ANSWERED.value):
            return None, ("This week's check-in is already in your DMs with me: answer it there (reply in "
                          "its thread), or right here."), existing.id
        report = runner.send_one(engineer_id, now)
        if report.sent:
            return report, "Sent: this week's check-in is in your DMs with me.", None
        if report.failed:
            return report, "Slack didn't take it just now; I'll try again within a minute.", None
        return report, "It's on its way already.", None
