"""Settings, read from the environment and `.env` in one place.

Nothing else in the bot touches `os.environ`. A missing or malformed setting raises
`SettingsError` with one line saying which setting and how to fix it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Mapping
from urllib.parse import urlparse

from dotenv import dotenv_values

from bot.catalog import BUNDLED_CONTENT_DIR
from bot.domain.clock import parse_clock, parse_weekday

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///growth-bot.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_UNINSTALL_RETENTION_DAYS = 30


class SettingsError(Exception):
    """One clear line: which setting is wrong and how to fix it."""


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None
    slack_signing_secret: str | None
    slack_app_token: str | None
    slack_api_url: str
    database_url: str
    content_dir: Path
    port: int
    log_level: str
    default_framework: str | None
    scheduler_enabled: bool
    checkin_day: int
    checkin_time: time
    questions_per_checkin: int
    reminder_delay_hours: float
    prep_lead_hours: float
    send_concurrency: int
    admin_user_ids: frozenset[str]
    # Encryption at rest (storage.crypto): keys as given, newest first; parsed and checked there.
    encryption_keys: tuple[str, ...] = ()
    encryption_key_file: Path | None = None
    # Answers, revisions and assessments older than this are deleted by the daily pass; None keeps.
    answer_retention_months: int | None = None
    # Multi-workspace mode (Slack's OAuth install, bot.oauth): both set and no SLACK_BOT_TOKEN.
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    # An uninstalled workspace's data is deleted this many days after the uninstall.
    uninstall_retention_days: int = DEFAULT_UNINSTALL_RETENTION_DAYS

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @property
    def multi_workspace(self) -> bool:
        """Installed through Slack's OAuth flow into any number of workspaces (bot.oauth)."""
        return bool(self.slack_client_id and self.slack_client_secret) and not self.slack_bot_token

    def require_slack(self) -> None:
        """Raise unless the Slack settings needed to serve requests are present and consistent."""
        oauth = self.slack_client_id or self.slack_client_secret
        if self.slack_bot_token and oauth:
            raise SettingsError(
                "Both SLACK_BOT_TOKEN and SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are set: keep SLACK_BOT_TOKEN for one "
                "workspace, or remove it to install in several workspaces through Slack's OAuth flow.")
        if oauth and not self.slack_client_id:
            raise SettingsError(
                "SLACK_CLIENT_SECRET is set without SLACK_CLIENT_ID: paste the Client ID from your Slack app's "
                "Basic Information page into .env (both are needed to install in several workspaces).")
        if oauth and not self.slack_client_secret:
            raise SettingsError(
                "SLACK_CLIENT_ID is set without SLACK_CLIENT_SECRET: paste the Client Secret from your Slack app's "
                "Basic Information page into .env (both are needed to install in several workspaces).")
        if self.multi_workspace:
            if self.socket_mode:
                # The install page and the OAuth redirect are HTTP endpoints that Socket Mode never serves.
                raise SettingsError(
                    "SLACK_APP_TOKEN (Socket Mode) cannot serve Slack's OAuth install: remove it and serve HTTP "
                    "(Slack must reach https://YOUR-HOST/slack/oauth_redirect), or use SLACK_BOT_TOKEN for one "
                    "workspace.")
            if not self.slack_signing_secret:
                raise SettingsError(
                    "SLACK_SIGNING_SECRET is not set: installing in several workspaces serves HTTP, so paste the "
                    "Signing Secret from your Slack app's Basic Information page into .env.")
            return
        if not self.slack_bot_token:
            raise SettingsError(
                "SLACK_BOT_TOKEN is not set: copy .env.example to .env and paste the Bot User "
                "OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page (or set SLACK_CLIENT_ID "
                "and SLACK_CLIENT_SECRET to install in several workspaces)."
            )
        if not self.socket_mode and not self.slack_signing_secret:
            raise SettingsError(
                "SLACK_SIGNING_SECRET is not set: paste the Signing Secret from your Slack app's "
                "Basic Information page into .env (or set SLACK_APP_TOKEN to use Socket Mode)."
            )


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """Settings from `environ` (default: the process environment) over the `.env` file."""
    values: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    read = _Reader(values)
    return Settings(
        slack_bot_token=read.token("SLACK_BOT_TOKEN", "xoxb-", "the Bot User OAuth Token"),
        slack_signing_secret=read.optional("SLACK_SIGNING_SECRET"),
        slack_app_token=read.token("SLACK_APP_TOKEN", "xapp-", "an App-Level Token with connections:write"),
        slack_api_url=read.url("SLACK_API_URL", DEFAULT_SLACK_API_URL),
        database_url=read.database_url(),
        content_dir=read.directory("CONTENT_DIR", BUNDLED_CONTENT_DIR),
        port=read.integer("PORT", 3000, 1, 65535),
        log_level=read.choice("LOG_LEVEL", "INFO", LOG_LEVELS),
        default_framework=read.optional("DEFAULT_FRAMEWORK"),
        scheduler_enabled=read.boolean("SCHEDULER_ENABLED", True),
        checkin_day=read.weekday("CHECKIN_DEFAULT_DAY", "friday"),
        checkin_time=read.clock("CHECKIN_DEFAULT_TIME", "16:00"),
        questions_per_checkin=read.integer("QUESTIONS_PER_CHECKIN", 3, 1, 10),
        reminder_delay_hours=read.number("REMINDER_DELAY_HOURS", 24.0, 0.0, 24 * 6),
        prep_lead_hours=read.number("PREP_LEAD_HOURS", 3.0, 0.0, 48.0),
        send_concurrency=read.integer("SEND_CONCURRENCY", 4, 1, 64),
        admin_user_ids=frozenset(read.optional("ADMIN_USER_IDS", "").replace(" ", "").split(",")) - {""},
        encryption_keys=tuple(k for k in read.optional("GROWTH_ENCRYPTION_KEY", "").replace(" ", "").split(",") if k),
        encryption_key_file=read.file_path("GROWTH_ENCRYPTION_KEY_FILE"),
        answer_retention_months=read.optional_integer("ANSWER_RETENTION_MONTHS", 1, 1200),
        slack_client_id=read.client_id("SLACK_CLIENT_ID"),
        slack_client_secret=read.optional("SLACK_CLIENT_SECRET"),
        uninstall_retention_days=read.integer("UNINSTALL_RETENTION_DAYS", DEFAULT_UNINSTALL_RETENTION_DAYS, 0, 3650),
    )


class _Reader:
    def __init__(self, values: Mapping[str, str]):
        self.values = values

    def optional(self, name: str, default=None):
        value = self.values.get(name, "").strip()
        return value if value else default

    def token(self, name: str, prefix: str, what: str) -> str | None:
        value = self.optional(name)
        if value is not None and not value.startswith(prefix):
            raise SettingsError(f"{name} should be {what}, starting with {prefix!r}; check .env.")
        return value

    def client_id(self, name: str) -> str | None:
        value = self.optional(name)
        # Slack's client ids are two numbers joined by a dot; a pasted secret or app id is not.
        if value is not None and not re.fullmatch(r"\d+\.\d+", value):
            raise SettingsError(f"{name} should be the Client ID from your Slack app's Basic Information page, "
                                "like 1234567890.1234567890; check .env.")
        return value

    def url(self, name: str, default: str) -> str:
        value = self.optional(name, default)
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SettingsError(f"{name}={value!r} is not an http(s) URL, e.g. {default}")
        return value if value.endswith("/") else value + "/"

    def database_url(self) -> str:
        value = self.optional("DATABASE_URL", DEFAULT_DATABASE_URL)
        if "://" not in value:
            raise SettingsError(
                f"DATABASE_URL={value!r} is not a database URL: use sqlite:///growth-bot.db or "
                "postgresql://user:password@host:5432/dbname"
            )
        return value

    def directory(self, name: str, default: Path) -> Path:
        value = self.optional(name)
        path = Path(value).expanduser() if value else default
        if not path.is_dir():
            raise SettingsError(f"{name}={path} is not a folder; point it at a content folder (see content/README.md).")
        return path

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        value = self.optional(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise SettingsError(f"{name}={value!r} should be a whole number from {low} to {high}.") from None
        if not low <= number <= high:
            raise SettingsError(f"{name}={number} is out of range: use {low} to {high}.")
        return number

    def optional_integer(self, name: str, low: int, high: int) -> int | None:
        if self.optional(name) is None:
            return None
        return self.integer(name, low, low, high)

    def file_path(self, name: str) -> Path | None:
        value = self.optional(name)
        if value is None:
            return None
        path = Path(value).expanduser()
        if not path.is_file():
            raise SettingsError(f"{name}={path} is not a readable file; point it at the mounted key file.")
        return path

    def number(self, name: str, default: float, low: float, high: float) -> float:
        value = self.optional(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise SettingsError(f"{name}={value!r} should be a number from {low:g} to {high:g}.") from None
        if not low <= number <= high:
            raise SettingsError(f"{name}={value} is out of range: use {low:g} to {high:g}.")
        return number

    def boolean(self, name: str, default: bool) -> bool:
        value = self.optional(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{name}={value!r} should be true or false.")

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.optional(name, default).upper()
        if value not in choices:
            raise SettingsError(f"{name}={value!r} should be one of {', '.join(choices)}.")
        return value

    def weekday(self, name: str, default: str) -> int:
        value = self.optional(name, default)
        day = parse_weekday(value)
        if day is None:
            raise SettingsError(f"{name}={value!r} is not a weekday; use e.g. friday or fri.")
        return day

    def clock(self, name: str, default: str) -> time:
        value = self.optional(name, default)
        parsed = parse_clock(value)
        if parsed is None:
            raise SettingsError(f"{name}={value!r} is not a time of day; use 24-hour HH:MM, e.g. 16:00.")
        return parsed
