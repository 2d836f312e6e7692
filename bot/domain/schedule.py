"""When a check-in is due, in the engineer's own time zone.

A week runs Monday 00:00 to the next Monday 00:00 *local* time. The check-in is due at the
chosen weekday and wall-clock time of that local week, so a daylight-saving change never moves
it (16:00 stays 16:00). A week's check-in may go out late (the bot was down) but never once
its week is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc
# Someone who enrols a minute after their slot still gets that week's check-in.
ENROLMENT_GRACE = timedelta(minutes=1)
# `/growth pause` with no length pauses until the year 9999 (see bot.growth.preferences).
INDEFINITE_PAUSE_YEAR = 9999


@lru_cache(maxsize=1024)
def zone(name: str | None) -> ZoneInfo:
    """The IANA zone, or UTC for a missing or unknown name (Slack may send none for bots)."""
    # Cached here: ZoneInfo's own cache holds only 8 zones strongly, so a due pass over a
    # workspace spread across more zones than that re-read tz files from disk per engineer.
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_week_start(instant: datetime, tz: ZoneInfo) -> date:
    """The Monday of the local week containing `instant`."""
    local = instant.astimezone(tz).date()
    return local - timedelta(days=local.weekday())


def local_instant(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """`clock` on `day` in `tz`, as UTC.

    In a spring-forward gap (02:30 that never happens) the time is read with the offset from
    before the change, so it lands just after the jump; in an autumn overlap the first
    occurrence is used. Either way the check-in happens once that day.
    """
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def week_end(week_start: date, tz: ZoneInfo) -> datetime:
    return local_instant(week_start + timedelta(days=7), time(0, 0), tz)


@dataclass(frozen=True)
class Slot:
    """One week's check-in moment for one engineer."""

    week_start: date
    due_at: datetime   # UTC
    ends_at: datetime  # UTC: the week is over, nothing for it may be sent after this

    def is_open(self, now: datetime) -> bool:
        return self.due_at <= now < self.ends_at


def due_this_week(slot: Slot, enrolled_at: datetime, paused_until: datetime | None = None) -> bool:
    """Whether this week's check-in is owed at all.

    Someone who enrolled after this week's moment starts next week, not right away. A moment
    that fell inside a pause is skipped too: a pause that ends on Friday evening must not
    turn Friday afternoon's skipped check-in into a late one (only the bot being down does).
    """
    if paused_until is not None and slot.due_at < paused_until:
        return False
    return slot.due_at >= enrolled_at - ENROLMENT_GRACE


def slot_for_week(week_start: date, weekday: int, clock: time, tz: ZoneInfo) -> Slot:
    return Slot(week_start, local_instant(week_start + timedelta(days=weekday), clock, tz),
                week_end(week_start, tz))


def current_slot(now: datetime, weekday: int, clock: time, tz: ZoneInfo) -> Slot:
    return slot_for_week(local_week_start(now, tz), weekday, clock, tz)


def paused_indefinitely(paused_until: datetime | None) -> bool:
    """`/growth pause` without a length stores the far future (year 9999): no date maths on it."""
    return paused_until is not None and paused_until.year >= INDEFINITE_PAUSE_YEAR


def next_checkin(now: datetime, weekday: int, clock: time, tz: ZoneInfo, sent_this_week: bool,
                 paused_until: datetime | None = None, enrolled_at: datetime | None = None) -> datetime | None:
    """When the engineer's next check-in will arrive (UTC), for showing them; None while paused
    until they resume.

    Mirrors the due pass: a week whose moment came before the engineer enrolled, or while
    they were paused, is skipped; a week whose moment has passed unsent goes out at once.
    """
    if paused_indefinitely(paused_until):
        return None
    start = paused_until if paused_until is not None and paused_until > now else now
    slot = current_slot(start, weekday, clock, tz)
    skipped = (enrolled_at is not None and slot.due_at < enrolled_at - ENROLMENT_GRACE) or (
        paused_until is not None and slot.due_at < paused_until)
    if (sent_this_week and slot.week_start == current_slot(now, weekday, clock, tz).week_start) \
            or slot.ends_at <= start or skipped:
        slot = slot_for_week(slot.week_start + timedelta(days=7), weekday, clock, tz)
    if slot.due_at < start:
        # This week's moment has passed: late check-ins go out at the next tick.
        return start
    return slot.due_at


def describe_local(instant: datetime, tz: ZoneInfo) -> str:
    """`Friday 21 Nov, 16:00 (Europe/Berlin)`."""
    local = instant.astimezone(tz)
    return f"{local:%A %-d %b, %H:%M} ({tz.key})"
