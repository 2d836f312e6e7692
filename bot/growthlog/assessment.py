"""Self-assessment against the `engineering-levels` capability matrix, and the "jagged profile".

An engineer picks, per capability, the role whose cell honestly describes them. The picks are
stored, dated, in their growth log. The profile compares the latest picks with the role their
level maps to (the reference line), names the capabilities furthest below and above it, and
says where the last two assessments moved.

The top of this module is plain Python over the content catalog (no Slack, no SQL). The few
functions at the bottom read and write through the repositories; their caller owns the session.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from bot.blocks.text import escape
from bot.catalog.model import Capability, Catalog, Level, Matrix, MatrixStage
from bot.domain.schedule import zone
from bot.growthlog.access import Reader, can_read
from bot.growthlog.reads import PROFILE, record_read, recording_reads
from bot.domain.dedupe import view_submission_key
from storage.repositories import Assessments, Engineers, ProcessedEvents

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from storage.models import Engineer
    from storage.uow import UnitOfWork

FRAMEWORK_ID = "engineering-levels"
PROFILE_DEPTH = 4          # assessments drawn in the chart, newest last
NAMES_LISTED = 5           # capabilities named per line before "and N more"
UTC = ZoneInfo("UTC")


# -- the choices ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    role: str          # the matrix role (a level id of the framework)
    role_name: str     # "Senior"
    text: str          # the matrix cell, verbatim


@dataclass(frozen=True)
class CapabilityChoices:
    stage: MatrixStage
    capability: Capability
    choices: tuple[Choice, ...]   # in role order, Intern first


def matrix_intro(catalog: Catalog) -> tuple[str, ...]:
    """The matrix's own introduction (what it is, how to read it), verbatim; its notes excluded."""
    matrix = matrix_of(catalog)
    if matrix is None:
        return ()
    return tuple(paragraph for section in matrix.sections if section.role is None
                 for paragraph in section.paragraphs)


def matrix_of(catalog: Catalog) -> Matrix | None:
    framework = catalog.framework(FRAMEWORK_ID)
    return framework.matrix if framework else None


def role_names(catalog: Catalog) -> Mapping[str, str]:
    """Matrix role id -> the level's name ("senior" -> "Senior"), in role order."""
    return catalog.derived("assessment.role_names", lambda: MappingProxyType(_role_names(catalog)))


def _role_names(catalog: Catalog) -> dict[str, str]:
    matrix = matrix_of(catalog)
    if matrix is None:
        return {}
    return {role: _level_name(catalog, role) for role in matrix.roles}


def assessment_choices(catalog: Catalog) -> tuple[CapabilityChoices, ...]:
    """Every capability of the matrix, stage by stage, with one choice per role: the cell text as written."""
    return catalog.derived("assessment.choices", lambda: _assessment_choices(catalog))


def _assessment_choices(catalog: Catalog) -> tuple[CapabilityChoices, ...]:
    matrix = matrix_of(catalog)
    if matrix is None:
        return ()
    names = role_names(catalog)
    return tuple(
        CapabilityChoices(stage, capability, tuple(
            Choice(role, names[role], capability.cells[role]) for role in matrix.roles if role in capability.cells
        ))
        for stage, capability in matrix.capabilities()
    )


def clean_picks(catalog: Catalog, picks: Mapping[str, Any]) -> dict[str, str]:
    """Only known capabilities with a role that capability has a cell for, in matrix order."""
    matrix = _matrix(catalog)
    cleaned: dict[str, str] = {}
    for capability_id, roles in zip(matrix.ids, matrix.allowed):
        role = picks.get(capability_id)
        if isinstance(role, str) and role in roles:
            cleaned[capability_id] = role
    return cleaned


def merge_page(previous: Mapping[str, str], page_capabilities: Sequence[str],
               submitted: Mapping[str, str]) -> dict[str, str]:
    """Picks after one page of a multi-page form: that page's answers replace what it showed."""
    shown = set(page_capabilities)
    merged = {k: v for k, v in previous.items() if k not in shown}
    merged.update({k: v for k, v in submitted.items() if k in shown})
    return merged


# -- the reference line -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """Where the engineer's level sits on the matrix roles; `role` None means no reference line.

    `note` is plain text (the chart shows it too): what the line is, or why there is none."""

    role: str | None
    role_name: str | None
    level: Level | None
    via: str | None                # the engineer's level when it is not the role itself
    note: str


def reference_for(catalog: Catalog, level: Level | None) -> Reference:
    """The matrix role for `level`: itself if it is a role, else its crosswalk equivalent in
    `engineering-levels` (the highest role of that row: early career → Junior). A level above
    the matrix's top role (Staff, Principal…) maps to that top role (Lead)."""
    return catalog.derived(("assessment.reference", level.key if level else None),
                           lambda: _reference_for(catalog, level))


def _reference_for(catalog: Catalog, level: Level | None) -> Reference:
    matrix = matrix_of(catalog)
    framework = catalog.framework(FRAMEWORK_ID)
    if level is None:
        return Reference(None, None, None, None,
                         "No level set, so there is no reference line (set one with /growth level).")
    if matrix is None or framework is None:
        return Reference(None, None, level, None, "There is no capability matrix to compare against.")
    candidates = [level] if level.framework_id == FRAMEWORK_ID else [
        lvl for lvl in catalog.equivalents(level) if lvl.framework_id == FRAMEWORK_ID
    ]
    roles = [lvl for lvl in candidates if lvl.id in matrix.roles]
    top = framework.level(matrix.roles[-1])
    role: str | None = None
    if roles:
        role = max(roles, key=lambda lvl: matrix.roles.index(lvl.id)).id
    elif top is not None and candidates and all(lvl.rank > top.rank for lvl in candidates):
        role = top.id
    level_name = _level_with_framework(catalog, level)
    if role is None:
        return Reference(None, None, level, None,
                         f"No reference line: {level_name} has no equivalent in the {framework.name} matrix.")
    name = _level_name(catalog, role)
    via = None if level.framework_id == FRAMEWORK_ID and level.id == role else level_name
    return Reference(role, name, level, via, f"Reference line: {name}" + (f" (your level: {via})" if via else "") + ".")


# -- comparing --------------------------------------------------------------------------------


class Gap(NamedTuple):
    # A NamedTuple, not a frozen dataclass: a profile makes one per capability, and the
    # dataclass's __init__ was most of the digest's CPU time.
    capability_id: str
    name: str
    role: str
    distance: int       # roles above (+) or below (−) the reference


@dataclass(frozen=True)
class Extremes:
    below: tuple[Gap, ...]   # every capability at the largest distance below (ties included)
    above: tuple[Gap, ...]   # every capability at the largest distance above


class _Matrix(NamedTuple):
    """The capability matrix as flat tuples, built once per catalog: a profile compares picks
    capability by capability, and walking the catalog's objects for that cost more than the
    1:1 digest's database reads."""

    ids: tuple[str, ...]                   # capability ids, in matrix order
    names: tuple[str, ...]
    escaped_names: tuple[str, ...]         # for mrkdwn
    roles: tuple[str, ...]                 # role ids, Intern first
    rank: Mapping[str, int]                # role id -> its index in `roles`
    escaped_role_names: tuple[str, ...]    # by rank, for mrkdwn
    allowed: tuple[frozenset[str], ...]    # per capability, the roles it has a cell for


def _matrix(catalog: Catalog) -> _Matrix:
    def build() -> _Matrix:
        matrix = matrix_of(catalog)
        capabilities = [cap for _, cap in matrix.capabilities()] if matrix else []
        roles = tuple(matrix.roles) if matrix else ()
        names = role_names(catalog)
        return _Matrix(tuple(c.id for c in capabilities), tuple(c.name for c in capabilities),
                       tuple(escape(c.name) for c in capabilities), roles,
                       MappingProxyType({role: i for i, role in enumerate(roles)}),
                       tuple(escape(names.get(role, role)) for role in roles),
                       tuple(frozenset(role for role in roles if role in c.cells) for c in capabilities))
    return catalog.derived("assessment.matrix", build)


def _vector(matrix: _Matrix, picks: Mapping[str, Any]) -> list[int]:
    """The picks as role ranks in capability order; -1 where nothing (or no matrix role) is picked."""
    rank = matrix.rank
    return [rank.get(role, -1) if isinstance(role := picks.get(cid), str) else -1 for cid in matrix.ids]


def _clean_vector(matrix: _Matrix, picks: Mapping[str, Any]) -> list[int]:
    """`clean_picks` and `_vector` in one pass: a pick counts only where its capability has a
    cell for that role."""
    rank = matrix.rank
    return [rank[role] if isinstance(role := picks.get(cid), str) and role in allowed else -1
            for cid, allowed in zip(matrix.ids, matrix.allowed)]


class _Tally(NamedTuple):
    below: int
    at: int
    above: int
    furthest_below: list[int]      # capability indexes, in matrix order (ties included)
    furthest_above: list[int]


def _tally(vector: Sequence[int], reference: int) -> _Tally:
    """How many picks sit below, at and above the reference rank, and which are furthest: one pass."""
    below = at = above = low = high = 0
    lows: list[int] = []
    highs: list[int] = []
    for index, rank in enumerate(vector):
        if rank < 0:
            continue
        distance = rank - reference
        if distance < 0:
            below += 1
            if distance < low:
                low, lows = distance, [index]
            elif distance == low:
                lows.append(index)
        elif distance > 0:
            above += 1
            if distance > high:
                high, highs = distance, [index]
            elif distance == high:
                highs.append(index)
        else:
            at += 1
    return _Tally(below, at, above, lows, highs)


def _moved(before: Sequence[int], after: Sequence[int]) -> tuple[list[int], list[int]]:
    """Capability indexes picked both times whose rank went up, and down."""
    up: list[int] = []
    down: list[int] = []
    for index, (was, now) in enumerate(zip(before, after)):
        if was >= 0 and now >= 0 and was != now:
            (up if now > was else down).append(index)
    return up, down


def furthest(catalog: Catalog, picks: Mapping[str, str], reference_role: str) -> Extremes:
    """The capabilities furthest below and furthest above the reference role."""
    matrix = _matrix(catalog)
    reference = matrix.rank.get(reference_role)
    if reference is None:
        return Extremes((), ())
    vector = _vector(matrix, picks)
    tally = _tally(vector, reference)
    return Extremes(tuple(_gap(matrix, i, vector, reference) for i in tally.furthest_below),
                    tuple(_gap(matrix, i, vector, reference) for i in tally.furthest_above))


def _gap(matrix: _Matrix, index: int, vector: Sequence[int], reference: int) -> Gap:
    return Gap(matrix.ids[index], matrix.names[index], matrix.roles[vector[index]], vector[index] - reference)


class Move(NamedTuple):
    capability_id: str
    name: str
    before: str
    after: str


@dataclass(frozen=True)
class Movement:
    up: tuple[Move, ...]
    down: tuple[Move, ...]


def movement(catalog: Catalog, previous: Mapping[str, str], latest: Mapping[str, str]) -> Movement:
    """Capabilities picked in both assessments whose role went up or down, in matrix order."""
    matrix = _matrix(catalog)
    before, after = _vector(matrix, previous), _vector(matrix, latest)
    up, down = _moved(before, after)

    def move(index: int) -> Move:
        return Move(matrix.ids[index], matrix.names[index], matrix.roles[before[index]], matrix.roles[after[index]])

    return Movement(tuple(map(move, up)), tuple(map(move, down)))


# -- the profile ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """One stored assessment, as the profile uses it."""

    taken_at: datetime
    picks: Mapping[str, str]

    def label(self, tz: ZoneInfo = UTC) -> str:
        return _day_label(self.taken_at, tz)


def _day_label(moment: datetime, tz: ZoneInfo) -> str:
    """"3 Mar 2026", the day in `tz` (formatted by hand: strftime's %-d is glibc's, and slower)."""
    day = moment.astimezone(tz)
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def snapshots_of(catalog: Catalog, assessments: Sequence[Any], depth: int = PROFILE_DEPTH) -> tuple[Snapshot, ...]:
    """The last `depth` matrix assessments, oldest first. `assessments` are stored rows (anything
    with `framework_id`, `picks`, `created_at`), newest first as the repository returns them."""
    ours = [a for a in assessments if getattr(a, "framework_id", FRAMEWORK_ID) == FRAMEWORK_ID]
    return tuple(Snapshot(a.created_at, clean_picks(catalog, a.picks or {})) for a in reversed(ours[:depth]))


def profile_summary(catalog: Catalog, assessments: Sequence[Any], level: Level | None,
                    tz: ZoneInfo = UTC) -> list[str]:
    """The profile in a few mrkdwn lines: the latest assessment, how it compares with the
    engineer's level (furthest below / above), and what moved since the one before.

    `assessments` are stored rows, newest first; `[]` when there is none.
    """
    # The newest two matrix assessments, newest first, as in snapshots_of but without building
    # snapshots: the digest calls this on every prep.
    ours = [a for a in assessments if getattr(a, "framework_id", FRAMEWORK_ID) == FRAMEWORK_ID][:2]
    if not ours:
        return []
    matrix = _matrix(catalog)
    vector = _clean_vector(matrix, ours[0].picks or {})
    picked = sum(rank >= 0 for rank in vector)
    total = len(assessment_choices(catalog))
    lines = [f"*Self-assessment* · {_day_label(ours[0].created_at, tz)} · {picked} of {total} capabilities"]
    reference = reference_for(catalog, level)
    if reference.role is None:
        lines.append(escape(reference.note))
    else:
        rank = matrix.rank[reference.role]
        tally = _tally(vector, rank)
        via = f" ({escape(reference.via)})" if reference.via else ""
        lines.append(f"Against *{escape(reference.role_name)}*{via}: at it on {tally.at}, above on {tally.above}, "
                     f"below on {tally.below}.")
        if tally.furthest_below:
            lines.append(_extreme_line("Furthest below", matrix, tally.furthest_below, vector, rank))
        if tally.furthest_above:
            lines.append(_extreme_line("Furthest above", matrix, tally.furthest_above, vector, rank))
    if len(ours) == 2:
        before = _clean_vector(matrix, ours[1].picks or {})
        lines.append(_movement_line(matrix, _day_label(ours[1].created_at, tz), before, vector))
    return lines


def _movement_line(matrix: _Matrix, since: str, before: Sequence[int], after: Sequence[int]) -> str:
    up, down = _moved(before, after)
    if not up and not down:
        return f"Since {since}: no change."
    roles = matrix.escaped_role_names

    def moved(index: int) -> str:
        return f"*{matrix.escaped_names[index]}* ({roles[before[index]]} → {roles[after[index]]})"

    parts = []
    if up:
        parts.append("up on " + _listed(up, moved))
    if down:
        parts.append("down on " + _listed(down, moved))
    return f"Since {since}: " + "; ".join(parts) + "."


def _extreme_line(title: str, matrix: _Matrix, indexes: Sequence[int], vector: Sequence[int], reference: int) -> str:
    rank = vector[indexes[0]]
    distance = abs(rank - reference)
    steps = f"{distance} role{'s' if distance != 1 else ''}"
    return f"{title} ({matrix.escaped_role_names[rank]}, {steps} away): " + _listed(
        indexes, lambda index: f"*{matrix.escaped_names[index]}*")


def _listed(items: Sequence[Any], render: Callable[[Any], str]) -> str:
    # Only the items shown are rendered: a long list is cut to NAMES_LISTED and a count.
    shown = ", ".join(render(item) for item in items[:NAMES_LISTED])
    return shown + (f" and {len(items) - NAMES_LISTED} more" if len(items) > NAMES_LISTED else "")


def _level_name(catalog: Catalog, level_id: str) -> str:
    level = catalog.level(FRAMEWORK_ID, level_id)
    return level.name if level else level_id


def _level_with_framework(catalog: Catalog, level: Level) -> str:
    framework = catalog.framework(level.framework_id)
    return f"{level.name} · {framework.name}" if framework else level.name


# -- reading and writing (the caller owns the session) ----------------------------------------


def level_of(catalog: Catalog, engineer: "Engineer") -> Level | None:
    return catalog.level(engineer.framework_id or "", engineer.level_id or "")


def previous_picks(session: "Session", catalog: Catalog, team_id: str,
                   user_id: str) -> tuple[dict[str, str], str | None]:
    """The engineer's latest matrix picks and the date they were made, in the engineer's time zone
    (they pre-select the form); `({}, None)` if there are none."""
    engineer = Engineers(session).get(team_id, user_id)
    if engineer is None:
        return {}, None
    recent = snapshots_of(catalog, Assessments(session).for_engineer(engineer.id, limit=PROFILE_DEPTH * 2), depth=1)
    return (dict(recent[-1].picks), recent[-1].label(_tz(engineer))) if recent else ({}, None)


def record_assessment(session: "Session", catalog: Catalog, team_id: str, user_id: str,
                      picks: Mapping[str, str], now: datetime, dedupe_key: str) -> list[str] | None:
    """Store the picks, dated `now`, in the engineer's log (creating the engineer on first use).

    Returns the summary lines to confirm with (with what moved since the last assessment), or
    None when `dedupe_key` was already recorded (a double-clicked Save is stored once).
    """
    if not ProcessedEvents(session).first_time(dedupe_key, now):
        return None
    engineer = Engineers(session).get_or_create(team_id, user_id)
    repository = Assessments(session)
    repository.add(engineer.id, FRAMEWORK_ID, clean_picks(catalog, picks), now)
    recent = repository.for_engineer(engineer.id, limit=PROFILE_DEPTH * 2)
    return profile_summary(catalog, recent, level_of(catalog, engineer), _tz(engineer))


def submission_key(view_id: str, picks: Mapping[str, str]) -> str:
    return view_submission_key(view_id, dict(picks))


@dataclass(frozen=True)
class Profile:
    """Everything `/growth profile` shows about one engineer."""

    user_id: str
    snapshots: tuple[Snapshot, ...]       # oldest first, at most PROFILE_DEPTH
    reference: Reference
    summary: tuple[str, ...]
    tz: ZoneInfo


@dataclass(frozen=True)
class ProfileRead:
    refused: bool
    profile: Profile | None = None        # None (not refused): no assessment yet
    reads_notice: bool = False            # someone else's first read: tell them reads are visible


def read_profile_recorded(uow: "UnitOfWork", catalog: Catalog, reader: Reader, user_id: str,
                          now: datetime) -> ProfileRead:
    """`read_profile` in a unit of work of its own; someone else's profile shown is recorded as a
    read of that engineer's log in the same one (bot.growthlog.reads); raises ReadNotRecorded
    when the write lock stays taken, showing nothing."""
    if user_id == reader.user_id:
        with uow.reading() as session:
            return read_profile(session, catalog, reader, user_id)
    with recording_reads(), uow.writing() as session:
        found = read_profile(session, catalog, reader, user_id)
        if found.profile is None:
            return found
        engineer = Engineers(session).get(reader.team_id, user_id)
        told = record_read(session, reader, engineer.id, user_id, PROFILE, len(found.profile.snapshots), now)
        return replace(found, reads_notice=told)


def read_profile(session: "Session", catalog: Catalog, reader: Reader, user_id: str) -> ProfileRead:
    """The profile of `user_id` if `reader` may read their log (`can_read`: themself or their
    current manager). A refusal looks the same whether or not that person has a log."""
    engineer = Engineers(session).get(reader.team_id, user_id)
    if engineer is None and user_id == reader.user_id:
        return ProfileRead(refused=False)
    if not can_read(reader, engineer):
        return ProfileRead(refused=True)
    stored = Assessments(session).for_engineer(engineer.id, limit=PROFILE_DEPTH * 2)
    snapshots = snapshots_of(catalog, stored)
    if not snapshots:
        return ProfileRead(refused=False)
    level, tz = level_of(catalog, engineer), _tz(engineer)
    summary = profile_summary(catalog, stored, level, tz)
    return ProfileRead(False, Profile(user_id, snapshots, reference_for(catalog, level), tuple(summary), tz))


def _tz(engineer: "Engineer") -> ZoneInfo:
    return zone(engineer.tz)
