"""Multi-workspace mode: Bolt's own OAuth install flow, on our database.

`GET /slack/install` shows Slack's "Add to Slack" page and `GET /slack/oauth_redirect` completes
an install (Bolt's default paths, served by bot.server). Installations and OAuth states live in
slack-sdk's SQLAlchemy stores (storage.slack_stores). The token exchange and token rotation use
the App's client, so they go to SLACK_API_URL like every other call (tests, GovSlack).
"""

from __future__ import annotations

from slack_bolt.oauth.oauth_settings import OAuthSettings

from bot.settings import Settings
from storage.slack_stores import WorkspaceInstallationStore, installation_store, state_store
from storage.uow import UnitOfWork

# The bot scopes an install asks for: manifest.yml's oauth_config.scopes.bot, which a test
# keeps equal (the manifest is not shipped with the package, so it is not read at start-up).
BOT_SCOPES = ("chat:write", "commands", "files:write", "im:history", "im:write", "users:read",
              "channels:read", "groups:read", "channels:history", "groups:history")
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def oauth_settings(settings: Settings, uow: UnitOfWork) -> tuple[OAuthSettings, WorkspaceInstallationStore]:
    """Bolt's OAuth settings for an App serving every workspace it is installed in, and the
    installation store, which the App also takes (so that its `authorize`, and with it token
    rotation, uses the App's client and so SLACK_API_URL)."""
    store = installation_store(uow, settings.slack_client_id)
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=store,
        state_store=state_store(uow),
    ), store
