"""Block Kit for `/growth forget-me`: the confirmation, and what was deleted."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ConfirmObject

from bot import ids
from bot.blocks.content import context, markdown_sections
from bot.blocks.ladder import button
from bot.growthlog.forget import Forgotten

FORGET_WARNING = (
    "*Delete everything I store about you?*\n"
    "That is your whole growth log (every answer, private ones and earlier edits included), your check-in "
    "settings, your self-assessments and any 1:1 schedules you are part of. People who named you as their "
    "manager will no longer have one. *This cannot be undone*, so you may want a copy first."
)
CANCELLED = "Cancelled: nothing was deleted."


def build_forget_prompt(user_id: str) -> list[Block]:
    """The ephemeral confirmation. The delete button's value only lets the handler check the clicker
    is the person who asked; whoever clicks, only the clicker's own data can ever be deleted."""
    delete = ButtonElement(
        text="Delete everything",
        action_id=ids.FORGET_DELETE,
        value=user_id,
        style="danger",
        confirm=ConfirmObject(
            title="Delete your growth log?",
            text="Every answer, setting and assessment I store about you goes, for good.",
            confirm="Delete everything",
            deny="Keep it",
            style="danger",
        ),
    )
    return [
        *markdown_sections(FORGET_WARNING),
        ActionsBlock(elements=[button("Export my log first", ids.EXPORT_OWN_LOG, "md"), delete,
                               button("Cancel", ids.FORGET_CANCEL, "cancel")]),
        context("Messages already in our DM stay in Slack's history; you can delete your own there."),
    ]


def forgotten_text(result: Forgotten) -> str:
    if result.nothing:
        return "I had nothing stored about you, so there was nothing to delete."
    parts = [_count(result.answers, "growth-log entry", "growth-log entries")]
    if result.assessments:
        parts.append(_count(result.assessments, "self-assessment", "self-assessments"))
    parts.append("your settings and check-ins")
    text = (f"Done: I deleted everything I stored about you: {', '.join(parts[:-1])} and {parts[-1]} "
            f"({_count(result.records, 'record', 'records')} in all).")
    if result.reports_unlinked:
        text += (f" {_count(result.reports_unlinked, 'person', 'people')} who named you as their manager "
                 f"{'no longer has' if result.reports_unlinked == 1 else 'no longer have'} one.")
    return text + " If you use `/growth` again, you start from scratch."


def build_forgotten(result: Forgotten) -> list[Block]:
    return list(markdown_sections(forgotten_text(result)))


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"
