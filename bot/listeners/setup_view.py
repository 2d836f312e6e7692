"""The `/growth setup` modal's submission: validate everything, then save everything."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import ids
from bot.growth import preferences
from bot.growth.enrolment import Enrolment, Who
from bot.services import Services


def handle_setup_submission(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    services: Services = context["services"]
    state = (view.get("state") or {}).get("values", {})

    def value(block: str, action: str, key: str = "value"):
        return (state.get(block, {}).get(action) or {}).get(key)

    framework = (value(ids.SETUP_FRAMEWORK_BLOCK, ids.SETUP_FRAMEWORK_INPUT, "selected_option") or {}).get("value")
    level, problem = preferences.resolve_level(value(ids.SETUP_LEVEL_BLOCK, ids.SETUP_LEVEL_INPUT) or "",
                                               services.resolver, services.catalog, framework)
    if level is None:
        ack(response_action="errors", errors={ids.SETUP_LEVEL_BLOCK: problem.replace("`", "")[:150]})
        return
    day = (value(ids.SETUP_DAY_BLOCK, ids.SETUP_DAY_INPUT, "selected_option") or {}).get("value", "4")
    clock = value(ids.SETUP_TIME_BLOCK, ids.SETUP_TIME_INPUT, "selected_time") or "16:00"
    count = int((value(ids.SETUP_COUNT_BLOCK, ids.SETUP_COUNT_INPUT, "selected_option") or {}).get("value", "3"))
    reminders = bool(value(ids.SETUP_REMINDERS_BLOCK, ids.SETUP_REMINDERS_INPUT, "selected_options"))
    from bot.domain.clock import WEEKDAYS

    def apply(engineer) -> preferences.Change:
        steps = [
            preferences.set_level(engineer, level, services.catalog),
            preferences.set_schedule(engineer, f"{WEEKDAYS[int(day)]} {clock}"),
            preferences.set_question_count(engineer, count),
            preferences.set_reminders(engineer, "on" if reminders else "off"),
        ]
        failed = next((s for s in steps if not s.ok), None)
        return failed or preferences.Change(True, " ".join(s.message for s in steps))

    # Validate the level before closing the modal: a level without questions is a field error.
    source, questions = services.catalog.reflection_questions(level)
    if not questions:
        ack(response_action="errors",
            errors={ids.SETUP_LEVEL_BLOCK: preferences.no_questions_message(level)[:150]})
        return
    ack()
    who = Who(body["team"]["id"], body["user"]["id"])
    result = Enrolment(services, client).change(who, apply)
    client.chat_postMessage(channel=who.user_id, text=f"Your check-in settings are saved. {result.message}")


def register(app: App) -> None:
    app.view(ids.SETUP_MODAL)(handle_setup_submission)
