"""content/roadmap.yaml against its source, shared/seeds/004_658ae535a8b45a4b.txt.

Expected values are parsed from the source here, independently of how the YAML was produced.
The source is plain text; each stage has a "CategoryDetails" table whose cell separators were lost,
so a table row is "<Category><first detail line>" followed by continuation lines until the next
category or a blank line. Categories are recognised by name (CATEGORIES below, from the source);
``test_no_unknown_category_in_stage_tables`` guards against a category this list does not know.

Source lines are compared after ``clean()``, the cleaning documented at the top of the YAML file
(a no-op on this source apart from stripping indentation).
"""

import re
from pathlib import Path

import pytest
import yaml
from tests.content.sources import seeds_dir as _seeds_dir

SOURCE = "004_658ae535a8b45a4b.txt"
REPO_ROOT = Path(__file__).resolve().parents[2]
YAML_PATH = REPO_ROOT / "content" / "roadmap.yaml"

CATEGORIES = [
    "Ownership", "You Decide", "You Propose", "Learning from Senior/Lead", "Metrics You Track",
    "Metrics You Own", "Time Horizon", "Example Projects", "Example Responsibilities",
    "Avoid These Mistakes", "Manager Involvement", "How You Succeed", "Exit Criteria",
    "You Now Do What Manager Does", "Operating Principles", "Continuous Development",
]
CATEGORY_RE = re.compile(
    "^(" + "|".join(re.escape(c) for c in sorted(CATEGORIES, key=len, reverse=True)) + ")(.+)$"
)
STAGE_RE = re.compile(r"^Stage (\d+): (.+)$")
NUMBERED_RE = re.compile(r"^(\d+)\. (.+)$")
WEB_JUNK = {"Skip to content"}


def clean(text: str) -> str:
    """The documented cleaning of encoding/typo/markup damage; nothing else is changed."""
    text = text.replace("\u00c2\u00a0", " ").replace("\u00c2", "").replace("\u00a0", " ")
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]*>", "", text)
    text = re.sub(r"\bteh\b", "the", text)
    text = re.sub(r" {2,}", " ", text)
    return text.strip()




@pytest.fixture(scope="module")
def lines() -> list[str]:
    """Cleaned source lines, blank lines kept (they end the stage tables)."""
    raw = (_seeds_dir() / SOURCE).read_text(encoding="utf-8").splitlines()
    return [clean(l) for l in raw]


@pytest.fixture(scope="module")
def doc() -> dict:
    return yaml.safe_load(YAML_PATH.read_text(encoding="utf-8"))


def _stages(lines):
    """{n: {"title", "summary", "table": [(category, [lines])], "after": [lines after the table]}}."""
    starts = [i for i, l in enumerate(lines) if STAGE_RE.match(l)]
    stop = lines.index("Using This Roadmap")
    stages = {}
    for start, end in zip(starts, starts[1:] + [stop]):
        n, title = STAGE_RE.match(lines[start]).groups()
        body = lines[start + 1:end]
        header = body.index("CategoryDetails")
        summary = [l for l in body[:header] if l]
        table, i = [], header + 1
        while i < len(body) and body[i]:
            m = CATEGORY_RE.match(body[i])
            if m:
                table.append((m.group(1), [m.group(2)]))
            else:
                assert table, f"Stage {n}: detail line before any category: {body[i]!r}"
                table[-1][1].append(body[i])
            i += 1
        stages[int(n)] = {
            "title": title,
            "summary": summary,
            "table": table,
            "table_lines": body[header + 1:i],
            "after": [l for l in body[i:] if l],
        }
    return stages


def _level(doc, n):
    return next(lv for lv in doc["levels"] if lv["id"] == f"stage-{n}")


def _section(sections, title):
    found = [s for s in sections if s["title"] == title]
    assert len(found) == 1, f"expected one section {title!r}, found {len(found)}"
    return found[0]


def _lines_of(section):
    return list(section.get("items", [])) + list(section.get("paragraphs", []))


def _block(lines, heading, next_heading):
    a, b = lines.index(heading), lines.index(next_heading)
    return [l for l in lines[a + 1:b] if l]


# ---------------------------------------------------------------- framework

def test_framework_header(doc, lines):
    assert doc["id"] == "roadmap"
    assert doc["source"] == SOURCE
    assert doc["level_label"] == "stage"
    assert doc["name"] == "Software Engineer Development Roadmap"
    assert doc["name"] in lines


def test_framework_section_titles(doc):
    assert [s["title"] for s in doc["sections"]] == [
        "Purpose", "Core Principles", "Engineer Development Stages",
        "For Engineers", "For Managers", "Final Note",
    ]


def test_purpose_and_stages_intro(doc, lines):
    assert _section(doc["sections"], "Purpose")["paragraphs"] == _block(lines, "Purpose", "Core Principles")
    first_stage = next(l for l in lines if STAGE_RE.match(l))
    intro = _block(lines, "Engineer Development Stages", first_stage)
    assert intro and intro[0].startswith("Important: ")
    assert _section(doc["sections"], "Engineer Development Stages")["paragraphs"] == intro


def test_core_principles_rows_rejoin_to_source(doc, lines):
    source_rows = _block(lines, "Core Principles", "Engineer Development Stages")
    table = _section(doc["sections"], "Core Principles")["table"]
    assert table["columns"] == ["Principle", "Stage 1", "Stage 3", "Stage 5"]
    assert "".join(table["columns"]) == source_rows[0]
    assert len(table["rows"]) == len(source_rows) - 1
    for row, source in zip(table["rows"], source_rows[1:]):
        assert len(row) == 4, row
        assert all(cell and cell == cell.strip() for cell in row), row
        assert "".join(row) == source


def test_using_this_roadmap_lists(doc, lines):
    engineers = _block(lines, "For Engineers:", "For Managers:")
    managers = _block(lines, "For Managers:", "Final Note")
    numbered_e = [NUMBERED_RE.match(l) for l in engineers]
    assert all(numbered_e)
    assert [int(m.group(1)) for m in numbered_e] == list(range(1, len(engineers) + 1))
    assert _section(doc["sections"], "For Engineers")["items"] == [m.group(2) for m in numbered_e]

    m_items = [NUMBERED_RE.match(l) for l in managers if NUMBERED_RE.match(l)]
    m_rest = [l for l in managers if not NUMBERED_RE.match(l)]
    assert [int(m.group(1)) for m in m_items] == list(range(1, len(m_items) + 1))
    assert m_rest == ["Progression is based on demonstrated capability, not time served."]
    section = _section(doc["sections"], "For Managers")
    assert section["items"] == [m.group(2) for m in m_items]
    assert section["paragraphs"] == m_rest


def test_final_note(doc, lines):
    start = lines.index("Final Note")
    expected = [l for l in lines[start + 1:] if l]
    assert _section(doc["sections"], "Final Note")["paragraphs"] == expected


def test_web_junk_not_transcribed(doc):
    text = yaml.safe_dump(doc, allow_unicode=True)
    for junk in WEB_JUNK:
        assert junk not in text


# ---------------------------------------------------------------- stages

def test_stage_count_matches_stage_headings(doc, lines):
    stages = _stages(lines)
    assert len(stages) == 5
    assert [lv["id"] for lv in doc["levels"]] == [f"stage-{n}" for n in stages]
    assert [lv["rank"] for lv in doc["levels"]] == list(stages)
    assert [lv["name"] for lv in doc["levels"]] == [s["title"] for s in stages.values()]


def test_no_unknown_category_in_stage_tables(lines):
    # A detail line that is not a known category must not look like "<Word><Word>" glued together,
    # which is how an unrecognised category row would show up.
    for n, stage in _stages(lines).items():
        for line in stage["table_lines"]:
            if not CATEGORY_RE.match(line):
                assert not re.match(r"^[A-Z][A-Za-z/ ]*[a-z][A-Z]", line), (n, line)


def test_stage_sections_follow_source_categories(doc, lines):
    for n, stage in _stages(lines).items():
        titles = [s["title"] for s in _level(doc, n)["sections"]]
        assert titles == ["Summary"] + [c for c, _ in stage["table"]], f"Stage {n}"


def test_stage_summary(doc, lines):
    for n, stage in _stages(lines).items():
        section = _level(doc, n)["sections"][0]
        assert section["role"] == "summary"
        assert section["paragraphs"] == stage["summary"], f"Stage {n}"
        assert len(stage["summary"]) == 1


def test_stage_category_contents(doc, lines):
    for n, stage in _stages(lines).items():
        sections = _level(doc, n)["sections"][1:]
        for section, (category, details) in zip(sections, stage["table"], strict=True):
            where = f"Stage {n} / {category}"
            if len(details) > 1 or category == "Exit Criteria":
                assert section["items"] == details, where
            else:
                assert "items" not in section, where
            if len(details) == 1 and category != "Exit Criteria":
                assert section["paragraphs"] == details, where
            extra = section.get("paragraphs", []) if "items" in section else []
            if category == "Continuous Development":
                assert extra == stage["after"], where
            else:
                assert extra == [], where
        if not any(c == "Continuous Development" for c, _ in stage["table"]):
            assert stage["after"] == [], f"Stage {n}: text after the table has no home"


def test_exit_criteria(doc, lines):
    for n, stage in _stages(lines).items():
        sections = _level(doc, n)["sections"]
        source = [d for c, d in stage["table"] if c == "Exit Criteria"]
        exits = [s for s in sections if s.get("role") == "exit_criteria"]
        if not source:
            assert exits == [], f"Stage {n} has no Exit Criteria in the source"
            continue
        assert len(exits) == 1 and exits[0]["title"] == "Exit Criteria"
        assert len(exits[0]["items"]) == len(source[0]), f"Stage {n}"
        assert exits[0]["items"] == source[0], f"Stage {n}"


def test_stage_5_has_no_exit_criteria(doc, lines):
    assert not any(c == "Exit Criteria" for c, _ in _stages(lines)[5]["table"])
    assert not any(s["title"] == "Exit Criteria" for s in _level(doc, 5)["sections"])


# ---------------------------------------------------------------- whole-document checks

def _render(doc):
    """The YAML turned back into the source's non-blank lines, in order."""
    out = [doc["name"]]
    fw = {s["title"]: s for s in doc["sections"]}
    out += ["Purpose", *fw["Purpose"]["paragraphs"]]
    table = fw["Core Principles"]["table"]
    out += ["Core Principles", "".join(table["columns"]), *("".join(r) for r in table["rows"])]
    out += ["Engineer Development Stages", *fw["Engineer Development Stages"]["paragraphs"]]
    for lv in doc["levels"]:
        out.append(f"Stage {lv['rank']}: {lv['name']}")
        summary, *rest = lv["sections"]
        out += summary["paragraphs"]
        out.append("CategoryDetails")
        for section in rest:
            body = _lines_of(section)
            out += [section["title"] + body[0], *body[1:]]
    out.append("Using This Roadmap")
    for title in ("For Engineers", "For Managers"):
        out.append(title + ":")
        out += [f"{i}. {t}" for i, t in enumerate(fw[title]["items"], 1)]
        out += fw[title].get("paragraphs", [])
    out += ["Final Note", *fw["Final Note"]["paragraphs"]]
    return out


def test_yaml_renders_back_to_the_whole_source(doc, lines):
    expected = [l for l in lines if l and l not in WEB_JUNK]
    assert _render(doc) == expected


def _all_text(doc):
    for s in doc["sections"]:
        yield from _lines_of(s)
        for row in s.get("table", {}).get("rows", []):
            yield from row
    for lv in doc["levels"]:
        yield lv["name"]
        for s in lv["sections"]:
            yield from _lines_of(s)


def test_every_string_appears_verbatim_in_source(doc, lines):
    source = "\n".join(lines)
    for text in _all_text(doc):
        assert text in source, text
