"""Check content/engineering-levels.yaml against its source document.

The source is shared/seeds/003_0eafd3352ca81498.txt ("Engineering Levels"). Everything expected
here is parsed from the source text itself (its pipe tables, headings and bullets), never from
the YAML, so an edited, dropped or invented string in the YAML makes a test fail.

The seeds folder is ``$SEEDS_DIR`` if set, else ``<repo root>/../shared/seeds``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from tests.content.sources import seeds_dir as _seeds_dir

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE_NAME = "003_0eafd3352ca81498.txt"
YAML_PATH = REPO_ROOT / "content" / "engineering-levels.yaml"
MATRIX_ROLE_IDS = ["intern", "junior", "mid", "senior", "lead"]


# --------------------------------------------------------------------------- loading




@pytest.fixture(scope="module")
def source_text() -> str:
    path = _seeds_dir() / SOURCE_NAME
    if not path.is_file():
        pytest.fail(
            f"source document not found: looked for {path} "
            f"(SEEDS_DIR={os.environ.get('SEEDS_DIR')!r}; default is <repo root>/../shared/seeds)"
        )
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def lines(source_text: str) -> list[str]:
    return source_text.splitlines()


@pytest.fixture(scope="module")
def doc() -> dict:
    if not YAML_PATH.is_file():
        pytest.fail(f"content file not found: {YAML_PATH}")
    with YAML_PATH.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict), f"{YAML_PATH} does not hold a mapping"
    return data


# --------------------------------------------------------------------------- source parsing


def _is_table_line(line: str) -> bool:
    return line.startswith("|") and line.rstrip().endswith("|")


def _is_separator(line: str) -> bool:
    return _is_table_line(line) and set(line.strip()) <= set("|-: ")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip()[1:-1].split("|")]


def _tables(lines: list[str]) -> list[dict]:
    """Every pipe table in the source: start line index, header, body rows."""
    tables, i = [], 0
    while i < len(lines):
        if _is_table_line(lines[i]) and i + 1 < len(lines) and _is_separator(lines[i + 1]):
            start, header = i, _cells(lines[i])
            i += 2
            rows = []
            while i < len(lines) and _is_table_line(lines[i]):
                rows.append(_cells(lines[i]))
                i += 1
            tables.append({"start": start, "end": i, "header": header, "rows": rows})
        else:
            i += 1
    return tables


def _glance_table(lines: list[str]) -> dict:
    found = [t for t in _tables(lines) if t["header"][0] == "Level"]
    assert len(found) == 1, "expected exactly one 'At a Glance' table (first column 'Level')"
    return found[0]


def _stage_tables(lines: list[str]) -> list[dict]:
    """Capability-matrix tables, each with its heading, description line, bullets, Staff line."""
    stages = []
    for t in _tables(lines):
        if t["header"][0] != "Role":
            continue
        assert t["header"][-1] == "Takeaway", t["header"]
        j = t["start"] - 1
        bullets = []
        while lines[j].startswith("- "):
            bullets.insert(0, lines[j][2:])
            j -= 1
        stages.append(
            {
                **t,
                "heading": lines[j - 1],
                "description_line": lines[j],
                "bullets": bullets,
                "after": lines[t["end"]] if t["end"] < len(lines) else None,
            }
        )
    return stages


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --------------------------------------------------------------------------- YAML walking


def _all_sections(doc: dict):
    """(path, section) for every section in the framework, its levels and its matrix."""
    for i, s in enumerate(doc.get("sections") or []):
        yield f"sections[{i}]", s
    for li, lv in enumerate(doc.get("levels") or []):
        for i, s in enumerate(lv.get("sections") or []):
            yield f"levels[{li}]({lv.get('id')}).sections[{i}]", s
    for i, s in enumerate((doc.get("matrix") or {}).get("sections") or []):
        yield f"matrix.sections[{i}]", s


def _levels_by_id(doc: dict) -> dict:
    return {lv["id"]: lv for lv in doc["levels"]}


def _yaml_stage_rows(stage: dict, role_ids: list[str]) -> list[list[str]]:
    """Rebuild a stage's table body (Role label is added by the caller) from the YAML."""
    rows = []
    for rid in role_ids:
        rows.append([c["cells"][rid] for c in stage["capabilities"]] + [stage["takeaways"][rid]])
    return rows


def _reconstructed_lines(doc: dict) -> set[str]:
    """Every source line the YAML can account for, rebuilt from the YAML alone."""
    out: set[str] = {doc["name"]}
    for _, s in _all_sections(doc):
        out.add(s["title"])
        for p in s.get("paragraphs") or []:
            out.update(p.split("\n"))
            if s.get("role") == "getting_to":
                out.add(f"{s['title']}: {p}")
        for it in s.get("items") or []:
            out.add(it)
    levels = doc["levels"]
    for lv in levels:
        out.add(lv["name"])
        summary = [s for s in lv["sections"] if s.get("facts")]
        if summary:
            facts = summary[0]["facts"]
            out.add("| " + " | ".join([lv["name"]] + [f["text"] for f in facts]) + " |")
            out.add("| " + " | ".join(["Level"] + [f["label"] for f in facts]) + " |")
    matrix = doc["matrix"]
    names = {lv["id"]: lv["name"] for lv in levels}
    for st in matrix["stages"]:
        out.add(st["name"])
        desc = st["description"]
        out.add(f"{desc} ({st['ritual']})" if st.get("ritual") else desc)
        for c in st["capabilities"]:
            out.add(f"- {c['name']} — {c['description']}")
        out.add("| " + " | ".join(["Role"] + [c["name"] for c in st["capabilities"]] + ["Takeaway"]) + " |")
        for rid, row in zip(matrix["roles"], _yaml_stage_rows(st, matrix["roles"])):
            out.add("| " + " | ".join([names[rid]] + row) + " |")
        out.add(st["staff_and_above"])
    return out


# --------------------------------------------------------------------------- tests: shape


def test_identity(doc):
    assert doc["id"] == "engineering-levels"
    assert doc["name"] == "Engineering Levels"
    assert doc["source"] == SOURCE_NAME
    assert doc.get("level_label", "level") == "level"


def test_level_count_matches_glance_table(doc, lines):
    glance = _glance_table(lines)
    assert len(doc["levels"]) == len(glance["rows"])
    assert [lv["name"] for lv in doc["levels"]] == [r[0] for r in glance["rows"]]


def test_level_ids_ranks_tracks(doc):
    ids = [lv["id"] for lv in doc["levels"]]
    assert ids == [
        "intern", "junior", "mid", "senior", "lead", "staff", "principal", "architect",
        "manager", "director", "vp", "cto",
    ]
    ranks = {lv["id"]: lv["rank"] for lv in doc["levels"]}
    assert ranks == dict(
        intern=1, junior=2, mid=3, senior=4, lead=5, staff=6, manager=6,
        principal=7, director=7, architect=8, vp=8, cto=9,
    )
    track_ids = {t["id"] for t in doc["tracks"]}
    assert track_ids == {"trunk", "fork", "ic", "management", "apex"}
    for lv in doc["levels"]:
        assert lv["track"] in track_ids, lv["id"]


def test_glance_table_rows_cell_by_cell(doc, lines):
    """Each 'At a Glance' row is a level's first section's facts, label by label, cell by cell."""
    glance = _glance_table(lines)
    header = glance["header"]
    by_name = {lv["name"]: lv for lv in doc["levels"]}
    for row in glance["rows"]:
        lv = by_name.get(row[0])
        assert lv is not None, f"source level {row[0]!r} missing from the YAML"
        first = lv["sections"][0]
        assert first.get("role") == "summary", lv["id"]
        facts = first["facts"]
        assert [f["label"] for f in facts] == header[1:], lv["id"]
        for col, fact in zip(header[1:], facts):
            assert fact["text"] == row[header.index(col)], f"{lv['id']}: {col}"


# --------------------------------------------------------------------------- tests: matrix


def test_stage_count(doc, lines):
    src = _stage_tables(lines)
    assert src, "no stage tables found in the source"
    assert len(doc["matrix"]["stages"]) == len(src)
    assert [s["name"] for s in doc["matrix"]["stages"]] == [t["heading"] for t in src]


def test_matrix_roles_are_table_rows(doc, lines):
    matrix = doc["matrix"]
    assert matrix["roles"] == MATRIX_ROLE_IDS
    names = {lv["id"]: lv["name"] for lv in doc["levels"]}
    for t in _stage_tables(lines):
        assert [r[0] for r in t["rows"]] == [names[r] for r in matrix["roles"]], t["heading"]


def test_stage_descriptions_and_rituals(doc, lines):
    for st, t in zip(doc["matrix"]["stages"], _stage_tables(lines)):
        src = t["description_line"]
        m = re.fullmatch(r"(.*) \(([^()]+)\)", src)
        if m:
            assert (st["description"], st.get("ritual")) == (m.group(1), m.group(2)), st["id"]
        else:
            assert st["description"] == src and "ritual" not in st, st["id"]


def test_capabilities_per_stage(doc, lines):
    for st, t in zip(doc["matrix"]["stages"], _stage_tables(lines)):
        cap_cols = t["header"][1:-1]  # minus Role and Takeaway
        caps = st["capabilities"]
        assert len(caps) == len(cap_cols), st["id"]
        assert [c["name"] for c in caps] == cap_cols, st["id"]
        assert [c["id"] for c in caps] == [_slug(n) for n in cap_cols], st["id"]


def test_capability_descriptions_match_bullets(doc, lines):
    for st, t in zip(doc["matrix"]["stages"], _stage_tables(lines)):
        bullets = [b.split(" — ", 1) for b in t["bullets"]]
        assert [[c["name"], c["description"]] for c in st["capabilities"]] == bullets, st["id"]


def test_cell_count_per_stage(doc, lines):
    for st, t in zip(doc["matrix"]["stages"], _stage_tables(lines)):
        expected = len(t["rows"]) * (len(t["header"]) - 2)
        got = sum(len(c["cells"]) for c in st["capabilities"])
        assert got == expected, st["id"]


def test_total_cell_count(doc, lines):
    expected = sum(len(t["rows"]) * (len(t["header"]) - 2) for t in _stage_tables(lines))
    got = sum(len(c["cells"]) for st in doc["matrix"]["stages"] for c in st["capabilities"])
    assert got == expected


def test_every_table_row_cell_by_cell(doc, lines):
    """Each source stage-table row equals the YAML cells and takeaway for that role."""
    matrix = doc["matrix"]
    for st, t in zip(matrix["stages"], _stage_tables(lines)):
        for c in st["capabilities"]:
            assert list(c["cells"]) == matrix["roles"], f"{st['id']}.{c['id']}: roles"
        assert list(st["takeaways"]) == matrix["roles"], f"{st['id']}: takeaway roles"
        for rid, src_row in zip(matrix["roles"], t["rows"]):
            for col, src_cell in zip(t["header"][1:-1], src_row[1:-1]):
                cap = next(c for c in st["capabilities"] if c["name"] == col)
                assert cap["cells"][rid] == src_cell, f"{st['id']}.{cap['id']}.{rid}"
            assert st["takeaways"][rid] == src_row[-1], f"{st['id']}.takeaways.{rid}"


def test_staff_and_above_lines(doc, lines):
    src = [t["after"] for t in _stage_tables(lines)]
    assert all(s and s.startswith("Staff and above") for s in src), src
    assert [st["staff_and_above"] for st in doc["matrix"]["stages"]] == src


def test_matrix_strings_verbatim(doc, source_text):
    cells = set()
    for line in source_text.splitlines():
        if _is_table_line(line) and not _is_separator(line):
            cells.update(_cells(line))
    for st in doc["matrix"]["stages"]:
        for c in st["capabilities"]:
            assert c["description"] in source_text, f"{st['id']}.{c['id']}.description"
            for rid, text in c["cells"].items():
                assert text in cells, f"{st['id']}.{c['id']}.{rid}: {text!r}"
        for rid, text in st["takeaways"].items():
            assert text in cells, f"{st['id']}.takeaways.{rid}: {text!r}"
        assert st["staff_and_above"] in source_text.splitlines(), st["id"]


# --------------------------------------------------------------------------- tests: prose


def test_paragraphs_are_whole_source_lines(doc, source_text):
    """Every paragraph is one whole source line, or (the diagram) a run of whole lines."""
    padded = "\n" + source_text + "\n"
    src_lines = set(source_text.splitlines())
    for path, s in _all_sections(doc):
        for i, p in enumerate(s.get("paragraphs") or []):
            if s.get("role") == "getting_to":
                assert f"{s['title']}: {p}" in src_lines, f"{path}.paragraphs[{i}]"
            else:
                assert "\n" + p + "\n" in padded, f"{path}.paragraphs[{i}]: {p[:60]!r}"
        for i, it in enumerate(s.get("items") or []):
            assert it in source_text, f"{path}.items[{i}]"


def test_track_descriptions_verbatim(doc, source_text):
    for t in doc["tracks"]:
        if "description" in t:
            assert t["description"] in source_text, t["id"]


def test_diagram_kept_with_newlines(doc, lines):
    glance_start = _glance_table(lines)["start"]
    heading = lines.index("At a Glance")
    diagram = "\n".join(lines[heading + 2 : glance_start])
    assert "\n" in diagram
    section = next(s for s in doc["sections"] if s["title"] == "At a Glance")
    assert diagram in section["paragraphs"]


def test_getting_to_sections(doc, lines):
    """Each 'Getting to X: …' line is a getting_to section of the level whose heading precedes it."""
    levels = _levels_by_id(doc)
    by_name = {lv["name"]: lv for lv in doc["levels"]}
    found = 0
    current = None
    for line in lines:
        if line in by_name:
            current = by_name[line]
        m = re.fullmatch(r"Getting to ([^:]+): (.*)", line)
        if not m:
            continue
        found += 1
        assert current is not None, line
        target, text = m.groups()
        assert target in by_name, f"'Getting to {target}' names no level"
        secs = [s for s in current["sections"] if s.get("role") == "getting_to"]
        assert any(
            s["title"] == f"Getting to {target}" and s["paragraphs"] == [text] for s in secs
        ), f"{current['id']}: Getting to {target}"
    assert found >= 1, "no 'Getting to' lines found in the source"
    total = sum(
        1 for lv in levels.values() for s in lv["sections"] if s.get("role") == "getting_to"
    )
    assert total == found


def test_level_overviews_match_bottom_paragraphs(doc, lines):
    """The per-level text at the bottom of the document is each level's overview, in full."""
    by_name = {lv["name"]: lv for lv in doc["levels"]}
    start = lines.index("The Capability Matrix")
    i, checked = start, 0
    while i < len(lines):
        if lines[i] in by_name:
            lv = by_name[lines[i]]
            j = i + 1
            paras = []
            while (
                j < len(lines)
                and lines[j] not in by_name
                and not lines[j].startswith("Getting to ")
                and not lines[j].startswith("Beyond ")
            ):
                paras.append(lines[j])
                j += 1
            overview = [s for s in lv["sections"] if s.get("role") == "overview"]
            assert len(overview) == 1, lv["id"]
            assert overview[0]["paragraphs"] == paras, lv["id"]
            checked += 1
            i = j
        else:
            i += 1
    assert checked >= 1


def test_every_source_line_is_represented(doc, lines):
    """Nothing dropped: every non-blank, non-separator source line is rebuilt from the YAML."""
    rebuilt = _reconstructed_lines(doc)
    missing = [
        f"line {n}: {line[:70]!r}"
        for n, line in enumerate(lines, 1)
        if line.strip() and not _is_separator(line) and line not in rebuilt
    ]
    assert not missing, "source lines not represented in the YAML:\n" + "\n".join(missing)
