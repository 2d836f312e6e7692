"""Migration 0004 on a database with a log in it: nothing of the log is lost, on both databases.

On SQLite the check-ins table is rebuilt to change its unique key, and with foreign keys on, a
rebuilt parent would take every answer with it (the migration sets them aside and back)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from storage.db import alembic_config, current_revision, make_engine, upgrade_database

SEED = [
    "INSERT INTO engineers (id, team_id, user_id, tz, reminders_enabled, rotation_offset, created_at, updated_at) "
    "VALUES (1, 'T1', 'U1', 'UTC', true, 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    "INSERT INTO checkins (id, engineer_id, week_start, due_at, status, questions, attempts) "
    "VALUES (7, 1, '2026-03-02', '2026-03-06 16:00:00', 'answered', '[]', 1)",
    "INSERT INTO answers (id, checkin_id, engineer_id, question_id, question_text, text, source, is_private, "
    "created_at, updated_at) VALUES (11, 7, 1, 'q1', 'What did you ship?', 'The billing fix', 'modal', false, "
    "'2026-03-06 16:30:00', '2026-03-07 10:00:00')",
    "INSERT INTO answer_revisions (id, answer_id, previous_text, edited_at) "
    "VALUES (3, 11, 'The billng fix', '2026-03-07 10:00:00')",
]


def test_upgrading_keeps_every_answer_and_allows_a_team_reflection_the_same_week(blank_database_url):
    engine = make_engine(blank_database_url)
    try:
        upgrade_database(engine, "0003")
        with engine.begin() as connection:
            for statement in SEED:
                connection.execute(text(statement))
        upgrade_database(engine, "0004")
        assert current_revision(engine) == "0004"
        with engine.begin() as connection:
            assert connection.execute(text("SELECT id, checkin_id, text FROM answers")).all() == [
                (11, 7, "The billing fix")]
            assert connection.execute(text("SELECT id, answer_id FROM answer_revisions")).all() == [(3, 11)]
            assert connection.execute(text("SELECT kind, outbox_id FROM checkins")).all() == [("growth", None)]
            connection.execute(text(
                "INSERT INTO checkins (engineer_id, week_start, due_at, status, questions, attempts, kind) "
                "VALUES (1, '2026-03-02', '2026-03-02 09:00:00', 'sent', '[]', 0, 'lead')"))
            lead = connection.execute(text("SELECT lead_enabled, lead_every_weeks FROM engineers")).one()
            assert (bool(lead[0]), lead[1]) == (False, 1)
        config = alembic_config()                              # and back: the team reflection goes
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0003")
        with engine.begin() as connection:
            assert connection.execute(text("SELECT id FROM checkins")).all() == [(7,)]
            assert connection.execute(text("SELECT id FROM answers")).all() == [(11,)]
    finally:
        engine.dispose()


def test_upgrading_to_head_and_back_keeps_every_answer_and_its_revisions(blank_database_url):
    engine = make_engine(blank_database_url)
    try:
        upgrade_database(engine, "0003")
        with engine.begin() as connection:
            for statement in SEED:
                connection.execute(text(statement))
        upgrade_database(engine)
        with engine.begin() as connection:
            assert connection.execute(text("SELECT id FROM answers")).all() == [(11,)]
            assert connection.execute(text("SELECT id, answer_id FROM answer_revisions")).all() == [(3, 11)]
        config = alembic_config()                              # 0005 back down keeps them too
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0004")
        with engine.begin() as connection:
            assert connection.execute(text("SELECT id, answer_id FROM answer_revisions")).all() == [(3, 11)]
    finally:
        engine.dispose()
