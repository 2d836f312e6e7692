"""Every read of an engineer's log by someone else is the engineer's to see.

- log_reads: who (a Slack user of the engineer's workspace) read what of whose log (the log,
  a prep digest, an export, the profile), how many entries, and when; deleted with the engineer;
- read_notices: the one message telling a reader that reads are visible, sent once per reader;
- engineers.reads_weekly_line: whether the check-in DM carries "Your manager read 3 entries
  this week" (on by default; `/growth reads weekly off`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, never a batch: a rebuilt `engineers` would cascade on SQLite.
    op.add_column("engineers", sa.Column("reads_weekly_line", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_table(
        "log_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engineer_id", sa.Integer(), nullable=False),
        sa.Column("reader_user_id", sa.String(), nullable=False),
        sa.Column("what", sa.String(), nullable=False),
        sa.Column("entries", sa.Integer(), server_default="0", nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["engineer_id"], ["engineers.id"], name=op.f("fk_log_reads_engineer_id_engineers"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_reads")),
    )
    op.create_index(op.f("ix_log_reads_engineer_id_read_at"), "log_reads", ["engineer_id", "read_at"])
    op.create_table(
        "read_notices",
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("reader_user_id", sa.String(), nullable=False),
        sa.Column("told_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "reader_user_id", name=op.f("pk_read_notices")),
    )


def downgrade() -> None:
    op.drop_table("read_notices")
    op.drop_index(op.f("ix_log_reads_engineer_id_read_at"), table_name="log_reads")
    op.drop_table("log_reads")
    op.drop_column("engineers", "reads_weekly_line")
