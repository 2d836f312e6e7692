"""What people actually type, and what `/ladder` must answer: questions, tracks, themes, the
matrix, "getting to", the crosswalk saying what it did, comparisons that show both sides.

Plain domain tests over the bundled content, plus the rendered text where the wording matters.
"""

from __future__ import annotations

import pytest

from bot.blocks.ladder import build_ladder_messages
from bot.ladder.answers import (
    CROSSWALK_UP,
    PARALLEL,
    SAME_ALTITUDE,
    UP,
    CapabilityAnswer,
    CompareAnswer,
    FrameworkAnswer,
    LevelAnswer,
    MatrixAnswer,
    NotFoundAnswer,
    ThemeAnswer,
    TrackAnswer,
)
from bot.ladder.refs import answer_for, ref_for
from tests.running_bot import blocks_text


def text_of(answer, catalog) -> str:
    messages = build_ladder_messages(answer, catalog)
    text = blocks_text([[b.to_dict() for b in m] for m in messages])
    return " ".join(text.replace("*", "").replace("_", " ").split())


# -- how people ask ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("what does a senior engineer do", "delivery/senior"),
    ("What does a senior engineer do?", "delivery/senior"),
    ("expectations for L5?", "engineer-track/level-5"),
    ("expectations for L5", "engineer-track/level-5"),
    ("what is expected of a staff engineer", "delivery/staff"),
    ("what's expected at L4", "engineer-track/level-4"),
    ("What’s expected at stage 3?", "roadmap/stage-3"),
    ("senior?", "delivery/senior"),
    ("tell me about the system owner", "roadmap/stage-3"),
])
def test_questions_people_ask_open_the_level(ladder, text, expected):
    answer = ladder.answer(text)
    assert isinstance(answer, LevelAnswer), answer
    assert answer.level.key == expected


@pytest.mark.parametrize(("text", "lower", "higher"), [
    ("getting to senior", "engineering-levels/mid", "engineering-levels/senior"),
    ("Getting to Junior", "engineering-levels/intern", "engineering-levels/junior"),
    ("getting to mid", "engineering-levels/junior", "engineering-levels/mid"),
    ("how do I get to senior?", "engineering-levels/mid", "engineering-levels/senior"),
    ("how do I get to staff", "delivery/senior", "delivery/staff"),
    ("how do i get to stage 4", "roadmap/stage-3", "roadmap/stage-4"),
    ("how to become a principal engineer", "delivery/staff", "delivery/principal"),
    ("getting to principal in levels", "engineering-levels/staff", "engineering-levels/principal"),
])
def test_the_way_up_to_a_level(ladder, text, lower, higher):
    answer = ladder.answer(text)
    assert isinstance(answer, CompareAnswer), answer
    assert (answer.lower.key, answer.higher.key) == (lower, higher)
    assert answer.relation == UP


def test_getting_to_shows_the_sources_own_getting_to_text(ladder, catalog):
    rendered = text_of(ladder.answer("getting to senior"), catalog)
    assert ("Getting to Senior: The move is from framing clear problems to finding the right problems "
            "from vague direction.") in rendered


def test_getting_to_the_first_rung_is_that_rung(ladder):
    answer = ladder.answer("how do I get to early career")
    assert isinstance(answer, LevelAnswer) and answer.level.key == "delivery/early-career"
    assert answer.note


def test_a_name_with_getting_to_in_it_is_still_that_name(ladder):
    answer = ladder.answer("getting to the root")
    assert isinstance(answer, CapabilityAnswer) and answer.hit.capability.id == "getting-to-the-root"


# -- tracks ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "track"), [
    ("qa", "engineer-track/qa"), ("QA engineer", "engineer-track/qa"), ("qa track", "engineer-track/qa"),
    ("platform engineer", "engineer-track/platform"), ("platform", "engineer-track/platform"),
    ("development engineer", "engineer-track/development"),
    ("tech lead in engineer track", "engineer-track/tech-lead"),
    ("tech lead track", "engineer-track/tech-lead"),
    ("ic track", "engineering-levels/ic"), ("management track", "engineering-levels/management"),
    ("mgmt", "engineering-levels/management"), ("trunk", "engineering-levels/trunk"),
])
def test_tracks_are_found_by_name(ladder, text, track):
    answer = ladder.answer(text)
    assert isinstance(answer, TrackAnswer), answer
    assert f"{answer.framework.id}/{answer.track.id}" == track


def test_a_track_lists_its_levels(ladder, catalog):
    qa = ladder.answer("qa")
    assert [lvl.id for lvl in qa.levels] == [f"level-{n}" for n in range(1, 8)]
    assert "one set of levels for every track" in text_of(qa, catalog)
    ic = ladder.answer("ic track")
    assert [lvl.id for lvl in ic.levels] == ["staff", "principal", "architect"]


def test_tech_lead_alone_opens_the_lead_and_offers_the_track(ladder):
    answer = ladder.answer("tech lead")
    assert isinstance(answer, LevelAnswer) and answer.level.key == "engineering-levels/lead"
    assert [a.ref for a in answer.elsewhere] == ["track:engineer-track/tech-lead"]


def test_a_level_page_names_its_tracks(ladder, catalog):
    assert "Engineering Levels · Track: IC" in text_of(ladder.answer("staff in levels"), catalog)
    l4 = text_of(ladder.answer("L4"), catalog)
    assert "QA Engineer, Platform Engineer, Development Engineer, Tech Lead" in l4


# -- themes of the leaders' document -----------------------------------------------------------


@pytest.mark.parametrize(("text", "theme"), [
    ("risk", "risk"), ("risk management", "risk"), ("feedback loops", "feedback-loops"),
    ("focus", "focus"), ("clarity", "clarity"), ("dependencies", "dependencies"), ("quality", "quality"),
    ("the human side", "human-side"), ("leadership", "leadership"), ("why delivery matters", "why-delivery-matters"),
    ("Leadership in delivery", "leadership"), ("What Leadership Looks Like in Delivery", "leadership"),
    ("risk in execution", "risk"),
])
def test_themes_are_found_by_their_headings_words(ladder, text, theme):
    answer = ladder.answer(text)
    assert isinstance(answer, ThemeAnswer), answer
    assert answer.section.id == theme


# -- the capability matrix ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["matrix", "capability matrix", "the capability matrix", "Capability Matrix?"])
def test_the_matrix_introduction(ladder, catalog, text):
    answer = ladder.answer(text)
    assert isinstance(answer, MatrixAnswer), answer
    rendered = text_of(answer, catalog)
    assert "This is the part you grow against." in rendered
    assert "How to read it." in rendered
    assert "This is still a draft" in rendered


# -- ambiguous names ---------------------------------------------------------------------------


def test_delivery_opens_the_framework_and_offers_the_build_capability(ladder):
    answer = ladder.answer("delivery")
    assert isinstance(answer, FrameworkAnswer) and answer.framework.id == "delivery"
    assert [a.ref for a in answer.elsewhere] == ["cap:engineering-levels/build/delivery"]


def test_delivery_stages_do_not_call_themselves_numbered(ladder, catalog):
    rendered = text_of(ladder.answer("senior"), catalog)
    assert "stage 3" not in rendered.lower()
    assert "Stage 3: System Owner" in text_of(ladder.answer("stage 3"), catalog)
    cto = text_of(ladder.answer("cto"), catalog)
    assert "level 9" not in cto.lower() and "Track: Apex" in cto


# -- the crosswalk says what it did ------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("principal in roadmap", "roadmap/stage-5"),
    ("cto in delivery", "delivery/principal"),
    ("manager in delivery", "delivery/staff"),
    ("level 4 in roadmap", "roadmap/stage-3"),
])
def test_a_translated_answer_says_so_first(ladder, catalog, text, expected):
    answer = ladder.answer(text)
    assert isinstance(answer, LevelAnswer) and answer.level.key == expected
    assert answer.translation is not None
    messages = build_ladder_messages(answer, catalog)
    first = messages[0][0].to_dict()["text"]["text"]
    assert first.startswith("You asked for “")
    assert "equivalent per your org's crosswalk" in first


def test_a_translation_into_the_roadmap_quotes_its_caveat(ladder, catalog):
    rendered = text_of(ladder.answer("senior in roadmap"), catalog)
    assert 'A "Senior Engineer" title could map to Stage 3 or 4' in rendered


def test_a_level_asked_in_its_own_framework_is_not_a_translation(ladder):
    assert ladder.answer("senior in levels").translation is None


# -- comparisons -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["L4 vs senior", "stage 3 vs L4"])
def test_a_cross_framework_comparison_shows_each_sides_own_text(ladder, catalog, text):
    answer = ladder.answer(text)
    assert isinstance(answer, CompareAnswer) and answer.relation == SAME_ALTITUDE
    rendered = text_of(answer, catalog)
    assert "nothing at this level" not in rendered
    assert "Feature led a complex deliverable end-to-end." in rendered   # Level 4's own bullets
    assert "Squad" in rendered


def test_a_level_against_itself_is_that_level_once(ladder, catalog):
    answer = ladder.answer("senior vs senior")
    assert isinstance(answer, LevelAnswer) and answer.level.key == "delivery/senior"
    rendered = text_of(answer, catalog)
    assert rendered.count("The shift at this stage is from") == 1


def test_parallel_rungs_are_not_drawn_as_a_ladder(ladder, catalog):
    answer = ladder.answer("manager vs staff")
    assert isinstance(answer, CompareAnswer) and answer.relation == PARALLEL
    rendered = text_of(answer, catalog)
    assert "→" not in rendered.split("Parallel")[0]
    assert "one does not lead to the other" in rendered


@pytest.mark.parametrize("text", ["staff vs director", "vp vs principal", "architect vs manager"])
def test_rungs_of_the_two_branches_are_parallel_whatever_their_height(ladder, text):
    assert ladder.answer(text).relation == PARALLEL


@pytest.mark.parametrize("text", ["lead vs manager", "senior vs staff in levels", "vp vs cto", "staff vs architect"])
def test_a_branch_still_climbs_from_the_fork_and_to_the_top(ladder, text):
    assert ladder.answer(text).relation == UP


def test_a_crosswalk_ordered_comparison_says_whose_order_it_is(ladder, catalog):
    answer = ladder.answer("L5 vs senior")
    assert answer.relation == CROSSWALK_UP
    assert "Your org's crosswalk puts Senior Engineer below Level 5" in text_of(answer, catalog)


def test_compare_buttons_round_trip_with_their_relation(ladder):
    answer = ladder.answer("manager vs staff")
    again = answer_for(ref_for(answer), ladder)
    assert again.relation == PARALLEL


# -- suggestions and escaping ------------------------------------------------------------------


def test_suggestions_are_ranked_by_word_closeness(ladder):
    swe = ladder.answer("swe")
    assert isinstance(swe, NotFoundAnswer)
    assert swe.suggestions and "Engineer" in swe.suggestions[0] and "VP" not in swe.suggestions[:3]
    assert "Director" not in ladder.answer("retro").suggestions


@pytest.mark.parametrize("typed", ["*bold*", "_it_", "~gone~", "`code`", "<!here>"])
def test_what_people_type_is_echoed_inert(ladder, catalog, typed):
    messages = build_ladder_messages(ladder.answer(typed), catalog)
    text = messages[0][0].to_dict()["text"]["text"]
    for char in "*_~`<>":
        inside = text.split("“", 1)[1].split("”", 1)[0]
        assert char not in inside, (typed, text)


def test_help_tells_how_to_find_every_kind_of_thing(ladder, catalog):
    rendered = text_of(ladder.answer("help"), catalog)
    for example in ("/ladder qa", "/ladder risk", "/ladder matrix", "/ladder getting to senior", "/ladder roadmap",
                    "/ladder sizing", "/ladder senior in roadmap"):
        assert example in rendered, example
    assert "`execution`, `execution`" not in rendered


# -- the source's own order and labels ---------------------------------------------------------


def test_the_roadmap_keeps_its_order_and_its_numbers(ladder, catalog):
    rendered = text_of(ladder.answer("roadmap"), catalog)
    assert "Using This Roadmap" in rendered
    assert "1. Identify your current stage based on what you own (not your title)" in rendered
    assert "3. Review exit criteria during 1:1s" in rendered
    # "Progression is based on…" follows the managers' list in the source.
    assert rendered.index("5. Recognize growth") < rendered.index("Progression is based on demonstrated capability")
    stage5 = text_of(ladder.answer("stage 5"), catalog)
    assert stage5.index("Your role keeps expanding") < stage5.index("You drive your own development")


def test_the_ladder_diagram_is_a_code_block(ladder, catalog):
    messages = build_ladder_messages(ladder.answer("levels"), catalog)
    texts = [b.to_dict().get("text", {}).get("text", "") for m in messages for b in m]
    diagram = next(t for t in texts if "┌" in t)
    assert "```\nIntern → Junior → Mid → Senior → Lead\n│" in diagram


def test_the_levels_overview_shows_the_leverage_column(ladder, catalog):
    rendered = text_of(ladder.answer("levels"), catalog)
    for unit in ("A task", "A problem", "A direction", "A team’s output", "A system across teams", "The whole product"):
        assert f"Unit of leverage: {unit}" in rendered


def test_staff_and_above_pages_carry_beyond_senior_and_the_matrix_lines(ladder, catalog):
    for query in ("staff in levels", "principal in levels", "architect"):
        rendered = text_of(ladder.answer(query), catalog)
        assert "Beyond Senior the ladder forks, as shown at the top." in rendered, query
        assert "Staff and above set the capacity strategy and decide which bets the org makes at all." in rendered
        assert "Staff and above turn patterns across many projects into how the org builds." in rendered


@pytest.mark.parametrize(("text", "framework"), [
    ("core principles", "roadmap"), ("for managers", "roadmap"), ("Using this roadmap", "roadmap"),
    ("final note", "roadmap"), ("beyond senior", "engineering-levels"), ("at a glance", "engineering-levels"),
])
def test_a_framework_sections_title_opens_the_overview_that_shows_it(ladder, text, framework):
    answer = ladder.answer(text)
    assert isinstance(answer, FrameworkAnswer) and answer.framework.id == framework
