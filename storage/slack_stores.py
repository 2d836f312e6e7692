"""slack-sdk's SQLAlchemy installation and OAuth state stores, on our database.

Their tables come from migration 0007 (never `create_tables()`). The installation store also
records each install in `workspaces` (storage.workspace_models), so that a reinstall within the
grace period is known as one and sends to that workspace resume.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from storage.repositories.workspaces import Workspaces
from storage.uow import UnitOfWork

logger = logging.getLogger(__name__)
# How long the "Add to Slack" link stays valid (slack-sdk's default).
STATE_SECONDS = 600


class WorkspaceInstallationStore(SQLAlchemyInstallationStore):
    """slack-sdk's store, plus: every saved installation marks its workspace installed."""

    def __init__(self, client_id: str, uow: UnitOfWork):
        super().__init__(client_id=client_id, engine=uow.engine, logger=logger)
        self._uow = uow

    def save(self, installation: Installation) -> None:
        super().save(installation)
        team = installation.team_id if not installation.is_enterprise_install else None
        with self._uow.writing() as session:
            again = Workspaces(session).installed(team or installation.enterprise_id, installation.enterprise_id,
                                                  datetime.now(UTC))
        logger.info("Installed in %s%s", team or f"org {installation.enterprise_id}",
                    " again: its data was kept" if again else "")


def installation_store(uow: UnitOfWork, client_id: str) -> WorkspaceInstallationStore:
    return WorkspaceInstallationStore(client_id, uow)


def state_store(uow: UnitOfWork) -> SQLAlchemyOAuthStateStore:
    return SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=uow.engine, logger=logger)
