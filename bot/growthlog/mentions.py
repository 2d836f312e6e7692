"""Reading user mentions out of slash-command text (`should_escape: true` sends `<@U123|name>`)."""

from __future__ import annotations

import re

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def split_mention(text: str) -> tuple[str | None, str]:
    """The first mentioned user id and the rest of the text: `<@U1|ada> last 5` → (`U1`, `last 5`)."""
    match = MENTION.search(text or "")
    if not match:
        return None, (text or "").strip()
    rest = (text[: match.start()] + " " + text[match.end():]).strip()
    return match.group(1), " ".join(rest.split())


def mention(user_id: str) -> str:
    return f"<@{user_id}>"
