"""The one reminder: after the configured delay, only if nothing was answered, only this week."""

from __future__ import annotations

from concurrent.futures import Executor
from datetime import timedelta

from bot import metrics
from bot.checkins.delivery import post_reminder
from bot.checkins.outcomes import CLAIM_LEASE, outcome_of
from bot.checkins.plan import plan_for
from bot.workspace_clients import for_workspace
from storage.models import CheckIn, Engineer
from storage.repositories import Answers, CheckIns

# A reminder belongs to its check-in's week, which is never longer than this.
REMINDER_HORIZON = timedelta(days=8)


def send_reminders(runner, clock, owner: str, pool: Executor, report) -> None:
    """Claim, post and record every reminder owed at `clock()`; `runner` is the DueRunner."""
    now = clock()
    delay = timedelta(hours=runner.settings.reminder_delay_hours)
    claimed: list[tuple[CheckIn, bool, str]] = []
    with runner.uow.writing() as session:
        checkins = CheckIns(session)
        # Only this week's can be owed a reminder: older ones are not even looked at, so the
        # pass does not slow down as weeks of unanswered check-ins pile up.
        for checkin in checkins.awaiting_reminder(sent_before=now - delay, sent_after=now - REMINDER_HORIZON):
            engineer = session.get(Engineer, checkin.engineer_id)
            plan = plan_for(engineer, runner.settings)
            # Never for a past week, a paused engineer, or someone who said no reminders.
            if not plan.reminders or plan.paused_at(now) or plan.slot(now).week_start != checkin.week_start:
                continue
            if Answers(session).for_checkin(checkin.id):
                checkins.mark_answered(checkin.id, now)
                continue
            # A claim that had an owner before was taken over from a sender that died.
            recovering = checkin.reminder_owner is not None
            if checkins.claim_reminder(checkin.id, owner, now, CLAIM_LEASE):
                claimed.append((checkin, recovering, engineer.team_id))
    futures = [(checkin, pool.submit(_remind, runner, checkin, recovering, team_id))
               for checkin, recovering, team_id in claimed]
    metrics.MESSAGES_CLAIMED.labels(metrics.REMINDER).inc(len(futures))
    outcomes = [(checkin, outcome_of(future)) for checkin, future in futures]
    if not outcomes:
        return
    with runner.uow.writing() as session:
        for checkin, outcome in outcomes:
            if outcome is True and CheckIns(session).mark_reminder_sent(checkin.id, owner, clock()):
                report.reminders += 1
                metrics.MESSAGES_SENT.labels(metrics.REMINDER).inc()
            elif outcome is not True:
                report.errors.append(f"reminder {checkin.id}: {outcome}")
                metrics.MESSAGES_FAILED.labels(metrics.REMINDER, metrics.failure_reason(outcome)).inc()


def _remind(runner, checkin: CheckIn, recovering: bool, team_id: str) -> bool:
    with for_workspace(team_id):  # the engineer's own workspace's token and allowance
        runner.backoff.wait()
        post_reminder(runner.client, checkin.channel_id, checkin.message_ts, checkin.id, checkin.week_start,
                      recovering=recovering)
    return True
