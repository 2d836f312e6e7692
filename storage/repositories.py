"""Repositories: domain-named reads and writes over a caller-owned `Session`.

None of these methods commits, rolls back or opens a session: the caller's unit of work
(one Slack request, one scheduler job) decides when the transaction ends. Methods may
flush, and a few run a SAVEPOINT (`session.begin_nested()`) so that losing an insert race
costs only that statement, never the caller's transaction.

Every `now` is an aware UTC datetime supplied by the caller, so the clock stays in the
domain layer and tests control it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import (
    Answer,
    AnswerRevision,
    Assessment,
    CheckIn,
    CheckInStatus,
    Engineer,
    OneOnOne,
    ProcessedEvent,
)

T = TypeVar("T")


def _insert_or_get(session: Session, new: T, existing: Select[tuple[T]]) -> tuple[T, bool]:
    """Insert `new`, or return the row `existing` selects if a unique constraint says it is there.

    The INSERT runs in a SAVEPOINT: when a concurrent transaction wins the race, only the
    savepoint is rolled back and the caller's transaction carries on (on PostgreSQL a
    failed statement would otherwise poison the whole transaction).
    """
    try:
        with session.begin_nested():
            session.add(new)
    except IntegrityError:
        found = session.scalars(existing).one_or_none()
        if found is None:  # the violation was some other constraint
            raise
        return found, False
    return new, True


def _rowcount(result: Any) -> int:
    return max(result.rowcount, 0)


class Engineers:
    def __init__(self, session: Session):
        self.session = session

    def get(self, team_id: str, user_id: str) -> Engineer | None:
        """The engineer with this Slack identity, or None."""
        return self.session.scalars(self._by_identity(team_id, user_id)).one_or_none()

    def get_or_create(self, team_id: str, user_id: str) -> Engineer:
        """The engineer with this Slack identity, created with defaults if new (race-safe)."""
        found = self.get(team_id, user_id)
        if found is not None:
            return found
        engineer, _ = _insert_or_get(
            self.session, Engineer(team_id=team_id, user_id=user_id), self._by_identity(team_id, user_id)
        )
        return engineer

    def by_id(self, engineer_id: int) -> Engineer | None:
        return self.session.get(Engineer, engineer_id)

    def all_schedulable(self, now: datetime) -> list[Engineer]:
        """Engineers with a level who are not paused at `now`, in id order."""
        return list(
            self.session.scalars(
                select(Engineer)
                .where(Engineer.level_id.is_not(None))
                .where(or_(Engineer.paused_until.is_(None), Engineer.paused_until <= now))
                .order_by(Engineer.id)
            )
        )

    def reports_of(self, team_id: str, manager_user_id: str) -> list[Engineer]:
        """Engineers in `team_id` who name `manager_user_id` as their manager, by user id."""
        return list(
            self.session.scalars(
                select(Engineer)
                .where(Engineer.team_id == team_id, Engineer.manager_user_id == manager_user_id)
                .order_by(Engineer.user_id)
            )
        )

    def forget(self, team_id: str, user_id: str) -> int:
        """Delete everything stored about one person; return the number of rows deleted.

        Removes their engineer row with its check-ins, answers, answer revisions and
        assessments, and every one-on-one row where they are manager or report (even if
        they never had an engineer row). Engineers who named them as manager keep their
        rows with `manager_user_id` set to NULL (not counted as deleted).
        """
        deleted = 0
        engineer = self.get(team_id, user_id)
        if engineer is not None:
            # Explicit deletes, children first, rather than relying on ON DELETE CASCADE:
            # we want the count, and the ORM identity map to notice the deletions.
            answer_ids = select(Answer.id).where(Answer.engineer_id == engineer.id)
            for statement in (
                delete(AnswerRevision).where(AnswerRevision.answer_id.in_(answer_ids)),
                delete(Answer).where(Answer.engineer_id == engineer.id),
                delete(CheckIn).where(CheckIn.engineer_id == engineer.id),
                delete(Assessment).where(Assessment.engineer_id == engineer.id),
                delete(Engineer).where(Engineer.id == engineer.id),
            ):
                deleted += _rowcount(self.session.execute(statement))
        deleted += _rowcount(
            self.session.execute(
                delete(OneOnOne).where(
                    OneOnOne.team_id == team_id,
                    or_(OneOnOne.manager_user_id == user_id, OneOnOne.report_user_id == user_id),
                )
            )
        )
        self.session.execute(
            update(Engineer)
            .where(Engineer.team_id == team_id, Engineer.manager_user_id == user_id)
            .values(manager_user_id=None)
        )
        return deleted

    @staticmethod
    def _by_identity(team_id: str, user_id: str) -> Select[tuple[Engineer]]:
        return select(Engineer).where(Engineer.team_id == team_id, Engineer.user_id == user_id)


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
            .on_conflict_do_nothing(index_elements=["engineer_id", "week_start"])
            # The rowcount says whether we inserted; SQLAlchemy only keeps it for INSERT
            # when asked to (psycopg reports -1 otherwise).
            .execution_options(preserve_rowcount=True)
        )
        if _rowcount(inserted) == 0:
            # One conditional UPDATE: the database re-checks the condition on the row it
            # locks, so of several racers exactly one sees rowcount 1.
            taken = self.session.execute(
                update(CheckIn)
                .where(
                    CheckIn.engineer_id == engineer_id,
                    CheckIn.week_start == week_start,
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
            if _rowcount(taken) != 1:
                return None
        return self.session.scalars(
            select(CheckIn)
            .where(CheckIn.engineer_id == engineer_id, CheckIn.week_start == week_start)
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
            select(CheckIn).where(CheckIn.engineer_id == engineer_id, CheckIn.week_start == week_start)
        ).one_or_none()

    def by_message(self, channel_id: str, message_ts: str) -> CheckIn | None:
        """The check-in whose DM is message `message_ts` in `channel_id` (thread replies)."""
        return self.session.scalars(
            select(CheckIn).where(CheckIn.channel_id == channel_id, CheckIn.message_ts == message_ts)
        ).first()

    def by_id(self, checkin_id: int) -> CheckIn | None:
        return self.session.get(CheckIn, checkin_id)

    def latest(self, engineer_id: int) -> CheckIn | None:
        """The engineer's check-in for the most recent week, whatever its status."""
        recent = self.recent(engineer_id, 1)
        return recent[0] if recent else None

    def recent(self, engineer_id: int, limit: int) -> list[CheckIn]:
        """The engineer's last `limit` check-ins, newest week first."""
        return list(
            self.session.scalars(
                select(CheckIn)
                .where(CheckIn.engineer_id == engineer_id)
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
                    CheckIn.due_at <= now,
                    or_(
                        CheckIn.status == CheckInStatus.PENDING.value,
                        and_(CheckIn.status == CheckInStatus.SENDING.value, CheckIn.lease_until < now),
                    ),
                )
                .order_by(CheckIn.due_at)
            )
        )

    def awaiting_reminder(self, sent_before: datetime) -> list[CheckIn]:
        """Sent, unanswered, unreminded check-ins sent before `sent_before`. Candidates for
        `claim_reminder`; the claim itself decides."""
        return list(
            self.session.scalars(
                select(CheckIn)
                .where(
                    CheckIn.status == CheckInStatus.SENT.value,
                    CheckIn.reminder_sent_at.is_(None),
                    CheckIn.sent_at < sent_before,
                )
                .order_by(CheckIn.sent_at)
            )
        )

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
        return self._update_if(
            checkin_id,
            [CheckIn.status.in_([CheckInStatus.PENDING.value, CheckInStatus.SENT.value])],
            status=CheckInStatus.ANSWERED.value,
            answered_at=now,
        )

    def _update_if(self, checkin_id: int, conditions: list[Any], **values: Any) -> bool:
        """A conditional UPDATE of one row: the compare-and-set behind every ownership change."""
        result = self.session.execute(
            update(CheckIn)
            .where(CheckIn.id == checkin_id, *conditions)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            return False
        self._refresh(checkin_id)
        return True

    def _refresh(self, checkin_id: int) -> None:
        # Keep an already-loaded CheckIn in step with the row we just changed in SQL.
        loaded = self.session.identity_map.get(self.session.identity_key(CheckIn, checkin_id))
        if loaded is not None:
            self.session.refresh(loaded)

    def _insert_dialect(self):
        return postgresql.insert if self.session.get_bind().dialect.name == "postgresql" else sqlite.insert


class Answers:
    def __init__(self, session: Session):
        self.session = session

    def record(
        self,
        checkin: CheckIn,
        question_id: str | None,
        question_text: str,
        text: str,
        source: str,
        now: datetime,
        slack_ts: str | None = None,
        is_private: bool | None = None,
    ) -> tuple[Answer, bool]:
        """Store an answer in `checkin`; return (answer, created).

        For a question already answered in this check-in, the answer is edited in place
        (created False): the old text goes to an `AnswerRevision` unless unchanged.
        A free thread reply (`question_id` None) carrying a `slack_ts` already stored is
        returned as it is (created False), so Slack's event retries store it once.
        `is_private` None keeps the existing flag (False for a new answer).
        """
        if question_id is None:
            lookup = select(Answer).where(Answer.slack_ts == slack_ts) if slack_ts is not None else None
        else:
            lookup = select(Answer).where(Answer.checkin_id == checkin.id, Answer.question_id == question_id)
        existing = self.session.scalars(lookup).one_or_none() if lookup is not None else None
        if existing is None:
            new = Answer(
                checkin_id=checkin.id,
                engineer_id=checkin.engineer_id,
                question_id=question_id,
                question_text=question_text,
                text=text,
                source=source,
                is_private=bool(is_private),
                slack_ts=slack_ts,
                created_at=now,
                updated_at=now,
            )
            if lookup is None:
                self.session.add(new)
                self.session.flush()
                return new, True
            # Two deliveries of one Slack event, or two modal submissions, may race here.
            existing, created = _insert_or_get(self.session, new, lookup)
            if created or question_id is None:
                return existing, created
        self._revise(existing, question_text, text, now, is_private)
        return existing, False

    def _revise(self, answer: Answer, question_text: str, text: str, now: datetime, is_private: bool | None) -> None:
        if answer.text != text:
            self.session.add(AnswerRevision(answer_id=answer.id, previous_text=answer.text, edited_at=now))
            answer.text = text
            answer.question_text = question_text
            answer.updated_at = now
        if is_private is not None and answer.is_private != is_private:
            answer.is_private = is_private
            answer.updated_at = now
        self.session.flush()

    def revisions(self, answer_id: int) -> list[AnswerRevision]:
        """Earlier texts of an answer, oldest first."""
        return list(
            self.session.scalars(
                select(AnswerRevision)
                .where(AnswerRevision.answer_id == answer_id)
                .order_by(AnswerRevision.edited_at, AnswerRevision.id)
            )
        )

    def set_private(self, answer_id: int, engineer_id: int, private: bool) -> bool:
        """Set the private flag on `engineer_id`'s own answer; False if it is not theirs or absent."""
        answer = self.session.get(Answer, answer_id)
        if answer is None or answer.engineer_id != engineer_id:
            return False
        answer.is_private = private
        self.session.flush()
        return True

    def for_engineer(
        self,
        engineer_id: int,
        *,
        since: datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
        include_private: bool = True,
    ) -> list[Answer]:
        """The engineer's answers, newest first; `since` is inclusive."""
        query = select(Answer).where(Answer.engineer_id == engineer_id)
        if since is not None:
            query = query.where(Answer.created_at >= since)
        if not include_private:
            query = query.where(Answer.is_private.is_(False))
        query = query.order_by(Answer.created_at.desc(), Answer.id.desc()).offset(offset).limit(limit)
        return list(self.session.scalars(query))

    def for_checkin(self, checkin_id: int) -> list[Answer]:
        """The check-in's answers in the order they were first given."""
        return list(
            self.session.scalars(
                select(Answer).where(Answer.checkin_id == checkin_id).order_by(Answer.created_at, Answer.id)
            )
        )

    def count_since(self, engineer_id: int, since: datetime) -> int:
        """How many answers the engineer gave at or after `since` (private ones included)."""
        return self.session.scalar(
            select(func.count()).select_from(Answer).where(Answer.engineer_id == engineer_id, Answer.created_at >= since)
        ) or 0

    def last_answer_at(self, engineer_ids: Iterable[int]) -> dict[int, datetime]:
        """When each engineer last answered, in one query; engineers who never did are absent."""
        ids = list(engineer_ids)
        if not ids:
            return {}
        rows = self.session.execute(
            select(Answer.engineer_id, func.max(Answer.created_at))
            .where(Answer.engineer_id.in_(ids))
            .group_by(Answer.engineer_id)
        )
        return {engineer_id: at for engineer_id, at in rows}


class ProcessedEvents:
    def __init__(self, session: Session):
        self.session = session

    def first_time(self, key: str, now: datetime) -> bool:
        """Record `key`; True the first time it is seen, False afterwards (race-safe).

        The record is part of the caller's transaction: if the caller rolls back, the key
        is forgotten and Slack's retry will be processed.
        """
        if self.session.get(ProcessedEvent, key) is not None:
            return False
        _, created = _insert_or_get(
            self.session, ProcessedEvent(key=key, created_at=now), select(ProcessedEvent).where(ProcessedEvent.key == key)
        )
        return created

    def prune(self, older_than: datetime) -> int:
        """Forget keys recorded before `older_than`; return how many."""
        return _rowcount(
            self.session.execute(
                delete(ProcessedEvent)
                .where(ProcessedEvent.created_at < older_than)
                .execution_options(synchronize_session=False)
            )
        )


class Assessments:
    def __init__(self, session: Session):
        self.session = session

    def add(self, engineer_id: int, framework_id: str, picks: dict[str, str], now: datetime) -> Assessment:
        """Store a self-assessment: `picks` maps capability id -> role level id."""
        assessment = Assessment(engineer_id=engineer_id, framework_id=framework_id, picks=dict(picks), created_at=now)
        self.session.add(assessment)
        self.session.flush()
        return assessment

    def for_engineer(self, engineer_id: int, limit: int | None = None) -> list[Assessment]:
        """The engineer's assessments, newest first."""
        return list(
            self.session.scalars(
                select(Assessment)
                .where(Assessment.engineer_id == engineer_id)
                .order_by(Assessment.created_at.desc(), Assessment.id.desc())
                .limit(limit)
            )
        )


class OneOnOnes:
    def __init__(self, session: Session):
        self.session = session

    def set(
        self, team_id: str, manager: str, report: str, weekday: int | None, time: str | None, tz: str | None
    ) -> OneOnOne:
        """Create or reschedule the manager's recurring 1:1 with `report`."""
        pair = self._pair(team_id, manager, report)
        meeting = self.session.scalars(pair).one_or_none()
        if meeting is None:
            meeting, _ = _insert_or_get(
                self.session, OneOnOne(team_id=team_id, manager_user_id=manager, report_user_id=report), pair
            )
        meeting.weekday, meeting.time, meeting.tz = weekday, time, tz
        self.session.flush()
        return meeting

    def get(self, team_id: str, manager: str, report: str) -> OneOnOne | None:
        return self.session.scalars(self._pair(team_id, manager, report)).one_or_none()

    def by_id(self, one_on_one_id: int) -> OneOnOne | None:
        return self.session.get(OneOnOne, one_on_one_id)

    def for_manager(self, team_id: str, manager: str) -> list[OneOnOne]:
        """The manager's 1:1 rows, by report user id."""
        return list(
            self.session.scalars(
                select(OneOnOne)
                .where(OneOnOne.team_id == team_id, OneOnOne.manager_user_id == manager)
                .order_by(OneOnOne.report_user_id)
            )
        )

    def due_candidates(self) -> list[OneOnOne]:
        """Every 1:1 with a weekday and time; the scheduler works out which meeting is next."""
        return list(
            self.session.scalars(
                select(OneOnOne)
                .where(OneOnOne.weekday.is_not(None), OneOnOne.time.is_not(None))
                .order_by(OneOnOne.id)
            )
        )

    def mark_prepped(self, one_on_one_id: int, now: datetime) -> bool:
        """Record that a prep digest went out at `now` (manual or automatic)."""
        return self._update_if(one_on_one_id, [], last_prep_at=now)

    def claim_auto_prep(self, one_on_one_id: int, meeting_at: datetime, owner: str, now: datetime, lease: timedelta) -> bool:
        """Make `owner` the one process to send the automatic digest for the meeting at `meeting_at`.

        True only if no digest was recorded for this (or a later) meeting and no other
        owner holds a live lease. Commit before posting; then `mark_auto_prepped`.
        """
        return self._update_if(
            one_on_one_id,
            [
                or_(OneOnOne.last_auto_prep_for.is_(None), OneOnOne.last_auto_prep_for < meeting_at),
                or_(OneOnOne.prep_lease_until.is_(None), OneOnOne.prep_lease_until < now),
            ],
            prep_owner=owner,
            prep_lease_until=now + lease,
        )

    def mark_auto_prepped(self, one_on_one_id: int, owner: str, meeting_at: datetime, now: datetime) -> bool:
        """Record the automatic digest for `meeting_at`; True only if `owner` held the claim."""
        return self._update_if(
            one_on_one_id,
            [OneOnOne.prep_owner == owner, OneOnOne.prep_lease_until.is_not(None)],
            last_auto_prep_for=meeting_at,
            last_prep_at=now,
            prep_lease_until=None,
        )

    def remove_for_pair(self, team_id: str, manager: str, report: str) -> int:
        """Delete the pair's 1:1 row; return how many rows went (0 or 1)."""
        return _rowcount(
            self.session.execute(
                delete(OneOnOne).where(
                    OneOnOne.team_id == team_id,
                    OneOnOne.manager_user_id == manager,
                    OneOnOne.report_user_id == report,
                )
            )
        )

    def _update_if(self, one_on_one_id: int, conditions: list[Any], **values: Any) -> bool:
        result = self.session.execute(
            update(OneOnOne)
            .where(OneOnOne.id == one_on_one_id, *conditions)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            return False
        loaded = self.session.identity_map.get(self.session.identity_key(OneOnOne, one_on_one_id))
        if loaded is not None:
            self.session.refresh(loaded)
        return True

    @staticmethod
    def _pair(team_id: str, manager: str, report: str) -> Select[tuple[OneOnOne]]:
        return select(OneOnOne).where(
            OneOnOne.team_id == team_id, OneOnOne.manager_user_id == manager, OneOnOne.report_user_id == report
        )
