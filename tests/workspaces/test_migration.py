"""Migration 0007 on both databases: slack-sdk's stores work on the tables it creates, and back."""

from __future__ import annotations

import time

from alembic import command
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import inspect, text

from storage.db import alembic_config, current_revision, make_engine, upgrade_database

NEW_TABLES = {"slack_bots", "slack_installations", "slack_oauth_states", "workspaces"}


def test_slack_sdks_stores_work_on_the_migrated_tables_and_down_removes_only_them(blank_database_url):
    engine = make_engine(blank_database_url)
    try:
        upgrade_database(engine, "0006")
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO engineers (id, team_id, user_id, tz, reminders_enabled, rotation_offset, created_at, "
                "updated_at) VALUES (1, 'T1', 'U1', 'UTC', true, 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
        upgrade_database(engine)
        assert NEW_TABLES <= set(inspect(engine).get_table_names())

        store = SQLAlchemyInstallationStore(client_id="111.222", engine=engine)
        store.save(Installation(app_id="A1", enterprise_id="E1", team_id="T9", user_id="U9", bot_token="xoxb-t9",
                                bot_id="B9", bot_user_id="UB9", bot_scopes="chat:write",
                                bot_refresh_token="xoxe-1", bot_token_expires_in=43200))
        bot = store.find_bot(enterprise_id="E1", team_id="T9")
        assert (bot.bot_token, bot.bot_refresh_token) == ("xoxb-t9", "xoxe-1")
        assert bot.bot_token_expires_at > time.time()
        assert store.find_installation(enterprise_id="E1", team_id="T9").user_id == "U9"
        states = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)
        state = states.issue()
        assert states.consume(state) and not states.consume(state)

        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0006")
        assert current_revision(engine) == "0006"
        assert not NEW_TABLES & set(inspect(engine).get_table_names())
        with engine.begin() as connection:
            assert connection.execute(text("SELECT user_id FROM engineers")).all() == [("U1",)]
        upgrade_database(engine)                       # and up again from there
        assert NEW_TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
