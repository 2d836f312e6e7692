"""`/growth lead …` and the offer DM's "Turn it on" button (a leader's own team reflection), `/growth team`
(the manager's team note), `/growth retro` (a team retro in a channel)."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.blocks.content import context
from bot.blocks.growth import reply
from bot.growth.enrolment import Enrolment, Who
from bot.blocks.leaders import build_team_note, team_note_text
from bot.leaders.reflections import lead_command
from bot.leaders.retros import retro_command
from bot.leaders.team_note import team_command
from bot.listeners.replies import say
from bot.services import Services


# Slack takes a response_url up to five times within 30 minutes.
RESPONSE_URL_USES = 5


def lead_verb(command: dict, rest: str, respond: Respond, client: WebClient, services: Services) -> None:
    who = Who(command["team_id"], command["user_id"])
    Enrolment(services, client).ensure(who)  # their time zone, before a schedule is described in it
    say(respond, lead_command(services, who.team_id, who.user_id, rest))


def handle_turn_on(ack: Ack, body: dict, respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    # The clicker's own identity, never anything from the button.
    who = Who(body.get("team", {}).get("id") or body["user"].get("team_id"), body["user"]["id"])
    Enrolment(services, client).ensure(who)
    message = lead_command(services, who.team_id, who.user_id, "on")
    respond(response_type="ephemeral", replace_original=False, blocks=reply(message), text=message[:150])


def team_verb(command: dict, rest: str, respond: Respond, client: WebClient, services: Services) -> None:
    who = Who(command["team_id"], command["user_id"])
    Enrolment(services, client).ensure(who)  # "<day> <time>, your local time" is read in their time zone
    answer = team_command(services, who.team_id, who.user_id, rest)
    if isinstance(answer, str):
        say(respond, answer)
        return
    messages = build_team_note(answer, services.now())
    if len(messages) > RESPONSE_URL_USES:  # over 750 reports: say so rather than lose the rest
        messages = messages[:RESPONSE_URL_USES]
        messages[-1] = messages[-1] + [context(
            "Slack shows five replies at most, so this is only the start of your team; the weekly team note "
            "DM (`/growth team note on`) lists everyone.")]
    for blocks in messages:
        respond(response_type="ephemeral", replace_original=False, blocks=blocks, text=team_note_text(answer))


def retro_verb(command: dict, rest: str, respond: Respond, client: WebClient, services: Services) -> None:
    who = Who(command["team_id"], command["user_id"])
    Enrolment(services, client).ensure(who)  # the retro runs in its time zone
    say(respond, retro_command(services, client, who.team_id, who.user_id, rest))


VERBS = {"lead": lead_verb, "team": team_verb, "retro": retro_verb}


def register(app: App) -> None:
    app.action(ids.LEAD_TURN_ON)(handle_turn_on)
