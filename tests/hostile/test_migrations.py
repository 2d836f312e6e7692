"""Hostile migration 0005 (answers.slack_ts unique per engineer) with data in it, on both databases:
down again once two engineers share a ts, which the old key cannot hold."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from storage.db import alembic_config, current_revision, make_engine, upgrade_database

TS = "1800000000.000100"


def _seed(connection) -> None:
    for eid, user in ((1, "U1"), (2, "U2")):
        connection.execute(text(
            "INSERT INTO engineers (id, team_id, user_id, tz, reminders_enabled, rotation_offset, created_at, "
            f"updated_at) VALUES ({eid}, 'T1', '{user}', 'UTC', true, 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
        connection.execute(text(
            "INSERT INTO checkins (id, engineer_id, week_start, due_at, status, questions, attempts) "
            f"VALUES ({eid}, {eid}, '2026-03-02', '2026-03-06 16:00:00', 'answered', '[]', 1)"))
        connection.execute(text(
            "INSERT INTO answers (id, checkin_id, engineer_id, question_id, question_text, text, source, is_private, "
            f"slack_ts, created_at, updated_at) VALUES ({eid * 10}, {eid}, {eid}, 'q1', 'What did you ship?', "
            f"'reply of {user}', 'thread', false, '{TS}', '2026-03-06 16:30:00', '2026-03-07 10:00:00')"))
        connection.execute(text("INSERT INTO answer_revisions (id, answer_id, previous_text, edited_at) "
                                f"VALUES ({eid}, {eid * 10}, 'first draft', '2026-03-07 10:00:00')"))


def _log(engine) -> tuple[list, list]:
    with engine.begin() as connection:
        return (connection.execute(text("SELECT id, engineer_id, text FROM answers ORDER BY id")).all(),
                connection.execute(text("SELECT id, answer_id FROM answer_revisions ORDER BY id")).all())


def test_downgrading_0005_with_two_engineers_sharing_a_ts_loses_nothing_and_stays_usable(blank_database_url):
    engine = make_engine(blank_database_url)
    try:
        upgrade_database(engine)
        head = current_revision(engine)
        with engine.begin() as connection:
            _seed(connection)
        before = _log(engine)
        config = alembic_config()
        try:
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.downgrade(config, "0004")
        except Exception:  # noqa: BLE001 - refusing is fine, as long as nothing is lost or left half-done
            pass
        assert _log(engine) == before                             # every answer and revision kept
        revision = current_revision(engine)
        if revision == head:                                      # refused: the bot still starts on it
            upgrade_database(engine)
            with engine.begin() as connection:
                names = {row[0] for row in connection.execute(text(
                    "SELECT name FROM sqlite_master WHERE type = 'table'" if engine.dialect.name == "sqlite" else
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))}
            assert not {n for n in names if n.startswith("_")}, names   # no half-done rebuild left behind
        else:
            assert revision == "0004"
    finally:
        engine.dispose()
