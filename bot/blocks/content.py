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
from bot.catalog.model import Capability, Level, MatrixStage, Question, Section

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
    parts: list[str] = []
    if with_title:
        parts.append(f"*{escape(section.title)}*")
    parts.extend(f"*{escape(f.label)}:* {escape(f.text)}" for f in section.facts)
    parts.extend(escape(p) for p in section.paragraphs)
    if section.items:
        parts.append(bullet_list(section.items))
    if section.table:
        columns = section.table.columns
        for row in section.table.rows:
            cells = "\n".join(f"   _{escape(c)}:_ {escape(v)}" for c, v in zip(columns[1:], row[1:]))
            parts.append(f"• *{escape(row[0])}*\n{cells}")
    return "\n".join(parts[:1] + ["\n\n".join(parts[1:])]) if with_title else "\n\n".join(parts)


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


def level_blocks(level: Level, framework_name: str, level_label: str) -> list[Block]:
    """A level's full text, in source order, with its reflection questions."""
    blocks: list[Block] = [
        header(f"{level.name} · {framework_name}"),
        context(f"{escape(framework_name)} · {level_label} {level.rank}"
                + (f" · {escape(level.track)} track" if level.track else "")),
    ]
    for section in level.sections:
        blocks.extend(section_blocks(section))
    if level.questions:
        blocks.append(DividerBlock())
        blocks.extend(markdown_sections("*Reflection questions*\n" + questions_text(level.questions)))
    return blocks


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
