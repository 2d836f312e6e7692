"""The weekly check-in under test: engineers seeded in a real database, the due pass built the way
production builds it (bot.scheduling.make_due_runner, a real WebClient), a fake Slack recording
every DM. Shared by the check-in tests and benchmarks/fanout.py.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker
from slack_sdk import WebClient

from bot import ids
from bot.catalog import BUNDLED_CONTENT_DIR
from bot.checkins.runner import DueRunner, RunReport
from bot.scheduling import make_due_runner
from bot.services import Services, build_content_services
from bot.settings import Settings
from storage.models import CheckIn, Engineer
from storage.repositories import CheckIns
from tests.fake_slack import FakeSlack
from tests.running_bot import test_settings

TEAM = "T1"
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)  # enrolled well before any week the tests look at
TRUSTED = datetime(2100, 1, 1, tzinfo=UTC)  # "time zone just checked": no users.info round trip


def sparse_content(directory: Path) -> Path:
    """The bundled content, except that engineering-levels CTO is in no crosswalk row, so it
    has no reflection questions at all: the level a check-in must never go out for."""
    target = directory / "content"
    shutil.copytree(BUNDLED_CONTENT_DIR, target)
    crosswalk = target / "crosswalk.yaml"
    text = crosswalk.read_text()
    assert "[principal, architect, director, vp, cto]" in text
    crosswalk.write_text(text.replace("[principal, architect, director, vp, cto]", "[principal, architect, director, vp]"))
    return target


def engineer_row(user_id: str, *, tz: str = "UTC", weekday: int | None = 4, at: str | None = "16:00",
                 level: tuple[str, str] | None = ("delivery", "senior"), created_at: datetime = LONG_AGO,
                 tz_checked_at: datetime | None = TRUSTED, **fields: Any) -> dict:
    """Column values for one engineer (weekday 0 = Monday; `at` is local HH:MM)."""
    framework_id, level_id = level if level else (None, None)
    return {"team_id": TEAM, "user_id": user_id, "tz": tz, "tz_checked_at": tz_checked_at,
            "checkin_weekday": weekday, "checkin_time": at, "framework_id": framework_id,
            "level_id": level_id, "created_at": created_at, "updated_at": created_at, **fields}


def add_engineers(session_factory: sessionmaker[Session], rows: list[dict]) -> dict[str, int]:
    """Bulk-insert engineers in one statement and one transaction; returns user id -> engineer id."""
    with session_factory.begin() as session:
        session.execute(insert(Engineer), rows)
        found = session.execute(select(Engineer.user_id, Engineer.id).where(Engineer.team_id == TEAM))
        wanted = {row["user_id"] for row in rows}
        return {user_id: engineer_id for user_id, engineer_id in found if user_id in wanted}


def add_engineer(session_factory: sessionmaker[Session], user_id: str, **fields: Any) -> int:
    return add_engineers(session_factory, [engineer_row(user_id, **fields)])[user_id]


def checkin_dms(fake: FakeSlack, user_id: str) -> list[dict]:
    """The check-in DMs (not reminders or confirmations) the bot posted to `user_id`."""
    return [m for m in fake.messages_in("D" + user_id)
            if (m.get("metadata") or {}).get("event_type") == ids.CHECKIN_METADATA_EVENT]


def thread_replies(fake: FakeSlack, user_id: str, thread_ts: str) -> list[dict]:
    return [m for m in fake.messages_in("D" + user_id) if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts]


def asked(message: dict) -> list[str]:
    """The numbered questions as the DM shows them."""
    text = "\n".join(block["text"]["text"] for block in message.get("blocks", [])
                     if block.get("type") == "section" and block.get("text"))
    return [line.split(". ", 1)[1] for line in text.splitlines() if line[:1].isdigit() and ". " in line]


@dataclass
class Desk:
    """One process's view of the check-in machinery: settings, database, runner, fake Slack."""

    fake: FakeSlack
    settings: Settings
    services: Services
    session_factory: sessionmaker[Session]
    runner: DueRunner

    def run(self, now: datetime) -> RunReport:
        return self.runner.run(now)

    def checkin(self, engineer_id: int, week_start: date) -> CheckIn | None:
        with self.session_factory() as session:
            return CheckIns(session).for_week(engineer_id, week_start)

    def engineer(self, engineer_id: int) -> Engineer:
        with self.session_factory() as session:
            return session.get(Engineer, engineer_id)

    def update(self, engineer_id: int, **fields: Any) -> None:
        with self.session_factory.begin() as session:
            engineer = session.get(Engineer, engineer_id)
            for name, value in fields.items():
                setattr(engineer, name, value)


def make_desk(fake: FakeSlack, database_url: str, session_factory: sessionmaker[Session], **overrides: str) -> Desk:
    settings = test_settings(fake, database_url, **overrides)
    catalog, resolver, ladder = build_content_services(settings)
    services = Services(settings=settings, catalog=catalog, resolver=resolver, ladder=ladder,
                        session_factory=session_factory)
    client = WebClient(base_url=fake.base_url, token=settings.slack_bot_token)
    return Desk(fake, settings, services, session_factory, make_due_runner(services, client))
