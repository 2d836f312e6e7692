"""Answering a check-in: the Answer button, the modal's submission, and replies in the thread."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, BoltContext, BoltResponse, Respond
from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from bot import ids
from bot.blocks.growth import reply
from bot.blocks.checkin import build_answer_modal
from bot.checkins.answering import NOT_YOURS, answer_form, answer_problems, submission_key
from bot.domain.numbers import strict_int
from bot.inbox import intake as inbox
from bot.inbox.submissions import MODAL_SUBMISSION, submission_payload
from bot.services import Services
from storage.repositories import Answers
from storage.repositories.inbox import Inbox

logger = logging.getLogger(__name__)
SAVE_FAILED = "Your answers couldn't be saved just now. Please press Save again in a moment."
# checkins.id is an INTEGER on PostgreSQL: a larger id (crafted) is no check-in of anyone's, where
# comparing it with the column was "integer out of range", and the modal said "press Save again".
CHECKIN_ID_MAX = 2 ** 31 - 1


def handle_answer_button(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient,
                         context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    form = None
    checkin_id = strict_int(action.get("value"), 1, CHECKIN_ID_MAX)
    if checkin_id is not None:
        with services.uow.reading() as session:
            form = answer_form(session, checkin_id, body["team"]["id"], body["user"]["id"])
    if form is not None:
        view = build_answer_modal(form.checkin_id, form.questions, form.existing, form.private,
                                  team_reflection=form.team_reflection)
        client.views_open(trigger_id=body["trigger_id"], view=view)
    elif body.get("response_url"):
        respond(response_type="ephemeral", replace_original=False, blocks=reply(NOT_YOURS), text=NOT_YOURS)
    else:
        # The App Home has no response_url: say it in the DM instead of failing silently.
        client.chat_postMessage(channel=body["user"]["id"], blocks=reply(NOT_YOURS), text=NOT_YOURS)


def write_down_first(ack: Ack, body: dict, view: dict, context: BoltContext, next) -> BoltResponse | None:  # noqa: A002 - Bolt's name
    """Listener middleware for the modal's submission: write it down, then ack, in the request thread.

    Durable before ack, in one statement: the submission goes to the inbox (bot.inbox) only if
    the check-in is the submitter's, so the modal closes once what was typed is on disk (well
    inside Slack's 3 s) and someone else's check-in is still refused in the modal. The answers
    are saved from the inbox after the ack (bot.inbox.submissions), where a crash leaves them for
    the recovery pass. Saving them here took five statements, and on SQLite every other ack
    waited behind that one writer (benchmarks/answer_ack.py). The INSERT shares its transaction
    and commit with the deliveries arriving meanwhile (storage.group_commit).

    Bolt runs listener middleware in the request thread before the listener, so an ack here is
    the response at once: from a listener it waits for one of Bolt's listener threads and then
    for Bolt's 10 ms poll of the ack."""
    services: Services = context["services"]
    context["inbox_id"] = None
    # Slack always names the team, the user and the view; a request without them (crafted) is
    # refused in the modal like someone else's check-in, not a 500 with a traceback.
    team_id, user_id, view_id = _id_of(body.get("team")), _id_of(body.get("user")), inbox.slack_id(view.get("id"))
    if not (team_id and user_id and view_id):
        return ack(response_action="errors", errors={ids.CHECKIN_PRIVATE_BLOCK: NOT_YOURS})
    checkin_id = strict_int(view.get("private_metadata"), 1, CHECKIN_ID_MAX) or 0
    values, private = _submitted(view)
    problems = answer_problems(values)
    if problems:
        # What Slack's own client never sends (a NUL, more than max_length): said in the modal,
        # before anything is stored, rather than cut short or lost on PostgreSQL.
        # (Returned: a middleware that calls no next() is "unhandled" to Bolt unless it returns
        # the response itself.)
        return ack(response_action="errors",
                   errors={f"{ids.CHECKIN_QUESTION_BLOCK}{question}": why for question, why in problems.items()})
    key, now = submission_key(view_id, team_id, user_id, checkin_id, values, private), services.now()
    payload = submission_payload(checkin_id, team_id, user_id, values, private, key, now)
    try:
        inbox_id = services.uow.write_together(lambda session: Inbox(session).add_for_checkin(
            f"modal:{key}", MODAL_SUBMISSION, team_id, user_id, checkin_id, payload, now))
        # Nothing written: someone else's check-in, or this very submission again (a double
        # click, Slack's retry), which is written down once and confirmed once.
        if inbox_id is None and not _is_theirs(services, checkin_id, team_id, user_id):
            return ack(response_action="errors", errors={ids.CHECKIN_PRIVATE_BLOCK: NOT_YOURS})
    except SQLAlchemyError:
        # Nothing was stored (the transaction rolled back): the modal stays open with what was
        # typed and says so, where a 500 showed Slack's "trouble connecting" and lost it.
        logger.exception("Writing down a check-in's answers failed")
        return ack(response_action="errors", errors={ids.CHECKIN_PRIVATE_BLOCK: SAVE_FAILED})
    if inbox_id is not None:  # its answers saved after the engineer's earlier deliveries (bot.lanes)
        inbox.hand_over(services, inbox_id, inbox.engineer_lane(team_id, user_id))
    ack()
    context["inbox_id"] = inbox_id
    next()


def save_after_ack(context: BoltContext) -> None:
    """The listener, once the submission is written down and acked: nothing is left to do.
    write_down_first handed it over before the ack (bot.inbox.intake.hand_over: so that one
    engineer's deliveries reach their lane in the order of their acks)."""


def _is_theirs(services: Services, checkin_id: int, team_id: str, user_id: str) -> bool:
    with services.uow.reading() as session:
        return Answers(session).target(checkin_id, team_id, user_id) is not None


def _submitted(view: dict) -> tuple[dict[str, str], bool]:
    values: dict[str, str] = {}
    private = False
    state = view.get("state")
    blocks = state.get("values") if isinstance(state, dict) else None
    for block_id, inputs in (blocks if isinstance(blocks, dict) else {}).items():
        # Slack's shape is {block: {action: {"value": str}}}; anything else (a crafted request)
        # counts as nothing typed, rather than a traceback.
        if block_id.startswith(ids.CHECKIN_QUESTION_BLOCK):
            value = _element(inputs, ids.CHECKIN_ANSWER_INPUT).get("value")
            values[block_id[len(ids.CHECKIN_QUESTION_BLOCK):]] = value if isinstance(value, str) else ""
        elif block_id == ids.CHECKIN_PRIVATE_BLOCK:
            private = bool(_element(inputs, ids.CHECKIN_PRIVATE_INPUT).get("selected_options"))
    return values, private


def _id_of(who: object) -> str | None:
    """A payload's `team` or `user` id, if it can be one (bot.inbox.intake.slack_id)."""
    return inbox.slack_id(who.get("id") if isinstance(who, dict) else None)


def _element(inputs: object, action_id: str) -> dict:
    element = inputs.get(action_id) if isinstance(inputs, dict) else None
    return element if isinstance(element, dict) else {}


def register(app: App) -> None:
    app.action(ids.CHECKIN_ANSWER)(handle_answer_button)
    app.view(ids.CHECKIN_MODAL, middleware=[write_down_first])(save_after_ack)
    app.event("message", middleware=[inbox.write_down_first])(inbox.process_after_ack)
