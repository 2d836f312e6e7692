"""Block Kit for a leader's team reflection: the one-time offer, the reflection DM, `/growth lead`."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import ActionsBlock, Block

from bot import ids
from bot.blocks.content import context, header, markdown_sections
from bot.blocks.ladder import button
from bot.blocks.text import escape
from bot.domain.schedule import local_week_start

THEME_BUTTON = "Read the theme"
ANSWER_NOTE = ("Press *Answer*, or reply in this thread. Your answers go to your growth log as a team "
               "reflection: readable by you and the manager you name, never by your reports. "
               "`/growth lead off` stops these.")


def offer_text() -> str:
    return "You lead people here: want a team reflection of your own?"


def build_offer(question_count: int) -> list[Block]:
    return [
        *markdown_sections(
            "Someone here has named you as their manager. Leaders reflect too: every week (or every other "
            f"week) I can DM you the {question_count} questions the leaders' document *Delivery and Execution* "
            "asks of a team, a few at a time, each with the theme it comes from. Your answers are kept in your "
            "own growth log, marked as team reflections; your reports never see them."),
        ActionsBlock(elements=[button("Turn it on", ids.LEAD_TURN_ON, "on", primary=True)]),
        context("It comes on your check-in's day and time, separate from your own check-in. "
                "`/growth lead every 2 weeks`, `/growth lead mon 09:30` or `/growth lead off` change it."),
    ]


def reflection_fallback_text(questions: list[dict]) -> str:
    return f"Your team reflection: {len(questions)} question{'s' if len(questions) != 1 else ''}"


def build_reflection(checkin_id: int, questions: list[dict], week_start: date) -> list[Block]:
    """The questions grouped under the theme that asks them, each theme one click from its text."""
    blocks: list[Block] = [header("Your team reflection"),
                           context(f"Leading your team · week of {week_start:%-d %b %Y}")]
    number = 0
    themes: list[tuple[str | None, str | None, str | None, list[str]]] = []
    for question in questions:
        number += 1
        key = (question.get("framework"), question.get("theme"), question.get("theme_title"))
        if not themes or themes[-1][:3] != key:
            themes.append((*key, []))
        themes[-1][3].append(f"{number}. {escape(question['text'])}")
    buttons = []
    for framework_id, theme_id, title, lines in themes:
        heading = f"*{escape(title)}*\n" if title else ""
        blocks.extend(markdown_sections(heading + "\n".join(lines)))
        if theme_id and framework_id:
            buttons.append(button(f"{THEME_BUTTON}: {title}", f"{ids.LADDER_OPEN}:{len(buttons)}",
                                  f"theme:{framework_id}/{theme_id}"))
    blocks.append(ActionsBlock(elements=[button("Answer", ids.CHECKIN_ANSWER, str(checkin_id), primary=True),
                                         *buttons[:4]]))
    blocks.append(context(ANSWER_NOTE))
    return blocks


def build_lead_reply(text: str) -> list[Block]:
    return [*markdown_sections(text), context(f"`/growth lead` options: on, off, every 2 weeks, <day> <HH:MM>, default.")]


# -- the weekly team note ------------------------------------------------------------------------

TEAM_NOTE_PRIVACY = ("Participation only: never what anyone wrote, and answers kept private are not counted "
                     "at all. Someone who stops naming you as their manager leaves this note at once.")


def team_note_text(note) -> str:
    answered = sum(1 for r in note.reports if r.this_week)
    return f"Your team this week: {answered} of {len(note.reports)} reflected"


def report_line(report, tz) -> str:
    """One report's participation, in the manager's time zone (`report`: a team_note.ReportStatus)."""
    marks = "".join("●" if answered else "○" for answered in reversed(report.recent))
    parts = [f"<@{report.user_id}>", "answered this week" if report.this_week else "not yet this week",
             f"last {len(report.recent)} weeks {marks}"]
    if report.streak:
        parts.append(f"streak {report.streak} week{'s' if report.streak != 1 else ''}")
    if report.quiet_weeks is None:
        parts.append("no shared answers yet")
    elif report.quiet_weeks >= 2:
        parts.append(f"quiet for {report.quiet_weeks} weeks")
    if report.paused_until is not None:
        parts.append("paused until they resume" if report.paused_until.year >= 9999 else
                     f"paused until {report.paused_until.astimezone(tz):%a %-d %b}")
    if report.next_one_on_one is not None:
        prep = "prep sent" if report.prep_ready else "prep not out yet"
        parts.append(f"1:1 {report.next_one_on_one.astimezone(tz):%a %-d %b %H:%M} ({prep})")
    return "• " + " · ".join(parts)


def build_team_note(note, now) -> list[list[Block]]:
    """The note as one or more messages within Slack's block limits (long teams are split)."""
    if not note.reports:
        return [[*markdown_sections("Nobody names you as their manager yet, so there is no team to show. "
                                    "An engineer names theirs with `/growth manager @name`.")]]
    lines = [report_line(r, note.tz) for r in note.reports]
    messages: list[list[Block]] = []
    # A line is at most ~200 characters, so 150 of them are ~10 sections of 3,000: well inside 50
    # blocks. Few messages matter: `/growth team` answers through a response_url, which Slack
    # takes five times at most (40 a message lost everyone after the 200th report).
    per_message = 150
    for start in range(0, len(lines), per_message):
        body = markdown_sections("\n".join(lines[start:start + per_message]))
        messages.append(([header("Your team this week"), context(f"{team_note_text(note)} · week of "
                                                                 f"{local_week_start(now, note.tz):%-d %b %Y}")]
                         if start == 0 else []) + body)
    messages[-1] += [context(TEAM_NOTE_PRIVACY),
                     context("`/growth team` shows this any time; `/growth team note off` stops the weekly DM.")]
    return messages
