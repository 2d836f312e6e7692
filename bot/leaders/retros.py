"""A team retro in a channel: the leaders' document's feedback-loop questions, each its own
message so the team answers in threads, and one summary at the end of the week.

Set up by anyone in the channel, in their time zone (`/growth retro #channel mon 10:00 [every 2
weeks]`); the bot must be a member. A week's run is created in the same transaction as its
question messages are queued in the outbox (one run per (retro, week), whoever races), so a
killed pass leaves nothing half-posted that the recovery pass does not finish, and nothing is
posted twice. The summary counts who replied in each thread; what they wrote stays in the
channel: nothing from a channel goes into anyone's growth log.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.blocks.retros import build_question, build_summary, question_text, summary_text
from bot.blocks.text import escape
from bot.domain.clock import format_clock, parse_clock, weekday_name
from bot.domain.schedule import slot_for_week, local_week_start, week_end, zone
from bot.workspace_clients import WorkspaceGone, for_workspace
from bot.leaders.plan import MAX_EVERY_WEEKS, cadence_text, leader_questions, read_day_and_time
from bot.outbox.sender import queue
from bot.services import Services
from storage.models import OutboxMessage, OutboxStatus, Retro, RetroRun
from storage.repositories import Engineers
from storage.repositories.retros import Retros

logger = logging.getLogger(__name__)

USAGE = ("`/growth retro #channel mon 10:00` (your time zone; add `every 2 weeks` for a slower rhythm), "
         "`/growth retro #channel off`, `/growth retro` (yours)")
INVITE = "Type `/invite @Growth` in <#{channel}>, then try again."
SLACK_SILENT = "Slack wouldn't tell me about that channel just now; try again in a minute."
_CHANNEL = re.compile(r"^<#(?P<id>[CG][A-Z0-9]+)(?:\|(?P<name>[^>]*))?>$")
_EVERY = re.compile(r"^every\s+(?P<n>\d+|two|three|four|other)\s+weeks?$|^every\s+week$")
_NUMBERS = {"two": 2, "three": 3, "four": 4, "other": 2}


def retro_questions(catalog):
    """The feedback-loop questions a team asks itself (the leaders' document's `feedback` kind)."""
    return tuple(q for q in leader_questions(catalog) if q.kind == "feedback")


@dataclass(frozen=True)
class RetroRequest:
    kind: str  # "list" | "set" | "off" | "unclear"
    channel_id: str | None = None
    weekday: int | None = None
    clock: time | None = None
    every_weeks: int = 1
    problem: str | None = None


def parse_retro(text: str) -> RetroRequest:
    words = text.split()
    if not words:
        return RetroRequest("list")
    channel = _CHANNEL.match(words[0])
    if channel is None:
        if words[0].startswith("#"):
            return RetroRequest("unclear", problem=(f"I couldn't tell which channel `{escape(words[0])}` is: pick it "
                                                    "from Slack's # menu as you type."))
        return RetroRequest("unclear", problem="Start with the channel, picked from Slack's # menu.")
    rest = " ".join(words[1:]).lower()
    if rest in ("off", "stop", "remove", "none"):
        return RetroRequest("off", channel.group("id"))
    every, cadence = 1, re.search(r"\s*every\b.*$", rest)
    if cadence:
        match = _EVERY.match(cadence.group(0).strip())
        n = (match.group("n") if match else None) or ("1" if match else None)
        # At most a few digits: int() refuses over 4,300 of them (ValueError), and no rhythm needs more.
        every = (int(n) if len(n) <= 3 else 0) if n and n.isdigit() else _NUMBERS.get(n or "", 0)
        if not 1 <= every <= MAX_EVERY_WEEKS:
            return RetroRequest("unclear", channel.group("id"), problem=(
                f"“{escape(cadence.group(0).strip())}” isn't a rhythm I know: every week, or every 2 to "
                f"{MAX_EVERY_WEEKS} weeks."))
        rest = rest[:cadence.start()].strip()
    parts = rest.split(maxsplit=1)
    if len(parts) != 2:
        return RetroRequest("unclear", channel.group("id"), problem="I need a weekday and a time after the channel.")
    day, clock, problem = read_day_and_time(parts[0], parts[1].removeprefix("at ").strip())
    if problem:
        return RetroRequest("unclear", channel.group("id"), problem=problem)
    return RetroRequest("set", channel.group("id"), day, clock, every)


# -- /growth retro ---------------------------------------------------------------------------------

def retro_command(services: Services, client: WebClient, team_id: str, user_id: str, text: str) -> str:
    request = parse_retro(text)
    if request.kind == "unclear":
        return f"{request.problem} Try {USAGE}. Nothing was changed."
    if request.kind == "list":
        with services.uow.reading() as session:
            mine = Retros(session).of_owner(team_id, user_id)
            lines = [f"• <#{r.channel_id}>: {weekday_name(r.weekday)}s at {r.time} ({r.tz}), {cadence_text(r.every_weeks)}"
                     for r in mine]
        if not lines:
            return f"You haven't set up a retro. {USAGE}."
        return "Your retros:\n" + "\n".join(lines)
    if request.kind == "off":
        with services.uow.reading() as session:
            retro = Retros(session).get(team_id, request.channel_id)
            owner = retro is not None and retro.owner_user_id == user_id
    # Whoever set it up can always stop it, even once the bot is out of the channel.
    refusal = None if request.kind == "off" and owner else _refuse(client, request.channel_id, user_id)
    if refusal:
        return f"{refusal} Nothing was changed."
    now = services.now()
    if request.kind == "off":
        with services.uow.writing() as session:
            retro = Retros(session).get(team_id, request.channel_id)
            if retro is None or not retro.enabled:
                return f"<#{request.channel_id}> has no retro to stop."
            retro.enabled = False
        return f"Done: no more retros in <#{request.channel_id}>. Earlier threads stay where they are."
    if not retro_questions(services.catalog):
        return "The leaders' document loaded here asks no feedback-loop questions, so a retro has nothing to ask."
    with services.uow.writing() as session:
        tz = zone(Engineers(session).get_or_create(team_id, user_id).tz)
        week = local_week_start(now, tz)
        moment = slot_for_week(week, request.weekday, request.clock, tz).due_at
        Retros(session).set(team_id, request.channel_id, owner_user_id=user_id, weekday=request.weekday,
                            time=format_clock(request.clock), tz=tz.key, every_weeks=request.every_weeks,
                            since_week=week if now < moment else week + timedelta(days=7), created_at=now)
    return (f"Done: a retro in <#{request.channel_id}> on *{weekday_name(request.weekday)}s at "
            f"{format_clock(request.clock)}* ({tz.key}), {cadence_text(request.every_weeks)}: each feedback-loop "
            "question as its own message, a summary with counts at the end of the week. "
            f"`/growth retro <#{request.channel_id}> off` stops it.")


def _refuse(client: WebClient, channel_id: str, user_id: str) -> str | None:
    """Why the bot can't run a retro there for this person, or None."""
    try:
        channel = client.conversations_info(channel=channel_id).get("channel") or {}
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error == "channel_not_found":
            return ("I can't see that channel: it's private and I'm not in it, or it no longer exists. "
                    + INVITE.format(channel=channel_id))
        logger.warning("conversations.info for %s failed: %s", channel_id, error)
        return SLACK_SILENT
    except (SlackClientError, OSError) as exc:  # a timeout or a dropped connection: no answer at all
        logger.warning("conversations.info for %s failed: %s", channel_id, exc)
        return SLACK_SILENT
    if channel.get("is_im") or channel.get("is_mpim"):
        return "A retro needs a channel, not a direct message."
    if channel.get("is_archived"):
        return f"<#{channel_id}> is archived."
    if not channel.get("is_member"):
        return f"I'm not in <#{channel_id}> yet, so I can't post there. " + INVITE.format(channel=channel_id)
    try:
        member = _is_member(client, channel_id, user_id)
    except SlackApiError as exc:
        logger.warning("conversations.members for %s failed: %s", channel_id, exc.response.get("error"))
        return SLACK_SILENT
    except (SlackClientError, OSError) as exc:
        logger.warning("conversations.members for %s failed: %s", channel_id, exc)
        return SLACK_SILENT
    if not member:
        return f"Only people in <#{channel_id}> can set up or stop its retro."
    return None


def _is_member(client: WebClient, channel_id: str, user_id: str) -> bool:
    cursor = None
    for _ in range(50):  # 50 pages of 1,000: any channel people retro in
        page = client.conversations_members(channel=channel_id, limit=1000, cursor=cursor)
        if user_id in (page.get("members") or []):
            return True
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return False
    return False


# -- the pass ------------------------------------------------------------------------------------

def run_retros(services: Services, client: WebClient, now: datetime) -> int:
    """Post every retro due at `now`, note where its posts went, and post the summaries of weeks
    that are over; the number of messages queued."""
    queued = _queue_due(services, now)
    for message_id in queued:
        services.outbox.send(message_id)
    summaries = _queue_summaries(services, client, now)
    for message_id in summaries:
        services.outbox.send(message_id)
    return len(queued) + len(summaries)


def _queue_due(services: Services, now: datetime) -> list[int]:
    questions = retro_questions(services.catalog)
    if not questions:
        return []
    with services.uow.reading() as session:
        retros = Retros(session)
        due = {}
        for retro in retros.enabled():
            tz = zone(retro.tz)
            week = local_week_start(now, tz)
            slot = slot_for_week(week, retro.weekday, parse_clock(retro.time), tz)
            weeks_in = (week - retro.since_week).days // 7
            if slot.is_open(now) and weeks_in >= 0 and weeks_in % max(1, retro.every_weeks) == 0:
                due[retro.id] = (week, week_end(week, tz))
        done = retros.weeks_run({rid: week for rid, (week, _) in due.items()})
    queued: list[int] = []
    for retro_id, (week, ends) in due.items():
        if retro_id in done:
            continue
        with services.uow.writing() as session:
            retro = session.get(Retro, retro_id)
            if retro is None or not retro.enabled:
                continue
            run, created = Retros(session).add_run(retro_id, week, ends, now)
            if not created:
                continue
            session.flush()
            posts = []
            for number, question in enumerate(questions, 1):
                message_id = queue(session, f"retro:{run.id}:{number}", channel=retro.channel_id,
                                   text=question_text(question.text),
                                   blocks=build_question(number, len(questions), question, week), now=now,
                                   team_id=retro.team_id)
                posts.append({"outbox_id": message_id, "text": question.text, "ts": None})
                if message_id is not None:
                    queued.append(message_id)
            run.posts = posts
    return queued


def _queue_summaries(services: Services, client: WebClient, now: datetime) -> list[int]:
    with services.uow.reading() as session:
        pending = []
        for run, retro in Retros(session).unsummarized():
            posts = []
            for post in run.posts or []:
                ts, failed = post.get("ts"), False
                if ts is None and post.get("outbox_id") is not None:
                    message = session.get(OutboxMessage, post["outbox_id"])
                    ts = message.message_ts if message is not None else None
                    # Slack refused it for good (the bot was removed, the channel archived):
                    # the summary goes without it instead of waiting for it for ever.
                    failed = message is not None and message.status == OutboxStatus.FAILED.value
                posts.append({**post, "ts": ts, "failed": failed})
            pending.append((run.id, run.week_start, run.summary_due_at, retro.channel_id, retro.team_id, posts))
    queued: list[int] = []
    for run_id, week, due_at, channel_id, team_id, posts in pending:
        if due_at > now:
            _remember_posts(services, run_id, posts)
            continue
        if any(p["ts"] is None and not p["failed"] for p in posts):
            continue  # still being posted (the recovery pass is on it); the next tick looks again
        posted = [p for p in posts if p["ts"] is not None]
        try:
            with for_workspace(team_id):  # the retro channel's own workspace
                counted = [(p["text"], _repliers(client, channel_id, p["ts"]), _permalink(client, channel_id, p["ts"]))
                           for p in posted]
        except WorkspaceGone:
            continue  # uninstalled: summed up after a reinstall, and the other workspaces' now
        with services.uow.writing() as session:
            if not Retros(session).mark_summarized(run_id, now):
                continue
            message_id = None
            if counted:  # nothing was posted at all: there is nothing to sum up, nor anywhere to say it
                message_id = queue(session, f"retro-summary:{run_id}", channel=channel_id, text=summary_text(week),
                                   blocks=build_summary(week, counted), now=now, team_id=team_id)
        if message_id is not None:
            queued.append(message_id)
    return queued


def _remember_posts(services: Services, run_id: int, posts: list[dict]) -> None:
    """Keep each question's ts on the run: the outbox forgets sent messages after a day."""
    if not any(p["ts"] for p in posts):
        return
    with services.uow.writing() as session:
        run = session.get(RetroRun, run_id)
        if run is not None and [p.get("ts") for p in run.posts or []] != [p["ts"] for p in posts]:
            run.posts = posts


def _repliers(client: WebClient, channel_id: str, ts: str) -> int:
    """How many people (not bots) replied in the thread; -1 if Slack would not say."""
    try:
        thread = client.conversations_replies(channel=channel_id, ts=ts, limit=1000)
    except SlackApiError as exc:
        logger.warning("conversations.replies for %s/%s failed: %s", channel_id, ts, exc.response.get("error"))
        return -1
    except OSError as exc:  # a timeout, a dropped connection
        logger.warning("conversations.replies for %s/%s failed: %s", channel_id, ts, type(exc).__name__)
        return -1
    people = {m.get("user") for m in (thread.get("messages") or [])
              if m.get("ts") != ts and m.get("user") and not m.get("bot_id") and not m.get("subtype")}
    return len(people)


def _permalink(client: WebClient, channel_id: str, ts: str) -> str:
    try:
        return client.chat_getPermalink(channel=channel_id, message_ts=ts)["permalink"]
    except (SlackApiError, OSError):
        return f"https://slack.com/archives/{channel_id}/p{ts.replace('.', '')}"
