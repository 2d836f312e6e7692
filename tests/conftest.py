"""Shared fixtures: databases (SQLite and a real PostgreSQL), the fake Slack, the running app."""

pytest_plugins = ["tests.db_fixtures"]
