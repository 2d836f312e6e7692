"""Every sentence of the five source documents is shown by some `/ladder` query a person would type.

The sentences come from the documents in `shared/seeds/` themselves, not from the YAML: each
document is read, the damage the YAML's header documents is cleaned (HTML, markdown links, `Â`,
`teh`, doubled spaces, glued table cells), and every line is split into sentences. Lines with no
sentence punctuation (headings, list items, table cells) count as one sentence each.

The queries below are written the way people ask; each answer is rendered exactly as Slack gets
it (`build_ladder_messages`), turned into plain text, and every source sentence must appear in the
answer to at least one of them. A failure lists the sentences no query reaches.
"""

from __future__ import annotations

import html
import re

import pytest

from bot.blocks.ladder import build_ladder_messages
from tests.content.sources import seeds_dir
from tests.content.test_source_roadmap import CATEGORY_RE

DELIVERY = "000_477908746c531454.txt"
EXECUTION = "001_9ff8f08e8b68d9da.txt"
ENGINEER_TRACK = "002_5c64a86d904facd0.txt"
ENGINEERING_LEVELS = "003_0eafd3352ca81498.txt"
ROADMAP = "004_658ae535a8b45a4b.txt"

# What people type, per document. Names come from the documents' own headings and words.
QUERIES = {
    DELIVERY: [
        "delivery", "early career", "mid-level engineer", "what does a senior engineer do",
        "staff engineer", "principal",
    ],
    EXECUTION: [
        "execution", "delivery and execution", "why delivery matters", "clarity", "focus", "risk",
        "dependencies", "quality", "feedback loops", "the human side", "leadership",
    ],
    ENGINEER_TRACK: [
        "engineer track", "qa", "platform engineer", "development engineer", "tech lead in engineer track",
        "L1", "L2", "level 3", "L4", "expectations for L5?", "L6", "level 7",
    ],
    ENGINEERING_LEVELS: [
        "levels", "intern", "junior", "mid", "senior in levels", "lead", "staff in levels",
        "principal in levels", "architect", "manager", "director", "vp", "cto",
        "ic track", "management track", "trunk", "mid in levels",
        "matrix", "planning", "story mapping", "discover", "define", "build", "launch", "learn",
        "across every stage", "getting to junior", "getting to mid", "getting to senior",
    ],
    ROADMAP: [
        "roadmap", "stage 1", "stage 2", "stage 3", "stage 4", "stage 5", "for managers",
    ],
}

# Source lines that are not content: web-page and layout junk the YAML's header says it drops.
NOT_CONTENT = {
    ROADMAP: {"Skip to content", "CategoryDetails", "PrincipleStage 1Stage 3Stage 5"},
    ENGINEER_TRACK: {"back to framework"},
    # The capability matrix tables' header cell; their rows are shown labelled by role name.
    ENGINEERING_LEVELS: {"Role"},
}

_SENTENCE_END = re.compile(r"(?<=[.?!])[\"”’)]*\s+(?=[\"“‘(]?[A-Z0-9])")


def _clean(line: str) -> str:
    """The cleaning the YAML headers document (engineer track and roadmap), nothing else."""
    line = line.replace("\u00c2\u00a0", " ").replace("\u00c2", "").replace("\u00a0", " ")
    line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)
    line = re.sub(r"<[^>]*>", "", line)
    line = re.sub(r"\bteh\b", "the", line)
    line = re.sub(r"^#+\s*", "", line.strip())
    line = re.sub(r"^(\d+\.|-)\s+", "", line)
    line = re.sub(r"^([^.?!:]+):$", r"\1", line)  # a heading with a colon, "For Managers:"
    return " ".join(line.split())


def _pieces(name: str, line: str) -> list[str]:
    """A cleaned source line as the pieces it holds: table cells, or the line itself."""
    if line.startswith("|"):
        if set(line) <= set("|- "):
            return []
        return [c.strip() for c in line.strip("|").split("|") if c.strip()]
    if name == ROADMAP:
        match = CATEGORY_RE.match(line)
        if match:
            return [match.group(1), match.group(2)]
        # The Core Principles rows lost their cell separators: a lowercase letter (or an
        # apostrophe) runs straight into the next cell's capital.
        glued = re.split(r"(?<=[a-z'])(?=[A-Z])", line)
        if 3 <= len(glued) <= 5 and all(len(p) > 3 for p in glued):
            return glued
    return [line]


def source_sentences(name: str) -> list[str]:
    text = (seeds_dir() / name).read_text(encoding="utf-8")
    found: list[str] = []
    for raw in text.splitlines():
        line = _clean(raw)
        if not line or line in NOT_CONTENT.get(name, ()):
            continue
        for piece in _pieces(name, line):
            if piece in NOT_CONTENT.get(name, ()):
                continue
            for sentence in _SENTENCE_END.split(piece):
                sentence = sentence.strip()
                if sentence and sentence not in found:
                    found.append(sentence)
    return found


def _flat(text: str) -> str:
    return " ".join(text.split())


def shown_text(messages) -> str:
    """What a person reads: every text of every block, mrkdwn markup and escaping removed."""
    parts: list[str] = []
    for message in messages:
        for block in message:
            data = block.to_dict()
            for key in ("text",):
                if isinstance(data.get(key), dict):
                    parts.append(data[key]["text"])
            parts.extend(f["text"] for f in data.get("fields", []))
            parts.extend(e.get("text", "") for e in data.get("elements", []) if isinstance(e.get("text"), str))
    text = html.unescape("\n".join(parts).replace("```", "\n"))
    return _flat(re.sub(r"[*_`]", "", text))


def _answer_text(ladder, catalog, query: str) -> str:
    return shown_text(build_ladder_messages(ladder.answer(query), catalog))


def test_the_sources_have_no_mrkdwn_markup_of_their_own():
    # The check strips `*`, `_` and backticks from answers; the sources must not need them.
    for name in QUERIES:
        assert not re.search(r"[*_`]", "\n".join(source_sentences(name))), name


@pytest.mark.parametrize("query", [q for qs in QUERIES.values() for q in qs])
def test_every_query_here_is_answered(ladder, query):
    from bot.ladder.answers import HelpAnswer, NotFoundAnswer

    assert not isinstance(ladder.answer(query), (NotFoundAnswer, HelpAnswer)), query


@pytest.mark.parametrize("name", list(QUERIES))
def test_every_source_sentence_is_reachable(ladder, catalog, name):
    sentences = source_sentences(name)
    assert len(sentences) > 40, name
    answers = [(q, _answer_text(ladder, catalog, q)) for q in QUERIES[name]]
    missing = [s for s in sentences if not any(_flat(s) in text for _, text in answers)]
    reached = 1 - len(missing) / len(sentences)
    assert not missing, (f"{name}: {len(missing)} of {len(sentences)} sentences reached by no query "
                         f"({reached:.1%} reached):\n" + "\n".join(f"  {s}" for s in missing))
