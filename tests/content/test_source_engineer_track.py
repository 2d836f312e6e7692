"""content/engineer-track.yaml against its source, shared/seeds/002_5c64a86d904facd0.txt.

The expected values are parsed from the source here, independently of how the YAML was produced:
the number of levels is the number of ``### Level N`` headings, each level's expectations are the
``<li>`` bullets under its heading, each ownership line is the table cell for that level, and the
tracks are the ``### [Name](link)`` headings with the paragraph under each.

Source text is compared after ``clean()``, the same cleaning documented at the top of the YAML file:
the double-encoded non-breaking space ("Â" + NBSP) becomes a space, HTML tags and markdown link
syntax are removed, the typo "teh" becomes "the", runs of spaces become one, ends are stripped.
"""

import re
from pathlib import Path

import pytest
import yaml
from tests.content.sources import seeds_dir as _seeds_dir

SOURCE = "002_5c64a86d904facd0.txt"
REPO_ROOT = Path(__file__).resolve().parents[2]
YAML_PATH = REPO_ROOT / "content" / "engineer-track.yaml"


def clean(text: str) -> str:
    """The documented cleaning of encoding/typo/markup damage; nothing else is changed."""
    text = text.replace("\u00c2\u00a0", " ").replace("\u00c2", "").replace("\u00a0", " ")
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [text](link) -> text
    text = re.sub(r"<[^>]*>", "", text)  # <li>, </uL>, <br>, <td>, ...
    text = re.sub(r"\bteh\b", "the", text)
    text = re.sub(r" {2,}", " ", text)
    return text.strip()




@pytest.fixture(scope="module")
def raw_lines() -> list[str]:
    return (_seeds_dir() / SOURCE).read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def doc() -> dict:
    return yaml.safe_load(YAML_PATH.read_text(encoding="utf-8"))


def _source_levels(raw_lines):
    """[(n, [cleaned bullet, ...]), ...] in source order, one entry per '### Level N' heading."""
    levels = []
    for line in raw_lines:
        m = re.fullmatch(r"\s*###\s+Level\s+(\d+)\s*", line)
        if m:
            levels.append((int(m.group(1)), []))
        elif levels and "<li>" in line:
            # one bullet per <li>; a line holding several would be split here
            for part in re.findall(r"<li>(.*?)(?:</li>|$)", line):
                levels[-1][1].append(clean(part))
    return levels


def _source_li_counts(raw_lines):
    counts, current = {}, None
    for line in raw_lines:
        m = re.fullmatch(r"\s*###\s+Level\s+(\d+)\s*", line)
        if m:
            current = int(m.group(1))
            counts[current] = 0
        elif current is not None:
            counts[current] += line.count("<li>")
    return counts


def _source_ownership(raw_lines):
    text = "\n".join(raw_lines)
    return {
        int(n): clean(cell)
        for n, cell in re.findall(r"<td>\s*Level\s+(\d+)\s*</td>\s*<td>(.*?)</td>", text, re.S)
    }


def _source_tracks(raw_lines):
    tracks = []
    for i, line in enumerate(raw_lines):
        if line.strip().startswith("### ["):
            description = next(clean(l) for l in raw_lines[i + 1:] if l.strip())
            tracks.append((clean(line.strip()[3:]), description))
    return tracks


def _level(doc, n):
    return next(lv for lv in doc["levels"] if lv["id"] == f"level-{n}")


def test_clean_handles_the_documented_damage():
    assert clean("Tech Leads\u00c2\u00a0 own") == "Tech Leads own"
    assert clean("  <li>improve teh effectiveness</li>") == "improve the effectiveness"
    assert clean("</uL>") == ""
    assert clean("### [QA Engineer](individual-contributors/qa.md)") == "### QA Engineer"
    assert clean("Influences company  goals") == "Influences company goals"
    # wording is not touched
    assert clean("not otherwise not held") == "not otherwise not held"


def test_framework_header(doc):
    assert doc["id"] == "engineer-track"
    assert doc["source"] == SOURCE
    assert doc["level_label"] == "level"


def test_name_is_the_cleaned_heading(doc, raw_lines):
    heading = next(l for l in raw_lines if l.startswith("# "))
    assert doc["name"] == clean(heading[2:])


def test_tracks_match_the_track_headings(doc, raw_lines):
    expected = _source_tracks(raw_lines)
    assert len(expected) == 4
    assert [(t["name"], t["description"]) for t in doc["tracks"]] == expected
    assert [t["id"] for t in doc["tracks"]] == ["qa", "platform", "development", "tech-lead"]


def test_level_count_matches_level_headings(doc, raw_lines):
    source_levels = _source_levels(raw_lines)
    assert len(source_levels) == 7
    assert len(doc["levels"]) == len(source_levels)
    assert [lv["id"] for lv in doc["levels"]] == [f"level-{n}" for n, _ in source_levels]
    assert [lv["name"] for lv in doc["levels"]] == [f"Level {n}" for n, _ in source_levels]
    assert [lv["rank"] for lv in doc["levels"]] == [n for n, _ in source_levels]
    assert all("track" not in lv for lv in doc["levels"])


def test_levels_have_ownership_then_expectations(doc):
    for lv in doc["levels"]:
        assert [(s["title"], s.get("role")) for s in lv["sections"]] == [
            ("Ownership", "overview"),
            ("Expectations", "looks_like"),
        ], lv["id"]


def test_ownership_matches_table(doc, raw_lines):
    ownership = _source_ownership(raw_lines)
    assert sorted(ownership) == [n for n, _ in _source_levels(raw_lines)]
    for n, text in ownership.items():
        section = _level(doc, n)["sections"][0]
        assert section["facts"] == [{"label": "Ownership", "text": text}], n


def test_bullet_counts_match_li_count(doc, raw_lines):
    for n, count in _source_li_counts(raw_lines).items():
        assert len(_level(doc, n)["sections"][1]["items"]) == count, f"Level {n}"


def test_bullets_are_the_cleaned_source_bullets_in_order(doc, raw_lines):
    for n, bullets in _source_levels(raw_lines):
        assert _level(doc, n)["sections"][1]["items"] == bullets, f"Level {n}"


def _all_strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _all_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _all_strings(value)


def test_no_damage_left_in_yaml(doc):
    for s in _all_strings(doc):
        assert "\u00c2" not in s and "\u00a0" not in s, s
        assert "<" not in s and "](" not in s, s
        assert not re.search(r"\bteh\b", s), s
        assert "  " not in s and s == s.strip(), repr(s)
