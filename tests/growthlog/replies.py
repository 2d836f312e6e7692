"""Reading what a /growth command answered in its ack (log, prep), as a person sees it."""

from __future__ import annotations

from tests.running_bot import Reply


def acked(reply: Reply) -> dict:
    """The answer a command carried in its ack, as /ladder's does; asserts it is one."""
    assert reply.status == 200, reply.status
    assert isinstance(reply.body, dict) and reply.body.get("blocks"), f"no answer in the ack: {reply.body!r}"
    assert reply.body["response_type"] == "ephemeral"
    return reply.body
