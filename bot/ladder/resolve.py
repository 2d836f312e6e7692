"""Resolving names to levels, frameworks and capability-matrix rows.

The index is built once per catalog (at start-up); a lookup is a dictionary hit.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

from bot.catalog.model import Capability, Catalog, Framework, Level, MatrixStage, Section, Track
from bot.ladder.names import expand, variants
from bot.settings import SettingsError

# What people call a framework's capability matrix, besides its own section titles.
MATRIX_NAMES = ("matrix", "capability matrix", "the matrix", "capabilities", "competency matrix")
_GETTING_TO = "getting to "
T = TypeVar("T")


@dataclass(frozen=True)
class CapabilityHit:
    framework: Framework
    stage: MatrixStage
    capability: Capability | None  # None: the whole matrix stage


@dataclass(frozen=True)
class TrackHit:
    framework: Framework
    track: Track


@dataclass(frozen=True)
class ThemeHit:
    framework: Framework
    section: Section


class Resolver:
    """Finds levels, frameworks and matrix rows by any name people type."""

    def __init__(self, catalog: Catalog, default_framework: str | None = None):
        """`default_framework` (id or name, e.g. the DEFAULT_FRAMEWORK setting) wins ambiguous names.

        Raises `SettingsError` if it names no framework: a typo there would otherwise silently
        change every answer.
        """
        self.catalog = catalog
        self._levels: dict[str, list[Level]] = {}
        self._frameworks: dict[str, Framework] = {}
        self._capabilities: dict[str, CapabilityHit] = {}
        self._tracks: dict[str, list[TrackHit]] = {}
        self._themes: dict[str, list[ThemeHit]] = {}
        self._matrices: dict[str, Framework] = {}
        self._getting_to: dict[str, list[tuple[Level, Section]]] = {}
        self._sections: dict[str, Framework] = {}  # a framework section's title -> its framework
        self._display: dict[str, str] = {}  # key -> how to suggest it back to a person
        self._build()
        self._candidates = [(key, key.split()) for key in self._display]
        self._vocabulary = sorted({w for _, ws in self._candidates for w in ws})
        self.default_framework = catalog.crosswalk.default_framework
        if default_framework:
            framework = catalog.framework(default_framework) or self.framework(default_framework)
            if framework is None:
                known = ", ".join(fw.id for fw in catalog.frameworks)
                raise SettingsError(f"DEFAULT_FRAMEWORK={default_framework!r} is not a framework "
                                    f"in the content; use one of: {known}.")
            self.default_framework = framework.id

    # -- index --------------------------------------------------------------------------------

    def _build(self) -> None:
        for fw in self.catalog.frameworks:
            for name in (fw.id, fw.name, *fw.aliases):
                for key in variants(name)[:1]:
                    self._frameworks.setdefault(key, fw)
            for level in fw.levels:
                for name in (level.id, level.name, *level.aliases):
                    for key in variants(name):
                        bucket = self._levels.setdefault(key, [])
                        if level not in bucket:
                            bucket.append(level)
                        self._display.setdefault(key, level.name)
                for section in level.sections_with_role("getting_to"):
                    # "Getting to Senior" is found as "getting to senior" and "how do I get to senior".
                    if section.title.lower().startswith(_GETTING_TO):
                        for key in variants(section.title[len(_GETTING_TO):]):
                            self._getting_to.setdefault(key, []).append((level, section))
            for track in fw.tracks:
                names = (track.id, track.name, *track.aliases)
                for key in {k for name in names for k in variants(name)}:
                    for k in (key, f"{key} track"):
                        bucket = self._tracks.setdefault(k, [])
                        if all(hit.track is not track for hit in bucket):
                            bucket.append(TrackHit(fw, track))
                    self._display.setdefault(key, track.name)
            for section in fw.sections:
                # "core principles", "for managers": the overview that shows that section.
                if not section.is_theme and section.role != "summary":
                    for key in variants(section.title) + [k for t in (section.under,) if t for k in variants(t)]:
                        self._sections.setdefault(key, fw)
            for section in fw.themes():
                for key in {k for name in (section.id, section.title, *section.aliases) for k in variants(name)}:
                    self._themes.setdefault(key, []).append(ThemeHit(fw, section))
                    self._display.setdefault(key, section.title)
            if fw.matrix:
                for name in (*MATRIX_NAMES, *(s.title for s in fw.matrix.sections[:1])):
                    for key in variants(name):
                        self._matrices.setdefault(key, fw)
                for stage in fw.matrix.stages:
                    for key in variants(stage.id) + variants(stage.name):
                        self._capabilities.setdefault(key, CapabilityHit(fw, stage, None))
                        self._display.setdefault(key, stage.name)
                    for cap in stage.capabilities:
                        for key in variants(cap.id) + variants(cap.name):
                            self._capabilities.setdefault(key, CapabilityHit(fw, stage, cap))
                            self._display.setdefault(key, cap.name)

    # -- look-ups -----------------------------------------------------------------------------

    def levels(self, text: str, framework: Framework | None = None) -> list[Level]:
        """Every level the text names, the default framework's first; only `framework`'s if given."""
        found: list[Level] = []
        for key in variants(text):
            for level in self._levels.get(key, []):
                if level not in found:
                    found.append(level)
        if framework is not None:
            return [lvl for lvl in found if lvl.framework_id == framework.id]
        order = {fw.id: i for i, fw in enumerate(self.catalog.frameworks)}
        return sorted(found, key=lambda lvl: (lvl.framework_id != self.default_framework,
                                              order[lvl.framework_id]))

    def tracks(self, text: str, framework: Framework | None = None) -> list[TrackHit]:
        found = [hit for key in variants(text) for hit in self._tracks.get(key, [])]
        return [hit for hit in _once(found, lambda h: (h.framework.id, h.track.id))
                if framework is None or hit.framework.id == framework.id]

    def themes(self, text: str, framework: Framework | None = None) -> list[ThemeHit]:
        found = [hit for key in variants(text) for hit in self._themes.get(key, [])]
        return [hit for hit in _once(found, lambda h: (h.framework.id, h.section.id))
                if framework is None or hit.framework.id == framework.id]

    def framework_of_section(self, text: str) -> Framework | None:
        """The framework whose overview shows a section of that title ("core principles")."""
        return next((self._sections[k] for k in variants(text) if k in self._sections), None)

    def matrix(self, text: str) -> Framework | None:
        return next((self._matrices[k] for k in variants(text) if k in self._matrices), None)

    def getting_to(self, text: str) -> list[tuple[Level, Section]]:
        """Levels with a "Getting to <text>" section, and the section."""
        found = [hit for key in variants(text) for hit in self._getting_to.get(key, [])]
        return _once(found, lambda h: (h[0].key, h[1].title))

    def framework_exact(self, text: str) -> Framework | None:
        return self._frameworks.get(expand(text))

    def capability_exact(self, text: str) -> CapabilityHit | None:
        return next((self._capabilities[k] for k in variants(text) if k in self._capabilities), None)

    def framework(self, text: str) -> Framework | None:
        key = expand(text)
        if key in self._frameworks:
            return self._frameworks[key]
        # "levels" → engineering-levels, "track" → engineer-track: a unique containing match.
        partial = {fw.id: fw for k, fw in self._frameworks.items() if key and key in k.split()}
        return next(iter(partial.values())) if len(partial) == 1 else None

    def capability(self, text: str) -> CapabilityHit | None:
        for key in variants(text):
            if key in self._capabilities:
                return self._capabilities[key]
        # "mentoring" → "Mentoring & raising others": accept a prefix that names one row only.
        key = expand(text)
        hits = {(hit.stage.id, hit.capability and hit.capability.id): hit for k, hit in self._capabilities.items()
                if key and len(key) >= 4 and k.startswith(key)}
        return next(iter(hits.values())) if len(hits) == 1 else None

    def suggestions(self, text: str, limit: int = 5) -> list[str]:
        """Close names for a typo, as people would type them, closest first.

        Closeness is by words: each typed word against the candidate's closest word, so "swe"
        or "retro" are not matched to whatever name happens to share letters in order.
        """
        key = expand(text)
        if not key:
            return []
        words = key.split()
        # Each typed word against each word of the vocabulary once (a few hundred), not per name.
        matcher = difflib.SequenceMatcher(autojunk=False)
        word_scores: list[dict[str, float]] = []
        for word in words:
            matcher.set_seq2(word)
            scores = {}
            for vocab in self._vocabulary:
                matcher.set_seq1(vocab)
                # Upper bounds first: most of the vocabulary is nowhere near the word.
                close = matcher.real_quick_ratio() >= 0.6 and matcher.quick_ratio() >= 0.6
                scores[vocab] = matcher.ratio() if close else 0.0
            word_scores.append(scores)
        matcher.set_seq2(key)
        scored: list[tuple[float, int, str]] = []
        for position, (candidate, cwords) in enumerate(self._candidates):
            if len(key) >= 3 and candidate.startswith(key) and key not in cwords:
                score = 0.9  # "princ": a name typed in part, below one that has the word itself
            else:
                per_word = sum(max(s[c] for c in cwords) for s in word_scores) / len(words)
                # Words of the name that were not typed cost a little.
                score = per_word - max(0, len(cwords) - len(words)) * 0.05
                if score < 0.75:
                    matcher.set_seq1(candidate)
                    if matcher.real_quick_ratio() >= 0.75 and matcher.quick_ratio() >= 0.75:
                        score = max(score, matcher.ratio())
            if score >= 0.75:
                scored.append((-score, position, candidate))
        names: list[str] = []
        for _, _, candidate in sorted(scored):
            name = self._display[candidate]
            if name not in names:
                names.append(name)
        return names[:limit]

    def framework_names(self) -> list[str]:
        return [fw.name for fw in self.catalog.frameworks]


def _once(hits: list[T], key: Callable[[T], Hashable]) -> list[T]:
    """`hits` without repeats, by a key (content objects are compared by id, never deeply)."""
    seen: set = set()
    kept = []
    for hit in hits:
        k = key(hit)
        if k not in seen:
            seen.add(k)
            kept.append(hit)
    return kept
