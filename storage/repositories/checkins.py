"""Check-ins: the exactly-once weekly DM (claim, send, release) and its reminder."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import CheckIn, CheckInKind, CheckInStatus, Engineer, OutboxMessage
from storage.repositories._common import rowcount, update_if


# Everything below but `by_id`, `by_message` and `mark_answered` is about growth check-ins: a
# leader's team reflections (kind "lead") share the table, the answers and the answer paths,
# but are queued through the outbox instead of claimed (bot.leaders.reflections).
GROWTH = CheckIn.kind == CheckInKind.GROWTH.value
_MARK_ANSWERED = (
    update(CheckIn.__table__)
    .where(CheckIn.__table__.c.id == bindparam("checkin"),
           CheckIn.__table__.c.status.in_([CheckInStatus.PENDING.value, CheckInStatus.SENT.value]))
    .values(status=CheckInStatus.ANSWERED.value, answered_at=bindparam("now"))
)


class CheckIns:
    def __init__(self, session: Session):
        self.session = session

    def claim(
        self, engineer_id: int, week_start: date, due_at: datetime, owner: str, now: datetime, lease: timedelta
    ) -> CheckIn | None:
        """Make `owner` the one sender of this engineer's check-in for `week_start`.

        Returns the row, in status "sending" and owned by `owner` until `now + lease`, if
        and only if this call took ownership: by creating the row (attempts = 1), or by
        taking over a "pending" row or a "sending" row whose lease has expired (a sender
        that died mid-send; attempts + 1). Returns None when someone else holds a live
        lease or the check-in is already sent or answered. A fresh row has no questions:
        set `row.questions` before committing.

        The caller must COMMIT the claim before talking to Slack, then call `mark_sent`
        (or `release_failed`) in a later transaction. That commit is what other processes
        see; holding it open while posting would block them (and, on SQLite, everyone).
        `owner` must be unique per sender (e.g. host:pid:uuid), and `lease` longer than
        a send can take: after it expires another process may send again.
        """
        lease_until = now + lease
        inserted = self.session.execute(
            self._insert_dialect()(CheckIn)
            .values(
                engineer_id=engineer_id,
                week_start=week_start,
                due_at=due_at,
                status=CheckInStatus.SENDING.value,
                questions=[],
                claim_owner=owner,
                lease_until=lease_until,
                attempts=1,
            )
            # ON CONFLICT DO NOTHING, not SELECT-then-INSERT: two processes can both see "no
            # row"; the unique key lets exactly one INSERT through (the other waits for it
            # to commit, then inserts nothing) and no error aborts the transaction.
            .on_conflict_do_nothing(index_elements=["engineer_id", "week_start", "kind"])
            # The rowcount says whether we inserted; SQLAlchemy only keeps it for INSERT
            # when asked to (psycopg reports -1 otherwise).
            .execution_options(preserve_rowcount=True)
        )
        if rowcount(inserted) == 0:
            # One conditional UPDATE: the database re-checks the condition on the row it
            # locks, so of several racers exactly one sees rowcount 1.
            taken = self.session.execute(
                update(CheckIn)
                .where(
                    CheckIn.engineer_id == engineer_id,
                    CheckIn.week_start == week_start,
                    GROWTH,
                    or_(
                        CheckIn.status == CheckInStatus.PENDING.value,
                        and_(CheckIn.status == CheckInStatus.SENDING.value, CheckIn.lease_until < now),
                    ),
                )
                .values(
                    status=CheckInStatus.SENDING.value,
                    claim_owner=owner,
                    lease_until=lease_until,
                    attempts=CheckIn.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if rowcount(taken) != 1:
                return None
        return self.session.scalars(
            select(CheckIn)
            .where(CheckIn.engineer_id == engineer_id, CheckIn.week_start == week_start, GROWTH)
            .execution_options(populate_existing=True)
        ).one()

    def mark_sent(self, checkin_id: int, owner: str, channel_id: str, message_ts: str, now: datetime) -> bool:
        """Record the posted DM; True only if `owner` still held the claim (status -> "sent")."""
        return self._update_if(
            checkin_id,
            [CheckIn.claim_owner == owner, CheckIn.status == CheckInStatus.SENDING.value],
            status=CheckInStatus.SENT.value,
            channel_id=channel_id,
            message_ts=message_ts,
            sent_at=now,
            lease_until=None,
        )

    def release_failed(self, checkin_id: int, owner: str, error: str) -> bool:
        """Give up `owner`'s claim after a failed send: back to "pending" for a later tick.

        Keeps `attempts` (the caller may stop retrying past a limit) and stores `error`.
        True only if `owner` still held the claim.
        """
        return self._update_if(
            checkin_id,
            [CheckIn.claim_owner == owner, CheckIn.status == CheckInStatus.SENDING.value],
            status=CheckInStatus.PENDING.value,
            claim_owner=None,
            lease_until=None,
            last_error=error,
        )

    def for_week(self, engineer_id: int, week_start: date) -> CheckIn | None:
        return self.session.scalars(
            select(CheckIn).where(CheckIn.engineer_id == engineer_id, CheckIn.week_start == week_start, GROWTH)
        ).one_or_none()

    def by_message(self, channel_id: str, message_ts: str) -> CheckIn | None:
        """The check-in (or team reflection) whose DM is message `message_ts` in `channel_id`
        (thread replies). A team reflection is posted by the outbox, so until its post is copied
        onto it (`attach_outbox_posts`) it is found through its outbox message."""
        found = self.session.scalars(
            select(CheckIn).where(CheckIn.channel_id == channel_id, CheckIn.message_ts == message_ts)
        ).first()
        if found is not None:
            return found
        return self.session.scalars(
            select(CheckIn)
            .join(OutboxMessage, OutboxMessage.id == CheckIn.outbox_id)
            .where(OutboxMessage.channel_id == channel_id, OutboxMessage.message_ts == message_ts)
        ).first()

    def attach_outbox_posts(self, due_since: datetime) -> int:
        """Copy where the outbox posted each team reflection due since `due_since` (channel, ts)
        onto it, so its thread and its confirmations know it; how many were copied. (Read along
        (status, due_at): the outbox keeps a sent message a day, the caller looks a week back.)"""
        query = (select(CheckIn.id, OutboxMessage.channel_id, OutboxMessage.message_ts)
                 .join(OutboxMessage, OutboxMessage.id == CheckIn.outbox_id)
                 .where(CheckIn.status.in_([CheckInStatus.SENT.value, CheckInStatus.ANSWERED.value]),
                        CheckIn.due_at >= due_since, CheckIn.kind == CheckInKind.LEAD.value,
                        CheckIn.channel_id.is_(None), OutboxMessage.message_ts.is_not(None)))
        copied = 0
        for checkin_id, channel_id, message_ts in self.session.execute(query).all():
            copied += self._update_if(checkin_id, [CheckIn.channel_id.is_(None)],
                                      channel_id=channel_id, message_ts=message_ts)
        return copied

    def by_id(self, checkin_id: int) -> CheckIn | None:
        return self.session.get(CheckIn, checkin_id)

    def states_for_weeks(self, weeks: dict[int, date]) -> list[tuple]:
        """(engineer_id, status, lease_until, attempts, last_error) of each engineer's check-in
        for the week given for them (engineer id -> week start), in batches of 500 ids."""
        found = []
        ids = list(weeks)
        for start in range(0, len(ids), 500):
            batch = ids[start:start + 500]
            rows = self.session.execute(
                select(CheckIn.engineer_id, CheckIn.week_start, CheckIn.status, CheckIn.lease_until,
                       CheckIn.attempts, CheckIn.last_error)
                .where(CheckIn.engineer_id.in_(batch), CheckIn.week_start.in_({weeks[i] for i in batch}), GROWTH))
            found.extend((eid, status, lease, attempts, error)
                         for eid, week, status, lease, attempts, error in rows if week == weeks[eid])
        return found

    def failed_sends(self, since: datetime, max_attempts: int) -> list[tuple[int, date]]:
        """(engineer id, week start) of check-ins whose send failed (back to "pending" after at
        least one attempt) and that were due since `since`: owed a retry whatever the schedule
        says, e.g. a `/growth now` that Slack refused with a 5xx."""
        return [tuple(row) for row in self.session.execute(
            select(CheckIn.engineer_id, CheckIn.week_start)
            .where(GROWTH, CheckIn.status == CheckInStatus.PENDING.value, CheckIn.attempts >= 1,
                   CheckIn.attempts < max_attempts, CheckIn.due_at >= since))]

    def latest(self, engineer_id: int) -> CheckIn | None:
        """The engineer's check-in for the most recent week, whatever its status."""
        recent = self.recent(engineer_id, 1)
        return recent[0] if recent else None

    def recent(self, engineer_id: int, limit: int) -> list[CheckIn]:
        """The engineer's last `limit` check-ins, newest week first."""
        return list(
            self.session.scalars(
                select(CheckIn)
                .where(CheckIn.engineer_id == engineer_id, GROWTH)
                .order_by(CheckIn.week_start.desc())
                .limit(limit)
            )
        )

    def unsent_due(self, now: datetime) -> list[CheckIn]:
        """Check-ins due by `now` that nobody is sending: "pending", or "sending" with an
        expired lease. Candidates for `claim`; the claim itself decides."""
        return list(
            self.session.scalars(
                select(CheckIn)
                .where(
                    GROWTH,
                    CheckIn.due_at <= now,
                    or_(
                        CheckIn.status == CheckInStatus.PENDING.value,
                        and_(CheckIn.status == CheckInStatus.SENDING.value, CheckIn.lease_until < now),
                    ),
                )
                .order_by(CheckIn.due_at)
            )
        )

    def awaiting_reminder(self, sent_before: datetime, sent_after: datetime | None = None) -> list[CheckIn]:
        """Sent, unanswered, unreminded check-ins sent before `sent_before` (and at or after
        `sent_after`, if given), of engineers who want reminders. Candidates for
        `claim_reminder`; the claim itself decides."""
        query = (
            select(CheckIn)
            .join(Engineer, Engineer.id == CheckIn.engineer_id)
            .where(
                GROWTH,
                Engineer.reminders_enabled.is_(True),
                CheckIn.status == CheckInStatus.SENT.value,
                CheckIn.reminder_sent_at.is_(None),
                CheckIn.sent_at < sent_before,
            )
        )
        if sent_after is not None:
            # Old weeks' unanswered check-ins pile up; a due pass only needs this week's.
            query = query.where(CheckIn.sent_at >= sent_after)
        return list(self.session.scalars(query.order_by(CheckIn.sent_at)))

    def claim_reminder(self, checkin_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
        """Make `owner` the one process to send this check-in's reminder.

        True only if the check-in is "sent" (not answered), has had no reminder, and no
        other owner holds a live reminder lease. Commit before posting, as for `claim`.
        """
        return self._update_if(
            checkin_id,
            [
                CheckIn.status == CheckInStatus.SENT.value,
                CheckIn.reminder_sent_at.is_(None),
                or_(CheckIn.reminder_lease_until.is_(None), CheckIn.reminder_lease_until < now),
            ],
            reminder_owner=owner,
            reminder_lease_until=now + lease,
        )

    def mark_reminder_sent(self, checkin_id: int, owner: str, now: datetime) -> bool:
        """Record the reminder; True only if `owner` still held the reminder claim."""
        return self._update_if(
            checkin_id,
            [CheckIn.reminder_owner == owner, CheckIn.reminder_sent_at.is_(None)],
            reminder_sent_at=now,
            reminder_lease_until=None,
        )

    def mark_answered(self, checkin_id: int, now: datetime) -> bool:
        """Status -> "answered" (stops reminders and sends). True if it changed.

        Applies to "pending" rows too (an engineer who answered before the DM went out
        needs no DM), but not to a row being sent: its sender still has to record the
        message, and answers arrive through that message anyway.
        """
        # Built once and run on the connection: a modal answer's ack waits on it.
        changed = rowcount(self.session.connection().execute(_MARK_ANSWERED, {"checkin": checkin_id, "now": now})) == 1
        loaded = self.session.identity_map.get(self.session.identity_key(CheckIn, checkin_id)) if changed else None
        if loaded is not None:
            self.session.refresh(loaded)
        return changed

    def _update_if(self, checkin_id: int, conditions: list[Any], **values: Any) -> bool:
        """A conditional UPDATE of one row: the compare-and-set behind every ownership change."""
        return update_if(self.session, CheckIn, checkin_id, conditions, **values)

    def _insert_dialect(self):
        return postgresql.insert if self.session.get_bind().dialect.name == "postgresql" else sqlite.insert
