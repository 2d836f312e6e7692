"""Outbox messages (plain values, bot.outbox.messages) into what Slack is sent: (fallback text,
blocks) per message part. The one place where what the bot decided to say meets Block Kit."""

from __future__ import annotations

from functools import singledispatch

from slack_sdk.models.blocks import Block

from bot.blocks.checkin import build_saved_confirmation, build_thread_reply_confirmation
from bot.blocks.growth import reply
from bot.blocks.growthlog import build_manager_notice, build_prep_messages, manager_notice_text, prep_fallback_text
from bot.outbox.messages import AnswersSaved, ManagerNamed, Notice, PrepDigestReady, ThreadReplySaved

SAVED = "Saved to your growth log"


@singledispatch
def render(message) -> list[tuple[str, list[Block]]]:
    raise TypeError(f"no rendering for {type(message).__name__}")


@render.register
def _(message: AnswersSaved) -> list[tuple[str, list[Block]]]:
    return [(SAVED, build_saved_confirmation(message.saved, message.edited))]


@render.register
def _(message: ThreadReplySaved) -> list[tuple[str, list[Block]]]:
    return [(SAVED, build_thread_reply_confirmation())]


@render.register
def _(message: Notice) -> list[tuple[str, list[Block]]]:
    return [(message.text[:150], reply(message.text))]


@render.register
def _(message: ManagerNamed) -> list[tuple[str, list[Block]]]:
    return [(manager_notice_text(message.engineer_user_id), build_manager_notice(message.engineer_user_id))]


@render.register
def _(message: PrepDigestReady) -> list[tuple[str, list[Block]]]:
    text = prep_fallback_text(message.digest)
    return [(text, blocks) for blocks in build_prep_messages(message.digest, automatic=True)]
