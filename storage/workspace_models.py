"""The tables of a multi-workspace install (one deployment serving several Slack workspaces).

Kept apart from `storage.models` so the workspace lifecycle (installed, uninstalled, purged)
reads in one place; registered on the same `Base`, so migrations and checks see it.

slack-sdk's own installation and OAuth state tables are built here by slack-sdk's own
classmethods onto our metadata (rather than left out of the migration check): the test that
compares migrations with the metadata then also proves that migration 0007 creates exactly the
tables slack-sdk's SQLAlchemy stores read and write, and an upgrade of slack-sdk that changes
them fails that test instead of failing an install in production.
"""

from __future__ import annotations

from datetime import datetime

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

SLACK_BOTS = SQLAlchemyInstallationStore.build_bots_table(
    Base.metadata, SQLAlchemyInstallationStore.default_bots_table_name)
SLACK_INSTALLATIONS = SQLAlchemyInstallationStore.build_installations_table(
    Base.metadata, SQLAlchemyInstallationStore.default_installations_table_name)
SLACK_OAUTH_STATES = SQLAlchemyOAuthStateStore.build_oauth_states_table(
    Base.metadata, SQLAlchemyOAuthStateStore.default_table_name)


class Workspace(Base):
    """One Slack workspace the app was installed in, and whether it still is.

    `uninstalled_at` set: nothing is sent there any more, and its data is deleted once the grace
    period (UNINSTALL_RETENTION_DAYS) is over; a reinstall within it clears it and keeps the data.
    """

    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(primary_key=True)
    # The Enterprise Grid org it belongs to, if any.
    enterprise_id: Mapped[str | None]
    installed_at: Mapped[datetime]
    uninstalled_at: Mapped[datetime | None]
