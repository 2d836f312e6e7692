"""`/growth manager`: an engineer names (or removes) the manager who may read their log.

`Engineer.manager_user_id` is the single source of truth for who may read a log, so a change
takes effect on the next read: a former manager's old buttons and scheduled digests check it
again and find nothing. Their 1:1 row goes at once too, so no digest is even attempted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.growth.enrolment import Enrolment, Who
from bot.growthlog.mentions import mention, split_mention
from bot.outbox.messages import ManagerNamed
from bot.outbox.sender import FOUND, RETRY, SENT, queue_message
from bot.services import Services
from storage.repositories import Engineers, OneOnOnes

logger = logging.getLogger(__name__)

REMOVE_WORDS = frozenset({"none", "remove", "nobody", "clear", "off"})
USAGE = ("Name the person you report to with `/growth manager @name` (pick them from Slack's @-menu); "
         "`/growth manager none` removes them.")
SLACKBOT = "USLACKBOT"


@dataclass(frozen=True)
class Target:
    """What `/growth manager …` asked for: show, remove, a user id, or something unreadable."""

    kind: str  # "show" | "remove" | "user" | "unclear"
    user_id: str | None = None


def parse_target(text: str) -> Target:
    user_id, rest = split_mention(text)
    if user_id is not None:
        return Target("user", user_id) if not rest else Target("unclear")
    words = rest.lower().split()
    if not words:
        return Target("show")
    if " ".join(words) in REMOVE_WORDS | {"no one"}:
        return Target("remove")
    return Target("unclear")


@dataclass(frozen=True)
class ManagerChange:
    message: str              # for the engineer
    ok: bool
    previous: str | None = None
    current: str | None = None


def assign_manager(session, team_id: str, engineer_user_id: str,
                   manager_user_id: str | None) -> tuple[str | None, bool]:
    """Set (or clear) the engineer's manager in the caller's transaction; (previous, changed).

    The old pair's 1:1 row is deleted with it: its schedule and prep history belonged to
    a relationship that no longer exists.
    """
    engineer = Engineers(session).get_or_create(team_id, engineer_user_id)
    previous = engineer.manager_user_id
    if previous == manager_user_id:
        return previous, False
    engineer.manager_user_id = manager_user_id
    if previous is not None:
        OneOnOnes(session).remove_for_pair(team_id, previous, engineer_user_id)
    session.flush()
    return previous, True


class Relationships:
    """Each method is one request: its own short transaction, Slack calls outside it."""

    def __init__(self, services: Services, client: WebClient):
        self.services = services
        self.client = client

    def handle(self, who: Who, text: str) -> ManagerChange:
        target = parse_target(text)
        if target.kind == "show":
            return self.show(who)
        if target.kind == "remove":
            return self.change(who, None)
        if target.kind == "user":
            return self.change(who, target.user_id)
        return ManagerChange(f"I couldn't tell who you meant. {USAGE}", False)

    def show(self, who: Who) -> ManagerChange:
        with self.services.uow.reading() as session:
            engineer = Engineers(session).get(who.team_id, who.user_id)
            current = engineer.manager_user_id if engineer else None
        if current is None:
            return ManagerChange(f"You haven't named a manager, so nobody else can read your growth log. {USAGE}",
                                 True)
        return ManagerChange(f"Your manager here is {mention(current)}: they can read your growth log, except "
                             f"answers you mark private. {USAGE}", True, current, current)

    def change(self, who: Who, manager_user_id: str | None) -> ManagerChange:
        if manager_user_id is not None:
            refusal = self._refuse(who, manager_user_id)
            if refusal:
                return ManagerChange(refusal, False)
        Enrolment(self.services, self.client).ensure(who)
        with self.services.uow.writing() as session:
            previous, changed = assign_manager(session, who.team_id, who.user_id, manager_user_id)
            notice = None
            if changed and manager_user_id is not None:
                # Queued with the change itself: named and told, or neither (bot.outbox).
                now = self.services.now()
                [notice] = queue_message(
                    session, f"manager-notice:{who.team_id}:{who.user_id}:{manager_user_id}:{now.isoformat()}",
                    ManagerNamed(who.user_id), channel=manager_user_id, now=now, team_id=who.team_id) or [None]
        if manager_user_id is None:
            if previous is None:
                return ManagerChange("You haven't named a manager, so there was nobody to remove. "
                                     "Nobody else can read your growth log.", True)
            return ManagerChange(f"Done: {mention(previous)} is no longer your manager here and can't read your "
                                 "growth log any more, starting now. `/growth manager @name` names someone new.",
                                 True, previous, None)
        if not changed:
            return ManagerChange(f"{mention(manager_user_id)} is already your manager here: they can read your "
                                 "growth log, except answers you mark private.", True, previous, manager_user_id)
        told = self.services.outbox.send(notice)
        lines = [f"Done: {mention(manager_user_id)} is now your manager here. They can read your growth log, "
                 "except answers you mark private, and get a prep digest before your 1:1s."]
        if previous:
            lines.append(f"{mention(previous)} no longer can, starting now.")
        lines.append({SENT: "I've let them know in a DM.", FOUND: "I've let them know in a DM.",
                      RETRY: "Slack didn't take my DM to them just now; I'll keep trying and tell them shortly."}
                     .get(told, "I couldn't DM them, so you may want to tell them yourself."))
        lines.append("`/growth manager none` removes them at any time.")
        return ManagerChange(" ".join(lines), True, previous, manager_user_id)

    def _refuse(self, who: Who, manager_user_id: str) -> str | None:
        if manager_user_id == who.user_id:
            return ("You can't be your own manager here: name the person you report to, "
                    "e.g. `/growth manager @name`. Nothing was changed.")
        if manager_user_id == SLACKBOT:
            return _not_a_person(manager_user_id)
        try:
            user = self.client.users_info(user=manager_user_id).get("user") or {}
        except SlackApiError as exc:
            logger.warning("users.info for %s failed: %s", manager_user_id, exc.response.get("error"))
            return f"I couldn't find {mention(manager_user_id)} in this workspace. Nothing was changed."
        if user.get("is_bot") or user.get("is_app_user"):
            return _not_a_person(manager_user_id)
        if user.get("deleted"):
            return f"{mention(manager_user_id)}'s account is deactivated. Nothing was changed."
        return None


def _not_a_person(user_id: str) -> str:
    return (f"{mention(user_id)} is a bot or an app, not a person: name the person you report to. "
            "Nothing was changed.")
