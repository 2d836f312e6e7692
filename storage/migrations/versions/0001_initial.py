"""Initial schema: engineers, check-ins, answers (+ revisions), processed events,
assessments, one-on-ones.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _cascade_to(table: str, column: str, referred: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "engineers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("framework_id", sa.String(), nullable=True),
        sa.Column("level_id", sa.String(), nullable=True),
        sa.Column("tz", sa.String(), server_default="UTC", nullable=False),
        sa.Column("tz_checked_at", UTCDateTime(), nullable=True),
        sa.Column("checkin_weekday", sa.Integer(), nullable=True),
        sa.Column("checkin_time", sa.String(), nullable=True),
        sa.Column("questions_per_checkin", sa.Integer(), nullable=True),
        sa.Column("reminders_enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("paused_until", UTCDateTime(), nullable=True),
        sa.Column("rotation_offset", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rotation_pool_key", sa.String(), nullable=True),
        sa.Column("manager_user_id", sa.String(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engineers")),
        sa.UniqueConstraint("team_id", "user_id", name=op.f("uq_engineers_team_id_user_id")),
    )
    op.create_index("ix_engineers_team_id_manager_user_id", "engineers", ["team_id", "manager_user_id"])

    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engineer_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(), server_default="pending", nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("claim_owner", sa.String(), nullable=True),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("channel_id", sa.String(), nullable=True),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("reminder_owner", sa.String(), nullable=True),
        sa.Column("reminder_lease_until", UTCDateTime(), nullable=True),
        sa.Column("reminder_sent_at", UTCDateTime(), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        _cascade_to("checkins", "engineer_id", "engineers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
        sa.UniqueConstraint("engineer_id", "week_start", name=op.f("uq_checkins_engineer_id_week_start")),
    )
    op.create_index("ix_checkins_status_due_at", "checkins", ["status", "due_at"])
    op.create_index("ix_checkins_channel_id_message_ts", "checkins", ["channel_id", "message_ts"])

    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("engineer_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(), nullable=True),
        sa.Column("question_text", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("is_private", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("slack_ts", sa.String(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        _cascade_to("answers", "checkin_id", "checkins"),
        _cascade_to("answers", "engineer_id", "engineers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answers")),
        sa.UniqueConstraint("checkin_id", "question_id", name=op.f("uq_answers_checkin_id_question_id")),
        sa.UniqueConstraint("slack_ts", name=op.f("uq_answers_slack_ts")),
    )
    op.create_index("ix_answers_engineer_id_created_at", "answers", ["engineer_id", "created_at"])

    op.create_table(
        "answer_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("previous_text", sa.Text(), nullable=False),
        sa.Column("edited_at", UTCDateTime(), nullable=False),
        _cascade_to("answer_revisions", "answer_id", "answers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_revisions")),
    )
    op.create_index("ix_answer_revisions_answer_id", "answer_revisions", ["answer_id"])

    op.create_table(
        "processed_events",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_processed_events")),
    )

    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engineer_id", sa.Integer(), nullable=False),
        sa.Column("framework_id", sa.String(), nullable=False),
        sa.Column("picks", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        _cascade_to("assessments", "engineer_id", "engineers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
    )
    op.create_index("ix_assessments_engineer_id_created_at", "assessments", ["engineer_id", "created_at"])

    op.create_table(
        "one_on_ones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("manager_user_id", sa.String(), nullable=False),
        sa.Column("report_user_id", sa.String(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=True),
        sa.Column("time", sa.String(), nullable=True),
        sa.Column("tz", sa.String(), nullable=True),
        sa.Column("last_prep_at", UTCDateTime(), nullable=True),
        sa.Column("last_auto_prep_for", UTCDateTime(), nullable=True),
        sa.Column("prep_owner", sa.String(), nullable=True),
        sa.Column("prep_lease_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_on_ones")),
        sa.UniqueConstraint(
            "team_id",
            "manager_user_id",
            "report_user_id",
            name=op.f("uq_one_on_ones_team_id_manager_user_id_report_user_id"),
        ),
    )


def downgrade() -> None:
    for table in (
        "one_on_ones",
        "assessments",
        "processed_events",
        "answer_revisions",
        "answers",
        "checkins",
        "engineers",
    ):
        op.drop_table(table)
