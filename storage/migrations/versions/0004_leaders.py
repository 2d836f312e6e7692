"""Leaders reflect too: a leader's own team reflection, kept as check-ins of kind "lead".

- engineers: whether the person's team reflection is on (and when it was offered), its day,
  time and cadence, and its own rotation through the leaders' document's questions; a
  manager's weekly team note: on or off, its day and time, the week of the last one;
- checkins: `kind` ("growth" or "lead"), one of each per (engineer, week), so the unique key
  becomes (engineer_id, week_start, kind); `outbox_id`, the outbox message a team reflection
  was posted as (it goes through the outbox, not the check-in claim);
- retros and retro_runs: a team retro in a channel, and each week's posts and summary.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_KEY, NEW_KEY = "uq_checkins_engineer_id_week_start", "uq_checkins_engineer_id_week_start_kind"


def upgrade() -> None:
    # Plain ADD COLUMNs, never a batch: on SQLite a rebuilt `engineers` would cascade to every
    # check-in, answer and assessment (see `_rekey_checkins`).
    op.add_column("engineers", sa.Column("lead_enabled", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("engineers", sa.Column("lead_offered_at", UTCDateTime(), nullable=True))
    op.add_column("engineers", sa.Column("lead_weekday", sa.Integer(), nullable=True))
    op.add_column("engineers", sa.Column("lead_time", sa.String(), nullable=True))
    op.add_column("engineers", sa.Column("lead_every_weeks", sa.Integer(), server_default="1", nullable=False))
    op.add_column("engineers", sa.Column("lead_since", sa.Date(), nullable=True))
    op.add_column("engineers", sa.Column("lead_rotation_offset", sa.Integer(), server_default="0", nullable=False))
    op.add_column("engineers", sa.Column("team_note_enabled", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column("engineers", sa.Column("team_note_weekday", sa.Integer(), nullable=True))
    op.add_column("engineers", sa.Column("team_note_time", sa.String(), nullable=True))
    op.add_column("engineers", sa.Column("team_note_week", sa.Date(), nullable=True))
    op.add_column("checkins", sa.Column("kind", sa.String(), server_default="growth", nullable=False))
    op.add_column("checkins", sa.Column("outbox_id", sa.Integer(), nullable=True))
    _rekey_checkins(add=True)
    op.create_table(
        "retros",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("owner_user_id", sa.String(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("time", sa.String(), nullable=False),
        sa.Column("tz", sa.String(), nullable=False),
        sa.Column("every_weeks", sa.Integer(), server_default="1", nullable=False),
        sa.Column("since_week", sa.Date(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retros")),
        sa.UniqueConstraint("team_id", "channel_id", name=op.f("uq_retros_team_id_channel_id")),
    )
    op.create_table(
        "retro_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("retro_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("posts", sa.JSON(), nullable=False),
        sa.Column("summary_due_at", UTCDateTime(), nullable=False),
        sa.Column("summarized_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["retro_id"], ["retros.id"], name=op.f("fk_retro_runs_retro_id_retros"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retro_runs")),
        sa.UniqueConstraint("retro_id", "week_start", name=op.f("uq_retro_runs_retro_id_week_start")),
    )


def downgrade() -> None:
    op.drop_table("retro_runs")
    op.drop_table("retros")
    op.execute("DELETE FROM checkins WHERE kind <> 'growth'")
    _rekey_checkins(add=False)
    # SQLite drops a column in place (3.35+) as long as nothing indexes it.
    for name in ("outbox_id", "kind"):
        op.drop_column("checkins", name)
    for name in ("team_note_week", "team_note_time", "team_note_weekday", "team_note_enabled",
                 "lead_rotation_offset", "lead_since", "lead_every_weeks", "lead_time", "lead_weekday",
                 "lead_offered_at", "lead_enabled"):
        op.drop_column("engineers", name)


def _rekey_checkins(add: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        _alter_checkins(add)
        return
    # SQLite cannot drop a table's UNIQUE constraint, so batch mode rebuilds `checkins`, and with
    # foreign keys on (storage.db turns them on for every connection, this one included, and a
    # transaction cannot turn them off) dropping the old table cascades: every answer and its
    # revisions would go with it. So they are set aside first and put back after, ids and all.
    op.execute("CREATE TEMP TABLE _keep_answers AS SELECT * FROM answers")
    op.execute("CREATE TEMP TABLE _keep_revisions AS SELECT * FROM answer_revisions")
    _alter_checkins(add)
    op.execute("DELETE FROM answers")  # nothing is left, unless the cascade did not happen
    op.execute("INSERT INTO answers SELECT * FROM _keep_answers")
    op.execute("DELETE FROM answer_revisions")
    op.execute("INSERT INTO answer_revisions SELECT * FROM _keep_revisions")
    op.execute("DROP TABLE _keep_answers")
    op.execute("DROP TABLE _keep_revisions")


def _alter_checkins(add: bool) -> None:
    with op.batch_alter_table("checkins") as batch:
        if add:
            batch.drop_constraint(OLD_KEY, type_="unique")
            batch.create_unique_constraint(NEW_KEY, ["engineer_id", "week_start", "kind"])
        else:
            batch.drop_constraint(NEW_KEY, type_="unique")
            batch.create_unique_constraint(OLD_KEY, ["engineer_id", "week_start"])
