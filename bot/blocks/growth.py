"""Block Kit for `/growth`: status and help, the setup modal, short replies."""

from __future__ import annotations

from datetime import time

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.blocks.content import context, header, markdown_sections
from bot.blocks.ladder import button
from bot.blocks.text import escape
from bot.domain.clock import WEEKDAYS, format_clock

COMMANDS_HELP = (
    "*Commands*\n"
    "• `/growth setup` — level, day, time and questions per check-in, in one form\n"
    "• `/growth level senior` — any level name `/ladder` knows\n"
    "• `/growth schedule fri 16:00` — your local time\n"
    "• `/growth now` — this week's check-in, right away\n"
    "• `/growth pause [2 weeks]` · `/growth resume` · `/growth reminders on|off`\n"
    "*Your growth log*\n"
    "• `/growth log [since 2026-09-01 | last 5]` — your reflections; `/growth export [md|csv]` as a file\n"
    "• `/growth manager @someone` — who may read your log (`/growth manager none` to remove)\n"
    "• `/growth assess` — place yourself on the capability matrix; `/growth profile` charts it\n"
    "• `/growth reads` — who read your log, when and how much; `/growth reads weekly on|off` — the line "
    "about it in your check-in DM\n"
    "• `/growth forget-me` — delete everything I store about you (or *Delete* one answer in `/growth log`)\n"
    "*For managers*\n"
    "• `/growth log @report`, `/growth prep @report` — their log and a 1:1 prep digest\n"
    "• `/growth 1on1 @report thu 10:00` — get the digest by DM before every 1:1\n"
    "• `/growth lead on|off` — your own team reflection: the leaders' document's questions, kept in your "
    "log (`/growth lead every 2 weeks`, `/growth lead mon 09:30`)\n"
    "• `/growth team` — who on your team reflected this week (never what they wrote); a weekly DM, "
    "`/growth team note off|mon 09:00`\n"
    "*For teams*\n"
    "• `/growth retro #channel mon 10:00 [every 2 weeks]` — a retro in a channel: the feedback-loop questions, "
    "a summary with counts (`/growth retro #channel off`; `/growth retro` lists yours)"
)


def retention_text(months: int | None) -> str:
    """The org's ANSWER_RETENTION_MONTHS, said to the people whose answers it deletes."""
    if months is None:
        return "Answers are kept until you delete them."
    return (f"Answers are kept for {months} month{'s' if months != 1 else ''}, then deleted with their edits "
            "(self-assessments too).")


def build_status(lines: list[str], set_up: bool, retention_months: int | None = None) -> list[Block]:
    """`/growth` and `/growth help`: what the bot does, the engineer's settings, what to type,
    and how long the org keeps answers."""
    intro = ("Every week, at the time you choose, I send you a few reflection questions for your stage. "
             "Your answers go to your *growth log*: yours, readable by the manager you name, exportable, deletable.")
    blocks: list[Block] = [header("Growth check-ins"), *markdown_sections(intro)]
    blocks.extend(markdown_sections("\n".join(lines)))
    blocks.extend(markdown_sections(COMMANDS_HELP))
    blocks.append(context(f"{retention_text(retention_months)} Every read of your log by someone else is "
                          "listed in `/growth reads`."))
    actions = [button("Set up" if not set_up else "Change settings", ids.OPEN_SETUP, "setup", primary=not set_up)]
    if set_up:
        actions.append(button("Send this week's check-in now", ids.CHECKIN_NOW, "now"))
    blocks.append(ActionsBlock(elements=actions))
    return blocks


def reply(text: str) -> list[Block]:
    return list(markdown_sections(text))


def build_setup_modal(level_name: str | None, frameworks: list[tuple[str, str]], framework_id: str | None,
                      weekday: int, clock: time, count: int, reminders: bool, max_count: int = 10) -> View:
    """The setup form, pre-filled with the engineer's current (or the workspace default) choices."""
    framework_options = [Option(value=fid, label=name[:75]) for fid, name in frameworks]
    day_options = [Option(value=str(i), label=name.capitalize()) for i, name in enumerate(WEEKDAYS)]
    count_options = [Option(value=str(n), label=str(n)) for n in range(1, max_count + 1)]
    remind = Option(value="on", label="Remind me once if I haven't answered")
    selected_fw = next((o for o in framework_options if o.value == framework_id), None)
    blocks: list[Block] = [
        InputBlock(block_id=ids.SETUP_LEVEL_BLOCK, label="Your level",
                   hint="Any name /ladder knows: senior, L4, stage 3, staff engineer…",
                   element=PlainTextInputElement(action_id=ids.SETUP_LEVEL_INPUT, initial_value=level_name or None,
                                                 placeholder="e.g. senior")),
        InputBlock(block_id=ids.SETUP_FRAMEWORK_BLOCK, label="Framework", optional=True,
                   hint="Only if your org uses a specific one for your level.",
                   element=StaticSelectElement(action_id=ids.SETUP_FRAMEWORK_INPUT, options=framework_options,
                                               initial_option=selected_fw, placeholder="Your org's default")),
        InputBlock(block_id=ids.SETUP_DAY_BLOCK, label="Check-in day",
                   element=StaticSelectElement(action_id=ids.SETUP_DAY_INPUT, options=day_options,
                                               initial_option=day_options[weekday])),
        InputBlock(block_id=ids.SETUP_TIME_BLOCK, label="Time (your Slack time zone)",
                   element=TimePickerElement(action_id=ids.SETUP_TIME_INPUT, initial_time=format_clock(clock))),
        InputBlock(block_id=ids.SETUP_COUNT_BLOCK, label="Questions per check-in",
                   element=StaticSelectElement(action_id=ids.SETUP_COUNT_INPUT, options=count_options,
                                               initial_option=count_options[max(1, min(count, max_count)) - 1])),
        InputBlock(block_id=ids.SETUP_REMINDERS_BLOCK, label="Reminders", optional=True,
                   element=CheckboxesElement(action_id=ids.SETUP_REMINDERS_INPUT, options=[remind],
                                             initial_options=[remind] if reminders else None)),
    ]
    return View(type="modal", callback_id=ids.SETUP_MODAL, title="Growth check-ins", submit="Save",
                close="Cancel", blocks=blocks)


def level_line(level_name: str | None, framework_name: str | None, source: str | None) -> str:
    if not level_name:
        return "*Level:* not set yet — `/growth setup` or `/growth level <level>`"
    line = f"*Level:* {escape(level_name)} ({escape(framework_name or '')})"
    if source:
        line += f" · reflects with {escape(source)}"
    return line


def build_open_checkin_reply(message: str, checkin_id: int) -> list[Block]:
    """`/growth now` when this week's check-in is already out: say so, with its Answer button."""
    return [*markdown_sections(message),
            ActionsBlock(elements=[button("Answer", ids.CHECKIN_ANSWER, str(checkin_id), primary=True)])]
