"""Resolving names to levels, frameworks and capability-matrix rows.

The index is built once per catalog (at start-up); a lookup is a dictionary hit.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from bot.catalog.model import Capability, Catalog, Framework, Level, MatrixStage
from bot.ladder.names import expand, variants
from bot.settings import SettingsError


@dataclass(frozen=True)
class CapabilityHit:
    framework: Framework
    stage: MatrixStage
    capability: Capability | None  # None: the whole matrix stage


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
        self._display: dict[str, str] = {}  # key -> how to suggest it back to a person
        self._build()
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
            if fw.matrix:
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
        """Close names for a typo, as people would type them, best first."""
        key = expand(text)
        if not key:
            return []
        keys = list(self._display)
        close = difflib.get_close_matches(key, keys, n=limit * 3, cutoff=0.6)
        # A prefix typed in full ("princ", "archi") is a strong hint too.
        close += [k for k in keys if len(key) >= 3 and k.startswith(key) and k not in close]
        names: list[str] = []
        for k in close:
            name = self._display[k]
            if name not in names:
                names.append(name)
        return names[:limit]

    def framework_names(self) -> list[str]:
        return [fw.name for fw in self.catalog.frameworks]
