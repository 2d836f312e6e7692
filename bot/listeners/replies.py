"""The ways listeners answer a person privately: in the ack itself, or through a response_url."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from slack_bolt import Ack, BoltResponse, Respond

from bot.blocks.growth import reply
from bot.blocks.serialize import block_dicts


class Answer(NamedTuple):
    """What a slash command shows, built before its ack: the first message goes in the ack itself
    (no second round trip to Slack), any further ones follow through response_url, and `then`
    runs once they are out, on bot.after_ack's threads (a write the person need not wait for)."""

    messages: list[list]           # each one message's blocks
    text: str                      # the notification fallback
    then: Callable[[], object] | None = None


def sentence(text: str) -> Answer:
    """A one-sentence answer (rendered as blocks)."""
    return Answer([reply(text)], text[:150])


def ack_with_first(ack: Ack, answer: Answer) -> BoltResponse:
    """The ack carrying the answer's first message; Bolt's response for it."""
    return ack(response_type="ephemeral", blocks=block_dicts(answer.messages[0]), text=answer.text)


def post_rest(respond: Respond, answer: Answer) -> None:
    """The answer's messages after the first, through response_url (once the ack is out)."""
    for blocks in answer.messages[1:]:
        respond(response_type="ephemeral", replace_original=False, blocks=block_dicts(blocks), text=answer.text)


def say(respond: Respond, answer: str | list, replace_original: bool = False) -> None:
    """An ephemeral reply through response_url: a sentence (rendered as blocks), or ready-made blocks."""
    blocks = reply(answer) if isinstance(answer, str) else answer
    text = answer if isinstance(answer, str) else "Growth check-ins"
    respond(response_type="ephemeral", replace_original=replace_original, blocks=block_dicts(blocks),
            text=text[:150])
