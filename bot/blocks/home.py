"""Block Kit for the App Home tab: one's own growth at a glance, and a manager's reports.

A home view holds at most 100 blocks. Answers are split across sections, never cut; when the
latest entries would not fit, whole older check-ins are left to `/growth log` instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, Block, DividerBlock
from slack_sdk.models.views import View

from bot import ids
from bot.blocks.content import context, header, markdown_sections
from bot.blocks.ladder import button
from bot.blocks.reads import latest_read_line
from bot.blocks.text import escape
from bot.domain.schedule import describe_local
from bot.growthlog.export import PRIVATE_MARK, week_label, week_title

if TYPE_CHECKING:
    from storage.repositories.growth_log import Entry, LoggedCheckin
    from bot.growthlog.home import HomeData, Me

HOME_BLOCK_LIMIT = 100
WELCOME = ("Every week, at a time you choose, I'll send you a few reflection questions for your stage of the "
           "career ladder. Your answers build a *growth log*: yours, readable by the manager you name "
           "(never your private answers), exportable, and deletable whenever you like.")
TIPS = ("`/ladder senior` — what a level expects · `/growth setup` — your level and check-in time · "
        "`/growth help` — everything else")


def build_home(data: HomeData, now: datetime) -> View:
    """The whole Home tab for `data.user_id`, within Slack's 100-block limit."""
    trailing = _reports(data)
    if data.me is None or data.me.is_new:
        blocks = _welcome() + trailing
    else:
        blocks = _overview(data.me, data.tz, now)
        blocks += _recent(data.me.recent, HOME_BLOCK_LIMIT - len(blocks) - len(trailing)) + trailing
    return View(type="home", blocks=blocks)


def _welcome() -> list[Block]:
    return [
        header("Welcome to Growth"),
        *markdown_sections(WELCOME),
        ActionsBlock(elements=[button("Set up check-ins", ids.OPEN_SETUP, "setup", primary=True)]),
        context(TIPS),
    ]


def _overview(me: Me, tz: ZoneInfo, now: datetime) -> list[Block]:
    lines = [f"*Level:* {escape(me.level)}" if me.level
             else "*Level:* not set — press *Settings* or `/growth level <level>`"]
    if me.stage:
        lines.append(f"*Stage:* {escape(me.stage)} (the questions you reflect with)")
    if me.paused_until is not None:
        until = "until you resume" if me.paused_until.year >= 9999 else f"until {describe_local(me.paused_until, tz)}"
        lines.append(f"*Check-ins paused* {until} (`/growth resume`).")
    if me.next_checkin is not None:
        lines.append(f"*Next check-in:* {describe_local(me.next_checkin, tz)}")
    lines.append(f"*Streak:* {streak_text(me.streak)}")
    lines.append(f"*Manager:* <@{me.manager_user_id}> can read your log, never your private answers"
                 if me.manager_user_id else "*Manager:* none named (`/growth manager @someone`)")
    if me.latest_read is not None:
        lines.append(latest_read_line(me.latest_read, tz))
    actions = []
    if me.open_checkin is not None:
        label = "Edit this week's answers" if me.open_checkin.answered else "Answer this week's check-in"
        actions.append(button(label, ids.CHECKIN_ANSWER, str(me.open_checkin.checkin_id),
                              primary=not me.open_checkin.answered))
    actions += [button("Settings", ids.OPEN_SETUP, "setup"), button("Export my log", ids.EXPORT_OWN_LOG, "md")]
    return [header("Your growth"), *markdown_sections("\n".join(lines)), ActionsBlock(elements=actions)]


def streak_text(weeks: int) -> str:
    if weeks == 0:
        return "none yet — answer a check-in to start one"
    return f"{weeks} week{'s' if weeks != 1 else ''} in a row"


def _recent(checkins: tuple[LoggedCheckin, ...], room: int) -> list[Block]:
    blocks: list[Block] = [DividerBlock(), *markdown_sections("*Your latest entries*")]
    if not checkins:
        return blocks + [context("Nothing yet: your answers to the weekly check-ins will show up here.")]
    for checkin in checkins:
        part = checkin_blocks(checkin)
        if len(blocks) + len(part) + 1 > room:  # + the closing line below
            return blocks + [context("More entries than fit here: `/growth log` shows them all.")]
        blocks += part
    private = any(e.private for c in checkins for e in c.entries)
    marks = " · 🔒 marks answers only you can see." if private else ""
    return blocks + [context(f"Your whole log: `/growth log`{marks}")]


def checkin_blocks(checkin: LoggedCheckin) -> list[Block]:
    """One check-in's answers, each answer whole (split across sections when long)."""
    blocks: list[Block] = list(markdown_sections(f"*{week_title(checkin.kind, week_label(checkin.week_start))}*"))
    for entry in checkin.entries:
        blocks += markdown_sections(entry_text(entry))
    return blocks


def entry_text(entry: Entry) -> str:
    mark = f" · {PRIVATE_MARK}" if entry.private else ""
    quoted = "\n".join(f">{escape(line)}" for line in (entry.text or "").splitlines() or [""])
    return f"_{escape(' '.join(entry.question.split()))}_{mark}\n{quoted}"


def _reports(data: HomeData) -> list[Block]:
    if not data.reports:
        return []
    lines = []
    for report in data.reports:
        when = (f"last answered {report.last_answer_at.astimezone(data.tz):%a %-d %b %Y}"
                if report.last_answer_at else "no answers yet")
        lines.append(f"• <@{report.user_id}> — {when}")
    team = []
    if data.team is not None and data.team.reports:
        from bot.blocks.leaders import report_line

        team = markdown_sections("*Your team this week*\n" + "\n".join(report_line(r, data.tz)
                                                                        for r in data.team.reports))
    return [
        DividerBlock(),
        *markdown_sections("*Your reports*\n" + "\n".join(lines)),
        *team,
        context("Read a report's log before your 1:1 with `/growth log @name`. "
                "Their answers are never shown here, and private ones never reach you."),
    ]
