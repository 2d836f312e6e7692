"""content/delivery.yaml against its source, shared/seeds/000_477908746c531454.txt.

Everything expected here is computed by parsing the source text, not copied from the YAML, so
the tests fail if a paragraph is dropped, reordered, split, edited, or if a question is lost,
invented, truncated or filed under the wrong kind.

How the source is laid out (blank-line separated, one paragraph per line):

    Delivery                          <- title, then the intro paragraphs
    Early Career                      <- a stage heading, then its untitled opening paragraphs
    What This Looks Like              <- sub-headings, repeated in every stage
    The Shift
    How to Grow                       <- ends with "You're ready ... when" (Principal: "Delivery at
                                         this stage is less about ... You see lasting impact when")
    At this stage, delivery is about ...   <- the one-line summary
"""

import re
from pathlib import Path

import pytest
import yaml
from tests.content.sources import seeds_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE_NAME = "000_477908746c531454.txt"
YAML_PATH = REPO_ROOT / "content" / "delivery.yaml"

SUB_ROLES = {"What This Looks Like": "looks_like", "The Shift": "shift", "How to Grow": "how_to_grow"}
# Paragraphs the schema pulls out of "How to Grow" / the end of a stage into their own section.
SPECIAL = [
    # (how the source paragraph starts, section title, role)
    ("You're ready", "Ready for the next stage", "ready_for_next"),
    ("Delivery at this stage is less about", "Lasting impact", "ready_for_next"),
    ("At this stage, delivery is about", "Summary", "summary"),
]
SYNTHETIC_TITLES = {"Overview"} | {title for _, title, _ in SPECIAL}




def is_heading(line: str) -> bool:
    # Prose lines end in sentence punctuation (possibly followed by a closing quote).
    return not re.search(r"[.?!:][\"”’)]?$", line)


@pytest.fixture(scope="module")
def source_text() -> str:
    path = seeds_dir() / SOURCE_NAME
    if not path.is_file():
        pytest.fail(f"source document missing: {path}")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def source_lines(source_text) -> list[str]:
    return [line.strip() for line in source_text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def parsed(source_lines):
    """{title, intro, subheadings, stages: [(name, [(subheading|None, [paragraph, ...]), ...])]}"""
    headings = [line for line in source_lines if is_heading(line)]
    subheadings = {h for h in headings if headings.count(h) > 1}
    title = source_lines[0]
    assert is_heading(title) and title not in subheadings
    stage_names = [h for h in headings[1:] if h not in subheadings]

    intro, stages = [], []
    for line in source_lines[1:]:
        if line in stage_names:
            stages.append((line, [(None, [])]))
        elif line in subheadings:
            stages[-1][1].append((line, []))
        elif not stages:
            intro.append(line)
        else:
            stages[-1][1][-1][1].append(line)
    return {"title": title, "intro": intro, "subheadings": subheadings, "stages": stages}


def expected_sections(blocks):
    """The sections the schema asks for, derived from one stage's source blocks."""
    out = []
    for sub, paras in blocks:
        if sub is None:
            current = {"title": "Overview", "role": "overview", "paragraphs": []}
        else:
            current = {"title": sub, "role": SUB_ROLES[sub], "paragraphs": []}
        if sub is not None or paras:
            out.append(current)
        for p in paras:
            special = [(t, r) for start, t, r in SPECIAL if p.startswith(start)]
            if special:
                (t, r), = special
                current = {"title": t, "role": r, "paragraphs": [p]}
                out.append(current)
            else:
                current["paragraphs"].append(p)
    return out


@pytest.fixture(scope="module")
def doc():
    with YAML_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def levels_with_source(doc, parsed):
    assert len(doc["levels"]) == len(parsed["stages"])
    return list(zip(doc["levels"], parsed["stages"]))


# --------------------------------------------------------------------------- framework


def test_framework_metadata(doc, parsed):
    assert doc["id"] == "delivery"
    assert doc["name"] == parsed["title"]
    assert doc["source"] == SOURCE_NAME
    assert (seeds_dir() / doc["source"]).is_file()
    assert doc["level_label"] == "stage"
    assert "delivery arc" in doc["aliases"]


def test_framework_intro(doc, parsed):
    assert parsed["intro"], "the source has intro paragraphs before the first stage"
    assert doc["sections"] == [
        {"title": parsed["title"], "role": "overview", "paragraphs": parsed["intro"]}
    ]


# --------------------------------------------------------------------------- levels


def test_level_count_equals_stage_headings(doc, parsed):
    assert len(parsed["stages"]) >= 1
    assert len(doc["levels"]) == len(parsed["stages"])


def test_level_names_ranks_and_ids(doc, parsed):
    assert [lvl["name"] for lvl in doc["levels"]] == [name for name, _ in parsed["stages"]]
    assert [lvl["rank"] for lvl in doc["levels"]] == list(range(1, len(parsed["stages"]) + 1))
    assert [lvl["id"] for lvl in doc["levels"]] == [
        "early-career", "mid-level", "senior", "staff", "principal"
    ]
    mid = next(lvl for lvl in doc["levels"] if lvl["id"] == "mid-level")
    assert {"mid", "mid level"} <= set(mid["aliases"])


def test_section_titles_per_level(doc, parsed):
    for level, (name, blocks) in levels_with_source(doc, parsed):
        want = [s["title"] for s in expected_sections(blocks)]
        got = [s["title"] for s in level["sections"]]
        assert set(got) == set(want), name
        assert got == want, f"{name}: sections out of source order"
        # Every stage in this source has all of these.
        assert set(SUB_ROLES) | {"Overview", "Summary"} <= set(got), name


def test_section_roles_and_paragraphs_per_level(doc, parsed):
    for level, (name, blocks) in levels_with_source(doc, parsed):
        got = [
            {"title": s["title"], "role": s.get("role"), "paragraphs": s.get("paragraphs")}
            for s in level["sections"]
        ]
        assert got == expected_sections(blocks), name
        for s in level["sections"]:
            assert set(s) <= {"title", "role", "paragraphs"}, f"{name}/{s['title']}: unexpected keys"


def test_every_ready_for_next_and_summary_is_one_paragraph(doc):
    for level in doc["levels"]:
        roles = [s.get("role") for s in level["sections"]]
        assert roles.count("ready_for_next") == 1, level["id"]
        assert roles.count("summary") == 1, level["id"]
        for s in level["sections"]:
            if s.get("role") in ("ready_for_next", "summary"):
                assert len(s["paragraphs"]) == 1, (level["id"], s["title"])


# --------------------------------------------------------------------------- faithfulness


def all_yaml_paragraphs(doc):
    for s in doc.get("sections", []):
        yield from s.get("paragraphs", [])
    for level in doc["levels"]:
        for s in level["sections"]:
            yield from s.get("paragraphs", [])


def test_every_paragraph_is_verbatim_in_source(doc, source_lines):
    lines = set(source_lines)
    for p in all_yaml_paragraphs(doc):
        assert p in lines, f"not a verbatim source paragraph: {p[:80]!r}"


def test_source_is_fully_covered_in_order(doc, source_lines):
    """Walking the YAML (headings and paragraphs) gives back every source line, in order."""
    walked = []
    for s in doc["sections"]:
        walked.append(s["title"])
        walked.extend(s.get("paragraphs", []))
    for level in doc["levels"]:
        walked.append(level["name"])
        for s in level["sections"]:
            if s["title"] not in SYNTHETIC_TITLES:
                walked.append(s["title"])
            walked.extend(s.get("paragraphs", []))
    missing = [line[:80] for line in source_lines if line not in walked]
    assert not missing, f"source lines missing from the YAML: {missing}"
    assert walked == source_lines
    assert sum(map(len, walked)) == sum(map(len, source_lines))


def test_no_encoding_damage(doc):
    for p in all_yaml_paragraphs(doc):
        assert "Â" not in p and "â€" not in p, p[:80]


# --------------------------------------------------------------------------- questions

KIND_ROLE = {"reflection": "how_to_grow", "feedback": "how_to_grow", "shift": "shift"}
KIND_PREFIX = {"reflection": "grow", "shift": "shift", "feedback": "feedback"}
# A one-word question sentence ("Deployed?") is a fragment: it is kept attached to the
# question before it ("Does it get merged? Deployed?"), so it is not a question of its own.
FRAGMENT = re.compile(r"(?:^|(?<=[.?!:] ))[\w’'-]+\?")


def source_block(blocks, sub):
    return [p for s, paras in blocks if s == sub for p in paras]


def count_questions(paragraphs) -> int:
    return sum(p.count("?") - len(FRAGMENT.findall(p)) for p in paragraphs)


def test_question_counts_match_source(doc, parsed):
    total = 0
    for level, (name, blocks) in levels_with_source(doc, parsed):
        shift_src = source_block(blocks, "The Shift")
        grow_src = source_block(blocks, "How to Grow")
        kinds = [q["kind"] for q in level.get("questions", [])]
        assert len(kinds) == count_questions(shift_src + grow_src), name
        assert kinds.count("shift") == count_questions(shift_src), name
        assert kinds.count("reflection") + kinds.count("feedback") == count_questions(grow_src), name
        quoted = sum(len(re.findall(r'"[^"]*\?"', p)) for p in grow_src)
        assert kinds.count("feedback") == quoted, name
        total += len(kinds)
    # No other part of a stage asks questions that the schema would need stored.
    for name, blocks in parsed["stages"]:
        for sub, paras in blocks:
            if sub not in ("The Shift", "How to Grow"):
                assert not any("?" in p for p in paras), (name, sub)
    assert total > 0


def test_questions_are_verbatim_whole_sentences(doc, source_text):
    for level in doc["levels"]:
        for q in level.get("questions", []):
            text = q["text"]
            assert text in source_text, f"{level['id']}/{q['id']}: not verbatim: {text!r}"
            assert text.endswith("?"), text
            assert text == text.strip() and text[0].isupper(), text
            assert not FRAGMENT.fullmatch(text), f"fragment stored on its own: {text!r}"


def test_questions_sit_in_the_right_section(doc):
    """Each question is a whole sentence of a paragraph of the section its kind belongs to, and
    together the stored questions end at every '?' of those paragraphs (nothing lost or merged
    away, except one-word fragments that ride along with the question before them)."""
    for level in doc["levels"]:
        by_role = {}
        for s in level["sections"]:
            by_role.setdefault(s.get("role"), []).extend(s.get("paragraphs", []))
        covered = {}  # (paragraph, index of '?') -> question id
        for q in level.get("questions", []):
            text, kind = q["text"], q["kind"]
            assert kind in KIND_ROLE, q
            needle = f'"{text}"' if kind == "feedback" else text
            hits = [p for p in by_role.get(KIND_ROLE[kind], []) if needle in p]
            assert len(hits) == 1, f"{level['id']}/{q['id']}: {kind} question not found once in {KIND_ROLE[kind]}"
            p = hits[0]
            start = p.index(needle)
            if kind != "feedback":
                before = p[:start]
                assert before == "" or re.search(r"[.?!:] $", before), (
                    f"{level['id']}/{q['id']}: does not start a sentence: {text!r}"
                )
                if kind == "reflection":
                    assert before.count('"') % 2 == 0, f"quoted question filed as reflection: {text!r}"
            for i, ch in enumerate(needle):
                if ch == "?":
                    key = (p, start + i)
                    assert key not in covered, f"{q['id']} overlaps {covered.get(key)}"
                    covered[key] = q["id"]
        for role in ("shift", "how_to_grow"):
            for p in by_role.get(role, []):
                for i, ch in enumerate(p):
                    if ch == "?":
                        assert (p, i) in covered, f"{level['id']}: question ending at {p[max(0, i - 60):i + 1]!r} not stored"


def test_question_ids(doc):
    for level in doc["levels"]:
        qs = level.get("questions", [])
        ids = [q["id"] for q in qs]
        assert len(ids) == len(set(ids)), level["id"]
        for kind, prefix in KIND_PREFIX.items():
            of_kind = [q["id"] for q in qs if q["kind"] == kind]
            assert of_kind == [f"{prefix}-{n}" for n in range(1, len(of_kind) + 1)], (level["id"], kind)
        assert set(q["kind"] for q in qs) <= set(KIND_PREFIX)
        for q in qs:
            assert set(q) == {"id", "text", "kind"}, q


def test_questions_in_source_order_within_kind(doc):
    for level in doc["levels"]:
        text = "\n".join(p for s in level["sections"] for p in s.get("paragraphs", []))
        for kind in KIND_PREFIX:
            positions = [text.index(q["text"]) for q in level.get("questions", []) if q["kind"] == kind]
            assert positions == sorted(positions), (level["id"], kind)
