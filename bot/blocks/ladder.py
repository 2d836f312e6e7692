"""Block Kit for `/ladder` answers. Each answer becomes one or more messages of ≤ 50 blocks."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import ids
from bot.blocks.content import (
    capability_text,
    context,
    header,
    level_blocks,
    markdown_sections,
    section_blocks,
    section_text,
    stage_takeaways_text,
)
from bot.blocks.text import (
    ACTIONS_ELEMENT_LIMIT,
    BUTTON_TEXT_LIMIT,
    FIELD_TEXT_LIMIT,
    MESSAGE_BLOCK_LIMIT,
    escape,
    shorten,
)
from bot.catalog.model import Catalog
from bot.ladder.answers import (
    Answer,
    CapabilityAnswer,
    CompareAnswer,
    FrameworkAnswer,
    HelpAnswer,
    LevelAnswer,
    NotFoundAnswer,
)
from bot.ladder.refs import ref_for

Message = list[Block]
COMPARE_ROLES = ("summary", "shift", "getting_to", "ready_for_next", "exit_criteria")
COMPARE_FALLBACK_ROLES = ("overview", "looks_like")
HOW_TO_ASK = (
    "Try `/ladder senior`, `/ladder L4`, `/ladder stage 3`, `/ladder senior in roadmap`, "
    "`/ladder senior vs staff` or `/ladder sizing`. `/ladder help` lists everything."
)


def build_ladder_messages(answer: Answer, catalog: Catalog, shareable: bool = True,
                          shared_by: str | None = None) -> list[Message]:
    """The answer as messages; the last one carries the follow-up and "Share in channel" buttons.

    `shared_by` (a user id) marks a copy posted to a channel, which carries no buttons.
    """
    match answer:
        case HelpAnswer():
            body, buttons = _help(catalog), []
        case FrameworkAnswer():
            body, buttons = _framework(answer)
        case LevelAnswer():
            body, buttons = _level(answer)
        case CompareAnswer():
            body, buttons = _compare(answer), []
        case CapabilityAnswer():
            body, buttons = _capability(answer, catalog), []
        case NotFoundAnswer():
            body, buttons = _not_found(answer), suggestion_buttons(answer)
            shareable = False
    ref = ref_for(answer)
    if shareable and ref:
        buttons.append(button("Share in channel", ids.LADDER_SHARE, ref))
    trailing = _button_rows(buttons)
    if shared_by is not None:
        trailing = [context(f"Shared by <@{escape(shared_by)}> with `/ladder`")]
    return paginate(body, trailing)


def button(text: str, action_id: str, value: str, primary: bool = False) -> ButtonElement:
    return ButtonElement(
        text=shorten(text, BUTTON_TEXT_LIMIT),
        action_id=action_id,
        value=value,
        style="primary" if primary else None,
    )


def paginate(body: list[Block], trailing: list[Block]) -> list[Message]:
    """Split blocks into messages within Slack's 50-block limit; `trailing` ends the last one."""
    messages: list[Message] = []
    room = MESSAGE_BLOCK_LIMIT
    current: Message = []
    for block in body:
        if len(current) == room:
            messages.append(current)
            current = []
        current.append(block)
    if len(current) + len(trailing) > room:
        messages.append(current)
        current = []
    current.extend(trailing)
    messages.append(current)
    return [m for m in messages if m]


def _button_rows(buttons: list[ButtonElement]) -> list[Block]:
    # action_ids must be unique within a message: number the "open" buttons.
    numbered = []
    for index, element in enumerate(buttons):
        if element.action_id == ids.LADDER_OPEN:
            element.action_id = f"{ids.LADDER_OPEN}:{index}"
        numbered.append(element)
    return [ActionsBlock(elements=numbered[i:i + ACTIONS_ELEMENT_LIMIT])
            for i in range(0, len(numbered), ACTIONS_ELEMENT_LIMIT)]


def _open_buttons(levels, with_framework: bool = True) -> list[ButtonElement]:
    # With several frameworks on screen the names are not unique ("Senior"): add the framework.
    return [button(f"{lvl.name} · {lvl.framework_id}" if with_framework else lvl.name,
                   ids.LADDER_OPEN, f"level:{lvl.key}") for lvl in levels]


# -- answers -----------------------------------------------------------------------------------


def _help(catalog: Catalog) -> list[Block]:
    blocks: list[Block] = [
        header("Career ladder look-ups"),
        *markdown_sections(
            "Ask what is expected at any level, by any name people use:\n"
            "• `/ladder senior` — a level (also `sr`, `mid`, `L4`, `stage 3`, `system owner`, `cto`)\n"
            "• `/ladder senior in roadmap` — a level in one framework\n"
            "• `/ladder senior vs staff` — what changes between two levels (also `to`, `->`)\n"
            "• `/ladder sizing` or `/ladder discover` — a row of the capability matrix\n"
            "• `/ladder roadmap` — a framework's overview"
        ),
        DividerBlock(),
    ]
    for fw in catalog.frameworks:
        levels = ", ".join(escape(lvl.name) for lvl in fw.levels) or "themes only, no levels"
        names = ", ".join(f"`{escape(a)}`" for a in (fw.id, *fw.aliases[:2]))
        blocks.extend(markdown_sections(f"*{escape(fw.name)}* ({names})\n{levels}"))
    return blocks


def _framework(answer: FrameworkAnswer) -> tuple[list[Block], list[ButtonElement]]:
    fw = answer.framework
    blocks: list[Block] = [header(fw.name)]
    for section in fw.sections:
        blocks.extend(section_blocks(section))
    if fw.tracks:
        tracks = "\n".join(f"• *{escape(t.name)}*" + (f" — {escape(t.description)}" if t.description else "")
                           for t in fw.tracks)
        blocks.extend(markdown_sections("*Tracks*\n" + tracks))
    if fw.questions:
        blocks.extend(markdown_sections("*Questions to ask*\n" + "\n".join(f"• {escape(q.text)}" for q in fw.questions)))
    if fw.matrix:
        stages = ", ".join(escape(s.name) for s in fw.matrix.stages)
        blocks.extend(markdown_sections(f"*Capability matrix:* {stages}. Try `/ladder {fw.matrix.stages[0].id}`."))
    return blocks, _open_buttons(fw.levels, with_framework=False)


def _level(answer: LevelAnswer) -> tuple[list[Block], list[ButtonElement]]:
    fw = answer.framework
    blocks = level_blocks(answer.level, fw.name, fw.level_label)
    buttons: list[ButtonElement] = []
    if answer.equivalents:
        blocks.append(DividerBlock())
        blocks.append(context("*Same altitude in other frameworks* (your org's crosswalk):"))
        buttons.extend(_open_buttons(answer.equivalents))
    also = [lvl for lvl in answer.also_named if lvl not in answer.equivalents]
    if also:
        blocks.append(context("*The same name in other frameworks:*"))
        buttons.extend(_open_buttons(also))
    return blocks, buttons


def _compare(answer: CompareAnswer) -> list[Block]:
    a, b = answer.lower, answer.higher
    blocks: list[Block] = [
        header(f"{a.name} → {b.name}"),
        context(f"{escape(answer.lower_framework.name)} {answer.lower_framework.level_label} {a.rank}"
                f"  →  {escape(answer.higher_framework.name)} {answer.higher_framework.level_label} {b.rank}"),
    ]
    roles = COMPARE_ROLES
    if not any(lvl.sections_with_role(*roles) for lvl in (a, b)):
        roles = COMPARE_FALLBACK_ROLES
    for role in roles:
        left = "\n\n".join(section_text(s) for s in a.sections_with_role(role))
        right = "\n\n".join(section_text(s) for s in b.sections_with_role(role))
        if not (left or right):
            continue
        left = left or "_(nothing at this level)_"
        right = right or "_(nothing at this level)_"
        left, right = f"*{escape(a.name)}* · {left}", f"*{escape(b.name)}* · {right}"
        if len(left) <= FIELD_TEXT_LIMIT and len(right) <= FIELD_TEXT_LIMIT:
            # Fields render side by side on desktop.
            blocks.append(SectionBlock(fields=[MarkdownTextObject(text=left), MarkdownTextObject(text=right)]))
        else:
            blocks.extend(markdown_sections(left))
            blocks.extend(markdown_sections(right))
        blocks.append(DividerBlock())
    return blocks[:-1] if isinstance(blocks[-1], DividerBlock) else blocks


def _capability(answer: CapabilityAnswer, catalog: Catalog) -> list[Block]:
    hit = answer.hit
    roles = {r: (catalog.level(hit.framework.id, r).name if catalog.level(hit.framework.id, r) else r)
             for r in hit.framework.matrix.roles}
    stage = hit.stage
    ritual = f" ({escape(stage.ritual)})" if stage.ritual else ""
    title = f"{hit.capability.name} · {stage.name}" if hit.capability else f"{stage.name} · capability matrix"
    blocks: list[Block] = [header(title), context(f"{escape(stage.description)}{ritual} · {escape(hit.framework.name)}")]
    capabilities = [hit.capability] if hit.capability else list(stage.capabilities)
    for cap in capabilities:
        blocks.extend(markdown_sections(capability_text(stage, cap, roles)))
    blocks.extend(markdown_sections(stage_takeaways_text(stage, roles)))
    return blocks


def _not_found(answer: NotFoundAnswer) -> list[Block]:
    text = escape(answer.reason)
    if answer.suggestions:
        text += "\n*Did you mean* " + ", ".join(f"`{escape(s)}`" for s in answer.suggestions) + "?"
    return [*markdown_sections(text), context(HOW_TO_ASK)]


def suggestion_buttons(answer: NotFoundAnswer) -> list[ButtonElement]:
    return [button(s, ids.LADDER_OPEN, f"query:{s}") for s in answer.suggestions]
