"""Block Kit for the weekly check-in: the DM, the answer modal, the reminder, the confirmation."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
)
from slack_sdk.models.views import View

from bot import ids
from bot.blocks.content import context, header, markdown_sections
from bot.blocks.ladder import button
from bot.blocks.text import escape, shorten
from bot.domain.limits import ANSWER_MAX_LENGTH

INPUT_LABEL_LIMIT = 2000
PRIVACY_NOTE = "Your answers go to your growth log: readable by you and the manager you name, nobody else."


def checkin_heading(stage_name: str, framework_name: str, week_start: date) -> str:
    return f"{escape(stage_name)} · {escape(framework_name)} · week of {week_start:%-d %b %Y}"


def build_checkin_message(checkin_id: int, questions: list[dict], stage_name: str, framework_name: str,
                          week_start: date, reads_line: str | None = None) -> list[Block]:
    """The weekly DM; `reads_line` (bot.blocks.reads.weekly_line) says who read the log that week."""
    numbered = "\n".join(f"{i}. {escape(q['text'])}" for i, q in enumerate(questions, 1))
    return [
        header("Your weekly reflection"),
        context(checkin_heading(stage_name, framework_name, week_start)),
        *markdown_sections(f"A few minutes to look back on your week:\n\n{numbered}"),
        ActionsBlock(elements=[button("Answer", ids.CHECKIN_ANSWER, str(checkin_id), primary=True)]),
        context(f"Press *Answer*, or reply in this thread. {PRIVACY_NOTE} "
                "`/growth pause` to take a break, `/growth help` for settings."),
        *([context(f"{reads_line} (`/growth reads weekly off` to leave this out)")] if reads_line else []),
    ]


def checkin_fallback_text(questions: list[dict]) -> str:
    return f"Your weekly reflection: {len(questions)} question{'s' if len(questions) != 1 else ''}"


def build_reminder_message(checkin_id: int, week_start: date) -> list[Block]:
    return [
        *markdown_sections(f"A gentle nudge: your reflection for the week of {week_start:%-d %b} is still open. "
                           "Even one line helps future you (and your next 1:1)."),
        ActionsBlock(elements=[button("Answer", ids.CHECKIN_ANSWER, str(checkin_id), primary=True)]),
        context("Turn reminders off with `/growth reminders off`."),
    ]


def build_answer_modal(checkin_id: int, questions: list[dict], existing: dict[str, str],
                       private: bool = False, team_reflection: bool = False) -> View:
    """One text box per question, pre-filled with earlier answers so the same modal edits them.
    `team_reflection`: a leader's reflection on their team, named as such."""
    blocks: list[Block] = []
    for question in questions:
        blocks.append(InputBlock(
            block_id=f"{ids.CHECKIN_QUESTION_BLOCK}{question['id']}",
            label=PlainTextObject(text=shorten(question["text"], INPUT_LABEL_LIMIT)),
            element=PlainTextInputElement(
                action_id=ids.CHECKIN_ANSWER_INPUT,
                multiline=True,
                max_length=ANSWER_MAX_LENGTH,
                initial_value=existing.get(question["id"]) or None,
            ),
            optional=True,
        ))
    what = "reflection" if team_reflection else "check-in"
    only_me = Option(value="private", label=f"Keep this {what} private (only I can read it)")
    blocks.append(InputBlock(
        block_id=ids.CHECKIN_PRIVATE_BLOCK,
        label="Privacy",
        element=CheckboxesElement(action_id=ids.CHECKIN_PRIVATE_INPUT, options=[only_me],
                                  initial_options=[only_me] if private else None),
        optional=True,
    ))
    blocks.append(context(PRIVACY_NOTE))
    return View(
        type="modal",
        callback_id=ids.CHECKIN_MODAL,
        private_metadata=str(checkin_id),
        title="Team reflection" if team_reflection else "Weekly reflection",
        submit="Save",
        close="Cancel",
        blocks=blocks,
    )


def build_saved_confirmation(saved: int, edited: int) -> list[Block]:
    parts = []
    if saved:
        parts.append(f"saved {saved} answer{'s' if saved != 1 else ''}")
    if edited:
        parts.append(f"updated {edited}")
    done = " and ".join(parts) or "nothing changed"
    return [*markdown_sections(f":white_check_mark: Thanks, {done} in your growth log. "
                               "Press *Answer* again any time to edit."),
            context("`/growth log` shows your log.")]


def build_thread_reply_confirmation() -> list[Block]:
    return [context(":white_check_mark: Saved to your growth log.")]
