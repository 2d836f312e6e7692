"""The self-assessment domain (choices, reference line, furthest below/above, movement) and its form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from bot import ids
from bot.blocks import assessment as blocks
from bot.blocks.text import escape
from bot.catalog import BUNDLED_CONTENT_DIR, load_catalog
from bot.catalog.model import Level
from bot.growthlog.assessment import (
    FRAMEWORK_ID,
    assessment_choices,
    clean_picks,
    furthest,
    merge_page,
    movement,
    profile_summary,
    reference_for,
    role_names,
    snapshots_of,
)

ROLES = ("intern", "junior", "mid", "senior", "lead")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(BUNDLED_CONTENT_DIR)


@pytest.fixture(scope="module")
def capability_ids(catalog) -> list[str]:
    return [item.capability.id for item in assessment_choices(catalog)]


@dataclass
class Stored:
    """Stands in for a stored `Assessment` row."""

    picks: dict[str, Any]
    created_at: datetime
    framework_id: str = FRAMEWORK_ID
    extra: dict = field(default_factory=dict)


def at(day: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, 10, 0, tzinfo=UTC)


# -- choices ---------------------------------------------------------------------------------


def test_choices_are_the_matrix_cells_verbatim_for_every_capability_in_stage_order(catalog):
    matrix = catalog.framework(FRAMEWORK_ID).matrix
    choices = assessment_choices(catalog)
    assert [(c.stage.id, c.capability.id) for c in choices] == [(s.id, cap.id) for s, cap in matrix.capabilities()]
    assert len(choices) == 27 and len(matrix.stages) == 8
    for item in choices:
        assert [c.role for c in item.choices] == list(ROLES)
        assert [c.text for c in item.choices] == [item.capability.cells[r] for r in ROLES]
        assert [c.role_name for c in item.choices] == ["Intern", "Junior", "Mid", "Senior", "Lead"]


def test_clean_picks_keeps_known_capabilities_and_roles_only(catalog, capability_ids):
    picks = {capability_ids[0]: "senior", capability_ids[1]: "staff", "no-such-capability": "mid",
             capability_ids[2]: 3}
    assert clean_picks(catalog, picks) == {capability_ids[0]: "senior"}


def test_merge_page_replaces_only_what_the_page_showed():
    previous = {"a": "mid", "b": "senior", "c": "lead"}
    merged = merge_page(previous, ["b", "c"], {"c": "junior", "z": "intern"})
    assert merged == {"a": "mid", "c": "junior"}


# -- the reference line ----------------------------------------------------------------------


@pytest.mark.parametrize(("framework", "level", "role"), [
    ("engineering-levels", "mid", "mid"),
    ("delivery", "senior", "senior"),           # via the crosswalk
    ("roadmap", "stage-2", "mid"),
    ("delivery", "early-career", "junior"),     # the row holds intern and junior: its highest role
    ("engineering-levels", "staff", "lead"),    # above the matrix's top role
    ("engineering-levels", "cto", "lead"),
    ("delivery", "principal", "lead"),
])
def test_reference_role_maps_the_level_through_the_crosswalk(catalog, framework, level, role):
    reference = reference_for(catalog, catalog.level(framework, level))
    assert reference.role == role
    assert reference.role_name == role_names(catalog)[role]
    assert reference.role_name in reference.note


def test_no_level_or_no_equivalent_means_no_reference_line_and_says_so(catalog):
    assert reference_for(catalog, None).role is None
    assert "No level set" in reference_for(catalog, None).note
    stray = Level(framework_id="elsewhere", id="wizard", name="Wizard", rank=3)
    reference = reference_for(catalog, stray)
    assert reference.role is None
    assert "No reference line" in reference.note and "Wizard" in reference.note


# -- comparing --------------------------------------------------------------------------------


def test_furthest_below_and_above_name_every_capability_at_the_extreme(catalog, capability_ids):
    a, b, c, d, e = capability_ids[:5]
    picks = {a: "intern", b: "intern", c: "junior", d: "lead", e: "senior"}
    extremes = furthest(catalog, picks, "senior")
    assert [(g.capability_id, g.distance) for g in extremes.below] == [(a, -3), (b, -3)]
    assert [(g.capability_id, g.distance) for g in extremes.above] == [(d, 1)]


def test_furthest_is_empty_on_a_side_with_nothing_there(catalog, capability_ids):
    extremes = furthest(catalog, {capability_ids[0]: "mid", capability_ids[1]: "lead"}, "mid")
    assert extremes.below == ()
    assert [g.capability_id for g in extremes.above] == [capability_ids[1]]


def test_movement_between_two_assessments(catalog, capability_ids):
    a, b, c, d, e = capability_ids[:5]
    before = {a: "junior", b: "senior", c: "mid", d: "mid"}
    after = {a: "mid", b: "junior", c: "mid", e: "lead"}
    moved = movement(catalog, before, after)
    assert [(m.capability_id, m.before, m.after) for m in moved.up] == [(a, "junior", "mid")]
    assert [(m.capability_id, m.before, m.after) for m in moved.down] == [(b, "senior", "junior")]


def test_snapshots_are_the_last_few_oldest_first(catalog, capability_ids):
    rows = [Stored({capability_ids[0]: "mid"}, at(d)) for d in (20, 15, 10, 5, 1)]   # newest first
    snapshots = snapshots_of(catalog, rows, depth=4)
    assert [s.taken_at.day for s in snapshots] == [5, 10, 15, 20]


# -- the summary for the 1:1 digest ------------------------------------------------------------


def test_profile_summary_names_the_extremes_and_what_moved(catalog, capability_ids):
    a, b, c, d = capability_ids[:4]
    names = {item.capability.id: item.capability.name for item in assessment_choices(catalog)}
    older = Stored({a: "junior", b: "senior", c: "senior"}, at(1))
    latest = Stored({a: "mid", b: "intern", c: "senior", d: "lead"}, at(15))
    lines = profile_summary(catalog, [latest, older], catalog.level("delivery", "senior"))
    text = "\n".join(lines)
    assert lines[0].startswith("*Self-assessment* · 15 Mar 2026 · 4 of 27")
    assert "Against *Senior* (Senior Engineer · Delivery): at it on 1, above on 1, below on 2." in text
    assert f"Furthest below (Intern, 3 roles away): *{escape(names[b])}*" in text
    assert f"Furthest above (Lead, 1 role away): *{escape(names[d])}*" in text
    assert (f"Since 1 Mar 2026: up on *{escape(names[a])}* (Junior → Mid); "
            f"down on *{escape(names[b])}* (Senior → Intern).") in text


def test_profile_summary_without_a_level_says_there_is_no_reference(catalog, capability_ids):
    lines = profile_summary(catalog, [Stored({capability_ids[0]: "mid"}, at(2))], None)
    assert len(lines) == 2
    assert "No level set" in lines[1]


def test_profile_summary_is_empty_without_assessments_and_notes_no_change(catalog, capability_ids):
    assert profile_summary(catalog, [], catalog.level("delivery", "senior")) == []
    same = {capability_ids[0]: "mid"}
    lines = profile_summary(catalog, [Stored(same, at(9)), Stored(same, at(2))], None)
    assert lines[-1] == "Since 2 Mar 2026: no change."


# -- the form ----------------------------------------------------------------------------------


def _blocks(view) -> list[dict]:
    return view.to_dict()["blocks"]


def test_the_whole_matrix_fits_one_valid_modal(catalog):
    pages = blocks.assessment_pages(assessment_choices(catalog))
    assert len(pages) == 1
    view = blocks.build_assessment_modal(pages, {})
    data = view.to_dict()   # slack_sdk validates every limit
    assert len(data["blocks"]) <= 100
    assert data["callback_id"] == ids.ASSESS_MODAL and data["submit"]["text"] == "Save"
    inputs = [b for b in data["blocks"] if b["type"] == "input"]
    assert len(inputs) == 27
    assert all(b["optional"] for b in inputs)
    assert [b["element"]["type"] for b in inputs] == ["radio_buttons"] * 27


def test_options_are_cells_when_they_fit_and_roles_with_the_full_cells_shown_otherwise(catalog):
    choices = assessment_choices(catalog)
    data = _blocks(blocks.build_assessment_modal(blocks.assessment_pages(choices), {}))
    by_block = {b["block_id"]: b for b in data if b["type"] == "input"}
    sections = "\n".join(b["text"]["text"] for b in data if b["type"] == "section")
    long_ones = [item for item in choices if not blocks.cells_fit(item)]
    assert long_ones, "the bundled matrix has a cell longer than an option may be"
    for item in choices:
        options = by_block[blocks.pick_block_id(item.capability.id)]["element"]["options"]
        assert [o["value"] for o in options] == list(ROLES)
        if blocks.cells_fit(item):
            assert [o["text"]["text"] for o in options] == [c.text for c in item.choices]
            assert [o["description"]["text"] for o in options] == [c.role_name for c in item.choices]
        else:
            assert [o["text"]["text"] for o in options] == [c.role_name for c in item.choices]
            for choice in item.choices:
                assert f"*{choice.role_name}:* {escape(choice.text)}" in sections


def test_previous_picks_are_pre_selected(catalog, capability_ids):
    pages = blocks.assessment_pages(assessment_choices(catalog))
    view = blocks.build_assessment_modal(pages, {capability_ids[0]: "senior"}, previous_on="2 Mar 2026")
    data = _blocks(view)
    first = next(b for b in data if b.get("block_id") == blocks.pick_block_id(capability_ids[0]))
    assert first["element"]["initial_option"]["value"] == "senior"
    others = [b for b in data if b["type"] == "input" and b is not first]
    assert all("initial_option" not in b["element"] for b in others)
    assert "your picks from 2 Mar 2026" in data[0]["text"]["text"]


def test_metadata_round_trips_and_fits_with_every_capability_picked(catalog, capability_ids):
    picks = {cid: "senior" for cid in capability_ids}
    text = blocks.encode_metadata(0, picks)
    assert len(text) <= blocks.PRIVATE_METADATA_LIMIT
    assert blocks.decode_metadata(text) == blocks.FormState(0, picks)
    assert blocks.decode_metadata("") == blocks.FormState(0, {})
    assert blocks.decode_metadata("not json") == blocks.FormState(0, {})


def test_a_matrix_too_big_for_one_modal_is_split_between_stages(catalog):
    choices = assessment_choices(catalog)
    pages = blocks.assessment_pages(choices, max_blocks=30)
    assert len(pages) > 1
    assert [item for page in pages for item in page] == list(choices)
    picks = {}
    for number, page in enumerate(pages):
        view = blocks.build_assessment_modal(pages, picks, number)
        data = view.to_dict()
        assert len(data["blocks"]) <= 30
        assert data["submit"]["text"] == ("Save" if number == len(pages) - 1 else "Next")
        assert json.loads(data["private_metadata"])["page"] == number
    # Whole stages per page whenever a stage fits on one.
    for before, after in zip(pages, pages[1:]):
        assert before[-1].stage.id != after[0].stage.id


def test_a_stage_longer_than_a_page_continues_on_the_next(catalog):
    choices = assessment_choices(catalog)
    pages = blocks.assessment_pages(choices, max_blocks=10)
    assert [item for page in pages for item in page] == list(choices)
    for number in range(len(pages)):
        assert len(blocks.build_assessment_modal(pages, {}, number).to_dict()["blocks"]) <= 10


def test_read_picks_takes_the_selected_role_per_capability():
    values = {
        blocks.pick_block_id("sizing"): {ids.ASSESS_PICK_INPUT: {"type": "radio_buttons",
                                                               "selected_option": {"value": "mid"}}},
        blocks.pick_block_id("scoping"): {ids.ASSESS_PICK_INPUT: {"type": "radio_buttons", "selected_option": None}},
        "something-else": {"x": {"type": "plain_text_input", "value": "hi"}},
    }
    assert blocks.read_picks(values) == {"sizing": "mid"}
