"""The 1:1 prep digest: what a report shared since the last prep, what they skipped, where they're heading.

Only the report's current manager may have one (not the report, not an admin). It shows shared
answers only, and check-ins are grouped as "nothing shared" whether they went unanswered or were
answered privately, so the digest never hints that a private answer exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from bot.catalog.model import Catalog, Level, Section
from bot.domain.schedule import zone
from bot.growthlog.access import Reader, can_prep, can_prep_where
from bot.growthlog.assessment import FRAMEWORK_ID, profile_summary
from bot.growthlog.reads import PREP, OwnerGone, commit_read, read_to_record, record_on, record_read
from storage.models import CheckInStatus
from storage.repositories import Engineers, OneOnOnes
from storage.repositories.growth_log import LoggedCheckin, read_prep
from storage.uow import UnitOfWork

FIRST_PREP_WINDOW = timedelta(weeks=4)
DIGEST_CHECKINS = 6         # the rest is one `/growth log … since …` away
RECENT_CHECKINS = 60        # how far back "nothing shared" weeks are looked for
GUIDANCE_ROLES = ("ready_for_next", "exit_criteria", "getting_to")
COUNTED = (CheckInStatus.PENDING.value, CheckInStatus.SENT.value, CheckInStatus.ANSWERED.value)


@dataclass(frozen=True)
class Guidance:
    """One "ready for the next stage" / exit criteria / "Getting to …" section, with where it is from."""

    framework_name: str
    level_name: str
    section: Section


class PrepDigest(NamedTuple):
    """A NamedTuple, not a frozen dataclass: one is made per digest read, and a frozen
    dataclass's __init__ (a setattr per field) showed in `/growth prep`'s latency."""

    report_user_id: str
    generated_at: datetime
    period_start: datetime
    first_prep: bool
    tz: ZoneInfo                           # the manager's, for dates shown to them
    checkins: tuple[LoggedCheckin, ...]    # shared answers in the period, newest week first
    more_checkins: bool
    quiet_weeks: tuple[date, ...]          # check-ins in the period with nothing shared, oldest first
    level_name: str | None
    guidance: tuple[Guidance, ...]
    profile: tuple[str, ...]
    report_engineer_id: int = 0
    reads_notice: bool = False             # the manager's first read: tell them reads are visible

    @property
    def entries(self) -> int:
        return sum(len(checkin.entries) for checkin in self.checkins)


def stage_guidance(catalog: Catalog, level: Level) -> tuple[Guidance, ...]:
    """The level's own guidance first, then that of its crosswalk equivalents, where present."""
    return catalog.derived(("prep.guidance", level.key), lambda: _stage_guidance(catalog, level))


def _stage_guidance(catalog: Catalog, level: Level) -> tuple[Guidance, ...]:
    found = []
    for each in (level, *catalog.equivalents(level)):
        framework = catalog.framework(each.framework_id)
        name = framework.name if framework else each.framework_id
        found.extend(Guidance(name, each.name, s) for s in each.sections_with_role(*GUIDANCE_ROLES))
    return tuple(found)


def quiet_weeks(weeks: Iterable[tuple[int, date]], shared_checkin_ids: Set[int],
                known_from: date | None = None) -> tuple[date, ...]:
    """Of the period's check-ins, (id, week) pairs, the weeks with no shared answer, oldest first;
    weeks before `known_from`, when given, are not judged (their answers were not all read)."""
    return tuple(sorted({week for checkin_id, week in weeks
                         if checkin_id not in shared_checkin_ids and (known_from is None or week >= known_from)}))


def build_digest(session, catalog: Catalog, reader: Reader, report_user_id: str,
                 now: datetime) -> PrepDigest | None:
    """The digest for `reader` about `report_user_id`; None when `reader` may not have it (say REFUSAL).

    One statement: the report with the reader's time zone, the pair's last prep and the
    self-assessments, and (only if the reader may have it, `can_prep_where`) the period's
    shared answers and its weeks (storage.repositories.growth_log.read_prep)."""
    # A check-in that went out in the period can only have been answered after it went out,
    # so the shared answers written since the period start tell which of them have any; the
    # weeks are the check-ins that went out (or were due) in the period, not abandoned mid-send.
    context, period = read_prep(session, reader.team_id, reader.user_id, report_user_id, FRAMEWORK_ID,
                                can_prep_where, now - FIRST_PREP_WINDOW, now, COUNTED, DIGEST_CHECKINS,
                                RECENT_CHECKINS)
    owner = context.report if context else None
    # The rule's Python form too: both must agree (tests/growthlog/test_access_rule.py).
    if period is None or not can_prep(reader, owner):
        return None
    period_start = context.last_prep_at or now - FIRST_PREP_WINDOW
    shared, sent = period
    level = catalog.level(owner.framework_id or "", owner.level_id or "")
    framework = catalog.framework(level.framework_id) if level else None
    return PrepDigest(
        report_user_id=report_user_id,
        generated_at=now,
        period_start=period_start,
        first_prep=context.last_prep_at is None,
        tz=zone(context.reader_tz),
        checkins=shared.page.checkins,
        more_checkins=shared.page.has_more,
        quiet_weeks=quiet_weeks(sent, shared.checkin_ids, shared.complete_from),
        level_name=f"{level.name} ({framework.name})" if level else None,
        guidance=stage_guidance(catalog, level) if level else (),
        profile=tuple(profile_summary(catalog, context.assessments, level, zone(owner.tz))),
        report_engineer_id=owner.id,
    )


def record_digest_read(session, reader: Reader, digest: PrepDigest, now: datetime) -> PrepDigest:
    """Record the digest as a read of the report's log, in the caller's transaction (the one
    `build_digest` ran in); the digest comes back saying whether to tell the manager."""
    told = record_read(session, reader, digest.report_engineer_id, digest.report_user_id, PREP, digest.entries, now)
    return digest._replace(reads_notice=told)


def read_digest(uow: UnitOfWork, catalog: Catalog, reader: Reader, report_user_id: str,
                now: datetime, mark: bool = False) -> PrepDigest | None:
    """`build_digest`, read in a read-only session, returned once its read record is committed
    (bot.growthlog.reads.commit_read: it runs before the ack, as log_view.read_log_view does for
    someone else's log). A refused digest writes nothing; None also if the report was deleted
    between the read and its record.

    `mark` (`/growth prep`): the next digest starts at `now`. The mark says this digest was
    shown, as the read record does, so it is written in the record's transaction (`commit_read`:
    no write of its own after the ack), with the access rule checked again there: a
    relationship removed since the read gets no mark (`mark_prepped`'s rule)."""
    # The digest is one statement (build_digest), so it needs no snapshot of its own; on
    # PostgreSQL its record is written on the same connection (read_to_record).
    with read_to_record(uow) as session:
        digest = build_digest(session, catalog, reader, report_user_id, now)
        if digest is None:
            return None
        try:
            told = commit_read(uow, reader, digest.report_engineer_id, digest.report_user_id, PREP, digest.entries,
                               now, mark_prepped=mark, session=record_on(uow, session))
        except OwnerGone:
            return None
    return digest._replace(reads_notice=told)


def mark_prepped(uow: UnitOfWork, reader: Reader, report_user_id: str, at: datetime) -> bool:
    """Record a manual prep at `at` (the next digest starts there); creates the pair's row if absent.

    Access is checked again: a relationship removed meanwhile gets no row back.
    """
    with uow.writing() as session:
        if not can_prep(reader, Engineers(session).get(reader.team_id, report_user_id)):
            return False
        meetings = OneOnOnes(session)
        if meetings.mark_pair_prepped(reader.team_id, reader.user_id, report_user_id, at):
            return True
        pair = meetings.set(reader.team_id, reader.user_id, report_user_id, None, None, None)
        return meetings.mark_prepped(pair.id, at)
