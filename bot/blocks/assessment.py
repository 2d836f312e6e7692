"""Block Kit for the self-assessment: the capability-matrix form, its confirmation, profile texts.

The matrix cells are the choices, verbatim. A radio option's text is capped at 75 characters by
Slack and some cells are longer, so a capability whose cells all fit offers the cells themselves
(with the role as the option's description); otherwise its section lists every cell in full and
the options are the role names. Nothing is cut.

A modal holds at most 100 blocks. The form is split into pages of whole stages when the matrix
needs more; "Next" replaces the view with the following page and carries the picks so far in
`private_metadata`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    Option,
    PlainTextObject,
    RadioButtonsElement,
)
from slack_sdk.models.views import View

from bot import ids
from bot.blocks.content import context, header, markdown_sections
from bot.blocks.text import escape
from bot.domain.numbers import strict_int
from bot.growthlog.assessment import CapabilityChoices

OPTION_TEXT_LIMIT = 75
MODAL_BLOCK_LIMIT = 100
PRIVATE_METADATA_LIMIT = 3000
STAGE_BLOCKS = 2          # a stage's header and its description
CAPABILITY_BLOCKS = 2     # a capability's section and its radio buttons
PAGE_BLOCKS = 3           # the matrix's own introduction, how to answer, and "part i of n"

INTRO = ("For each capability, pick the description that is *honestly you today*, not where you would like "
         "to be. Skip any you can't judge; one pick is enough to save. Your picks are stored with today's date "
         "in your growth log (readable by you and the manager you name), and `/growth profile` draws them.")
NEED_ONE = "Pick at least one capability: the one you are surest about is a fine start."
NO_MATRIX = ("There is no capability matrix in this workspace's content (`engineering-levels`), "
             "so there is nothing to assess against.")
MENTION_SOMEONE = ("To see someone else's profile, mention them: `/growth profile @name`. "
                   "On its own, `/growth profile` shows yours.")
NO_ASSESSMENT_OWN = ("You haven't assessed yourself yet, so there is no profile to draw. `/growth assess` opens the "
                     "capability matrix: for each capability, pick the role whose description is honestly you. "
                     "Then `/growth profile` shows your jagged profile.")
NO_ASSESSMENT_OTHER = ("<@{user}> hasn't done a self-assessment yet, so there is no profile to draw. "
                       "They can start one with `/growth assess`.")
UPLOAD_FAILED = "I couldn't upload the chart just now (Slack said `{error}`). Please try again in a minute."


Page = tuple[CapabilityChoices, ...]


def assessment_pages(choices: Sequence[CapabilityChoices], max_blocks: int = MODAL_BLOCK_LIMIT) -> list[Page]:
    """The capabilities split into pages that each fit in one modal, breaking between stages
    (a stage too long for a page of its own continues, under its header again, on the next)."""
    pages: list[list[CapabilityChoices]] = [[]]
    used = PAGE_BLOCKS
    for run in _stage_runs(choices):
        cost = STAGE_BLOCKS + sum(_blocks_of(item) for item in run)
        if used + cost > max_blocks and pages[-1] and PAGE_BLOCKS + cost <= max_blocks:
            pages.append([])
            used = PAGE_BLOCKS
        if used + cost <= max_blocks:
            pages[-1].extend(run)
            used += cost
            continue
        for item in run:
            continues = bool(pages[-1]) and pages[-1][-1].stage.id == item.stage.id
            item_cost = _blocks_of(item) + (0 if continues else STAGE_BLOCKS)
            if used + item_cost > max_blocks and pages[-1]:
                pages.append([])
                used = PAGE_BLOCKS
                item_cost = _blocks_of(item) + STAGE_BLOCKS
            pages[-1].append(item)
            used += item_cost
    return [tuple(page) for page in pages if page]


def _stage_runs(choices: Sequence[CapabilityChoices]) -> list[list[CapabilityChoices]]:
    runs: list[list[CapabilityChoices]] = []
    for item in choices:
        if runs and runs[-1][-1].stage.id == item.stage.id:
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _blocks_of(item: CapabilityChoices) -> int:
    return len(capability_blocks(item, None))


def pick_block_id(capability_id: str) -> str:
    return f"{ids.ASSESS_PICK_BLOCK}{capability_id}"


def build_assessment_modal(pages: Sequence[Page], picks: Mapping[str, str], page: int = 0,
                           previous_on: str | None = None, intro: Sequence[str] = ()) -> View:
    """One page of the form, pre-selecting `picks` (the engineer's last assessment, then their
    answers on earlier pages). `previous_on` is the date of the assessment pre-selected. The
    first page opens with `intro`, the matrix's own introduction (what it is and how to read it)."""
    blocks: list[Block] = []
    if page == 0 and intro:
        blocks += markdown_sections("\n\n".join(escape(paragraph) for paragraph in intro))
    blocks += [*markdown_sections(INTRO + (
        f"\n_Pre-selected: your picks from {escape(previous_on)}._" if previous_on else ""))]
    if len(pages) > 1:
        blocks.append(context(f"Part {page + 1} of {len(pages)}"
                              + (": *Next* keeps your picks and shows the rest." if page + 1 < len(pages) else ".")))
    stage_id = None
    for item in pages[page]:
        if item.stage.id != stage_id:
            blocks.append(header(item.stage.name))
            blocks.append(context(escape(item.stage.description)))
            stage_id = item.stage.id
        blocks.extend(capability_blocks(item, picks.get(item.capability.id)))
    last = page + 1 >= len(pages)
    return View(type="modal", callback_id=ids.ASSESS_MODAL, title="Self-assessment",
                submit="Save" if last else "Next", close="Cancel",
                private_metadata=encode_metadata(page, picks), blocks=blocks)


def cells_fit(item: CapabilityChoices) -> bool:
    return all(len(choice.text) <= OPTION_TEXT_LIMIT for choice in item.choices)


def capability_blocks(item: CapabilityChoices, picked: str | None) -> list[Block]:
    """The capability with its description, then one radio button per role."""
    capability = item.capability
    text = f"*{escape(capability.name)}* — {escape(capability.description)}"
    if cells_fit(item):
        options = [Option(value=c.role, text=PlainTextObject(text=c.text, emoji=False),
                          description=PlainTextObject(text=c.role_name, emoji=False)) for c in item.choices]
    else:
        text += "\n" + "\n".join(f"• *{escape(c.role_name)}:* {escape(c.text)}" for c in item.choices)
        options = [Option(value=c.role, text=PlainTextObject(text=c.role_name, emoji=False)) for c in item.choices]
    initial = next((o for o in options if o.value == picked), None)
    return [
        *markdown_sections(text),
        InputBlock(block_id=pick_block_id(capability.id), label=capability.name, optional=True,
                   element=RadioButtonsElement(action_id=ids.ASSESS_PICK_INPUT, options=options,
                                               initial_option=initial)),
    ]


@dataclass(frozen=True)
class FormState:
    page: int
    picks: dict[str, str]


def encode_metadata(page: int, picks: Mapping[str, str]) -> str:
    return json.dumps({"page": page, "picks": dict(picks)}, separators=(",", ":"))


def decode_metadata(text: str | None) -> FormState:
    """The page shown and the picks carried from earlier pages; a blank or foreign value is page 0."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    picks = data.get("picks") if isinstance(data.get("picks"), dict) else {}
    page = strict_int(data.get("page"), 0) or 0
    return FormState(page, {str(k): v for k, v in picks.items() if isinstance(v, str)})


def read_picks(state_values: Mapping[str, Mapping[str, dict]]) -> dict[str, str]:
    """Capability id -> picked role from a submitted view's `state.values`."""
    picks: dict[str, str] = {}
    for block_id, inputs in state_values.items():
        if not block_id.startswith(ids.ASSESS_PICK_BLOCK):
            continue
        selected = (inputs.get(ids.ASSESS_PICK_INPUT) or {}).get("selected_option") or {}
        if selected.get("value"):
            picks[block_id[len(ids.ASSESS_PICK_BLOCK):]] = selected["value"]
    return picks


def build_saved_confirmation(summary: Sequence[str]) -> list[Block]:
    """The DM after saving: the summary (with what moved since last time) and what to do next."""
    return [
        *markdown_sections("Saved your self-assessment to your growth log.\n" + "\n".join(summary)),
        context("`/growth profile` draws your jagged profile · `/growth assess` again whenever you like: "
                "each one is kept, dated, so you can see where you move."),
    ]


def profile_comment(user_id: str, own: bool, summary: Sequence[str]) -> str:
    """The text posted with the chart."""
    whose = "Your jagged profile" if own else f"<@{user_id}>'s jagged profile"
    return f"{whose} (one line per self-assessment, against the dashed line of the level):\n" + "\n".join(summary)


def profile_sent(user_id: str, own: bool) -> str:
    whose = "Your jagged profile" if own else f"<@{user_id}>'s jagged profile"
    return f"{whose} is in our DM."
