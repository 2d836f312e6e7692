"""What `/ladder <text>` means: parse the text, resolve it, return a domain answer.

Answers are plain objects; `bot.blocks.ladder` renders them for Slack and `growth-bot ladder`
renders them for the terminal, so both show the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.catalog.model import Catalog, Framework, Level
from bot.ladder.resolve import CapabilityHit, Resolver

_COMPARE = re.compile(r"\s+(?:vs\.?|versus|to|against)\s+|\s*(?:->|→|=>|⇒)\s*", re.IGNORECASE)
_IN_FRAMEWORK = re.compile(r"^(?P<what>.+?)\s+(?:in|from|on)\s+(?:the\s+)?(?P<framework>[^\s].*)$",
                           re.IGNORECASE)
HELP_WORDS = {"", "help", "?", "h", "list", "frameworks"}


@dataclass(frozen=True)
class HelpAnswer:
    frameworks: tuple[Framework, ...]


@dataclass(frozen=True)
class LevelAnswer:
    level: Level
    framework: Framework
    equivalents: tuple[Level, ...]
    also_named: tuple[Level, ...]  # other frameworks' levels the same words matched


@dataclass(frozen=True)
class FrameworkAnswer:
    framework: Framework


@dataclass(frozen=True)
class CompareAnswer:
    lower: Level
    higher: Level
    lower_framework: Framework
    higher_framework: Framework


@dataclass(frozen=True)
class CapabilityAnswer:
    hit: CapabilityHit


@dataclass(frozen=True)
class NotFoundAnswer:
    query: str
    suggestions: tuple[str, ...]
    reason: str


Answer = (HelpAnswer | FrameworkAnswer | LevelAnswer | CompareAnswer | CapabilityAnswer
          | NotFoundAnswer)


class Ladder:
    """Answers `/ladder` questions from one catalog."""

    def __init__(self, catalog: Catalog, resolver: Resolver):
        self.catalog = catalog
        self.resolver = resolver

    def answer(self, text: str) -> Answer:
        query = " ".join((text or "").split())
        if query.lower() in HELP_WORDS:
            return HelpAnswer(self.catalog.frameworks)
        parts = _COMPARE.split(query)
        if len(parts) == 2 and all(p.strip() for p in parts):
            compared = self._compare(query, parts[0], parts[1])
            if not isinstance(compared, NotFoundAnswer):
                return compared
            # Some names contain the words: "Build vs buy", "Getting to the root".
            found = self._lookup(query)
            return compared if isinstance(found, NotFoundAnswer) else found
        return self._lookup(query)

    def level_answer(self, level: Level) -> LevelAnswer:
        return LevelAnswer(level, self._framework_of(level), self.catalog.equivalents(level), ())

    # -- look-ups -----------------------------------------------------------------------------

    def _lookup(self, query: str) -> Answer:
        what, framework = self._split_framework(query)
        if (framework is None and _IN_FRAMEWORK.match(query) and not self.resolver.levels(query)
                and self.resolver.capability(query) is None):
            target = _IN_FRAMEWORK.match(query).group("framework")
            return self._not_found(query, f"I don't know a framework called “{target}”.", target)
        levels = self._levels_in(what, framework)
        if levels:
            level = levels[0]
            return LevelAnswer(level, self._framework_of(level), self.catalog.equivalents(level),
                               tuple(levels[1:]))
        if framework is None:
            named = self.resolver.framework(what)
            if named is not None:
                return FrameworkAnswer(named)
            hit = self.resolver.capability(what)
            if hit is not None:
                return CapabilityAnswer(hit)
        if framework is not None:
            return self._not_found(
                query, f"{framework.name} has no {framework.level_label} called “{what}”.", what,
            )
        return self._not_found(query, f"I couldn't find a level or capability called “{what}”.", what)

    def _levels_in(self, what: str, framework: Framework | None) -> list[Level]:
        """Levels named `what`, only `framework`'s if given, then through the crosswalk."""
        levels = self.resolver.levels(what, framework)
        if levels or framework is None:
            return levels
        # "senior in roadmap": the roadmap has no "senior", but the crosswalk knows its rung.
        # Several matches ("senior" is in two frameworks) can map to one rung: keep it once.
        found: list[Level] = []
        for level in self.resolver.levels(what):
            for eq in self.catalog.equivalents(level):
                if eq.framework_id == framework.id and eq not in found:
                    found.append(eq)
        return found

    def _split_framework(self, query: str) -> tuple[str, Framework | None]:
        match = _IN_FRAMEWORK.match(query)
        if match:
            framework = self.resolver.framework(match.group("framework"))
            if framework is not None:
                return match.group("what"), framework
        return query, None

    def _compare(self, query: str, left: str, right: str) -> Answer:
        left_what, left_fw = self._split_framework(left)
        right_what, right_fw = self._split_framework(right)
        # "senior vs staff in roadmap": the framework named on either side applies to both.
        a_options = self._levels_in(left_what, left_fw or right_fw)
        b_options = self._levels_in(right_what, right_fw or left_fw)
        if not a_options:
            a_options = self.resolver.levels(left_what)
        if not b_options:
            b_options = self.resolver.levels(right_what)
        missing = [w for w, opts in ((left_what, a_options), (right_what, b_options)) if not opts]
        if missing:
            return self._not_found(query, f"I couldn't find a level called “{missing[0]}” to compare.",
                                   missing[0])
        a, b = _same_framework_pair(a_options, b_options)
        if self._is_higher(a, b):
            a, b = b, a
        return CompareAnswer(a, b, self._framework_of(a), self._framework_of(b))

    def _is_higher(self, a: Level, b: Level) -> bool:
        """Ranks order one framework; across frameworks only the crosswalk rows say which is higher."""
        if a.framework_id == b.framework_id:
            return a.rank > b.rank
        rows = self.catalog.crosswalk.rows
        row_a, row_b = self.catalog.crosswalk.row_of(a), self.catalog.crosswalk.row_of(b)
        if row_a is None or row_b is None:
            return False  # no common scale: keep the order they were asked in
        return rows.index(row_a) > rows.index(row_b)

    def _not_found(self, query: str, reason: str, what: str) -> NotFoundAnswer:
        return NotFoundAnswer(query, tuple(self.resolver.suggestions(what)), reason)

    def _framework_of(self, level: Level) -> Framework:
        return self.catalog.framework(level.framework_id)


def _same_framework_pair(a_options: list[Level], b_options: list[Level]) -> tuple[Level, Level]:
    """Prefer two levels of one framework (options arrive default-framework first)."""
    for a in a_options:
        for b in b_options:
            if a.framework_id == b.framework_id and a != b:
                return a, b
    return a_options[0], b_options[0]
