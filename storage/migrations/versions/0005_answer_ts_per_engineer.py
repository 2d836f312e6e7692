"""A thread reply's Slack ts is unique per engineer, not across everyone: Slack's ts is unique
within one channel only, so two engineers replying in their own DMs can share one, and the
second reply used to be taken for a duplicate and dropped.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.drop_constraint("uq_answers_slack_ts", type_="unique")
        batch.create_unique_constraint("uq_answers_engineer_id_slack_ts", ["engineer_id", "slack_ts"])


def downgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.drop_constraint("uq_answers_engineer_id_slack_ts", type_="unique")
        batch.create_unique_constraint("uq_answers_slack_ts", ["slack_ts"])
