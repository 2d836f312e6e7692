"""Block Kit for `/ladder` answers. Each answer becomes one or more messages of ≤ 50 blocks."""

from __future__ import annotations

import html

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
    escape_user,
    shorten,
)
from bot.catalog.model import Catalog, Framework
from bot.ladder.answers import (
    CROSSWALK_UP,
    PARALLEL,
    SAME_ALTITUDE,
    UP,
    Answer,
    CapabilityAnswer,
    CompareAnswer,
    FrameworkAnswer,
    HelpAnswer,
    LevelAnswer,
    MatrixAnswer,
    NotFoundAnswer,
    ThemeAnswer,
    TrackAnswer,
)
from bot.ladder.refs import ref_for

Message = list[Block]
COMPARE_ROLES = ("summary", "shift", "getting_to", "ready_for_next", "exit_criteria")
COMPARE_FALLBACK_ROLES = ("overview", "looks_like")
HOW_TO_ASK = (
    "Try `/ladder senior`, `/ladder L4`, `/ladder stage 3`, `/ladder senior in roadmap`, "
    "`/ladder senior vs staff`, `/ladder getting to senior`, `/ladder qa`, `/ladder risk`, "
    "`/ladder matrix` or `/ladder sizing`. `/ladder help` lists everything."
)
HELP_KINDS = (
    "Ask what is expected at any level, by any name people use:\n"
    "• `/ladder senior` — a level (also `sr`, `mid`, `L4`, `stage 3`, `system owner`, `cto`, "
    "`what does a senior engineer do`, `expectations for L5?`)\n"
    "• `/ladder senior in roadmap` — a level in one framework (the org's crosswalk answers when "
    "the framework has no level by that name, and says so)\n"
    "• `/ladder senior vs staff` — what changes between two levels (also `to`, `->`)\n"
    "• `/ladder getting to senior`, `/ladder how do I get to staff` — the way up to a level\n"
    "• `/ladder qa`, `/ladder tech lead in engineer track`, `/ladder ic track` — a track and its levels\n"
    "• `/ladder risk`, `/ladder feedback loops`, `/ladder focus` — a theme of the leaders' document\n"
    "• `/ladder matrix` — the capability matrix: what it is, how to read it, its stages\n"
    "• `/ladder planning` or `/ladder sizing` — a matrix stage, or one capability across the roles\n"
    "• `/ladder roadmap`, `/ladder levels`, `/ladder execution` — a framework's overview"
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
            body, buttons = _level(answer, catalog)
        case CompareAnswer():
            body, buttons = _compare(answer)
        case CapabilityAnswer():
            body, buttons = _capability(answer, catalog), []
        case TrackAnswer():
            body, buttons = _track(answer)
        case ThemeAnswer():
            body, buttons = _theme(answer)
        case MatrixAnswer():
            body, buttons = _matrix(answer)
        case NotFoundAnswer():
            body, buttons = _not_found(answer), suggestion_buttons(answer)
            shareable = False
    elsewhere = getattr(answer, "elsewhere", ())
    if elsewhere:
        body.append(context("*The same words also name:* " + ", ".join(escape(a.label) for a in elsewhere)))
        buttons.extend(button(a.label, ids.LADDER_OPEN, a.ref) for a in elsewhere)
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
    blocks: list[Block] = [header("Career ladder look-ups"), *markdown_sections(HELP_KINDS), DividerBlock()]
    for fw in catalog.frameworks:
        names = ", ".join(f"`{escape(a)}`" for a in dict.fromkeys(n.lower() for n in (fw.id, *fw.aliases[:2])))
        lines = [f"*{escape(fw.name)}* ({names})"]
        if fw.levels:
            lines.append(f"_{escape(fw.level_label.capitalize())}s:_ " + ", ".join(escape(fw.rung_label(lvl))
                                                                                  for lvl in fw.levels))
        if fw.tracks:
            lines.append("_Tracks:_ " + ", ".join(escape(t.name) for t in fw.tracks))
        if fw.themes():
            lines.append("_Themes:_ " + ", ".join(escape(t.title) for t in fw.themes()))
        if fw.matrix:
            lines.append("_Capability matrix (`matrix`):_ " + ", ".join(escape(s.name) for s in fw.matrix.stages))
        if any(lvl.sections_with_role("getting_to") for lvl in fw.levels):
            lines.append("_Getting to:_ " + ", ".join(
                f"`{escape(s.title.lower())}`" for lvl in fw.levels for s in lvl.sections_with_role("getting_to")))
        blocks.extend(markdown_sections("\n".join(lines)))
    return blocks


def _framework(answer: FrameworkAnswer) -> tuple[list[Block], list[ButtonElement]]:
    fw = answer.framework
    blocks: list[Block] = [header(fw.name)]
    shown: list[str] = []
    under = None
    for section in fw.sections:
        if not section.is_theme:
            if section.under and section.under != under:
                blocks.append(header(section.under))
            under = section.under
            blocks.extend(section_blocks(section))
            shown.append(section_text(section))
    buttons: list[ButtonElement] = []
    if fw.themes():
        themes = "\n".join(f"• {escape(t.title)}" for t in fw.themes())
        blocks.extend(markdown_sections(f"*Themes* (one click each below)\n{themes}"))
        buttons.extend(button(t.title, ids.LADDER_OPEN, f"theme:{fw.id}/{t.id}") for t in fw.themes())
    if fw.tracks:
        tracks = "\n".join(f"• *{escape(t.name)}*" + (f" — {escape(t.description)}" if t.description else "")
                           for t in fw.tracks)
        blocks.extend(markdown_sections("*Tracks*\n" + tracks))
    glance = _levels_at_a_glance(fw)
    if glance:
        blocks.extend(markdown_sections(glance))
    questions = _unshown(fw.questions, shown)
    if questions:
        blocks.extend(markdown_sections("*Questions to ask*\n" + "\n".join(f"• {escape(q.text)}" for q in questions)))
    if fw.matrix:
        stages = ", ".join(escape(s.name) for s in fw.matrix.stages)
        blocks.extend(markdown_sections(f"*Capability matrix:* {stages}. `/ladder matrix` explains it; "
                                        f"try `/ladder {fw.matrix.stages[0].id}`."))
        buttons.append(button("Capability matrix", ids.LADDER_OPEN, f"matrix:{fw.id}"))
    buttons = _open_buttons(fw.levels, with_framework=False) + buttons
    return blocks, buttons


def _levels_at_a_glance(fw: Framework) -> str:
    """Each level's labelled one-liners (unit of leverage, what good looks like), as the source's table."""
    lines = []
    for lvl in fw.levels:
        facts = [f for s in lvl.sections_with_role("summary") for f in s.facts]
        if facts:
            lines.append(f"• *{escape(lvl.name)}* — " + " · ".join(f"_{escape(f.label)}:_ {escape(f.text)}" for f in facts))
    return "*Every level at a glance*\n" + "\n".join(lines) if lines else ""


def _unshown(questions, shown_texts: list[str]):
    """Questions not already visible word for word in the text shown (a paragraph that asks them)."""
    shown = html.unescape("\n".join(shown_texts))
    return [q for q in questions if q.text not in shown]


def _level(answer: LevelAnswer, catalog: Catalog) -> tuple[list[Block], list[ButtonElement]]:
    fw = answer.framework
    level = answer.level
    blocks: list[Block] = []
    if answer.translation is not None:
        blocks.extend(_translation_blocks(answer, catalog))
    page = level_blocks(level, fw)
    if answer.note:
        page.insert(2, context(escape(answer.note)))
    blocks.extend(page)
    for section in fw.sections:
        if level.id in section.shown_with:
            blocks.extend(section_blocks(section))
    if fw.matrix and level.id in fw.matrix.above_roles:
        lines = [f"• *{escape(s.name)}:* {escape(s.staff_and_above)}" for s in fw.matrix.stages if s.staff_and_above]
        if lines:
            blocks.extend(markdown_sections("*In the capability matrix, stage by stage*\n" + "\n".join(lines)))
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


def _translation_blocks(answer: LevelAnswer, catalog: Catalog) -> list[Block]:
    t = answer.translation
    fw = answer.framework
    named_fw = catalog.framework(t.named.framework_id)
    blocks: list[Block] = [*markdown_sections(
        f"You asked for “{escape_user(t.asked_for)}” in {escape(fw.name)}, which has no {escape(fw.level_label)} "
        f"by that name. {escape(fw.name)}'s equivalent per your org's crosswalk is *{escape(fw.rung_label(answer.level))}*: "
        f"the crosswalk's “{escape(t.row)}” row puts it with {escape(t.named.name)} ({escape(named_fw.name)}). "
        "That is the org's calibration, not the framework's own level by that name."
    )]
    for source_fw in (fw,) if fw.id == named_fw.id else (fw, named_fw):
        for title in source_fw.caveats:
            section = source_fw.section(title)
            if section is not None:
                quoted = "\n".join(f"> {escape(p)}" for p in section.paragraphs)
                blocks.extend(markdown_sections(f"_{escape(source_fw.name)} itself says:_\n{quoted}"))
    return blocks


def _compare(answer: CompareAnswer) -> tuple[list[Block], list[ButtonElement]]:
    a, b = answer.lower, answer.higher
    fa, fb = answer.lower_framework, answer.higher_framework
    buttons = _open_buttons([a, b], with_framework=fa.id != fb.id)
    if answer.relation == UP:
        blocks: list[Block] = [header(f"{a.name} → {b.name}"), context(_relation_text(answer))]
        return blocks + _paired_sections(a, b), buttons
    arrow = " → " if answer.relation == CROSSWALK_UP else " and "
    blocks = [header(f"{a.name}{arrow}{b.name}"), context(_relation_text(answer))]
    for level, fw in ((a, fa), (b, fb)):
        blocks.append(DividerBlock())
        blocks.extend(markdown_sections(f"*{escape(fw.rung_label(level))}* · {escape(fw.name)}"))
        for section in _compared_sections(level):
            blocks.extend(section_blocks(section))
    return blocks, buttons


def _relation_text(answer: CompareAnswer) -> str:
    a, b = answer.lower, answer.higher
    fa, fb = answer.lower_framework, answer.higher_framework
    note = f"{escape(answer.note)} " if answer.note else ""
    if answer.relation == UP:
        return f"{note}{escape(fa.name)}: {escape(fa.rung_label(a))} → {escape(fa.rung_label(b))}"
    if answer.relation == PARALLEL:
        ta, tb = (fa.track(lvl.track) if lvl.track else None for lvl in (a, b))
        where = (f" ({escape(ta.name)} track and {escape(tb.name)} track)" if ta and tb else "")
        height = "at the same height on different tracks" if a.rank == b.rank else "on different tracks"
        return (f"{note}Parallel rungs of {escape(fa.name)}{where}: {escape(a.name)} and {escape(b.name)} are "
                f"{height}; one does not lead to the other.")
    sides = f"{escape(a.name)} ({escape(fa.name)}) and {escape(b.name)} ({escape(fb.name)})"
    if answer.relation == SAME_ALTITUDE:
        return f"{note}Two frameworks: {sides}. Your org's crosswalk puts both at the same altitude; each shows its own text."
    if answer.relation == CROSSWALK_UP:
        return (f"{note}Two frameworks: {sides}. Your org's crosswalk puts {escape(a.name)} below "
                f"{escape(b.name)}; each shows its own text.")
    return f"{note}Two frameworks: {sides}, with no crosswalk row in common; each shows its own text."


def _compared_sections(level) -> tuple:
    """What a level shows in a comparison: The Shift, "Getting to", exit criteria… or its expectations."""
    for roles in (COMPARE_ROLES, COMPARE_FALLBACK_ROLES):
        found = level.sections_with_role(*roles)
        if found:
            return found
    return level.sections


def _paired_sections(a, b) -> list[Block]:
    """Two levels of one framework, role by role, side by side where they fit."""
    blocks: list[Block] = []
    roles = COMPARE_ROLES
    if not any(lvl.sections_with_role(*roles) for lvl in (a, b)):
        roles = COMPARE_FALLBACK_ROLES
    for role in roles:
        left = "\n\n".join(section_text(s) for s in a.sections_with_role(role))
        right = "\n\n".join(section_text(s) for s in b.sections_with_role(role))
        if not (left or right):
            continue
        if not (left and right):
            # Only one side has it ("Getting to Senior" is the Mid's): shown once, as that side's.
            level, text = (a, left) if left else (b, right)
            blocks.extend(markdown_sections(f"*{escape(level.name)}* · {text}"))
            blocks.append(DividerBlock())
            continue
        left, right = f"*{escape(a.name)}* · {left}", f"*{escape(b.name)}* · {right}"
        if len(left) <= FIELD_TEXT_LIMIT and len(right) <= FIELD_TEXT_LIMIT:
            # Fields render side by side on desktop.
            blocks.append(SectionBlock(fields=[MarkdownTextObject(text=left), MarkdownTextObject(text=right)]))
        else:
            blocks.extend(markdown_sections(left))
            blocks.extend(markdown_sections(right))
        blocks.append(DividerBlock())
    return blocks[:-1] if blocks and isinstance(blocks[-1], DividerBlock) else blocks


def _track(answer: TrackAnswer) -> tuple[list[Block], list[ButtonElement]]:
    fw, track = answer.framework, answer.track
    blocks: list[Block] = [header(f"{track.name} · {fw.name}"), context(f"A track of {escape(fw.name)}")]
    if track.description:
        blocks.extend(markdown_sections(escape(track.description)))
    shared = not any(lvl.track for lvl in fw.levels)
    title = ("*Its levels* (the source gives one set of levels for every track)" if shared
             else "*Its levels*")
    lines = []
    for lvl in answer.levels:
        facts = [f for s in lvl.sections_with_role("summary", "overview") for f in s.facts if f.label != "Track"]
        lines.append(f"• *{escape(fw.rung_label(lvl))}*"
                     + ("" if not facts else " — " + " · ".join(f"_{escape(f.label)}:_ {escape(f.text)}" for f in facts)))
    if lines:
        blocks.extend(markdown_sections(title + "\n" + "\n".join(lines)))
    buttons = _open_buttons(answer.levels, with_framework=False)
    buttons.append(button(f"{fw.name} (overview)", ids.LADDER_OPEN, f"framework:{fw.id}"))
    return blocks, buttons


def _theme(answer: ThemeAnswer) -> tuple[list[Block], list[ButtonElement]]:
    fw, section = answer.framework, answer.section
    themes = fw.themes()
    index = themes.index(section)
    blocks: list[Block] = [header(section.title),
                           context(f"{escape(fw.name)} · theme {index + 1} of {len(themes)}")]
    text = section_text(section, with_title=False)
    blocks.extend(markdown_sections(text))
    buttons = [button(f"All themes · {fw.name}", ids.LADDER_OPEN, f"framework:{fw.id}")]
    if index + 1 < len(themes):
        following = themes[index + 1]
        buttons.append(button(f"Next: {following.title}", ids.LADDER_OPEN, f"theme:{fw.id}/{following.id}"))
    return blocks, buttons


def _matrix(answer: MatrixAnswer) -> tuple[list[Block], list[ButtonElement]]:
    fw = answer.framework
    matrix = fw.matrix
    blocks: list[Block] = [header(f"Capability matrix · {fw.name}")]
    for section in matrix.sections:
        if section.role != "note":
            blocks.extend(section_blocks(section))
    stages = "\n".join(f"• *{escape(s.name)}* — {escape(s.description)}" + (f" ({escape(s.ritual)})" if s.ritual else "")
                        for s in matrix.stages)
    blocks.extend(markdown_sections(f"*Its stages* (one click each below)\n{stages}"))
    for section in matrix.sections:
        if section.role == "note":  # the source's closing note follows the stages
            blocks.extend(section_blocks(section))
    buttons = [button(s.name, ids.LADDER_OPEN, f"stage:{fw.id}/{s.id}") for s in matrix.stages]
    return blocks, buttons


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
    text = escape_user(answer.reason)
    if answer.suggestions:
        text += "\n*Did you mean* " + ", ".join(f"`{escape(s)}`" for s in answer.suggestions) + "?"
    return [*markdown_sections(text), context(HOW_TO_ASK)]


def suggestion_buttons(answer: NotFoundAnswer) -> list[ButtonElement]:
    return [button(s, ids.LADDER_OPEN, f"query:{s}") for s in answer.suggestions]
