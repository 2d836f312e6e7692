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
    _rekey(drop="uq_answers_slack_ts", create=("uq_answers_engineer_id_slack_ts", ["engineer_id", "slack_ts"]))


def downgrade() -> None:
    _rekey(drop="uq_answers_engineer_id_slack_ts", create=("uq_answers_slack_ts", ["slack_ts"]))


def _rekey(drop: str, create: tuple[str, list[str]]) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # SQLite changes a table's constraints by rebuilding it, and with foreign keys on,
        # dropping the old `answers` deletes every revision (ON DELETE CASCADE): set them aside.
        op.execute("CREATE TEMP TABLE _keep_revisions AS SELECT * FROM answer_revisions")
    with op.batch_alter_table("answers") as batch:
        batch.drop_constraint(drop, type_="unique")
        batch.create_unique_constraint(*create)
    if sqlite:
        op.execute("DELETE FROM answer_revisions")  # nothing is left, unless the cascade did not happen
        op.execute("INSERT INTO answer_revisions SELECT * FROM _keep_revisions")
        op.execute("DROP TABLE _keep_revisions")
