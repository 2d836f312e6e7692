"""`/growth export` and `/growth forget-me`, and their buttons (also used on the App Home tab)."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.blocks.files import CANCELLED, build_forget_prompt, build_forgotten, forgotten_text
from bot.blocks.growth import reply
from bot.growthlog.export import parse_request
from bot.growthlog.exporting import Exporter
from bot.growthlog.forget import forget_me
from bot.growthlog.home import publish_home
from bot.listeners.replies import say
from bot.services import Services

NOT_YOUR_BUTTON = "That confirmation was for someone else, so nothing was deleted. `/growth forget-me` is yours to use."


def export_command(command: dict, rest: str, respond: Respond, client: WebClient, services: Services) -> None:
    request = parse_request(rest)
    if request.problem:
        say(respond, request.problem)
        return
    result = Exporter(services, client).send(command["team_id"], command["user_id"], request.user_id, request.fmt)
    say(respond, result.message)


def forget_command(command: dict, rest: str, respond: Respond, client: WebClient, services: Services) -> None:
    respond(response_type="ephemeral", blocks=build_forget_prompt(command["user_id"]),
            text="Delete everything I store about you?")


def handle_export_own(ack: Ack, body: dict, respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    user = body["user"]["id"]
    result = Exporter(context["services"], client).send(_team(body), user, None, "md")
    if body.get("response_url"):
        respond(response_type="ephemeral", replace_original=False, blocks=reply(result.message),
                text=result.message[:150])
    elif not result.uploaded:
        # From the App Home tab there is no response_url: the DM is where the answer goes.
        client.chat_postMessage(channel=user, blocks=reply(result.message), text=result.message[:150])


def handle_forget_delete(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient,
                         context: BoltContext) -> None:
    ack()
    clicker = body["user"]["id"]
    if action.get("value") != clicker:
        respond(response_type="ephemeral", replace_original=False, blocks=reply(NOT_YOUR_BUTTON),
                text=NOT_YOUR_BUTTON)
        return
    services: Services = context["services"]
    # The clicker's own identity, never anything from the button: nobody can delete someone else.
    result = forget_me(services.uow, _team(body), clicker)
    respond(response_type="ephemeral", replace_original=True, blocks=build_forgotten(result),
            text=forgotten_text(result)[:150])
    publish_home(services, client, _team(body), clicker)


def handle_forget_cancel(ack: Ack, respond: Respond) -> None:
    ack()
    respond(response_type="ephemeral", replace_original=True, blocks=reply(CANCELLED), text=CANCELLED)


def _team(body: dict) -> str:
    return (body.get("team") or {}).get("id") or body["user"]["team_id"]


# The /growth verbs this feature answers (see growth_command.register).
VERBS = {"export": export_command, "forget-me": forget_command}


def register(app: App) -> None:
    app.action(ids.EXPORT_OWN_LOG)(handle_export_own)
    app.action(ids.FORGET_DELETE)(handle_forget_delete)
    app.action(ids.FORGET_CANCEL)(handle_forget_cancel)
