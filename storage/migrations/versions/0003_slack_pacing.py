"""Slack pacing: the learned rate, the pause and the send-slot schedule per (workspace, method),
shared by every instance (bot.slack_pacing).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_pacing",
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("rate", sa.Double(), nullable=True),
        sa.Column("burst", sa.Double(), nullable=True),
        sa.Column("stage", sa.Integer(), server_default="0", nullable=False),
        sa.Column("paused_until", sa.Double(), server_default="0", nullable=False),
        sa.Column("next_slot", sa.Double(), server_default="0", nullable=False),
        sa.Column("issued", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("last_refusal", sa.Double(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "method", name=op.f("pk_slack_pacing")),
    )


def downgrade() -> None:
    op.drop_table("slack_pacing")
