"""Block Kit messages as terminal text, so `growth-bot ladder` prints what `/ladder` shows."""

from __future__ import annotations

import html
import re

from slack_sdk.models.blocks import Block


def mrkdwn_to_text(text: str) -> str:
    text = re.sub(r"<@(\w+)>", r"@\1", text)
    return html.unescape(text)


def blocks_to_text(messages: list[list[Block]]) -> str:
    lines: list[str] = []
    for message in messages:
        for block in message:
            data = block.to_dict()
            kind = data["type"]
            if kind == "header":
                title = data["text"]["text"]
                lines += ["", title, "=" * len(title)]
            elif kind == "section":
                if "text" in data:
                    lines += [mrkdwn_to_text(data["text"]["text"]), ""]
                for field in data.get("fields", []):
                    lines += [mrkdwn_to_text(field["text"]), ""]
            elif kind == "context":
                lines += ["  " + " ".join(mrkdwn_to_text(e.get("text", "")) for e in data["elements"]), ""]
            elif kind == "divider":
                lines.append("-" * 40)
            elif kind == "actions":
                labels = [e["text"]["text"] for e in data["elements"] if e.get("type") == "button"]
                lines += ["[" + "] [".join(labels) + "]", ""]
    return "\n".join(lines).strip() + "\n"
