"""What `/ladder <text>` resolves to: names, frameworks, comparisons, capabilities, typos.

Plain domain tests over the bundled content: no Slack, no database.
"""

from __future__ import annotations

import shutil

import pytest
import yaml

from bot.catalog import BUNDLED_CONTENT_DIR, load_catalog
from bot.ladder.answers import (
    CapabilityAnswer,
    CompareAnswer,
    FrameworkAnswer,
    HelpAnswer,
    Ladder,
    LevelAnswer,
    NotFoundAnswer,
)
from bot.ladder.names import expand, normalize, variants
from bot.ladder.refs import answer_for, ref_for
from bot.ladder.resolve import Resolver
from bot.services import build_content_services
from bot.settings import SettingsError, load_settings

# Every name the issue says people type, and the level it must open (default framework: delivery).
ISSUE_NAMES = [
    ("senior", "delivery/senior"),
    ("Senior Engineer", "delivery/senior"),
    ("sr", "delivery/senior"),
    ("mid", "delivery/mid-level"),
    ("mid-level", "delivery/mid-level"),
    ("L4", "engineer-track/level-4"),
    ("level 4", "engineer-track/level-4"),
    ("stage 3", "roadmap/stage-3"),
    ("system owner", "roadmap/stage-3"),
    ("staff", "delivery/staff"),
    ("early career", "delivery/early-career"),
    ("cto", "engineering-levels/cto"),
    ("tech lead", "engineering-levels/lead"),
]


def level_key(answer) -> str:
    assert isinstance(answer, LevelAnswer), f"expected a level, got {answer!r}"
    return answer.level.key


def keys(levels) -> list[str]:
    return [lvl.key for lvl in levels]


# -- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), ISSUE_NAMES)
def test_every_name_from_the_issue_opens_the_right_level(ladder, resolver, text, expected):
    assert resolver.levels(text)[0].key == expected
    assert level_key(ladder.answer(text)) == expected


def spellings(text: str) -> list[str]:
    """How the same name arrives from different people: case, punctuation, spacing."""
    return [
        text.upper(),
        text.title(),
        f"  {text}  ",
        text.replace(" ", "-"),
        text.replace(" ", "_"),
        text.replace("-", " "),
        f"{text}!",
        f"{text}?",
        f"“{text}”",
        "-".join(text) if len(text) <= 3 else text.replace(" ", ".  "),  # "s-r", "c-t-o"; "tech.  lead"
    ]


@pytest.mark.parametrize(("text", "expected"), ISSUE_NAMES)
def test_names_resolve_whatever_the_case_and_punctuation(ladder, text, expected):
    wrong = {s: (level_key(a) if isinstance(a, LevelAnswer) else repr(a))
             for s in spellings(text) if not isinstance(a := ladder.answer(s), LevelAnswer)
             or a.level.key != expected}
    assert wrong == {}


@pytest.mark.parametrize(("text", "expected"), [
    ("Sr. Engineer", "delivery/senior"),
    ("sr eng", "delivery/senior"),
    ("Senior Software Engineer", "delivery/senior"),
    ("Mid-Level Engineer", "delivery/mid-level"),
    ("L-4", "engineer-track/level-4"),
    ("l 4", "engineer-track/level-4"),
    ("lvl4", "engineer-track/level-4"),
    ("Level-4", "engineer-track/level-4"),
    ("stage3", "roadmap/stage-3"),
    ("Stage-3", "roadmap/stage-3"),
    ("C.T.O.", "engineering-levels/cto"),
    ("Chief Technology Officer", "engineering-levels/cto"),
    ("Tech-Lead!", "engineering-levels/lead"),
    ("EM", "engineering-levels/manager"),
    ("mgr", "engineering-levels/manager"),
    ("jr", "engineering-levels/junior"),
    ("principle", "delivery/principal"),
    ("Early-Career", "delivery/early-career"),
])
def test_shorthands_and_spellings(ladder, text, expected):
    assert level_key(ladder.answer(text)) == expected


def test_normalize_and_expand():
    assert normalize("  Mid-Level   ENGINEER!! ") == "mid level engineer"
    assert normalize("Café & Crème") == "cafe and creme"
    assert expand("Sr. Eng") == "senior engineer"
    assert expand("L4") == "level 4"
    assert expand("lvl 4") == "level 4"
    assert expand("Stage-3") == "stage 3"
    assert expand("V.P.") == "vp"
    assert variants("Senior Engineer") == ["senior engineer", "senior"]
    assert variants("staff level") == ["staff level", "staff"]
    assert variants("!!!") == []


@pytest.mark.parametrize("framework_id", ["delivery", "engineer-track", "engineering-levels", "roadmap"])
def test_every_level_resolves_by_name_and_id_within_its_framework(catalog, ladder, framework_id):
    framework = catalog.framework(framework_id)
    assert framework.levels
    for level in framework.levels:
        for text in (level.name, level.id, *level.aliases):
            assert level_key(ladder.answer(f"{text} in {framework_id}")) == level.key, text


def test_every_level_id_resolves_to_a_level_of_that_id(catalog, ladder):
    # Plain look-ups of a shared id ("senior") may pick another framework's level, but never another rung.
    for level in catalog.all_levels():
        answer = ladder.answer(level.id)
        assert isinstance(answer, LevelAnswer), level.key
        assert answer.level.id == level.id or level in answer.also_named or level in answer.equivalents


# -- the default framework ---------------------------------------------------------------------


def test_an_ambiguous_name_prefers_the_default_framework_and_offers_the_others(ladder, resolver):
    assert resolver.default_framework == "delivery"
    assert keys(resolver.levels("senior")) == ["delivery/senior", "engineering-levels/senior"]
    answer = ladder.answer("senior")
    assert answer.level.key == "delivery/senior"
    assert keys(answer.equivalents) == [
        "engineer-track/level-4", "engineering-levels/senior", "roadmap/stage-3"]


@pytest.mark.parametrize("default", ["engineering-levels", "levels", "Engineering Levels"])
def test_another_default_framework_changes_which_level_an_ambiguous_name_opens(catalog, default):
    resolver = Resolver(catalog, default)
    assert resolver.default_framework == "engineering-levels"
    assert keys(resolver.levels("senior")) == ["engineering-levels/senior", "delivery/senior"]
    answer = Ladder(catalog, resolver).answer("senior")
    assert answer.level.key == "engineering-levels/senior"
    assert "delivery/senior" in keys(answer.equivalents)
    # Names only one framework has are not affected.
    assert Ladder(catalog, resolver).answer("system owner").level.key == "roadmap/stage-3"


def test_the_default_framework_setting_reaches_the_resolver():
    settings = load_settings(environ={"DEFAULT_FRAMEWORK": "engineering-levels"}, env_file=None)
    _, resolver, ladder = build_content_services(settings)
    assert resolver.default_framework == "engineering-levels"
    assert ladder.answer("mid").level.key == "engineering-levels/mid"


def test_without_the_setting_the_crosswalk_default_applies(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(BUNDLED_CONTENT_DIR, content)
    crosswalk = yaml.safe_load((content / "crosswalk.yaml").read_text())
    crosswalk["default_framework"] = "engineering-levels"
    (content / "crosswalk.yaml").write_text(yaml.safe_dump(crosswalk))
    catalog = load_catalog(content)
    assert Ladder(catalog, Resolver(catalog)).answer("senior").level.key == "engineering-levels/senior"


def test_an_unknown_default_framework_is_a_clear_settings_error(catalog):
    with pytest.raises(SettingsError) as error:
        Resolver(catalog, "narnia")
    message = str(error.value)
    assert "DEFAULT_FRAMEWORK" in message and "narnia" in message and "delivery" in message
    assert "\n" not in message


# -- "<level> in <framework>" ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("senior in roadmap", "roadmap/stage-3"),            # no "senior" in the roadmap: the crosswalk
    ("Senior in the Roadmap", "roadmap/stage-3"),
    ("senior from development roadmap", "roadmap/stage-3"),
    ("mid in roadmap", "roadmap/stage-2"),
    ("staff in roadmap", "roadmap/stage-4"),
    ("cto in roadmap", "roadmap/stage-5"),
    ("senior in levels", "engineering-levels/senior"),
    ("senior in engineering-levels", "engineering-levels/senior"),
    ("senior in Engineering Levels", "engineering-levels/senior"),
    ("L4 in levels", "engineering-levels/senior"),
    ("senior in delivery", "delivery/senior"),
    ("stage 3 in delivery", "delivery/senior"),
    ("system owner in delivery", "delivery/senior"),
    ("senior in track", "engineer-track/level-4"),
    ("stage 3 in roadmap", "roadmap/stage-3"),
])
def test_a_level_in_a_framework(ladder, text, expected):
    assert level_key(ladder.answer(text)) == expected


def test_the_crosswalk_fallback_offers_the_level_once_and_not_itself(ladder):
    # "senior" names two levels (delivery, engineering-levels) that both map to roadmap stage 3.
    answer = ladder.answer("senior in roadmap")
    assert answer.level.key == "roadmap/stage-3"
    assert answer.level not in answer.also_named
    assert answer.level not in answer.equivalents
    assert keys(answer.equivalents) == ["delivery/senior", "engineer-track/level-4", "engineering-levels/senior"]


def test_an_unknown_framework_is_named_in_the_reply(ladder):
    answer = ladder.answer("senior in narnia")
    assert isinstance(answer, NotFoundAnswer)
    assert "framework" in answer.reason and "narnia" in answer.reason


def test_a_framework_without_that_level_says_so(ladder):
    answer = ladder.answer("intern in execution")
    assert isinstance(answer, NotFoundAnswer)
    assert "Delivery and Execution" in answer.reason and "intern" in answer.reason


@pytest.mark.parametrize(("text", "expected"), [
    ("roadmap", "roadmap"), ("levels", "engineering-levels"), ("delivery", "delivery"),
    ("Engineering Ladder", "engineering-levels"), ("execution", "execution"), ("track", "engineer-track"),
])
def test_a_framework_name_alone_opens_its_overview(ladder, text, expected):
    answer = ladder.answer(text)
    assert isinstance(answer, FrameworkAnswer) and answer.framework.id == expected


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", "?", "list"])
def test_help(ladder, catalog, text):
    answer = ladder.answer(text)
    assert isinstance(answer, HelpAnswer)
    assert answer.frameworks == catalog.frameworks


# -- comparisons -------------------------------------------------------------------------------


@pytest.mark.parametrize("separator", [" vs ", " VS ", " vs. ", " versus ", " to ", " -> ", "->", " → ", "→", " => "])
def test_compare_separators(ladder, separator):
    answer = ladder.answer(f"senior{separator}staff")
    assert isinstance(answer, CompareAnswer), separator
    assert (answer.lower.key, answer.higher.key) == ("delivery/senior", "delivery/staff")


@pytest.mark.parametrize(("text", "lower", "higher"), [
    ("staff vs senior", "delivery/senior", "delivery/staff"),                      # higher rank second
    ("L5 vs L4", "engineer-track/level-4", "engineer-track/level-5"),
    ("stage 4 to stage 3", "roadmap/stage-3", "roadmap/stage-4"),
    ("domain owner -> system owner", "roadmap/stage-3", "roadmap/stage-4"),
    ("cto vs intern", "engineering-levels/intern", "engineering-levels/cto"),
    ("early career to mid", "delivery/early-career", "delivery/mid-level"),
    ("Senior Engineer vs Staff Engineer", "delivery/senior", "delivery/staff"),
    ("mid vs senior in levels", "engineering-levels/mid", "engineering-levels/senior"),
    ("senior vs staff in roadmap", "roadmap/stage-3", "roadmap/stage-4"),   # the framework applies to both
    ("stage 4 vs senior", "delivery/senior", "roadmap/stage-4"),            # across frameworks: the crosswalk rows
    ("L5 vs senior", "delivery/senior", "engineer-track/level-5"),
    ("senior vs stage 4", "delivery/senior", "roadmap/stage-4"),
])
def test_compare_resolves_and_orders_lower_first(ladder, text, lower, higher):
    answer = ladder.answer(text)
    assert isinstance(answer, CompareAnswer), answer
    assert (answer.lower.key, answer.higher.key) == (lower, higher)
    assert answer.lower_framework.id == answer.lower.framework_id
    assert answer.higher_framework.id == answer.higher.framework_id


def test_compare_with_an_unknown_side_names_it_and_suggests(ladder):
    answer = ladder.answer("senoir vs staff")
    assert isinstance(answer, NotFoundAnswer)
    assert "senoir" in answer.reason
    assert any("Senior" in s for s in answer.suggestions)


# -- typos -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("typo", "meant"), [
    ("senoir", "Senior"), ("staf", "Staff"), ("princpal", "Principal"), ("mid levle", "Mid"),
    ("sizng", "Sizing"), ("disover", "Discover"), ("ctoo", "CTO"),
])
def test_typos_get_did_you_mean(ladder, typo, meant):
    answer = ladder.answer(typo)
    assert isinstance(answer, NotFoundAnswer)
    assert typo in answer.reason
    assert any(meant in s for s in answer.suggestions), answer.suggestions
    assert len(answer.suggestions) <= 5


def test_gibberish_is_not_found_without_inventing_suggestions(ladder):
    answer = ladder.answer("xyzzy plugh")
    assert isinstance(answer, NotFoundAnswer)
    assert answer.suggestions == ()


# -- the capability matrix ---------------------------------------------------------------------


def test_sizing_and_discover(ladder):
    sizing = ladder.answer("sizing")
    assert isinstance(sizing, CapabilityAnswer)
    assert (sizing.hit.stage.id, sizing.hit.capability.id) == ("planning", "sizing")
    discover = ladder.answer("discover")
    assert isinstance(discover, CapabilityAnswer)
    assert (discover.hit.stage.id, discover.hit.capability) == ("discover", None)


def matrix_rows(catalog):
    for fw in catalog.frameworks:
        if fw.matrix:
            for stage in fw.matrix.stages:
                yield fw, stage, None
                for cap in stage.capabilities:
                    yield fw, stage, cap


def test_every_capability_and_stage_resolves_by_name_and_id(catalog, ladder, resolver):
    rows = list(matrix_rows(catalog))
    assert len(rows) > 30
    for fw, stage, cap in rows:
        named = cap or stage
        for text in (named.name, named.id, named.name.upper()):
            answer = ladder.answer(text)
            if resolver.framework(text) is not None:
                # The Build stage's "Delivery" row: the framework of that name wins; the row is
                # still one look-up away through its stage.
                assert isinstance(answer, FrameworkAnswer), (text, answer)
                assert cap in ladder.answer(stage.id).hit.stage.capabilities
                continue
            assert isinstance(answer, CapabilityAnswer), (text, answer)
            assert answer.hit.framework == fw and answer.hit.stage == stage and answer.hit.capability == cap, text


@pytest.mark.parametrize(("text", "capability"), [
    ("Build vs buy", "build-vs-buy"),              # "vs" inside a name is not a comparison
    ("getting to the root", "getting-to-the-root"),  # nor is "to"
    ("mentoring", "mentoring-raising-others"),     # an unambiguous prefix
])
def test_capability_names_that_look_like_other_queries(ladder, text, capability):
    answer = ladder.answer(text)
    assert isinstance(answer, CapabilityAnswer), answer
    assert answer.hit.capability.id == capability


# -- button references -------------------------------------------------------------------------


def test_every_answer_survives_a_round_trip_through_its_button_value(catalog, ladder):
    queries = ["senior", "senior in roadmap", "senior vs staff", "stage 4 vs senior", "sizing", "discover", "roadmap"]
    queries += [f"{lvl.id} in {lvl.framework_id}" for lvl in catalog.all_levels()]
    for query in queries:
        answer = ladder.answer(query)
        ref = ref_for(answer)
        assert ref and len(ref) <= 2000
        again = answer_for(ref, ladder)
        assert type(again) is type(answer), query
        if isinstance(answer, LevelAnswer):
            assert again.level == answer.level and again.equivalents == answer.equivalents
        elif isinstance(answer, CompareAnswer):
            assert (again.lower, again.higher) == (answer.lower, answer.higher)
        else:
            assert again == answer


def test_a_stale_button_value_falls_back_to_a_query(ladder):
    # A level renamed or removed since the message was posted: answer its words instead.
    assert isinstance(answer_for("level:delivery/no-such-level", ladder), NotFoundAnswer)
    assert answer_for("level:gone/senior", ladder).level.key == "delivery/senior"
    assert answer_for("query:L4", ladder).level.key == "engineer-track/level-4"
