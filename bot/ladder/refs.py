"""Stable references to answers, carried in button values (≤ 2000 chars).

A button re-opens exactly what it names, whatever names the resolver would prefer:
`level:roadmap/stage-3`, `compare:delivery/senior|delivery/staff`, `cap:engineering-levels/planning/sizing`,
`stage:engineering-levels/discover`, `framework:roadmap`, `track:engineer-track/qa`,
`theme:execution/risk`, `matrix:engineering-levels`, or `query:<text>` for free text.
"""

from __future__ import annotations

from bot.ladder.answers import (
    Answer,
    CapabilityAnswer,
    CompareAnswer,
    FrameworkAnswer,
    HelpAnswer,
    Ladder,
    LevelAnswer,
    MatrixAnswer,
    ThemeAnswer,
    TrackAnswer,
)
from bot.ladder.resolve import CapabilityHit


def ref_for(answer: Answer) -> str | None:
    match answer:
        case LevelAnswer(level=level):
            return f"level:{level.key}"
        case CompareAnswer(lower=a, higher=b):
            return f"compare:{a.key}|{b.key}"
        case CapabilityAnswer(hit=hit) if hit.capability is not None:
            return f"cap:{hit.framework.id}/{hit.stage.id}/{hit.capability.id}"
        case CapabilityAnswer(hit=hit):
            return f"stage:{hit.framework.id}/{hit.stage.id}"
        case FrameworkAnswer(framework=fw):
            return f"framework:{fw.id}"
        case TrackAnswer(framework=fw, track=track):
            return f"track:{fw.id}/{track.id}"
        case ThemeAnswer(framework=fw, section=section):
            return f"theme:{fw.id}/{section.id}"
        case MatrixAnswer(framework=fw):
            return f"matrix:{fw.id}"
        case HelpAnswer():
            return "query:help"
    return None


def answer_for(ref: str, ladder: Ladder) -> Answer:
    """The answer a reference names; unknown or stale references fall back to a query."""
    kind, _, rest = ref.partition(":")
    catalog = ladder.catalog
    if kind == "level":
        level = catalog.level(*rest.split("/", 1)) if "/" in rest else None
        if level:
            return ladder.level_answer(level)
    elif kind == "compare":
        keys = rest.split("|")
        levels = [catalog.level(*k.split("/", 1)) for k in keys if "/" in k]
        if len(levels) == 2 and all(levels) and levels[0] != levels[1]:
            return ladder.compare_answer(*levels)
    elif kind in ("cap", "stage"):
        hit = _capability(catalog, rest.split("/"))
        if hit:
            return CapabilityAnswer(hit)
    elif kind == "framework":
        fw = catalog.framework(rest)
        if fw:
            return FrameworkAnswer(fw)
    elif kind in ("track", "theme") and "/" in rest:
        fw_id, _, part = rest.partition("/")
        fw = catalog.framework(fw_id)
        if fw and kind == "track" and fw.track(part):
            return ladder.track_answer(fw, fw.track(part))
        if fw and kind == "theme" and fw.theme(part):
            return ThemeAnswer(fw, fw.theme(part))
    elif kind == "matrix":
        fw = catalog.framework(rest)
        if fw and fw.matrix:
            return MatrixAnswer(fw)
    elif kind == "query":
        return ladder.answer(rest)
    if kind == "level":
        # The level (or its framework) is gone since the button was posted: its id alone is the
        # best guess ("gone/senior" → "senior"), and a not-found answer still suggests names.
        return ladder.answer(rest.rpartition("/")[2].replace("-", " "))
    return ladder.answer(rest.replace("/", " ").replace("-", " "))


def _capability(catalog, parts: list[str]) -> CapabilityHit | None:
    if len(parts) < 2:
        return None
    fw = catalog.framework(parts[0])
    stage = next((s for s in fw.matrix.stages if s.id == parts[1]), None) if fw and fw.matrix else None
    if stage is None:
        return None
    if len(parts) == 2:
        return CapabilityHit(fw, stage, None)
    cap = next((c for c in stage.capabilities if c.id == parts[2]), None)
    return CapabilityHit(fw, stage, cap) if cap else None
