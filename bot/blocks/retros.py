"""Block Kit for a team retro: one message per question, and the end-of-week summary."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import Block

from bot.blocks.content import context, header, markdown_sections
from bot.blocks.text import escape

STAYS_HERE = "Replies stay in this channel: nothing here goes into anyone's growth log."


def question_text(text: str) -> str:
    return f"Team retro: {text}"


def build_question(number: int, total: int, question, week_start: date) -> list[Block]:
    """`question`: a bot.leaders.plan.LeaderQuestion."""
    source = f" · from *{escape(question.theme_title)}*" if question.theme_title else ""
    return [
        *markdown_sections(f"*Team retro · {number} of {total}*\n>{escape(question.text)}"),
        context(f"Week of {week_start:%-d %b %Y}{source} · answer in this thread; a summary with counts comes at "
                f"the end of the week. {STAYS_HERE}"),
    ]


def summary_text(week_start: date) -> str:
    return f"Team retro summary, week of {week_start:%-d %b %Y}"


def build_summary(week_start: date, counted: list[tuple[str, int, str]]) -> list[Block]:
    """`counted`: (question, people who replied, link to its thread) per question, in order."""
    lines = []
    for number, (text, people, link) in enumerate(counted, 1):
        if people < 0:
            how_many = "couldn't count the replies"
        else:
            how_many = f"{people} {'person' if people == 1 else 'people'} answered"
        lines.append(f"{number}. {escape(text)} · {how_many} · <{link}|thread>")
    return [header(summary_text(week_start)), *markdown_sections("\n".join(lines)),
            context("Counts only: what people wrote stays in each thread.")]
