"""A leader's own team reflection: offered once, turned on or off, sent on their day, answered
like a check-in.

Everything sent goes through the outbox. A week's reflection is a check-in row of kind "lead"
created in the same transaction as its outbox message (`Leaders.add_reflection`: one row per
(leader, week) whoever races), so it exists exactly when its DM is owed, and the recovery
pass posts it if this process dies first. Its answers then take the check-in paths unchanged
(the Answer button and modal, thread replies through the inbox), so they land in the leader's
own growth log under the same access rule as every answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient

from bot.blocks.leaders import build_offer, build_reflection, offer_text, reflection_fallback_text
from bot.checkins.plan import plan_for
from bot.checkins.timezones import fetch_tz
from bot.domain.rotation import pick_questions
from bot.leaders.retros import run_retros
from bot.leaders.team_note import run_team_notes
from bot.leaders.plan import (
    USAGE,
    LeadPlan,
    LeadRequest,
    lead_plan,
    leader_questions,
    parse_lead,
    schedule_text,
)
from bot.domain.clock import format_clock
from bot.domain.schedule import describe_local, slot_for_week
from bot.outbox.sender import queue
from bot.services import Services
from bot.workspace_clients import WorkspaceGone, for_workspace
from storage.repositories import CheckIns, Engineers
from storage.repositories.leaders import Leaders

logger = logging.getLogger(__name__)

NO_QUESTIONS = ("The leaders' document loaded here asks no questions of a team, so there is nothing for a "
                "team reflection to ask. Nothing was changed.")


def plan_of(engineer, services: Services) -> LeadPlan:
    checkin = plan_for(engineer, services.settings)
    return lead_plan(engineer, checkin.weekday, checkin.clock)


# -- the pass ---------------------------------------------------------------------------------

@dataclass
class LeadReport:
    offered: int = 0
    queued: int = 0
    notes: int = 0
    retro_messages: int = 0

    def summary(self) -> str:
        return (f"offered {self.offered}, reflections {self.queued}, team notes {self.notes}, "
                f"retro messages {self.retro_messages}")


def run_leaders(services: Services, client: WebClient, now: datetime) -> LeadReport:
    """Offer the team reflection to new managers; queue and send every reflection, team note and
    retro post or summary due at `now` (the scheduler's tick, and `growth-bot checkins run-due`)."""
    report = LeadReport()

    def reflections() -> None:
        sent = offer_new_leaders(services, client, now, report) + queue_due_reflections(services, now, report)
        for message_id in sent:
            services.outbox.send(message_id)
        with services.uow.writing() as session:
            CheckIns(session).attach_outbox_posts(due_since=now - timedelta(days=8))

    def notes() -> None:
        report.notes = run_team_notes(services, now)

    def retros() -> None:
        report.retro_messages = run_retros(services, client, now)

    # Each step on its own: one failing (Slack down, a bad row) never holds up the others, and
    # the next tick retries it; everything they queued is in the outbox either way.
    for name, step in (("Team reflections", reflections), ("Team notes", notes), ("Retros", retros)):
        try:
            step()
        except Exception:  # noqa: BLE001 - log it and carry on
            logger.exception("%s failed", name)
    if report.offered or report.queued or report.notes or report.retro_messages:
        logger.info("Leaders pass at %s: %s", now.isoformat(), report.summary())
    return report


def offer_new_leaders(services: Services, client: WebClient, now: datetime, report: LeadReport) -> list[int]:
    """One DM to each person first named as a manager (by `/growth manager` or an import)."""
    questions = leader_questions(services.catalog)
    if not questions:
        return []
    with services.uow.reading() as session:
        pending = Leaders(session).unoffered_managers()
    queued: list[int] = []
    for team_id, user_id in pending:
        try:
            with for_workspace(team_id):
                tz = fetch_tz(client, user_id)  # outside any transaction: a slow Slack holds no lock
        except WorkspaceGone:
            # Uninstalled: not offered now (a reinstall offers it), and the others still are.
            continue
        with services.uow.writing() as session:
            leader = Engineers(session).get_or_create(team_id, user_id)
            if leader.lead_offered_at is not None:
                continue  # another process offered it first
            leader.lead_offered_at = now
            if tz and leader.tz_checked_at is None:
                leader.tz, leader.tz_checked_at = tz, now
            message_id = queue(session, f"lead-offer:{team_id}:{user_id}", channel=user_id, text=offer_text(),
                               blocks=build_offer(len(questions)), now=now, team_id=team_id)
        report.offered += 1
        if message_id is not None:
            queued.append(message_id)
    return queued


def queue_due_reflections(services: Services, now: datetime, report: LeadReport) -> list[int]:
    questions = leader_questions(services.catalog)
    if not questions:
        return []
    with services.uow.reading() as session:
        leaders = Leaders(session)
        due = {}
        for leader in leaders.enabled():
            plan = plan_of(leader, services)
            slot = plan.slot(now)
            if slot.is_open(now) and plan.is_due_week(slot.week_start) and \
                    (plan.since is None or slot.week_start >= plan.since):
                due[leader.id] = slot
        done = leaders.reflections_for_weeks({eid: slot.week_start for eid, slot in due.items()})
    queued: list[int] = []
    for engineer_id, slot in due.items():
        if engineer_id in done:
            continue
        with services.uow.writing() as session:
            leader = Engineers(session).by_id(engineer_id)
            if leader is None or not leader.lead_enabled:
                continue
            row, created = Leaders(session).add_reflection(engineer_id, slot.week_start, slot.due_at, now)
            if not created:
                continue
            count = leader.questions_per_checkin or services.settings.questions_per_checkin
            pick = pick_questions(questions, leader.lead_rotation_offset, count)
            row.questions = [q.payload() for q in pick.items]
            leader.lead_rotation_offset = pick.next_offset
            session.flush()
            message_id = queue(session, f"lead-reflection:{row.id}", channel=leader.user_id,
                               text=reflection_fallback_text(row.questions),
                               blocks=build_reflection(row.id, row.questions, slot.week_start), now=now,
                               team_id=leader.team_id)
            row.outbox_id = message_id
        report.queued += 1
        if message_id is not None:
            queued.append(message_id)
    return queued


# -- /growth lead ------------------------------------------------------------------------------

def lead_command(services: Services, team_id: str, user_id: str, text: str) -> str:
    """What `/growth lead …` says; a refused request changes nothing."""
    request = parse_lead(text)
    if request.kind == "unclear":
        return f"{request.problem} Try {USAGE}. Nothing was changed."
    if request.kind != "status" and request.kind != "off" and not leader_questions(services.catalog):
        return NO_QUESTIONS
    now = services.now()
    with services.uow.writing() as session:
        leader = Engineers(session).get_or_create(team_id, user_id)
        return _apply(services, leader, request, now)


def _apply(services: Services, leader, request: LeadRequest, now: datetime) -> str:
    if request.kind == "status":
        if not leader.lead_enabled:
            return ("Your team reflection is *off*. `/growth lead on` turns it on: the leaders' document's "
                    "questions about your team, on your check-in's day and time, kept in your growth log.")
        return f"Your team reflection is *on*: {schedule_text(plan_of(leader, services))}, your local time."
    if request.kind == "off":
        was = leader.lead_enabled
        leader.lead_enabled = False
        return ("Your team reflection is now *off*. Your earlier team reflections stay in your growth log. "
                "`/growth lead on` brings it back." if was else
                "Your team reflection was already off. `/growth lead on` turns it on.")
    if request.kind == "every":
        leader.lead_every_weeks = request.every_weeks
    elif request.kind == "schedule":
        leader.lead_weekday, leader.lead_time = request.weekday, format_clock(request.clock)
    elif request.kind == "default":
        leader.lead_weekday = leader.lead_time = None
    turned_on = not leader.lead_enabled
    if turned_on or request.kind in ("every", "schedule", "default"):
        _start(services, leader, now)
    plan = plan_of(leader, services)
    head = "Your team reflection is *on*" if turned_on or request.kind == "on" else "Done: your team reflection now comes"
    lines = [f"{head}: {schedule_text(plan)}, your local time."]
    if turned_on and request.kind != "on":
        lines.append("(It was off, so I turned it on.)")
    lines.append(f"The first one: {_first(plan, now)}. `/growth lead off` stops it.")
    return " ".join(lines)


def _start(services: Services, leader, now: datetime) -> None:
    """On from this week if its moment is still ahead, else from next week: turning it on (or
    moving it) never sends one at once for a moment already gone."""
    leader.lead_enabled = True
    if leader.lead_offered_at is None:
        leader.lead_offered_at = now  # on already: no "turn it on?" DM later
    plan = plan_of(leader, services)
    slot = plan.slot(now)
    leader.lead_since = slot.week_start if now < slot.due_at else slot.week_start + timedelta(days=7)


def _first(plan: LeadPlan, now: datetime) -> str:
    slot = plan.slot(now)
    week = plan.since or slot.week_start
    while not plan.is_due_week(week) or week < slot.week_start or (week == slot.week_start and now >= slot.due_at):
        week += timedelta(days=7)
    return describe_local(slot_for_week(week, plan.weekday, plan.clock, plan.tz).due_at, plan.tz)


def turn_on(services: Services, team_id: str, user_id: str) -> str:
    """The offer's button."""
    return lead_command(services, team_id, user_id, "on")
