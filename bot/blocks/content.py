"""Rendering content (sections, questions, matrix rows) as Block Kit blocks."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.blocks.text import HEADER_LIMIT, bullet_list, escape, shorten, split_text
from bot.catalog.model import Capability, Framework, Level, MatrixStage, Question, Section

QUESTION_KIND_LABELS = {
    "reflection": "Ask yourself",
    "shift": "The Shift asks",
    "feedback": "Ask others for feedback",
}


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=shorten(text, HEADER_LIMIT), emoji=False))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=shorten(text, 3000))])


def markdown_sections(text: str) -> list[SectionBlock]:
    """One or more section blocks holding `text` in full (split at natural boundaries)."""
    return [SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in split_text(text)]


def section_text(section: Section, with_title: bool = True) -> str:
    """A section's text in the source's order: a numbered list numbered, a multi-line paragraph
    (a diagram) in a code block, "Getting to …" as the source's own inline label."""
    parts: list[str] = []
    for part in section.order:
        if part == "facts":
            parts.extend(f"*{escape(f.label)}:* {escape(f.text)}" for f in section.facts)
        elif part == "paragraphs":
            parts.extend(preformatted(p) if "\n" in p else escape(p) for p in section.paragraphs)
        elif part == "items" and section.items:
            parts.append(numbered_list(section.items) if section.numbered else bullet_list(section.items))
        elif part == "table" and section.table:
            columns = section.table.columns
            for row in section.table.rows:
                cells = "\n".join(f"   _{escape(c)}:_ {escape(v)}" for c, v in zip(columns[1:], row[1:]))
                parts.append(f"• *{escape(row[0])}*\n{cells}")
    if not with_title or section.role == "note":  # a note has no heading in the source
        return "\n\n".join(parts)
    if section.role == "getting_to" and parts and not parts[0].startswith("```"):
        # The source writes "Getting to Mid: The move is…": its label, inline.
        return "\n\n".join([f"*{escape(section.title)}:* {parts[0]}", *parts[1:]])
    return f"*{escape(section.title)}*\n" + "\n\n".join(parts)


def preformatted(text: str) -> str:
    """Text whose lines line up (a box-drawing diagram): a code block, monospaced in Slack."""
    return f"```\n{escape(text)}\n```"


def numbered_list(items: tuple[str, ...] | list[str]) -> str:
    return "\n".join(f"{i}. {escape(item)}" for i, item in enumerate(items, start=1))


def section_blocks(section: Section) -> list[Block]:
    return list(markdown_sections(section_text(section)))


def questions_text(questions: tuple[Question, ...] | list[Question]) -> str:
    lines: list[str] = []
    for kind, label in QUESTION_KIND_LABELS.items():
        of_kind = [q for q in questions if q.kind == kind]
        if of_kind:
            lines.append(f"_{label}:_")
            lines.extend(f"• {escape(q.text)}" for q in of_kind)
    return "\n".join(lines)


def level_blocks(level: Level, framework: Framework) -> list[Block]:
    """A level's full text, in source order, with its reflection questions."""
    blocks: list[Block] = [
        header(f"{framework.rung_label(level)} · {framework.name}"),
        context(level_context(level, framework)),
    ]
    for section in level.sections:
        blocks.extend(section_blocks(section))
    if level.questions:
        blocks.append(DividerBlock())
        blocks.extend(markdown_sections("*Reflection questions*\n" + questions_text(level.questions)))
    return blocks


def level_context(level: Level, framework: Framework) -> str:
    """Where the level sits, in the source's own words: its framework and the track(s) it is on."""
    parts = [escape(framework.name)]
    track = framework.track(level.track) if level.track else None
    if track is not None:
        parts.append(f"Track: {escape(track.name)}")  # the source table's own column
    elif framework.tracks and not any(lvl.track for lvl in framework.levels):
        names = ", ".join(escape(t.name) for t in framework.tracks)
        parts.append(f"one set of levels for every track: {names}")
    return " · ".join(parts)


def capability_text(stage: MatrixStage, capability: Capability, roles: dict[str, str]) -> str:
    lines = [f"*{escape(capability.name)}* — {escape(capability.description)}"]
    lines.extend(f"• *{escape(roles.get(r, r))}:* {escape(cell)}" for r, cell in capability.cells.items())
    return "\n".join(lines)


def stage_takeaways_text(stage: MatrixStage, roles: dict[str, str]) -> str:
    lines = ["*Takeaway*"]
    lines.extend(f"• *{escape(roles.get(r, r))}:* {escape(t)}" for r, t in stage.takeaways.items())
    if stage.staff_and_above:
        lines.append(f"_{escape(stage.staff_and_above)}_")
    return "\n".join(lines)
