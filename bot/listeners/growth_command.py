"""`/growth …`: settings and check-ins. Reads (log, prep) answer in the ack, from a listener middleware; the rest ack at once and answer via response_url."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from slack_bolt import Ack, App, BoltContext, BoltResponse, Respond
from slack_sdk import WebClient

from bot import ids
from bot.blocks.growth import build_open_checkin_reply, reply
from bot.blocks.text import escape
from bot.growth import preferences
from bot.growth.enrolment import Enrolment, Who
from bot.scheduling import make_due_runner
from bot.listeners.replies import Answer, ack_with_first, post_rest, say
from bot.services import Services

UNKNOWN = "I don't know `/growth {verb}`. Here is what I can do:"


def handle_growth_command(ack: Ack, command: dict, respond: Respond, client: WebClient, context: BoltContext,
                          rich_verbs: Mapping[str, Callable] = MappingProxyType({}),
                          ack_verbs: Mapping[str, Callable] = MappingProxyType({})) -> None:
    verb, rest = _verb_of(command)
    if verb in ack_verbs:
        # Answered and acked already (`answer_reads_first`); what is left is the rest of a long
        # answer, and its `then`.
        answer: Answer = context[ACKED_ANSWER]
        post_rest(respond, answer)
        if answer.then is not None:
            # Off Bolt's listener threads, which the next requests' acks wait for.
            context["services"].after_ack.submit(answer.then)
        return
    if verb == "setup":
        ack()
        open_setup(command["trigger_id"], command, client, context)
        return
    ack()
    services: Services = context["services"]
    who = Who(command["team_id"], command["user_id"])
    desk = Enrolment(services, client)
    if verb in rich_verbs:
        rich_verbs[verb](command=command, rest=rest.strip(), respond=respond, client=client, services=services)
        return
    handler = GROWTH_VERBS.get(verb)
    if handler is None:
        blocks = desk.status(who)
        if verb not in ("", "help", "status", "settings"):
            blocks = reply(UNKNOWN.format(verb=escape(verb))) + blocks
        respond(response_type="ephemeral", blocks=blocks, text="Growth check-ins")
        return
    answer = handler(desk, who, rest.strip(), services, client)
    say(respond, answer)


def _verb_of(command: dict) -> tuple[str, str]:
    verb, _, rest = (command.get("text") or "").strip().partition(" ")
    return verb.lower(), rest.strip()


ACKED_ANSWER = "growth_acked_answer"


def answer_reads_first(ack: Ack, command: dict, context: BoltContext, next,  # noqa: A002 - Bolt's name
                       ack_verbs: Mapping[str, Callable]) -> BoltResponse | None:
    """Listener middleware for `/growth`: a verb that answers in its ack (log, prep) is answered
    and acked here, in the request thread, so the ack is the response at once. From the listener
    it waited for one of Bolt's listener threads and then for Bolt's 10 ms poll of the ack (as
    checkin_answers.write_down_first found for the modal). Any other verb goes on to the listener."""
    verb, rest = _verb_of(command)
    if verb not in ack_verbs:
        next()
        return None
    answer = ack_verbs[verb](command=command, rest=rest, services=context["services"])
    acked = ack_with_first(ack, answer)
    if len(answer.messages) == 1 and answer.then is None:
        # Returned: a middleware that calls no next() is "unhandled" to Bolt unless it returns
        # the response itself. Nothing left for the listener to do.
        return acked
    context[ACKED_ANSWER] = answer
    next()
    return None


def open_setup(trigger_id: str, body: dict, client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    who = Who(body.get("team_id") or body["team"]["id"], body.get("user_id") or body["user"]["id"])
    client.views_open(trigger_id=trigger_id, view=Enrolment(services, client).setup_view(who))


def _level(desk: Enrolment, who: Who, rest: str, services: Services, client: WebClient) -> str:
    return desk.set_level_text(who, rest).message


def _schedule(desk, who, rest, services, client) -> str:
    return desk.change(who, lambda e: preferences.set_schedule(e, rest)).message


def _pause(desk, who, rest, services, client) -> str:
    return desk.change(who, lambda e: preferences.pause(e, rest, services.now())).message


def _resume(desk, who, rest, services, client) -> str:
    return desk.change(who, lambda e: preferences.resume(e, services.now())).message


def _reminders(desk, who, rest, services, client) -> str:
    return desk.change(who, lambda e: preferences.set_reminders(e, rest)).message


def _now(desk, who, rest, services, client) -> str | list:
    _, message, open_checkin = desk.send_now(who, make_due_runner(services, client))
    return build_open_checkin_reply(message, open_checkin) if open_checkin else message


GROWTH_VERBS = {
    "level": _level,
    "schedule": _schedule,
    "pause": _pause,
    "resume": _resume,
    "reminders": _reminders,
    "now": _now,
}


def handle_open_setup(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    ack()
    open_setup(body["trigger_id"], body, client, context)


def handle_checkin_now(ack: Ack, body: dict, respond: Respond, client: WebClient, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    who = Who(body["team"]["id"], body["user"]["id"])
    say(respond, _now(Enrolment(services, client), who, "", services, client))


def register(app: App, rich_verbs: Mapping[str, Callable] = MappingProxyType({}),
             ack_verbs: Mapping[str, Callable] = MappingProxyType({})) -> None:
    """`rich_verbs`: the features' own verbs (export, assess…), each called as
    fn(command=, rest=, respond=, client=, services=) after an empty ack. `ack_verbs`: those
    quick enough to answer within Slack's 3 s without a Slack call or a write first (log,
    prep), each called as fn(command=, rest=, services=) -> replies.Answer before the ack,
    which carries the answer."""

    def growth_command(ack: Ack, command: dict, respond: Respond, client: WebClient, context: BoltContext) -> None:
        handle_growth_command(ack, command, respond, client, context, rich_verbs, ack_verbs)

    def reads_first(ack: Ack, command: dict, context: BoltContext, next) -> BoltResponse | None:  # noqa: A002
        return answer_reads_first(ack, command, context, next, ack_verbs)

    app.command(ids.GROWTH_COMMAND, middleware=[reads_first])(growth_command)
    app.action(ids.OPEN_SETUP)(handle_open_setup)
    app.action(ids.CHECKIN_NOW)(handle_checkin_now)
