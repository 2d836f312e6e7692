"""Multi-workspace settings: which combinations start, and one line for each that can't."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings

CLIENT = {"SLACK_CLIENT_ID": "1234567890.987654321", "SLACK_CLIENT_SECRET": "s3cr3t", "SLACK_SIGNING_SECRET": "sig"}


def _settings(**environ: str):
    return load_settings(environ=environ, env_file=None)


def test_client_id_and_secret_without_a_bot_token_is_multi_workspace():
    settings = _settings(**CLIENT)
    settings.require_slack()
    assert settings.multi_workspace
    assert settings.uninstall_retention_days == 30


def test_a_bot_token_alone_stays_single_workspace():
    settings = _settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="sig")
    settings.require_slack()
    assert not settings.multi_workspace


@pytest.mark.parametrize(("environ", "says"), [
    ({**CLIENT, "SLACK_BOT_TOKEN": "xoxb-1"}, "Both SLACK_BOT_TOKEN and SLACK_CLIENT_ID"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "sig"},
     "Both SLACK_BOT_TOKEN and SLACK_CLIENT_ID"),
    ({"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "sig"}, "SLACK_CLIENT_ID is set without SLACK_CLIENT_SECRET"),
    ({"SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "sig"}, "SLACK_CLIENT_SECRET is set without SLACK_CLIENT_ID"),
    ({**CLIENT, "SLACK_APP_TOKEN": "xapp-1"}, "Socket Mode) cannot serve Slack's OAuth install"),
    ({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s"}, "SLACK_SIGNING_SECRET is not set"),
    ({}, "SLACK_BOT_TOKEN is not set"),
])
def test_every_inconsistent_combination_is_one_line(environ, says):
    with pytest.raises(SettingsError, match=said(says)) as error:
        _settings(**environ).require_slack()
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(("name", "value"), [
    ("SLACK_CLIENT_ID", "A0123ABC"), ("SLACK_CLIENT_ID", "xoxb-1"),
    ("UNINSTALL_RETENTION_DAYS", "-1"), ("UNINSTALL_RETENTION_DAYS", "thirty"),
])
def test_a_malformed_setting_is_named(name, value):
    with pytest.raises(SettingsError, match=name):
        _settings(**{**CLIENT, name: value})


def test_retention_can_be_zero_days():
    assert _settings(**CLIENT, UNINSTALL_RETENTION_DAYS="0").uninstall_retention_days == 0


def said(text: str) -> str:
    import re

    return re.escape(text)
