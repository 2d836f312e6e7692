"""Text helpers for Block Kit: escaping, and splitting long text instead of cutting it."""

from __future__ import annotations

import re

SECTION_TEXT_LIMIT = 3000   # section block text
FIELD_TEXT_LIMIT = 2000     # one section field
HEADER_LIMIT = 150          # header block plain text
BUTTON_TEXT_LIMIT = 75
MESSAGE_BLOCK_LIMIT = 50
ACTIONS_ELEMENT_LIMIT = 25


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Slack's mrkdwn has no escape for its formatting characters: what people type is shown with
# look-alikes instead, so `*senior*` is echoed as typed rather than turned bold.
_FORMATTING_LOOKALIKES = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})


def escape_user(text: str) -> str:
    """Text a person typed, safe to echo in mrkdwn: control characters escaped, formatting inert."""
    return escape(text).translate(_FORMATTING_LOOKALIKES)


def shorten(text: str, limit: int) -> str:
    """For labels only (headers, buttons): content text is split, never shortened."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int = SECTION_TEXT_LIMIT) -> list[str]:
    """Split at paragraph, then line, then sentence, then word boundaries; every chunk ≤ limit.

    Joining the chunks with the separators they were split at gives the text back.
    """
    if len(text) <= limit:
        return [text]
    for separator in ("\n\n", "\n", ". ", " "):
        pieces = text.split(separator)
        if len(pieces) > 1:
            return _pack(pieces, separator, limit)
    return [text[i:i + limit] for i in range(0, len(text), limit)]


def _pack(pieces: list[str], separator: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for index, piece in enumerate(pieces):
        # Keep the separator's sentence-ending period with the sentence.
        if separator == ". " and index < len(pieces) - 1:
            piece += "."
            joiner = " "
        else:
            joiner = separator if separator != ". " else " "
        candidate = f"{current}{joiner}{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        if len(piece) > limit:
            parts = split_text(piece, limit)
            chunks.extend(parts[:-1])
            current = parts[-1]
        else:
            current = piece
    if current:
        chunks.append(current)
    return chunks


def bullet_list(items: list[str] | tuple[str, ...]) -> str:
    return "\n".join(f"• {escape(item)}" for item in items)


def plain_words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
