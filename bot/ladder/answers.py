"""What `/ladder <text>` means: parse the text, resolve it, return a domain answer.

Answers are plain objects; `bot.blocks.ladder` renders them for Slack and `growth-bot ladder`
renders them for the terminal, so both show the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from bot.catalog.model import Catalog, Framework, Level, Section, Track
from bot.ladder.resolve import CapabilityHit, Resolver

_COMPARE = re.compile(r"\s+(?:vs\.?|versus|to|against)\s+|\s*(?:->|→|=>|⇒)\s*", re.IGNORECASE)
_IN_FRAMEWORK = re.compile(r"^(?P<what>.+?)\s+(?:in|from|on)\s+(?:the\s+)?(?P<framework>[^\s].*)$",
                           re.IGNORECASE)
HELP_WORDS = {"", "help", "?", "h", "list", "frameworks"}

# How people ask, around the name they mean. Tried in order on the whole query; the first that
# matches gives the name (and, for the "getting to" forms, that the path to it is wanted).
_A = r"(?:(?:a|an|the|my)\s+)?"
_ASKING = [re.compile(p, re.IGNORECASE) for p in (
    rf"^what\s+does\s+{_A}(?P<what>.+?)\s+(?:do|look\s+like|mean)$",
    rf"^what(?:'s|’s|\s+is|\s+are)\s+expected\s+(?:of|at|from|for|in)\s+{_A}(?P<what>.+)$",
    rf"^(?:the\s+)?expectations?\s+(?:of|at|for|in)\s+{_A}(?P<what>.+)$",
    rf"^(?:what\s+(?:is|are)\s+)?(?:the\s+)?expectations?\s+(?:of|at|for|in)\s+{_A}(?P<what>.+)$",
    rf"^(?:tell\s+me\s+about|show\s+me|show|explain|describe)\s+{_A}(?P<what>.+)$",
    rf"^what(?:'s|’s|\s+is|\s+are)\s+{_A}(?P<what>.+)$",
)]
_GETTING_TO = [re.compile(p, re.IGNORECASE) for p in (
    rf"^(?:how\s+(?:do|can|would|should)\s+(?:i|you|we|one)\s+|how\s+to\s+)"
    rf"(?:get|go|move|grow|step\s+up|be\s+promoted|progress)\s+(?:up\s+)?(?:to|into)\s+{_A}(?P<what>.+)$",
    rf"^(?:how\s+(?:do|can)\s+(?:i|you)\s+|how\s+to\s+)(?:become|reach)\s+{_A}(?P<what>.+)$",
    rf"^what\s+does\s+it\s+take\s+to\s+(?:be|become|get\s+to|reach)\s+{_A}(?P<what>.+)$",
    rf"^(?:getting|get|path|promotion|moving|growing)\s+(?:up\s+)?(?:to|into)\s+{_A}(?P<what>.+)$",
    rf"^(?:becoming)\s+{_A}(?P<what>.+)$",
)]


@dataclass(frozen=True)
class Alternative:
    """Something else the same words name, one click away."""

    label: str
    ref: str


@dataclass(frozen=True)
class HelpAnswer:
    frameworks: tuple[Framework, ...]


@dataclass(frozen=True)
class Translation:
    """The crosswalk answered: `asked_for` names no level of the framework shown, but `named` does
    elsewhere, and the crosswalk's row `row` puts the answer at its altitude."""

    asked_for: str
    named: Level
    row: str


@dataclass(frozen=True)
class LevelAnswer:
    level: Level
    framework: Framework
    equivalents: tuple[Level, ...]
    also_named: tuple[Level, ...]  # other frameworks' levels the same words matched
    translation: Translation | None = None
    note: str | None = None
    elsewhere: tuple[Alternative, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class FrameworkAnswer:
    framework: Framework
    elsewhere: tuple[Alternative, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class TrackAnswer:
    framework: Framework
    track: Track
    levels: tuple[Level, ...]
    elsewhere: tuple[Alternative, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class ThemeAnswer:
    framework: Framework
    section: Section
    elsewhere: tuple[Alternative, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class MatrixAnswer:
    framework: Framework


# How two compared levels relate.
UP = "up"                        # one framework, the second a higher rung
PARALLEL = "parallel"            # one framework, the same rank on different tracks
SAME_ALTITUDE = "same_altitude"  # two frameworks, one crosswalk row
CROSSWALK_UP = "crosswalk_up"    # two frameworks, the crosswalk puts the second higher
UNRELATED = "unrelated"          # two frameworks, no common crosswalk scale


@dataclass(frozen=True)
class CompareAnswer:
    lower: Level
    higher: Level
    lower_framework: Framework
    higher_framework: Framework
    relation: str = UP
    note: str | None = None


@dataclass(frozen=True)
class CapabilityAnswer:
    hit: CapabilityHit
    elsewhere: tuple[Alternative, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class NotFoundAnswer:
    query: str
    suggestions: tuple[str, ...]
    reason: str


Answer = (HelpAnswer | FrameworkAnswer | LevelAnswer | CompareAnswer | CapabilityAnswer | TrackAnswer
          | ThemeAnswer | MatrixAnswer | NotFoundAnswer)


def clean_query(text: str) -> str:
    """Spaces collapsed and trailing punctuation dropped: `expectations for L5?` → `expectations for L5`."""
    query = " ".join((text or "").split())
    return query if query in HELP_WORDS else query.rstrip("?!. ")


def asked_name(query: str) -> tuple[str, bool]:
    """The name inside a question, and whether the path to it ("how do I get to…") is asked."""
    for pattern in _GETTING_TO:
        match = pattern.match(query)
        if match:
            return match.group("what"), True
    for pattern in _ASKING:
        match = pattern.match(query)
        if match:
            return match.group("what"), False
    return query, False


class Ladder:
    """Answers `/ladder` questions from one catalog."""

    def __init__(self, catalog: Catalog, resolver: Resolver):
        self.catalog = catalog
        self.resolver = resolver

    def answer(self, text: str) -> Answer:
        query = clean_query(text)
        if query.lower() in HELP_WORDS:
            return HelpAnswer(self.catalog.frameworks)
        what, path_wanted = asked_name(query)
        if path_wanted:
            found = self._path_to(what)
            if found is not None:
                return found
            # "Getting to the root" is a capability: the words were a name after all.
            direct = self._lookup(query)
            if not isinstance(direct, NotFoundAnswer):
                return direct
        elif what != query:
            found = self._answer_name(what)
            if not isinstance(found, NotFoundAnswer):
                return found
        return self._answer_name(query)

    def _answer_name(self, query: str) -> Answer:
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

    def track_answer(self, framework: Framework, track: Track) -> TrackAnswer:
        return TrackAnswer(framework, track, framework.levels_of_track(track))

    # -- look-ups -----------------------------------------------------------------------------

    def _lookup(self, query: str) -> Answer:
        found = self._exact(query)  # a name that contains "in": "Leadership in delivery"
        if found:
            first, *others = found
            return _with_elsewhere(first, [alt for a in others if (alt := self._alternative(a))])
        what, framework = self._split_framework(query)
        if framework is not None:
            return self._lookup_in(query, what, framework)
        if _IN_FRAMEWORK.match(query) and self.resolver.capability(query) is None:
            target = _IN_FRAMEWORK.match(query).group("framework")
            return self._not_found(query, f"I don't know a framework called “{target}”.", target)
        hit = self.resolver.capability(what)
        if hit is not None:
            return CapabilityAnswer(hit)
        return self._not_found(query, f"I couldn't find a level, track, theme or capability called “{what}”.",
                               what)

    def _exact(self, what: str) -> list[Answer]:
        """Everything the words name exactly, in the order a person most likely means it."""
        found: list[Answer] = []
        levels = self.resolver.levels(what)
        if levels:
            level, *others = levels
            found.append(LevelAnswer(level, self._framework_of(level), self.catalog.equivalents(level),
                                     tuple(others)))
        found.extend(self.track_answer(hit.framework, hit.track) for hit in self.resolver.tracks(what))
        named = self.resolver.framework_exact(what)
        if named is not None:
            found.append(FrameworkAnswer(named))
        matrix = self.resolver.matrix(what)
        if matrix is not None:
            found.append(MatrixAnswer(matrix))
        found.extend(ThemeAnswer(hit.framework, hit.section) for hit in self.resolver.themes(what))
        cap = self.resolver.capability_exact(what)
        if cap is not None:
            found.append(CapabilityAnswer(cap))
        holder = self.resolver.framework_of_section(what)
        if holder is not None and not any(isinstance(a, FrameworkAnswer) and a.framework.id == holder.id
                                          for a in found):
            found.append(FrameworkAnswer(holder))
        if not found:
            named = self.resolver.framework(what)  # "levels" → Engineering Levels: a unique partial match
            if named is not None:
                found.append(FrameworkAnswer(named))
        return found

    def _lookup_in(self, query: str, what: str, framework: Framework) -> Answer:
        levels = self.resolver.levels(what, framework)
        if levels:
            return self.level_answer(levels[0])
        tracks = self.resolver.tracks(what, framework)
        if tracks:
            return self.track_answer(framework, tracks[0].track)
        themes = self.resolver.themes(what, framework)
        if themes:
            return ThemeAnswer(framework, themes[0].section)
        translated = self._translate(what, framework)
        if translated is not None:
            return translated
        return self._not_found(query, f"{framework.name} has no {framework.level_label} called “{what}”.", what)

    def _translate(self, what: str, framework: Framework) -> LevelAnswer | None:
        """"senior in roadmap": the roadmap has no "senior", but the crosswalk knows its rung.

        Several matches ("senior" is in two frameworks) can map to one rung: it is answered once.
        """
        for named in self.resolver.levels(what):
            row = self.catalog.crosswalk.row_of(named)
            for eq in self.catalog.equivalents(named):
                if eq.framework_id == framework.id:
                    answer = self.level_answer(eq)
                    return replace(answer, translation=Translation(what, named, row.name))
        return None

    def _levels_in(self, what: str, framework: Framework | None) -> list[Level]:
        """Levels named `what`, only `framework`'s if given, then through the crosswalk."""
        levels = self.resolver.levels(what, framework)
        if levels or framework is None:
            return levels
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

    def _alternative(self, answer: Answer) -> Alternative | None:
        from bot.ladder.refs import ref_for  # refs builds answers from this module

        ref = ref_for(answer)
        label = _label(answer)
        return Alternative(label, ref) if ref and label else None

    # -- the path to a level ------------------------------------------------------------------

    def _path_to(self, what: str) -> Answer | None:
        """"getting to senior", "how do I get to staff": the source's "Getting to" text if it has
        one, else what changes from the rung below. None if `what` names no level."""
        target_what, framework = self._split_framework(what)
        for holder, section in self.resolver.getting_to(target_what):
            if framework is not None and holder.framework_id != framework.id:
                continue
            fw = self._framework_of(holder)
            target = next((lvl for lvl in fw.levels if section.title.lower().endswith(lvl.name.lower())), None)
            if target is not None:
                return self.compare_answer(holder, target, note=f"{section.title}: what changes from {holder.name}.")
            return self.level_answer(holder)
        levels = self._levels_in(target_what, framework)
        if not levels:
            return None
        target = levels[0]
        below = _rung_below(self._framework_of(target), target)
        if below is None:
            note = f"{target.name} is the first {self._framework_of(target).level_label}: here is what it expects."
            return replace(self.level_answer(target), note=note)
        fw = self._framework_of(target)
        return self.compare_answer(
            below, target, note=f"Getting to {target.name}: what changes from {below.name}, the {fw.level_label} below.")

    # -- comparisons --------------------------------------------------------------------------

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
        if a == b:
            return replace(self.level_answer(a), note=f"You compared {a.name} with itself: here it is once.")
        return self.compare_answer(a, b)

    def compare_answer(self, a: Level, b: Level, note: str | None = None) -> CompareAnswer:
        """Two different levels, lower first when they are on one scale."""
        relation = self._relation(a, b)
        if relation in (UP, CROSSWALK_UP) and self._is_higher(a, b):
            a, b = b, a
        return CompareAnswer(a, b, self._framework_of(a), self._framework_of(b), relation, note)

    def _relation(self, a: Level, b: Level) -> str:
        if a.framework_id == b.framework_id:
            if a.rank == b.rank or _on_parallel_branches(self._framework_of(a), a, b):
                return PARALLEL
            return UP
        row_a, row_b = self.catalog.crosswalk.row_of(a), self.catalog.crosswalk.row_of(b)
        if row_a is None or row_b is None:
            return UNRELATED
        return SAME_ALTITUDE if row_a == row_b else CROSSWALK_UP

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


def _on_parallel_branches(framework: Framework, a: Level, b: Level) -> bool:
    """Two tracks whose ranks overlap are branches side by side (IC and management after the
    fork): a rung of one does not lead to a rung of the other."""
    if not (a.track and b.track) or a.track == b.track:
        return False
    ranks = {t: [lvl.rank for lvl in framework.levels if lvl.track == t] for t in (a.track, b.track)}
    (low_a, high_a), (low_b, high_b) = ((min(r), max(r)) for r in ranks.values())
    return low_a <= high_b and low_b <= high_a


def _rung_below(framework: Framework, level: Level) -> Level | None:
    """The highest rung under `level`; among parallel rungs, the one on its own track."""
    below = [lvl for lvl in framework.levels if lvl.rank < level.rank]
    if not below:
        return None
    top = max(lvl.rank for lvl in below)
    candidates = [lvl for lvl in below if lvl.rank == top]
    return next((lvl for lvl in candidates if lvl.track == level.track), candidates[0])


def _label(answer: Answer) -> str | None:
    match answer:
        case LevelAnswer(level=level, framework=fw):
            return f"{level.name} · {fw.name}"
        case TrackAnswer(track=track, framework=fw):
            return f"{track.name} track · {fw.name}"
        case FrameworkAnswer(framework=fw):
            return f"{fw.name} (overview)"
        case MatrixAnswer(framework=fw):
            return f"Capability matrix · {fw.name}"
        case ThemeAnswer(section=section, framework=fw):
            return f"{section.title} · {fw.name}"
        case CapabilityAnswer(hit=hit):
            name = hit.capability.name if hit.capability else hit.stage.name
            return f"{name} · {hit.stage.name} stage" if hit.capability else f"{name} · capability matrix"
    return None


def _with_elsewhere(answer: Answer, others: list[Alternative]) -> Answer:
    if not others or not hasattr(answer, "elsewhere"):
        return answer
    return replace(answer, elsewhere=tuple(others))


def _same_framework_pair(a_options: list[Level], b_options: list[Level]) -> tuple[Level, Level]:
    """Prefer two levels of one framework (options arrive default-framework first)."""
    for a in a_options:
        for b in b_options:
            if a.framework_id == b.framework_id and a != b:
                return a, b
    return a_options[0], b_options[0]
