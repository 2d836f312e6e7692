"""Immutable content objects: what `content/*.yaml` becomes once validated.

Everything here is frozen so the catalog can be shared by every request and the scheduler
without copying or locking.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, TypeVar

T = TypeVar("T")

QUESTION_KINDS = ("reflection", "shift", "feedback")


@dataclass(frozen=True)
class Fact:
    label: str
    text: str


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


SECTION_PARTS = ("facts", "paragraphs", "items", "table")


@dataclass(frozen=True)
class Section:
    title: str
    role: str | None = None
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    facts: tuple[Fact, ...] = ()
    table: Table | None = None
    id: str | None = None
    aliases: tuple[str, ...] = ()
    numbered: bool = False  # items are a numbered list in the source
    # The parts in the order the source has them (the YAML's key order), e.g. items before
    # a closing paragraph.
    order: tuple[str, ...] = SECTION_PARTS
    shown_with: tuple[str, ...] = ()  # level ids whose pages also show this framework section
    under: str | None = None  # a heading of the source with no text of its own, above this section

    @property
    def is_theme(self) -> bool:
        return self.role == "theme"


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    kind: str


@dataclass(frozen=True)
class Track:
    id: str
    name: str
    description: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Level:
    framework_id: str
    id: str
    name: str
    rank: int
    aliases: tuple[str, ...] = ()
    track: str | None = None
    sections: tuple[Section, ...] = ()
    questions: tuple[Question, ...] = ()

    @property
    def key(self) -> str:
        """A stable, globally unique address: `framework/level`."""
        return f"{self.framework_id}/{self.id}"

    def sections_with_role(self, *roles: str) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.role in roles)


@dataclass(frozen=True)
class Capability:
    id: str
    name: str
    description: str
    cells: Mapping[str, str]


@dataclass(frozen=True)
class MatrixStage:
    id: str
    name: str
    description: str
    capabilities: tuple[Capability, ...]
    takeaways: Mapping[str, str]
    staff_and_above: str | None = None
    ritual: str | None = None


@dataclass(frozen=True)
class Matrix:
    roles: tuple[str, ...]
    stages: tuple[MatrixStage, ...]
    sections: tuple[Section, ...] = ()
    above_roles: tuple[str, ...] = ()  # the levels the stages' "staff and above" lines describe

    def capabilities(self) -> tuple[tuple[MatrixStage, Capability], ...]:
        return tuple((stage, cap) for stage in self.stages for cap in stage.capabilities)


@dataclass(frozen=True)
class Framework:
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    source: str | None = None
    level_label: str = "level"
    numbered: bool = False  # the source numbers its rungs ("Stage 3: System Owner")
    caveats: tuple[str, ...] = ()  # titles of sections quoted when the crosswalk translates into it
    sections: tuple[Section, ...] = ()
    tracks: tuple[Track, ...] = ()
    levels: tuple[Level, ...] = ()
    matrix: Matrix | None = None
    questions: tuple[Question, ...] = ()

    def level(self, level_id: str) -> Level | None:
        return next((lvl for lvl in self.levels if lvl.id == level_id), None)

    def track(self, track_id: str) -> Track | None:
        return next((t for t in self.tracks if t.id == track_id), None)

    def themes(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.is_theme)

    def theme(self, theme_id: str) -> Section | None:
        return next((s for s in self.themes() if s.id == theme_id), None)

    def section(self, title: str) -> Section | None:
        return next((s for s in self.sections if s.title == title), None)

    def levels_of_track(self, track: Track) -> tuple[Level, ...]:
        """The track's levels; when no level names a track, the one set of levels is every track's."""
        if not any(lvl.track for lvl in self.levels):
            return self.levels
        return tuple(lvl for lvl in self.levels if lvl.track == track.id)

    def rung_label(self, level: Level) -> str:
        """How the source labels a rung: "Stage 3: System Owner" when it numbers them, else its name."""
        if not self.numbered:
            return level.name
        number = f"{self.level_label.capitalize()} {level.rank}"
        return level.name if level.name.lower() == number.lower() else f"{number}: {level.name}"


@dataclass(frozen=True)
class CrosswalkRow:
    name: str
    levels: Mapping[str, tuple[str, ...]]  # framework id -> level ids


@dataclass(frozen=True)
class Crosswalk:
    default_framework: str
    reflection_framework: str
    rows: tuple[CrosswalkRow, ...] = ()

    def row_of(self, level: Level) -> CrosswalkRow | None:
        return next(
            (r for r in self.rows if level.id in r.levels.get(level.framework_id, ())), None
        )


@dataclass(frozen=True)
class Catalog:
    """All frameworks plus the crosswalk, validated; the single source of content."""

    frameworks: tuple[Framework, ...]
    crosswalk: Crosswalk
    _by_id: Mapping[str, Framework] = field(default_factory=lambda: MappingProxyType({}))
    # Views computed from the content (the assessment form's choices, a level's guidance),
    # kept once computed: the catalog never changes, and rebuilding them per request cost
    # more than the database reads of a 1:1 digest.
    _derived: dict[Hashable, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def derived(self, key: Hashable, build: Callable[[], T]) -> T:
        """`build()`, computed on first use and kept for the catalog's lifetime. `key` names
        what is built; `build` must depend on this catalog (and the key) only."""
        try:
            return self._derived[key]
        except KeyError:
            # Two threads may both build on first use; each builds the same value.
            return self._derived.setdefault(key, build())

    def framework(self, framework_id: str) -> Framework | None:
        return self._by_id.get(framework_id)

    def level(self, framework_id: str, level_id: str) -> Level | None:
        fw = self.framework(framework_id)
        return fw.level(level_id) if fw else None

    def all_levels(self) -> tuple[Level, ...]:
        return tuple(lvl for fw in self.frameworks for lvl in fw.levels)

    def equivalents(self, level: Level) -> tuple[Level, ...]:
        """Levels of other frameworks that the crosswalk puts at the same altitude."""
        row = self.crosswalk.row_of(level)
        if row is None:
            return ()
        found = []
        for fw in self.frameworks:
            if fw.id == level.framework_id:
                continue
            for level_id in row.levels.get(fw.id, ()):
                other = fw.level(level_id)
                if other is not None:
                    found.append(other)
        return tuple(found)

    def reflection_questions(self, level: Level) -> tuple[Level | None, tuple[Question, ...]]:
        """The questions a level reflects with, and the level they come from.

        A level's own questions win; otherwise the crosswalk row's level in the reflection
        framework provides them. `(None, ())` means there is nothing to ask.
        """
        if level.questions:
            return level, level.questions
        row = self.crosswalk.row_of(level)
        if row is None:
            return None, ()
        for level_id in row.levels.get(self.crosswalk.reflection_framework, ()):
            source = self.level(self.crosswalk.reflection_framework, level_id)
            if source is not None and source.questions:
                return source, source.questions
        return None, ()
