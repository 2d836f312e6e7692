"""Loads and validates a content folder into an immutable `Catalog`.

`load_catalog` either returns a complete catalog or raises `ContentError` listing every problem
(file, path inside it, what is wrong). Start-up and `growth-bot content check` share it.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import yaml

from bot.catalog.model import (
    QUESTION_KINDS,
    Capability,
    Catalog,
    Crosswalk,
    CrosswalkRow,
    Fact,
    Framework,
    Level,
    Matrix,
    MatrixStage,
    SECTION_PARTS,
    Question,
    Section,
    Table,
    Track,
)
from bot.catalog.validate import Node, Problems, optional, unique_ids

CROSSWALK_FILE = "crosswalk.yaml"
# libyaml's parser when PyYAML has it: the same safe types, several times faster at start-up.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
BUNDLED_CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"


class ContentError(Exception):
    """The content folder is not valid; `problems` has one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def load_catalog(directory: Path | str) -> Catalog:
    directory = Path(directory)
    problems = Problems()
    if not directory.is_dir():
        raise ContentError([f"{directory}: content folder not found"])
    framework_files = sorted(p for p in directory.glob("*.yaml") if p.name != CROSSWALK_FILE)
    if not framework_files:
        raise ContentError([f"{directory}: no framework files (*.yaml) found"])

    frameworks = []
    # Files already reported as broken, by the id they most likely have (their name): the
    # crosswalk naming them is a consequence, not one more problem per row.
    broken: set[str] = set()
    for path in framework_files:
        root = _parse(path, directory, problems)
        fw = _framework(root) if root is not None else None
        if fw is not None:
            frameworks.append((root, fw))
        else:
            broken.add(path.stem)
    unique_ids([(root, fw.id) for root, fw in frameworks], "framework")
    by_id = MappingProxyType({fw.id: fw for _, fw in frameworks})

    crosswalk_root = None
    crosswalk_path = directory / CROSSWALK_FILE
    if crosswalk_path.exists():
        crosswalk_root = _parse(crosswalk_path, directory, problems)
    crosswalk = _crosswalk(crosswalk_root, by_id, frameworks, broken)

    if problems:
        raise ContentError(problems.lines)
    return Catalog(frameworks=tuple(fw for _, fw in frameworks), crosswalk=crosswalk, _by_id=by_id)


def _parse(path: Path, directory: Path, problems: Problems) -> Node | None:
    name = _display_name(path, directory)
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problems.add(name, "", f"{where}not valid YAML ({getattr(exc, 'problem', exc)})")
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(name, "", f"cannot be read ({exc})")
        return None
    root = Node(data, name, "", problems)
    return root if root.is_mapping() else None


def _display_name(path: Path, directory: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return f"{directory.name}/{path.name}"


# -- frameworks --------------------------------------------------------------------------------

FRAMEWORK_KEYS = {"id", "name", "aliases", "source", "level_label", "numbered", "caveats", "sections",
                  "tracks", "levels", "matrix", "questions"}


def _framework(node: Node) -> Framework | None:
    node.check_keys(FRAMEWORK_KEYS)
    ident = optional(node.get("id", required=True), Node.identifier, None)
    name = optional(node.get("name", required=True), Node.text, None)
    tracks = optional(node.get("tracks"), lambda n: n.each(_track), ())
    track_ids = {t.id for t in tracks}
    levels_node = node.get("levels")
    levels = ()
    if levels_node is not None and ident is not None:
        levels = levels_node.each(lambda n: _level(n, ident, track_ids))
        unique_ids(list(zip(levels_node.items(), (lvl.id for lvl in levels))), "level")
    matrix = None
    matrix_node = node.get("matrix")
    if matrix_node is not None:
        matrix = _matrix(matrix_node, {lvl.id for lvl in levels})
    level_ids = {lvl.id for lvl in levels}
    sections_node = node.get("sections")
    sections = optional(sections_node, lambda n: n.each(lambda s: _section(s, level_ids)), ())
    if sections_node is not None:
        themes = [(n, s) for n, s in zip(sections_node.items(), sections) if s.is_theme]
        unique_ids([(n, s.id) for n, s in themes if s.id], "theme")
    caveats_node = node.get("caveats")
    caveats = optional(caveats_node, Node.texts, ())
    titles = {s.title for s in sections}
    for i, title in enumerate(caveats):
        if title not in titles:
            caveats_node.child(i, title).error(f"names no section of this framework (sections: {sorted(titles)})")
    if ident is None or name is None:
        return None
    return Framework(
        id=ident,
        name=name,
        aliases=optional(node.get("aliases"), Node.texts_or_text, ()),
        source=optional(node.get("source"), Node.text, None),
        level_label=optional(node.get("level_label"), Node.text, "level"),
        numbered=optional(node.get("numbered"), Node.boolean, False),
        caveats=caveats,
        sections=sections,
        tracks=tracks,
        levels=levels,
        matrix=matrix,
        questions=optional(node.get("questions"), _questions, ()),
    )


def _track(node: Node) -> Track | None:
    if not node.is_mapping():
        return None
    node.check_keys({"id", "name", "description", "aliases"})
    ident = optional(node.get("id", required=True), Node.identifier, None)
    name = optional(node.get("name", required=True), Node.text, None)
    if ident is None or name is None:
        return None
    return Track(ident, name, optional(node.get("description"), Node.text, None),
                 optional(node.get("aliases"), Node.texts_or_text, ()))


LEVEL_KEYS = {"id", "name", "rank", "aliases", "track", "sections", "questions"}


def _level(node: Node, framework_id: str, track_ids: set[str]) -> Level | None:
    if not node.is_mapping():
        return None
    node.check_keys(LEVEL_KEYS)
    ident = optional(node.get("id", required=True), Node.identifier, None)
    name = optional(node.get("name", required=True), Node.text, None)
    rank = optional(node.get("rank", required=True), Node.integer, None)
    track = optional(node.get("track"), Node.text, None)
    if track is not None and track not in track_ids:
        node.child("track", track).error(f"unknown track {track!r} (tracks: {sorted(track_ids)})")
    sections_node = node.get("sections", required=True)
    sections = sections_node.each(_section) if sections_node else ()
    if ident is None or name is None or rank is None:
        return None
    return Level(
        framework_id=framework_id,
        id=ident,
        name=name,
        rank=rank,
        aliases=optional(node.get("aliases"), Node.texts_or_text, ()),
        track=track,
        sections=sections,
        questions=optional(node.get("questions"), _questions, ()),
    )


SECTION_KEYS = {"title", "role", "id", "aliases", "paragraphs", "items", "numbered", "facts", "table",
                "shown_with", "under"}


def _section(node: Node, level_ids: set[str] | None = None) -> Section | None:
    """A section; `level_ids` (a framework's own sections only) allows `shown_with`."""
    if not node.is_mapping():
        return None
    node.check_keys(SECTION_KEYS if level_ids is not None else SECTION_KEYS - {"shown_with"})
    title = optional(node.get("title", required=True), Node.text, None)
    role = optional(node.get("role"), Node.text, None)
    ident = optional(node.get("id", required=role == "theme"), Node.identifier, None)
    shown_with_node = node.get("shown_with")
    shown_with = optional(shown_with_node, Node.texts_or_text, ())
    for i, level_id in enumerate(shown_with):
        if level_ids is not None and level_id not in level_ids:
            shown_with_node.child(i, level_id).error(f"{level_id!r} is not a level of this framework")
    paragraphs = optional(node.get("paragraphs"), Node.texts, ())
    items = optional(node.get("items"), Node.texts, ())
    facts = optional(node.get("facts"), lambda n: n.each(_fact), ())
    table = optional(node.get("table"), _table, None)
    if not (paragraphs or items or facts or table):
        node.error("a section needs paragraphs, items, facts or a table")
    if title is None:
        return None
    return Section(
        title=title,
        role=role,
        paragraphs=paragraphs,
        items=items,
        facts=facts,
        table=table,
        id=ident,
        aliases=optional(node.get("aliases"), Node.texts_or_text, ()),
        numbered=optional(node.get("numbered"), Node.boolean, False),
        order=tuple(key for key in node.value if key in SECTION_PARTS),
        shown_with=shown_with,
        under=optional(node.get("under"), Node.text, None),
    )


def _fact(node: Node) -> Fact | None:
    if not node.is_mapping():
        return None
    node.check_keys({"label", "text"})
    label = optional(node.get("label", required=True), Node.text, None)
    text = optional(node.get("text", required=True), Node.text, None)
    return Fact(label, text) if label and text else None


def _table(node: Node) -> Table | None:
    if not node.is_mapping():
        return None
    node.check_keys({"columns", "rows"})
    columns = optional(node.get("columns", required=True), Node.texts, ())
    rows_node = node.get("rows", required=True)
    rows = []
    for row in rows_node.items() if rows_node else []:
        cells = row.texts()
        if columns and len(cells) != len(columns):
            row.error(f"has {len(cells)} cells but the table has {len(columns)} columns")
        rows.append(cells)
    return Table(columns, tuple(rows)) if columns else None


def _questions(node: Node) -> tuple[Question, ...]:
    questions = node.each(_question)
    unique_ids(list(zip(node.items(), (q.id for q in questions))), "question")
    return questions


def _question(node: Node) -> Question | None:
    if not node.is_mapping():
        return None
    node.check_keys({"id", "text", "kind"})
    ident = optional(node.get("id", required=True), Node.identifier, None)
    text = optional(node.get("text", required=True), Node.text, None)
    kind = optional(node.get("kind"), Node.text, "reflection")
    if kind not in QUESTION_KINDS:
        node.child("kind", kind).error(f"must be one of {', '.join(QUESTION_KINDS)}, got {kind!r}")
        return None
    return Question(ident, text, kind) if ident and text else None


# -- the capability matrix ---------------------------------------------------------------------


def _matrix(node: Node, level_ids: set[str]) -> Matrix | None:
    if not node.is_mapping():
        return None
    node.check_keys({"roles", "above_roles", "stages", "sections"})
    roles = optional(node.get("roles", required=True), Node.texts, ())
    above = optional(node.get("above_roles"), Node.texts, ())
    for key, values in (("roles", roles), ("above_roles", above)):
        for i, role in enumerate(values):
            if role not in level_ids:
                node.child(key, values).child(i, role).error(f"{role!r} is not a level of this framework")
    stages = optional(node.get("stages", required=True), lambda n: n.each(lambda s: _stage(s, roles)), ())
    return Matrix(
        roles=roles,
        stages=stages,
        sections=optional(node.get("sections"), lambda n: n.each(_section), ()),
        above_roles=above,
    )


def _stage(node: Node, roles: tuple[str, ...]) -> MatrixStage | None:
    if not node.is_mapping():
        return None
    node.check_keys({"id", "name", "description", "ritual", "capabilities", "takeaways",
                     "staff_and_above"})
    ident = optional(node.get("id", required=True), Node.identifier, None)
    name = optional(node.get("name", required=True), Node.text, None)
    description = optional(node.get("description", required=True), Node.text, None)
    caps = optional(node.get("capabilities", required=True),
                    lambda n: n.each(lambda c: _capability(c, roles)), ())
    takeaways = optional(node.get("takeaways", required=True), lambda n: _by_role(n, roles), {})
    if None in (ident, name, description):
        return None
    return MatrixStage(
        id=ident,
        name=name,
        description=description,
        capabilities=caps,
        takeaways=takeaways,
        staff_and_above=optional(node.get("staff_and_above"), Node.text, None),
        ritual=optional(node.get("ritual"), Node.text, None),
    )


def _capability(node: Node, roles: tuple[str, ...]) -> Capability | None:
    if not node.is_mapping():
        return None
    node.check_keys({"id", "name", "description", "cells"})
    ident = optional(node.get("id", required=True), Node.identifier, None)
    name = optional(node.get("name", required=True), Node.text, None)
    description = optional(node.get("description", required=True), Node.text, None)
    cells = optional(node.get("cells", required=True), lambda n: _by_role(n, roles), {})
    if None in (ident, name, description):
        return None
    return Capability(ident, name, description, cells)


def _by_role(node: Node, roles: tuple[str, ...]) -> MappingProxyType:
    if not node.is_mapping():
        return MappingProxyType({})
    node.check_keys(set(roles))
    values = {}
    for role in roles:
        value = optional(node.get(role, required=True), Node.text, None)
        if value is not None:
            values[role] = value
    return MappingProxyType(values)


# -- the crosswalk -----------------------------------------------------------------------------


def _crosswalk(node: Node | None, frameworks: MappingProxyType, located: list,
               broken: set[str] = frozenset()) -> Crosswalk:
    first = located[0][1].id if located else "delivery"
    if node is None:
        return Crosswalk(default_framework=first, reflection_framework=first)
    node.check_keys({"default_framework", "reflection_framework", "rows"})
    default = optional(node.get("default_framework"), Node.text, first)
    reflection = optional(node.get("reflection_framework"), Node.text, default)
    for key, value in (("default_framework", default), ("reflection_framework", reflection)):
        if value not in frameworks and value not in broken:
            node.child(key, value).error(f"unknown framework {value!r} (have: {sorted(frameworks)})")
    rows = optional(node.get("rows"), lambda n: n.each(lambda r: _row(r, frameworks, broken)), ())
    placed: dict[str, Node] = {}
    for row_node, row in zip(node.get("rows").items() if node.get("rows") else [], rows):
        for fw_id, level_ids in row.levels.items():
            for level_id in level_ids:
                key = f"{fw_id}/{level_id}"
                if key in placed:
                    row_node.error(f"level {key} is already in another row")
                placed[key] = row_node
    return Crosswalk(default, reflection, rows)


def _row(node: Node, frameworks: MappingProxyType, broken: set[str]) -> CrosswalkRow | None:
    if not node.is_mapping():
        return None
    node.check_keys({"name", "levels"})
    name = optional(node.get("name", required=True), Node.text, None)
    levels_node = node.get("levels", required=True)
    levels: dict[str, tuple[str, ...]] = {}
    if levels_node is not None and levels_node.is_mapping():
        for fw_id, value in levels_node.value.items():
            entry = levels_node.child(str(fw_id), value)
            fw = frameworks.get(fw_id)
            if fw is None:
                if fw_id not in broken:
                    entry.error(f"unknown framework {fw_id!r}")
                continue
            ids = entry.texts_or_text()
            for level_id in ids:
                if fw.level(level_id) is None:
                    entry.error(f"{fw_id} has no level {level_id!r}")
            levels[fw_id] = ids
    return CrosswalkRow(name, MappingProxyType(levels)) if name else None
