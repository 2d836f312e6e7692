"""Every `/ladder` answer the content can produce, rendered and checked against Block Kit's limits.

No mocks: real content, real builders, and `slack_sdk.models` validation (`to_dict()` raises on a
too-long text), plus our own checks of the limits Slack enforces when it receives a message.
Nothing may be cut: every paragraph, item and question of a level appears in what it renders.
"""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import ids
from bot.blocks.ladder import build_ladder_messages, paginate
from bot.blocks.text import split_text
from bot.catalog import BUNDLED_CONTENT_DIR, load_catalog
from bot.catalog.model import Level, Question, Section
from bot.ladder.answers import (
    CapabilityAnswer,
    CompareAnswer,
    FrameworkAnswer,
    HelpAnswer,
    LevelAnswer,
    NotFoundAnswer,
)
from bot.ladder.refs import answer_for
from bot.ladder.resolve import CapabilityHit
from tests.running_bot import blocks_text

CATALOG = load_catalog(BUNDLED_CONTENT_DIR)  # immutable; loaded once to parametrize over it
LEVELS = CATALOG.all_levels()
FRAMEWORKS = CATALOG.frameworks
MATRIX_ROWS = [(fw, stage, cap) for fw in FRAMEWORKS if fw.matrix for stage in fw.matrix.stages
               for cap in (None, *stage.capabilities)]
SAME_FRAMEWORK_PAIRS = [(a, b) for fw in FRAMEWORKS for a, b in itertools.combinations(fw.levels, 2)]
CROSS_FRAMEWORK_PAIRS = [(a, b) for a, b in itertools.combinations(LEVELS, 2) if a.framework_id != b.framework_id]


# -- checking a message ------------------------------------------------------------------------


def check_message(message: list[Block]) -> list[dict]:
    """The message as Slack receives it, asserting every Block Kit limit; returns the dicts."""
    assert 1 <= len(message) <= 50, f"{len(message)} blocks"
    dicts = [block.to_dict() for block in message]  # slack_sdk raises on its known limits
    action_ids: list[str] = []
    for block in dicts:
        kind = block["type"]
        assert len(block.get("block_id", "")) <= 255
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
        elif kind == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert block["text"]["text"].strip(), "blank section"
                assert len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            for field in block.get("fields", []):
                assert field["text"].strip() and len(field["text"]) <= 2000
        elif kind == "context":
            assert 1 <= len(block["elements"]) <= 10
            for element in block["elements"]:
                assert element["text"].strip() and len(element["text"]) <= 3000
        elif kind == "actions":
            assert 1 <= len(block["elements"]) <= 25
            for element in block["elements"]:
                assert element["type"] == "button"
                assert 0 < len(element["text"]["text"]) <= 75
                assert 0 < len(element["value"]) <= 2000
                assert 0 < len(element["action_id"]) <= 255
                action_ids.append(element["action_id"])
        else:
            assert kind == "divider", kind
    duplicates = [a for a, n in Counter(action_ids).items() if n > 1]
    assert duplicates == [], f"action_ids repeated in one message: {duplicates}"
    return dicts


def check_messages(messages: list[list[Block]]) -> list[list[dict]]:
    assert messages, "no message at all"
    return [check_message(m) for m in messages]


def visible_text(messages: list[list[dict]]) -> str:
    """All text a person sees, mrkdwn escapes undone, whitespace collapsed (splits become spaces)."""
    text = blocks_text(messages).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return squash(text)


def squash(text: str) -> str:
    return " ".join(text.split())


def buttons(messages: list[list[dict]]) -> list[dict]:
    return [e for m in messages for b in m if b["type"] == "actions" for e in b["elements"]]


def section_strings(section: Section) -> list[str]:
    strings = [section.title, *section.paragraphs, *section.items]
    strings += [s for f in section.facts for s in (f.label, f.text)]
    if section.table:
        strings += [*section.table.columns[1:], *(cell for row in section.table.rows for cell in row)]
    return strings


def level_strings(level: Level) -> list[str]:
    return [s for section in level.sections for s in section_strings(section)] + [q.text for q in level.questions]


def missing(strings: list[str], rendered: str) -> list[str]:
    return [s for s in strings if squash(s) not in rendered]


def render(answer, **kwargs) -> list[list[dict]]:
    return check_messages(build_ladder_messages(answer, CATALOG, **kwargs))


def share_values(messages) -> list[str]:
    return [b["value"] for b in buttons(messages) if b["action_id"] == ids.LADDER_SHARE]


# -- the checker itself must catch what Slack would reject ------------------------------------


def test_the_checks_reject_what_slack_rejects():
    with pytest.raises(SlackObjectFormationError):
        SectionBlock(text=MarkdownTextObject(text="x" * 3001)).to_dict()
    with pytest.raises(AssertionError):
        check_message([DividerBlock()] * 51)
    with pytest.raises(AssertionError):
        check_message([SectionBlock(text=MarkdownTextObject(text="\n"))])
    twins = [ButtonElement(text="a", action_id="same", value="1"), ButtonElement(text="b", action_id="same", value="2")]
    with pytest.raises(AssertionError):
        check_message([ActionsBlock(elements=twins)])
    with pytest.raises(AssertionError):
        assert missing(["a paragraph that is not there"], visible_text([[{"type": "mrkdwn", "text": "other"}]])) == []


# -- levels ------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS, ids=lambda lvl: lvl.key)
def test_every_level_renders_within_limits_and_in_full(ladder, level):
    for answer in (ladder.level_answer(level), ladder.answer(f"{level.id} in {level.framework_id}")):
        assert isinstance(answer, LevelAnswer) and answer.level == level
        messages = render(answer)
        rendered = visible_text(messages)
        assert missing(level_strings(level), rendered) == [], "content cut or dropped"
        assert level.name in rendered
        # Share in channel, on the last message only, naming exactly this level.
        assert share_values(messages[-1:]) == [f"level:{level.key}"]
        assert share_values(messages[:-1]) == []
        # The crosswalk's equivalents are one click away.
        opens = [b["value"] for b in buttons(messages) if b["action_id"].startswith(ids.LADDER_OPEN)]
        assert [f"level:{eq.key}" for eq in answer.equivalents] == opens[: len(answer.equivalents)]
        assert f"level:{level.key}" not in opens


@pytest.mark.parametrize("level", LEVELS, ids=lambda lvl: lvl.key)
def test_every_level_by_its_plain_name_renders(ladder, level):
    answer = ladder.answer(level.name)
    assert isinstance(answer, LevelAnswer)
    messages = render(answer)
    assert missing(level_strings(answer.level), visible_text(messages)) == []


def test_reflection_questions_are_shown_with_the_level(ladder):
    levels_with_questions = [lvl for lvl in LEVELS if lvl.questions]
    assert levels_with_questions
    for level in levels_with_questions:
        rendered = visible_text(render(ladder.level_answer(level)))
        assert "Reflection questions" in rendered
        assert missing([q.text for q in level.questions], rendered) == []


def test_a_shared_copy_has_no_buttons_and_says_who_shared_it(ladder):
    messages = render(ladder.answer("senior"), shared_by="U123")
    assert buttons(messages) == []
    assert "Shared by <@U123>" in visible_text(messages)
    assert missing(level_strings(CATALOG.level("delivery", "senior")), visible_text(messages)) == []


# -- a level far longer than any in the bundled content: split and paginated, never cut ---------


def long_level(seed: int) -> Level:
    rng = random.Random(seed)
    words = [f"word{i}" for i in range(300)]

    def sentence() -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(3, 40))).capitalize() + "."

    paragraphs = tuple(" ".join(sentence() for _ in range(rng.randint(1, 80))) for _ in range(30))
    items = tuple(sentence() for _ in range(120))
    sections = tuple(Section(title=f"Part {i} <&>", paragraphs=paragraphs[i::6], items=items[i::6])
                     for i in range(6))
    questions = tuple(Question(f"q{i}", sentence() + " & <why>?", "reflection") for i in range(40))
    return Level("delivery", "enormous", "Enormous", 9, sections=sections, questions=questions)


@pytest.mark.parametrize("seed", range(5))
def test_a_huge_level_is_split_into_valid_messages_without_losing_a_word(seed):
    level = long_level(seed)
    answer = LevelAnswer(level, CATALOG.framework("delivery"), CATALOG.equivalents(CATALOG.level("delivery", "senior")), ())
    messages = render(answer)
    assert len(messages) > 1, "expected pagination"
    assert missing(level_strings(level), visible_text(messages)) == []
    assert share_values(messages[-1:]) == ["level:delivery/enormous"]


def test_paginate_keeps_order_and_puts_the_trailing_blocks_last():
    body = [SectionBlock(text=MarkdownTextObject(text=f"b{i}")) for i in range(120)]
    trailing = [DividerBlock(), DividerBlock()]
    messages = paginate(body, trailing)
    assert all(len(m) <= 50 for m in messages)
    flat = [b for m in messages for b in m]
    assert flat == body + trailing
    assert messages[-1][-2:] == trailing


# -- comparisons -------------------------------------------------------------------------------


def compare_answer(a: Level, b: Level) -> CompareAnswer:
    return CompareAnswer(a, b, CATALOG.framework(a.framework_id), CATALOG.framework(b.framework_id))


def compared_strings(level: Level) -> list[str]:
    roles = ("summary", "shift", "getting_to", "ready_for_next", "exit_criteria")
    return [s for section in level.sections if section.role in roles for s in section_strings(section)]


@pytest.mark.parametrize(("a", "b"), SAME_FRAMEWORK_PAIRS, ids=lambda lvl: lvl.key)
def test_every_pair_within_a_framework_compares_within_limits(a, b):
    messages = render(compare_answer(a, b))
    rendered = visible_text(messages)
    assert a.name in rendered and b.name in rendered
    assert missing(compared_strings(a) + compared_strings(b), rendered) == []
    assert share_values(messages) == [f"compare:{a.key}|{b.key}"]


def test_every_pair_across_frameworks_compares_within_limits():
    assert len(CROSS_FRAMEWORK_PAIRS) > 100
    for a, b in CROSS_FRAMEWORK_PAIRS:
        messages = render(compare_answer(a, b))
        rendered = visible_text(messages)
        assert a.name in rendered and b.name in rendered, (a.key, b.key)


def test_compare_shows_the_shift_side_by_side(ladder):
    messages = render(ladder.answer("senior vs staff"))
    side_by_side = [b for m in messages for b in m if b["type"] == "section" and "fields" in b]
    assert side_by_side, "expected fields (side by side)"
    shift = [b for b in side_by_side if "The Shift" in b["fields"][0]["text"]]
    assert len(shift) == 1
    assert shift[0]["fields"][0]["text"].startswith("*Senior Engineer*")
    assert shift[0]["fields"][1]["text"].startswith("*Staff Engineer*")


@pytest.mark.parametrize("seed", range(40))
def test_compare_of_long_sections_stays_within_field_and_section_limits(seed):
    # Texts around the 2000-character field limit and far beyond it: side by side or stacked,
    # never over a limit and never cut.
    rng = random.Random(seed)

    def level(ident: str, rank: int) -> Level:
        sections = tuple(
            Section(title=title, role=role,
                    paragraphs=tuple(" ".join(f"w{rng.randint(0, 999)}" for _ in range(rng.randint(200, 900)))
                                     for _ in range(rng.randint(1, 3))))
            for title, role in (("The Shift", "shift"), ("Exit", "exit_criteria"), ("Summary", "summary")))
        return Level("delivery", ident, ident.title(), rank, sections=sections)

    a, b = level("lower", 1), level("higher", 2)
    messages = render(compare_answer(a, b))
    assert missing(compared_strings(a) + compared_strings(b), visible_text(messages)) == []


@pytest.mark.parametrize(("query", "title"), [
    ("stage 3 vs stage 4", "Exit Criteria"),   # roadmap
    ("junior vs mid in levels", "Getting to"),  # engineering-levels
    ("L3 vs L4", "Expectations"),               # engineer-track: no compare roles, falls back
])
def test_compare_shows_what_each_framework_has(ladder, query, title):
    answer = ladder.answer(query)
    assert isinstance(answer, CompareAnswer)
    rendered = visible_text(render(answer))
    assert title in rendered
    for level in (answer.lower, answer.higher):
        expected = [s for sec in level.sections if sec.title.startswith(title) for s in section_strings(sec)]
        assert missing(expected, rendered) == [], level.key


# -- the capability matrix, frameworks, help, not found ----------------------------------------


@pytest.mark.parametrize(("fw", "stage", "cap"), MATRIX_ROWS,
                         ids=lambda x: getattr(x, "id", "stage"))
def test_every_capability_and_stage_renders_every_cell(fw, stage, cap):
    messages = render(CapabilityAnswer(CapabilityHit(fw, stage, cap)))
    rendered = visible_text(messages)
    caps = [cap] if cap else list(stage.capabilities)
    expected = [stage.description, *stage.takeaways.values()] + [stage.staff_and_above or ""]
    for c in caps:
        expected += [c.name, c.description, *c.cells.values()]
    assert missing(expected, rendered) == []
    for role in fw.matrix.roles:
        assert CATALOG.level(fw.id, role).name in rendered
    assert len(share_values(messages)) == 1


@pytest.mark.parametrize("framework", FRAMEWORKS, ids=lambda fw: fw.id)
def test_every_framework_overview_renders(framework):
    """The overview shows its own sections in full; a theme is named there and one click away."""
    messages = render(FrameworkAnswer(framework))
    rendered = visible_text(messages)
    strings = [s for section in framework.sections if not section.is_theme for s in section_strings(section)]
    strings += [q.text for q in framework.questions] + [t.name for t in framework.tracks]
    strings += [t.title for t in framework.themes()]
    assert missing(strings, rendered) == []
    opens = [b["value"] for b in buttons(messages) if b["action_id"].startswith(ids.LADDER_OPEN)]
    assert opens == ([f"level:{lvl.key}" for lvl in framework.levels]
                     + [f"theme:{framework.id}/{t.id}" for t in framework.themes()]
                     + ([f"matrix:{framework.id}"] if framework.matrix else []))


@pytest.mark.parametrize("query", ["execution", "feedback loops", "leadership", "risk"])
def test_the_leaders_document_shows_every_question_once(ladder, query):
    messages = render(ladder.answer(query))
    rendered = visible_text(messages)
    for question in CATALOG.framework("execution").questions:
        assert rendered.count(question.text) <= 1, (query, question.text)
    assert len(rendered) < 5000, "a theme or the overview, not the whole document"


def test_each_theme_is_one_click_from_the_overview_and_shows_its_text(ladder):
    fw = CATALOG.framework("execution")
    assert len(fw.themes()) == 9
    for theme in fw.themes():
        answer = answer_for(f"theme:{fw.id}/{theme.id}", ladder)
        rendered = visible_text(render(answer))
        assert missing(list(section_strings(theme)), rendered) == []


def test_help_lists_every_framework_and_level():
    messages = render(HelpAnswer(CATALOG.frameworks))
    rendered = visible_text(messages)
    assert missing([fw.name for fw in FRAMEWORKS] + [lvl.name for lvl in LEVELS], rendered) == []
    assert "/ladder senior vs staff" in rendered


def test_not_found_suggests_as_buttons_and_is_not_shareable(ladder):
    answer = ladder.answer("senoir")
    messages = render(answer)
    rendered = visible_text(messages)
    assert "Did you mean" in rendered and "senoir" in rendered and "/ladder help" in rendered
    assert share_values(messages) == []
    assert [b["value"] for b in buttons(messages)] == [f"query:{s}" for s in answer.suggestions]


def test_not_found_without_suggestions_still_says_how_to_ask():
    messages = render(NotFoundAnswer("xyzzy", (), "I couldn't find “xyzzy”."))
    assert "/ladder senior" in visible_text(messages)
    assert buttons(messages) == []


def test_text_people_typed_is_escaped():
    # What people type comes back in the reply: it must not ping a channel or mention anyone.
    messages = render(NotFoundAnswer("<!channel>", ("A <b> & C",), "No “<!channel> & co”."))
    mrkdwn = str([b.get("text") for m in messages for b in m])
    assert "<!channel>" not in mrkdwn and "<b>" not in mrkdwn
    assert "&lt;!channel&gt; &amp; co" in mrkdwn and "A &lt;b&gt; &amp; C" in mrkdwn


# -- split_text ---------------------------------------------------------------------------------


def random_text(rng: random.Random) -> str:
    def word() -> str:
        if rng.random() < 0.02:
            return "x" * rng.randint(50, 900)  # a "word" longer than the limit: must be hard-split
        return "".join(rng.choice("abcdefghij<>&*_") for _ in range(rng.randint(1, 12)))

    def sentence() -> str:
        return " ".join(word() for _ in range(rng.randint(1, 30))) + rng.choice([".", "?", "!", ""])

    def paragraph() -> str:
        lines = [" ".join(sentence() for _ in range(rng.randint(1, 8))) for _ in range(rng.randint(1, 4))]
        return "\n".join(lines)

    return "\n\n".join(paragraph() for _ in range(rng.randint(1, 12)))


def assert_rejoins(text: str, chunks: list[str]) -> None:
    """The chunks are the text, in order, with only separators (whitespace) between them."""
    position = 0
    for chunk in chunks:
        found = text.find(chunk, position)
        assert found >= 0, f"chunk not in the text at or after {position}: {chunk[:60]!r}"
        assert text[position:found].strip() == "", f"text dropped: {text[position:found][:60]!r}"
        position = found + len(chunk)
    assert text[position:].strip() == "", "the end of the text was dropped"


@pytest.mark.parametrize("seed", range(300))
def test_split_text_chunks_fit_and_rejoin_to_the_text(seed):
    rng = random.Random(seed)
    text = random_text(rng)
    limit = rng.choice([40, 100, 300, 1000, 3000])
    chunks = split_text(text, limit)
    assert all(0 < len(c) <= limit for c in chunks)
    assert all(c.strip() for c in chunks), "blank chunk"
    assert_rejoins(text, chunks)
    if len(text) <= limit:
        assert chunks == [text]


@pytest.mark.parametrize("seed", range(100))
def test_split_text_splits_between_paragraphs_first(seed):
    rng = random.Random(seed)
    limit = rng.choice([200, 500, 3000])
    paragraphs = [" ".join("w" * rng.randint(1, 9) for _ in range(rng.randint(1, limit // 10)))[:limit]
                  for _ in range(rng.randint(2, 40))]
    chunks = split_text("\n\n".join(paragraphs), limit)
    # Each chunk is whole consecutive paragraphs, packed greedily.
    regrouped = [chunk.split("\n\n") for chunk in chunks]
    assert [p for group in regrouped for p in group] == paragraphs
    for group, following in itertools.pairwise(regrouped):
        assert len("\n\n".join(group + following[:1])) > limit, "could have packed one more paragraph"


def test_split_text_prefers_lines_then_sentences_then_words():
    lines = "\n".join(["a" * 30] * 4)
    assert split_text(lines, 70) == ["a" * 30 + "\n" + "a" * 30] * 2
    sentences = "One two three. Four five six. Seven eight nine."
    assert split_text(sentences, 30) == ["One two three. Four five six.", "Seven eight nine."]
    words = "alpha beta gamma delta"
    assert split_text(words, 11) == ["alpha beta", "gamma delta"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_split_text_of_only_separators_gives_no_blank_chunks():
    for text in ("\n\n" * 2000, " " * 5000, "\n" * 4000, ". " * 2000):
        assert all(c.strip() for c in split_text(text, 3000))


def test_punctuation_at_a_sentence_split_is_kept():
    text = re.sub(r"\s+", " ", "Keep the period. " * 400).strip()
    chunks = split_text(text, 300)
    assert all(c.endswith(".") for c in chunks)
    assert_rejoins(text, chunks)


# -- the answers people reach by tracks, themes, the matrix, the crosswalk ----------------------


def test_every_track_theme_and_matrix_renders_within_limits(ladder):
    for fw in FRAMEWORKS:
        for track in fw.tracks:
            messages = render(ladder.track_answer(fw, track))
            rendered = visible_text(messages)
            assert track.name in rendered and all(fw.rung_label(lvl) in rendered for lvl in fw.levels_of_track(track))
        for theme in fw.themes():
            render(answer_for(f"theme:{fw.id}/{theme.id}", ladder))
        if fw.matrix:
            rendered = visible_text(render(answer_for(f"matrix:{fw.id}", ladder)))
            assert all(s.name in rendered for s in fw.matrix.stages)


def test_every_comparison_as_asked_renders_each_sides_own_text(ladder):
    """Through `Ladder.compare_answer`: parallel rungs and other frameworks show each side in full."""
    for a, b in SAME_FRAMEWORK_PAIRS + CROSS_FRAMEWORK_PAIRS:
        answer = ladder.compare_answer(a, b)
        rendered = visible_text(render(answer))
        assert "nothing at this level" not in rendered or answer.relation == "up", (a.key, b.key)
        if answer.relation != "up":
            for level in (a, b):
                shown = [s for sec in level.sections
                         if sec.role in ("summary", "shift", "getting_to", "ready_for_next", "exit_criteria")
                         for s in section_strings(sec)] or [
                    s for sec in level.sections if sec.role in ("overview", "looks_like") for s in section_strings(sec)]
                assert missing(shown, rendered) == [], (a.key, b.key, level.key)


def test_every_level_asked_in_every_other_framework_renders(ladder):
    for level in LEVELS:
        for fw in FRAMEWORKS:
            if fw.levels and fw.id != level.framework_id:
                answer = ladder.answer(f"{level.name} in {fw.id}")
                messages = render(answer)
                if isinstance(answer, LevelAnswer) and answer.translation:
                    first = messages[0][0]["text"]["text"]
                    assert first.startswith("You asked for"), (level.key, fw.id)
