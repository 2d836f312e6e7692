"""The one way listeners answer a person privately through a response_url."""

from __future__ import annotations

from slack_bolt import Respond

from bot.blocks.growth import reply


def say(respond: Respond, answer: str | list, replace_original: bool = False) -> None:
    """An ephemeral reply: a sentence (rendered as blocks), or ready-made blocks."""
    blocks = reply(answer) if isinstance(answer, str) else answer
    text = answer if isinstance(answer, str) else "Growth check-ins"
    respond(response_type="ephemeral", replace_original=replace_original, blocks=blocks, text=text[:150])
