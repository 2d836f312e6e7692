"""`/growth manager`, `/growth log`, `/growth prep`, `/growth 1on1`, and the log's buttons.

Every answer is ephemeral. Every read checks access for the person asking or clicking, at that
moment, and a refusal is the same `REFUSAL` whether or not the other person has a log.
"""

from __future__ import annotations

import logging
import re

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from bot import ids
from bot.blocks.growthlog import (
    build_log_messages,
    build_prep_messages,
    log_fallback_text,
    parse_delete_value,
    parse_privacy_value,
    prep_fallback_text,
)
from bot.growth.enrolment import Who
from bot.growthlog.access import REFUSAL, Reader
from bot.growthlog.log_view import (LogQuery, LogQueryError, delete_own_answer, parse_log_query, read_log_view,
                                   set_answer_privacy)
from bot.growthlog.mentions import split_mention
from bot.growthlog.one_on_ones import OneOnOneDesk
from bot.growthlog.prep import read_digest
from bot.growthlog.reads import NOT_RECORDED, ReadNotRecorded, error_class
from bot.growthlog.relationships import Relationships
from bot.inbox.intake import slack_id
from bot.listeners.replies import Answer, say, sentence
from bot.services import Services
from storage.crypto import UnreadableValue

NOT_YOUR_ANSWER = "That answer isn't yours to change, so nothing was changed."
NOT_YOURS_TO_DELETE = "That answer isn't yours to delete (or is already gone), so nothing was deleted."
# A stored value the keys do not open (altered in the database, or a key missing): the whole page
# is refused, never half of it, and nothing is recorded as read (the read's transaction fails).
UNREADABLE = ("Part of this log cannot be decrypted (it was altered in the database, or its key is not "
              "configured), so nothing is shown. It has been logged for the bot's admin.")
# The read itself failed on the database (a failover, a statement cancelled): nothing was read,
# so nothing is shown or recorded; said in the ack rather than a 500 (Slack's dispatch_failed).
NOT_READ = ("I couldn't read this just now (the database didn't answer), so nothing was shown or recorded. "
            "Please try again in a moment.")
PREP_USAGE = "Name the person: `/growth prep @name` (someone who named you as their manager)."


def _reader_of_command(command: dict) -> Reader | None:
    """The reader of a log or prep command, None when its team or user is missing or no Slack id
    (a NUL, half a surrogate pair, kilobytes): such a command reads nothing (REFUSAL). Before,
    a missing one was a KeyError and a NUL a failed query on PostgreSQL, each a 500 out of the ack
    middleware (Slack's dispatch_failed)."""
    team_id, user_id = slack_id(command.get("team_id")), slack_id(command.get("user_id"))
    return Reader(team_id, user_id) if team_id and user_id else None


def _reader_of_action(body: dict) -> Reader:
    return Reader(body["team"]["id"], body["user"]["id"])


# -- slash-command verbs ----------------------------------------------------------------------------
# `/growth log` and `/growth prep` only read (a few indexed statements in a read-only session,
# no Slack call), so their answer goes in the ack itself, as /ladder's does: no second round
# trip through response_url. Buttons cannot answer in their ack; they replace the message.

def manager_verb(command: dict, rest: str, respond: Respond, client: WebClient, services: Services) -> None:
    change = Relationships(services, client).handle(Who(command["team_id"], command["user_id"]), rest)
    say(respond, change.message)


def log_answer(command: dict, rest: str, services: Services) -> Answer:
    try:
        query = parse_log_query(rest)
    except LogQueryError as problem:
        return sentence(str(problem))
    reader = _reader_of_command(command)
    if reader is None:
        return sentence(REFUSAL)
    try:
        view = read_log_view(services.uow, reader, query, now=services.now())
    except ReadNotRecorded:
        return sentence(NOT_RECORDED)
    except DBAPIError as problem:
        return sentence(_not_read(problem))
    except UnreadableValue as problem:
        return sentence(_unreadable(problem))
    return sentence(REFUSAL) if view is None else Answer(build_log_messages(view), log_fallback_text(view))


def _unreadable(problem: UnreadableValue) -> str:
    # The message names the column and key id, never any of the text.
    logging.getLogger("growth_bot").error("A growth log page could not be read: %s", problem)
    return UNREADABLE


def _not_read(problem: DBAPIError) -> str:
    logging.getLogger("growth_bot").warning("A growth log read failed on the database: %s", error_class(problem))
    return NOT_READ


def prep_answer(command: dict, rest: str, services: Services) -> Answer:
    report, _ = split_mention(rest)
    if report is None:
        return sentence(PREP_USAGE)
    reader = _reader_of_command(command)
    if reader is None:
        return sentence(REFUSAL)
    now = services.now()
    try:
        # The next digest starts here: marked with the read record, before the ack (see read_digest).
        digest = read_digest(services.uow, services.catalog, reader, report, now, mark=True)
    except ReadNotRecorded:
        return sentence(NOT_RECORDED)
    except DBAPIError as problem:
        return sentence(_not_read(problem))
    except UnreadableValue as problem:
        return sentence(_unreadable(problem))
    if digest is None:
        return sentence(REFUSAL)
    return Answer(build_prep_messages(digest), prep_fallback_text(digest))


def one_on_one_verb(command: dict, rest: str, respond: Respond, client: WebClient, services: Services) -> None:
    say(respond, OneOnOneDesk(services, client).handle(Who(command["team_id"], command["user_id"]), rest))


def show_log(reader: Reader, query: LogQuery, respond: Respond, services: Services, replace_original: bool) -> None:
    try:
        view = read_log_view(services.uow, reader, query, now=services.now())
    except ReadNotRecorded:
        say(respond, NOT_RECORDED, replace_original=replace_original)
        return
    except UnreadableValue as problem:
        say(respond, _unreadable(problem), replace_original=replace_original)
        return
    if view is None:
        # On a click this also wipes the stale page from the screen of someone who lost access.
        say(respond, REFUSAL, replace_original=replace_original)
        return
    for index, blocks in enumerate(build_log_messages(view)):
        respond(response_type="ephemeral", replace_original=replace_original and index == 0, blocks=blocks,
                text=log_fallback_text(view))


# -- buttons ------------------------------------------------------------------------------------

def handle_page(ack: Ack, body: dict, action: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    query = LogQuery.from_value(action.get("value"))
    if query is None:
        say(respond, REFUSAL)
        return
    show_log(_reader_of_action(body), query, respond, context["services"], replace_original=True)


def handle_privacy(ack: Ack, body: dict, action: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    reader = _reader_of_action(body)
    parsed = parse_privacy_value(action.get("value"))
    if parsed is None or not set_answer_privacy(services.uow, reader, parsed[0], parsed[1]):
        say(respond, NOT_YOUR_ANSWER)
        return
    show_log(reader, parsed[2], respond, services, replace_original=True)


def handle_delete(ack: Ack, body: dict, action: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    services: Services = context["services"]
    reader = _reader_of_action(body)
    parsed = parse_delete_value(action.get("value"))
    if parsed is None or not delete_own_answer(services.uow, reader, parsed[0]):
        say(respond, NOT_YOURS_TO_DELETE)
        return
    # The same page again, without the answer: the message is updated in place.
    show_log(reader, parsed[1].for_owner(reader.user_id), respond, services, replace_original=True)


# The /growth verbs this feature answers (see growth_command.register): those that call Slack
# or write answer after the ack, the reads in the ack itself.
VERBS = {"manager": manager_verb, "1on1": one_on_one_verb, "1:1": one_on_one_verb}
ACK_VERBS = {"log": log_answer, "prep": prep_answer}


def register(app: App) -> None:
    app.action(ids.LOG_OLDER)(handle_page)
    app.action(ids.LOG_NEWER)(handle_page)
    app.action(re.compile(rf"^{re.escape(ids.LOG_PRIVACY)}:\d+$"))(handle_privacy)
    app.action(re.compile(rf"^{re.escape(ids.LOG_DELETE)}:\d+$"))(handle_delete)
