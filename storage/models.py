"""The growth-bot tables as typed SQLAlchemy models.

Every `Mapped[datetime]` is a `UTCDateTime`: aware UTC in, aware UTC out, on SQLite and
PostgreSQL alike. Changing anything here needs a new migration in `storage/migrations`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, MetaData, Text, UniqueConstraint, false, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import EncryptedJSON, EncryptedText, UTCDateTime

# Deterministic constraint names, identical on both databases, so later migrations can
# drop or alter them by name (SQLite batch migrations need names too).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[dict[str, Any]]: JSON(),
    }


class CheckInStatus(StrEnum):
    PENDING = "pending"  # created or released after a failed send; the scheduler may claim it
    SENDING = "sending"  # claimed by `claim_owner` until `lease_until`
    SENT = "sent"  # the DM is in Slack (`channel_id`, `message_ts`)
    ANSWERED = "answered"


class AnswerSource(StrEnum):
    MODAL = "modal"
    THREAD = "thread"


class Engineer(Base):
    __tablename__ = "engineers"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id"),
        Index("ix_engineers_team_id_manager_user_id", "team_id", "manager_user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str]
    user_id: Mapped[str]
    framework_id: Mapped[str | None]
    level_id: Mapped[str | None]
    tz: Mapped[str] = mapped_column(default="UTC", server_default="UTC")
    tz_checked_at: Mapped[datetime | None]
    checkin_weekday: Mapped[int | None]  # 0 = Monday … 6 = Sunday; NULL = workspace default
    checkin_time: Mapped[str | None]  # "HH:MM" in `tz`; NULL = workspace default
    questions_per_checkin: Mapped[int | None]
    reminders_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    paused_until: Mapped[datetime | None]  # far future = paused indefinitely
    rotation_offset: Mapped[int] = mapped_column(default=0, server_default="0")
    rotation_pool_key: Mapped[str | None]
    manager_user_id: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # A leader's own team reflection (bot.leaders), separate from their growth check-in.
    lead_enabled: Mapped[bool] = mapped_column(default=False, server_default=false())
    lead_offered_at: Mapped[datetime | None]  # when the one "turn it on?" DM was queued
    lead_weekday: Mapped[int | None]  # NULL = the day of their check-in
    lead_time: Mapped[str | None]  # "HH:MM" in `tz`; NULL = the time of their check-in
    lead_every_weeks: Mapped[int] = mapped_column(default=1, server_default="1")
    lead_since: Mapped[date | None]  # the week it was turned on: every N weeks counts from it
    lead_rotation_offset: Mapped[int] = mapped_column(default=0, server_default="0")
    # A manager's weekly team note (participation only, never content).
    team_note_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    team_note_weekday: Mapped[int | None]  # NULL = Monday
    team_note_time: Mapped[str | None]  # "HH:MM" in `tz`; NULL = 09:00
    team_note_week: Mapped[date | None]  # the week of the last note queued: one a week
    # "Your manager read 3 entries this week" in the check-in DM (bot reads of the log).
    reads_weekly_line: Mapped[bool] = mapped_column(default=True, server_default=true())


class CheckInKind(StrEnum):
    GROWTH = "growth"  # the engineer's weekly check-in (claimed, then posted: bot.checkins)
    LEAD = "lead"  # a leader's team reflection (queued in the outbox: bot.leaders)


class CheckIn(Base):
    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("engineer_id", "week_start", "kind"),
        Index("ix_checkins_status_due_at", "status", "due_at"),
        Index("ix_checkins_channel_id_message_ts", "channel_id", "message_ts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id", ondelete="CASCADE"))
    week_start: Mapped[date]  # Monday of the week, in the engineer's timezone
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(default=CheckInStatus.PENDING.value, server_default=CheckInStatus.PENDING.value)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(default=list)  # [{"id", "text", "kind"}]
    claim_owner: Mapped[str | None]
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[str | None]
    message_ts: Mapped[str | None]
    sent_at: Mapped[datetime | None]
    reminder_owner: Mapped[str | None]
    reminder_lease_until: Mapped[datetime | None]
    reminder_sent_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    kind: Mapped[str] = mapped_column(default=CheckInKind.GROWTH.value, server_default=CheckInKind.GROWTH.value)
    outbox_id: Mapped[int | None]  # a team reflection: the outbox message it was posted as


class Answer(Base):
    __tablename__ = "answers"
    # NULL question_ids (free thread replies) never collide: NULLs are distinct in UNIQUE
    # on both SQLite and PostgreSQL (tests/storage/test_models.py checks it).
    __table_args__ = (
        UniqueConstraint("checkin_id", "question_id"),
        UniqueConstraint("engineer_id", "slack_ts"),
        Index("ix_answers_engineer_id_created_at", "engineer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"))
    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id", ondelete="CASCADE"))
    question_id: Mapped[str | None]  # NULL = a free reply typed in the DM thread
    question_text: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(EncryptedText("answers.text"))
    source: Mapped[str]  # AnswerSource
    is_private: Mapped[bool] = mapped_column(default=False, server_default=false())
    slack_ts: Mapped[str | None]  # dedupes thread replies, per engineer (a ts is unique per channel)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnswerRevision(Base):
    __tablename__ = "answer_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), index=True)
    previous_text: Mapped[str] = mapped_column(EncryptedText("answer_revisions.previous_text"))
    edited_at: Mapped[datetime]


class ProcessedEvent(Base):
    __tablename__ = "processed_events"

    key: Mapped[str] = mapped_column(primary_key=True)  # an event_id, or "view:<id>:<hash>"
    created_at: Mapped[datetime]


class Assessment(Base):
    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_engineer_id_created_at", "engineer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id", ondelete="CASCADE"))
    framework_id: Mapped[str]
    picks: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("assessments.picks"))  # capability id -> role level id
    created_at: Mapped[datetime]


class OneOnOne(Base):
    __tablename__ = "one_on_ones"
    __table_args__ = (UniqueConstraint("team_id", "manager_user_id", "report_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str]
    manager_user_id: Mapped[str]
    report_user_id: Mapped[str]
    weekday: Mapped[int | None]
    time: Mapped[str | None]  # "HH:MM" in `tz`
    tz: Mapped[str | None]  # the manager's
    last_prep_at: Mapped[datetime | None]
    last_auto_prep_for: Mapped[datetime | None]  # the meeting the last automatic digest was for
    prep_owner: Mapped[str | None]
    prep_lease_until: Mapped[datetime | None]


class InboxItem(Base):
    """A Slack delivery written down before it is acknowledged, and processed after.

    Slack never resends what the bot acknowledged, so the raw payload is on disk first (one
    short INSERT); `done_at` is set in the same transaction as whatever processing it caused,
    and anything left undone by a crash is finished by the next recovery pass.
    """

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_done_at_received_at", "done_at", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(unique=True)  # "event:<event_id>": Slack's retries collide here
    kind: Mapped[str]
    team_id: Mapped[str | None]
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("inbox.payload"))
    received_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    lease_until: Mapped[datetime | None]  # a processor is on it until then
    done_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class OutboxStatus(StrEnum):
    PENDING = "pending"  # written in the same transaction as its cause; nobody has tried it yet
    SENDING = "sending"  # claimed by `owner` until `lease_until`
    SENT = "sent"  # in Slack at (`channel_id`, `message_ts`)
    FAILED = "failed"  # Slack refused it for good (`last_error`)


class OutboxMessage(Base):
    """A message the bot sends on its own, claimed here before it is posted.

    Posted with `outbox_id` in its message metadata; after a crash, a 5xx or a timeout it is
    looked up by that id before anything is posted again (`maybe_posted`).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(unique=True)  # what it is about: the same cause never posts twice
    team_id: Mapped[str | None]
    channel: Mapped[str]  # a channel id, or a user id for a DM
    thread_ts: Mapped[str | None]
    text: Mapped[str] = mapped_column(EncryptedText("outbox.text"))
    blocks: Mapped[list[dict[str, Any]]] = mapped_column(EncryptedJSON("outbox.blocks"), default=list)
    status: Mapped[str] = mapped_column(default=OutboxStatus.PENDING.value, server_default=OutboxStatus.PENDING.value)
    owner: Mapped[str | None]
    lease_until: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    maybe_posted: Mapped[bool] = mapped_column(default=False, server_default=false())
    last_error: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[str | None]  # where Slack put it (a DM's channel id)
    message_ts: Mapped[str | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class SlackPace(Base):
    """What the senders of every instance share about one Slack (workspace, method) rate limit.

    Times are epoch seconds as floats, not `UTCDateTime`: they form a schedule of send slots a
    few milliseconds apart, computed on with arithmetic (bot.slack_pacing.Allowance).
    """

    __tablename__ = "slack_pacing"

    team_id: Mapped[str] = mapped_column(primary_key=True)
    method: Mapped[str] = mapped_column(primary_key=True)
    rate: Mapped[float | None]  # calls per second the senders pace at; NULL = no 429 seen
    burst: Mapped[float | None]  # the burst Slack granted before its first 429
    stage: Mapped[int] = mapped_column(default=0, server_default="0")
    paused_until: Mapped[float] = mapped_column(default=0.0, server_default="0")
    next_slot: Mapped[float] = mapped_column(default=0.0, server_default="0")
    issued: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    last_refusal: Mapped[float | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Retro(Base):
    """A team retro in a channel: the leaders' feedback-loop questions, posted on a schedule in
    the time zone of whoever set it up (bot.leaders.retros)."""

    __tablename__ = "retros"
    __table_args__ = (UniqueConstraint("team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str]
    channel_id: Mapped[str]
    owner_user_id: Mapped[str]  # who set it up (its time zone is theirs)
    weekday: Mapped[int]
    time: Mapped[str]  # "HH:MM" in `tz`
    tz: Mapped[str]
    every_weeks: Mapped[int] = mapped_column(default=1, server_default="1")
    since_week: Mapped[date]  # every N weeks counts from this week
    enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime]


class RetroRun(Base):
    """One week's retro: its question messages (queued in the outbox with it) and its summary."""

    __tablename__ = "retro_runs"
    __table_args__ = (UniqueConstraint("retro_id", "week_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    retro_id: Mapped[int] = mapped_column(ForeignKey("retros.id", ondelete="CASCADE"))
    week_start: Mapped[date]
    posts: Mapped[list[dict[str, Any]]] = mapped_column(default=list)  # [{"outbox_id", "text", "ts"}]
    summary_due_at: Mapped[datetime]  # the end of the retro's week
    summarized_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class LogRead(Base):
    """One read of an engineer's log by someone else: the engineer's to see, deleted with them."""

    __tablename__ = "log_reads"
    __table_args__ = (Index("ix_log_reads_engineer_id_read_at", "engineer_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id", ondelete="CASCADE"))
    reader_user_id: Mapped[str]
    what: Mapped[str]  # "log", "prep", "export", "profile"
    entries: Mapped[int] = mapped_column(default=0, server_default="0")
    read_at: Mapped[datetime]


class ReadNotice(Base):
    """A reader has been told, once, that the engineers whose logs they read see each read."""

    __tablename__ = "read_notices"

    team_id: Mapped[str] = mapped_column(primary_key=True)
    reader_user_id: Mapped[str] = mapped_column(primary_key=True)
    told_at: Mapped[datetime]


# Registered on the same metadata; imported last because it builds on `Base` above.
from storage import workspace_models as _workspace_models  # noqa: E402,F401
