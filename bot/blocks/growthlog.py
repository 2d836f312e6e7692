"""Block Kit for the growth log, the manager notice and the 1:1 prep digest. Pure functions.

Every builder returns a list of messages of at most 50 blocks each; long answers are split
over several sections, never cut.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from slack_sdk.models.blocks import (ActionsBlock, Block, ButtonElement, ConfirmObject, DividerBlock, MarkdownTextObject,
                                     PlainTextObject, SectionBlock)

from bot import ids
from bot.blocks.content import context, markdown_sections, section_text
from bot.blocks.ladder import Message, button, paginate
from bot.growthlog.export import week_title
from bot.blocks.text import escape, shorten, split_text
from bot.domain.numbers import strict_int
from storage.repositories.growth_log import Entry, LoggedCheckin
from bot.growthlog.log_view import LogQuery, LogView
from bot.growthlog.mentions import mention
from bot.growthlog.prep import FIRST_PREP_WINDOW, PrepDigest
from bot.growthlog.reads import READS_NOTICE

PRIVATE_MARK = "🔒 _private_"
# answers.id is an INTEGER column: int4 on PostgreSQL, where a larger id in a crafted button
# value fails the query itself ("integer out of range") instead of finding no answer.
ANSWER_ID_MAX = 2 ** 31 - 1


# -- the manager notice ---------------------------------------------------------------------------

def manager_notice_text(engineer_user_id: str) -> str:
    return f"{mention(engineer_user_id)} named you as their manager in growth-bot"


def build_manager_notice(engineer_user_id: str) -> list[Block]:
    """The DM a newly named manager gets: what they can read now, and who decides."""
    who = mention(engineer_user_id)
    return list(markdown_sections(
        f"{who} named you as their manager in growth-bot.\n\n"
        f"You can now read their growth log — their answers to the weekly reflection check-ins — "
        f"except answers they keep private: `/growth log {who}`.\n"
        f"Before a 1:1, `/growth prep {who}` gives you a digest of what they wrote since the last one, "
        f"and `/growth 1on1 {who} thu 10:00` sends it to you automatically before a recurring 1:1.\n\n"
        f"{who} can change or remove this at any time with `/growth manager`; access ends the moment they do."
    ))


# -- the log --------------------------------------------------------------------------------------

def build_log_messages(view: LogView) -> list[Message]:
    """One page of a log: check-ins newest first, each with its questions and answers, and paging."""
    owner = mention(view.owner_user_id)
    title = "*Your growth log*" if view.own else f"*Growth log of {owner}*"
    body: list[Block] = [*markdown_sections(title)]
    described = describe_filters(view.query)
    if described or view.own:
        notes = [described] if described else []
        if view.own:
            notes.append(f"{PRIVATE_MARK} answers are shown to you only")
        body.append(context(" · ".join(notes)))
    if view.reads_notice:
        body.append(context(READS_NOTICE))
    if not view.page.checkins:
        body.extend(markdown_sections(_empty_text(view)))
    for checkin in view.page.checkins:
        body.append(DividerBlock())
        body.extend(checkin_blocks(checkin, view.query if view.own else None, view.own))
    return paginate(body, _paging(view))


def describe_filters(query: LogQuery) -> str:
    parts = []
    if query.since:
        parts.append(f"since {_day(query.since)}")
    if query.last:
        parts.append(f"last {query.last} check-in{'s' if query.last != 1 else ''}")
    if query.page:
        parts.append(f"page {query.page + 1}")
    return " · ".join(parts)


def _empty_text(view: LogView) -> str:
    if view.query.page:
        return "Nothing older to show."
    filtered = bool(view.query.since or view.query.last)
    if view.own:
        if filtered:
            return "Nothing in your growth log for that. `/growth log` shows all of it."
        return ("Your growth log is empty so far: your answers to the weekly check-ins land here. "
                "`/growth now` sends this week's.")
    return f"Nothing from {mention(view.owner_user_id)} to show{' for that' if filtered else ' yet'}."


def checkin_blocks(checkin: LoggedCheckin, query: LogQuery | None, own: bool) -> list[Block]:
    """A check-in's week and its answers. With `query` (the owner's own view) each answer
    carries a privacy toggle that re-renders the same page."""
    blocks: list[Block] = [*markdown_sections(f"*{week_title(checkin.kind, _day(checkin.week_start))}*")]
    for entry in checkin.entries:
        blocks.extend(entry_blocks(entry, own, query))
    return blocks


def entry_blocks(entry: Entry, own: bool, query: LogQuery | None) -> list[Block]:
    heading = f"*{escape(entry.question)}*"
    if own and entry.private:
        heading = f"{PRIVATE_MARK} · {heading}"
    if entry.edited:
        heading += " _(edited)_"
    chunks = split_text(f"{heading}\n{escape(entry.text)}")
    blocks = [SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in chunks]
    if own and query is not None:
        blocks[0] = SectionBlock(text=MarkdownTextObject(text=chunks[0]), accessory=privacy_button(entry, query))
        blocks.append(ActionsBlock(elements=[delete_button(entry, query)]))
    return blocks


def delete_button(entry: Entry, query: LogQuery) -> ButtonElement:
    """The owner's Delete, behind Slack's own confirm dialog; the value names the answer and the
    page to show again (the handler checks the clicker owns the answer, whatever it names)."""
    value = json.dumps({"a": entry.answer_id, "q": query.to_value()}, separators=(",", ":"))
    return ButtonElement(
        text="Delete", action_id=f"{ids.LOG_DELETE}:{entry.answer_id}", value=value, style="danger",
        confirm=ConfirmObject(title="Delete this answer?",
                              text=PlainTextObject(text=f"Your answer to “{shorten(' '.join(entry.question.split()), 150)}” "
                                                        "and its earlier versions are deleted for good, for your "
                                                        "manager too."),
                              confirm="Delete", deny="Keep it", style="danger"))


def parse_delete_value(value: str | None) -> tuple[int, LogQuery] | None:
    """(answer id, the page to show again) from a Delete button's value; None if not ours."""
    try:
        data = json.loads(value or "")
        answer_id = strict_int(data["a"], 1, ANSWER_ID_MAX)
    except (TypeError, KeyError, ValueError, RecursionError):
        return None
    query = LogQuery.from_value(data.get("q"))
    return (answer_id, query) if answer_id is not None and query is not None else None


def privacy_button(entry: Entry, query: LogQuery):
    make_private = not entry.private
    value = json.dumps({"a": entry.answer_id, "v": int(make_private), "q": query.to_value()}, separators=(",", ":"))
    return button("Make private" if make_private else "Share with manager",
                  f"{ids.LOG_PRIVACY}:{entry.answer_id}", value)


def parse_privacy_value(value: str | None) -> tuple[int, bool, LogQuery] | None:
    """(answer id, make private?, the page to show again) from a toggle's value; None if not ours."""
    try:
        data = json.loads(value or "")
        answer_id, private = strict_int(data["a"], 1, ANSWER_ID_MAX), strict_int(data["v"], 0, 1)
    except (TypeError, KeyError, ValueError, RecursionError):  # "[" * 1000 is valid JSON json.loads can't read
        return None
    if answer_id is None or private is None:
        return None
    query = LogQuery.from_value(data.get("q"))
    return (answer_id, bool(private), query) if query is not None else None


def _paging(view: LogView) -> list[Block]:
    buttons = []
    if view.query.page > 0:
        buttons.append(button("Newer", ids.LOG_NEWER, view.query.at_page(view.query.page - 1).to_value()))
    if view.page.has_more:
        buttons.append(button("Older", ids.LOG_OLDER, view.query.at_page(view.query.page + 1).to_value()))
    return [ActionsBlock(elements=buttons)] if buttons else []


def log_fallback_text(view: LogView) -> str:
    return "Your growth log" if view.own else f"Growth log of {mention(view.owner_user_id)}"


# -- the 1:1 prep digest --------------------------------------------------------------------------

def prep_fallback_text(digest: PrepDigest) -> str:
    return f"1:1 prep: {mention(digest.report_user_id)}"


def build_prep_messages(digest: PrepDigest, automatic: bool = False) -> list[Message]:
    """What the report shared since the last prep, the weeks with nothing shared, and their stage's guidance."""
    who = mention(digest.report_user_id)
    since = _day(digest.period_start.astimezone(digest.tz).date())
    period = (f"the last {FIRST_PREP_WINDOW.days // 7} weeks (since {since}), as this is your first prep"
              if digest.first_prep else f"since your last prep on {since}")
    intro = f"*1:1 prep: {who}*"
    if digest.level_name:
        intro += f"\n{escape(digest.level_name)}"
    body: list[Block] = [*markdown_sections(intro),
                         context(("Before your 1:1: what" if automatic else "What") + f" {who} shared {period}.")]
    if digest.reads_notice:
        body.append(context(READS_NOTICE))

    body.append(DividerBlock())
    body.extend(markdown_sections("*What they wrote*"))
    if not digest.checkins:
        body.extend(markdown_sections("No shared answers in this period."))
    for checkin in digest.checkins:
        body.extend(checkin_blocks(checkin, None, own=False))
    if digest.more_checkins:
        body.append(context(f"Older answers from this period: `/growth log {who} since "
                            f"{digest.period_start.astimezone(digest.tz).date().isoformat()}`"))
    if digest.quiet_weeks:
        weeks = ", ".join(f"week of {_day(w)}" for w in digest.quiet_weeks)
        body.extend(markdown_sections(f"*Check-ins with nothing shared:* {weeks}"))

    if digest.guidance:
        body.append(DividerBlock())
        body.extend(markdown_sections("*Where they're heading*"))
        for guidance in digest.guidance:
            title = (f"*{escape(guidance.framework_name)} · {escape(guidance.level_name)} — "
                     f"{escape(guidance.section.title)}*")
            body.extend(markdown_sections(f"{title}\n{section_text(guidance.section, with_title=False)}"))
    elif not digest.level_name:
        body.extend(markdown_sections(f"_{who} hasn't set a level yet, so there is no stage guidance._"))

    if digest.profile:
        body.append(DividerBlock())
        body.extend(markdown_sections("*Their latest self-assessment*\n" + "\n".join(digest.profile)))
    trailing = [context("The next digest starts from now." if not automatic else
                        "Sent automatically before your recurring 1:1; the next digest starts from now.")]
    return paginate(body, trailing)


def _day(day: date | datetime) -> str:
    return f"{day:%-d %b %Y}"
