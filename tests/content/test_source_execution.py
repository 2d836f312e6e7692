"""content/execution.yaml against its source, shared/seeds/001_9ff8f08e8b68d9da.txt.

The source is one paragraph per line, no blank lines: a heading line (no closing punctuation)
followed by its paragraphs. The framework has no levels: one section per heading, and the
"Feedback Loops ..." section's questions stored one by one as `feedback` questions.

Everything expected is computed from the source text, so the tests fail if a heading or a
paragraph is dropped, reordered or edited, or if a question is lost, invented or altered.
"""

import re
from pathlib import Path

import pytest
import yaml
from tests.content.sources import seeds_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE_NAME = "001_9ff8f08e8b68d9da.txt"
YAML_PATH = REPO_ROOT / "content" / "execution.yaml"

# The section whose questions are the team's feedback-loop questions.
FEEDBACK_HEADING_START = "Feedback Loops"
# Question sentences of that section NOT stored as questions (rhetorical ones). None: all seven
# ("Are initiatives being completed as expected, or constantly replanned?" ... "Are people aligned
# on what done means?") are real signals a team checks itself against, and the sentence that
# follows them ("These kinds of questions help you move from opinion to learning.") is not a
# question at all.
EXCLUDED_QUESTIONS: set[str] = set()




def is_heading(line: str) -> bool:
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
def source_sections(source_lines) -> list[tuple[str, list[str]]]:
    assert is_heading(source_lines[0]), "the source starts with a heading"
    out = []
    for line in source_lines:
        if is_heading(line):
            out.append((line, []))
        else:
            out[-1][1].append(line)
    return out


@pytest.fixture(scope="module")
def doc():
    with YAML_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_framework_metadata(doc):
    assert doc["id"] == "execution"
    assert doc["name"] == "Delivery and Execution"
    assert doc["source"] == SOURCE_NAME
    assert (seeds_dir() / doc["source"]).is_file()
    assert "execution" in doc["aliases"]
    assert not doc.get("levels"), "a framework of themes has no levels"


def test_one_section_per_heading(doc, source_sections):
    assert len(source_sections) > 1
    assert [s["title"] for s in doc["sections"]] == [h for h, _ in source_sections]


def test_section_paragraphs(doc, source_sections):
    for section, (heading, paras) in zip(doc["sections"], source_sections):
        assert paras, f"{heading}: the source has text under every heading"
        assert section.get("paragraphs") == paras, heading
        assert set(section) <= {"title", "role", "id", "aliases", "paragraphs"}, heading


def test_roles(doc):
    """The opening section and the Summary frame the document; every heading between is a theme."""
    first, *middle, last = doc["sections"]
    assert "role" not in first
    assert last["title"] == "Summary" and last.get("role") == "summary"
    for s in middle:
        assert s.get("role") == "theme", s["title"]
        assert s.get("id") and s.get("aliases"), s["title"]
        for alias in s["aliases"]:
            # Aliases are the heading's own words, so `/ladder <alias>` is what people type.
            assert all(w in s["title"].lower() or w in ("the", "it", "risks", "loop", "dependency")
                       or w in " ".join(s["paragraphs"]).lower() for w in alias.split()), alias


def test_every_paragraph_is_verbatim_in_source(doc, source_lines):
    lines = set(source_lines)
    for s in doc["sections"]:
        for p in s.get("paragraphs", []):
            assert p in lines, f"not a verbatim source paragraph: {p[:80]!r}"


def test_source_is_fully_covered_in_order(doc, source_lines):
    walked = []
    for s in doc["sections"]:
        walked.append(s["title"])
        walked.extend(s.get("paragraphs", []))
    missing = [line[:80] for line in source_lines if line not in walked]
    assert not missing, f"source lines missing from the YAML: {missing}"
    assert walked == source_lines
    assert sum(map(len, walked)) == sum(map(len, source_lines))


def feedback_section(source_sections):
    found = [(h, p) for h, p in source_sections if h.startswith(FEEDBACK_HEADING_START)]
    assert len(found) == 1, "exactly one feedback-loop heading in the source"
    return found[0]


def question_sentences(paragraphs):
    return [
        s for p in paragraphs for s in re.split(r"(?<=[.?!])\s+", p) if s.endswith("?")
    ]


def test_feedback_loop_question_count(doc, source_sections):
    _, paras = feedback_section(source_sections)
    n_marks = sum(p.count("?") for p in paras)
    sentences = question_sentences(paras)
    assert len(sentences) == n_marks  # one '?' per question sentence
    assert EXCLUDED_QUESTIONS <= set(sentences)
    assert len(doc["questions"]) == n_marks - len(EXCLUDED_QUESTIONS)
    assert len(doc["questions"]) > 0


def test_feedback_loop_questions_verbatim_and_in_order(doc, source_sections, source_text):
    _, paras = feedback_section(source_sections)
    want = [s for s in question_sentences(paras) if s not in EXCLUDED_QUESTIONS]
    got = [q["text"] for q in doc["questions"]]
    for text in got:
        assert text in source_text, f"not verbatim: {text!r}"
        assert any(text in p for p in paras), f"not from the feedback-loop section: {text!r}"
    assert got == want


def test_feedback_loop_question_ids_and_kind(doc):
    qs = doc["questions"]
    assert [q["id"] for q in qs] == [f"loop-{n}" for n in range(1, len(qs) + 1)]
    for q in qs:
        assert q["kind"] == "feedback", q
        assert set(q) == {"id", "text", "kind"}, q


def test_no_questions_elsewhere(source_sections):
    """Only the feedback-loop section asks questions; if the source gains others, revisit."""
    for heading, paras in source_sections:
        if not heading.startswith(FEEDBACK_HEADING_START):
            assert not any("?" in p for p in paras), heading
