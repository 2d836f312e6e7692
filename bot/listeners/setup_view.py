"""The `/growth setup` modal's submission: validate everything, then save everything."""

from __future__ import annotations

import html

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import ids
from bot.blocks.text import shorten
from bot.domain.clock import WEEKDAYS, format_clock, parse_clock
from bot.domain.numbers import strict_int
from bot.growth import preferences
from bot.growth.enrolment import Enrolment, Who
from bot.services import Services

MAX_QUESTIONS = 10  # the modal offers 1 to 10
ERROR_LIMIT = 150  # a field error is a line under the input, not a paragraph


def handle_setup_submission(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    settings = services.settings
    state = (view.get("state") or {}).get("values", {})

    def value(block: str, action: str, key: str = "value"):
        return (state.get(block, {}).get(action) or {}).get(key)

    framework = (value(ids.SETUP_FRAMEWORK_BLOCK, ids.SETUP_FRAMEWORK_INPUT, "selected_option") or {}).get("value")
    level, problem = preferences.resolve_level(value(ids.SETUP_LEVEL_BLOCK, ids.SETUP_LEVEL_INPUT) or "",
                                               services.resolver, services.catalog, framework)
    errors: dict[str, str] = {}
    if level is None:
        # The problem is mrkdwn (what was typed, escaped); a field error is plain text.
        errors[ids.SETUP_LEVEL_BLOCK] = html.unescape(problem.replace("`", ""))
    elif not services.catalog.reflection_questions(level)[1]:
        # A level without questions is a field error, never a saved setting and an empty DM later.
        errors[ids.SETUP_LEVEL_BLOCK] = preferences.no_questions_message(level)
    # Day, time and count come from pickers, but the payload is still input: anything odd is a
    # field error and nothing is saved. The workspace defaults stand in only for absent values.
    day = _number((value(ids.SETUP_DAY_BLOCK, ids.SETUP_DAY_INPUT, "selected_option") or {}).get("value"),
                  settings.checkin_day)
    if day is None or not 0 <= day < len(WEEKDAYS):
        errors[ids.SETUP_DAY_BLOCK] = "Pick a day of the week."
    picked_time = value(ids.SETUP_TIME_BLOCK, ids.SETUP_TIME_INPUT, "selected_time")
    clock = parse_clock(picked_time) if picked_time else settings.checkin_time
    if clock is None:
        errors[ids.SETUP_TIME_BLOCK] = "Pick a time of day (24-hour HH:MM)."
    count = _number((value(ids.SETUP_COUNT_BLOCK, ids.SETUP_COUNT_INPUT, "selected_option") or {}).get("value"),
                    settings.questions_per_checkin)
    if count is None or not 1 <= count <= MAX_QUESTIONS:
        errors[ids.SETUP_COUNT_BLOCK] = f"Pick 1 to {MAX_QUESTIONS} questions."
    if errors:
        ack(response_action="errors", errors={block: shorten(text, ERROR_LIMIT) for block, text in errors.items()})
        return
    reminders = bool(value(ids.SETUP_REMINDERS_BLOCK, ids.SETUP_REMINDERS_INPUT, "selected_options"))

    def apply(engineer) -> preferences.Change:
        steps = [
            preferences.set_level(engineer, level, services.catalog),
            preferences.set_schedule(engineer, f"{WEEKDAYS[day]} {format_clock(clock)}"),
            preferences.set_question_count(engineer, count, MAX_QUESTIONS),
            preferences.set_reminders(engineer, "on" if reminders else "off"),
        ]
        failed = next((s for s in steps if not s.ok), None)
        return failed or preferences.Change(True, " ".join(s.message for s in steps))

    ack()
    who = Who(body["team"]["id"], body["user"]["id"])
    result = Enrolment(services, client).change(who, apply)
    text = (f"Your check-in settings are saved. {result.message}" if result.ok
            else f"Your check-in settings were not saved: {result.message}")
    client.chat_postMessage(channel=who.user_id, text=text)


def _number(text: str | None, default: int) -> int | None:
    if text is None:
        return default
    return strict_int(text)


def register(app: App) -> None:
    app.view(ids.SETUP_MODAL)(handle_setup_submission)
