"""An org-wide (Enterprise Grid) install removed from one of the org's workspaces, and added back:
Slack says so with `team_access_revoked` / `team_access_granted`. Only that workspace stops; the
org's install keeps serving the others; coming back within the grace period keeps its data."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.workspace_models import SLACK_INSTALLATIONS, Workspace
from tests.checkins.desk import add_engineers, checkin_dms, engineer_row
from tests.fake_slack import FakeSlack
from tests.workspaces.install import install, send_event, start_multi_workspace_bot
from tests.workspaces.test_isolation import command
from tests.workspaces.test_install_e2e import FRIDAY, run_due, wait_uninstalled

ORG = "E1"


@pytest.fixture
def bot(database_url):
    with FakeSlack() as fake:
        bot, stop = start_multi_workspace_bot(fake, database_url)
        assert install(bot, "TC", enterprise_id=ORG, org_install=True)[0] == 200
        fake.add_workspace("TD", enterprise_id=ORG)      # the org's second workspace
        assert install(bot, "TX")[0] == 200                # a standalone workspace, no org
        for team in ("TC", "TD"):                         # a first request from each makes it known
            command(bot, "/ladder senior", "UH" + team, team)
            wait_known(bot, team)
        add_engineers(bot.services.session_factory, [engineer_row("UC1", team_id="TC"),
                                                     engineer_row("UD1", team_id="TD"),
                                                     engineer_row("UX1", team_id="TX")])
        yield bot
        stop()


def wait_known(bot, team_id: str) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with bot.services.session_factory() as session:
            if session.get(Workspace, team_id) is not None:
                return
        time.sleep(0.02)
    raise AssertionError(f"{team_id} never became known")


def wait_installed(bot, team_id: str) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with bot.services.session_factory() as session:
            found = session.get(Workspace, team_id)
            if found is not None and found.uninstalled_at is None:
                return
        time.sleep(0.02)
    raise AssertionError(f"{team_id} was not installed again")


def org_event(bot, event: dict, event_id: str, enterprise_id: str = ORG) -> int:
    return send_event(bot, event, "TC", event_id, enterprise_id=enterprise_id, org_install=True)


def sent_to(fake, *users: str) -> dict[str, bool]:
    return {user: bool(checkin_dms(fake, user)) for user in users}


def test_a_workspace_removed_from_the_org_install_stops_alone_and_comes_back_with_its_data(bot):
    fake = bot.fake
    assert org_event(bot, {"type": "team_access_revoked", "team_ids": ["TD"]}, "EvR1") == 200
    wait_uninstalled(bot, "TD")
    fake.clear()
    report = run_due(bot, FRIDAY)
    assert sent_to(fake, "UC1", "UD1", "UX1") == {"UC1": True, "UD1": False, "UX1": True}, report
    with bot.services.session_factory() as session:
        # The org's install stays: it still serves TC.
        assert session.scalars(select(SLACK_INSTALLATIONS.c.enterprise_id)
                               .where(SLACK_INSTALLATIONS.c.enterprise_id == ORG)).first() == ORG
        assert session.get(Workspace, "TC").uninstalled_at is None

    # Added back within the grace period: it is sent to again, its engineer as it was.
    assert org_event(bot, {"type": "team_access_granted", "team_ids": ["TD"]}, "EvG1") == 200
    wait_installed(bot, "TD")
    fake.clear()
    run_due(bot, FRIDAY + timedelta(days=7))
    assert sent_to(fake, "UC1", "UD1") == {"UC1": True, "UD1": True}


def test_another_orgs_event_or_crafted_ids_stop_nothing(bot):
    fake = bot.fake
    # Another org (Bolt authorizes no team_access event: the org check is ours), or this org naming a
    # standalone workspace, a workspace of no org, and things that are not team ids at all.
    org_event(bot, {"type": "team_access_revoked", "team_ids": ["TD", "TC"]}, "EvR2", enterprise_id="E9")
    assert org_event(bot, {"type": "team_access_revoked", "team_ids": ["TX", "T' OR 1=1", 7, None, ["TD"]]},
                     "EvR3") == 200
    assert org_event(bot, {"type": "team_access_revoked", "team_ids": "TD"}, "EvR4") == 200
    time.sleep(0.3)   # the listeners run after the ack; nothing may change, so there is nothing to wait for
    with bot.services.session_factory() as session:
        assert [w.team_id for w in session.scalars(select(Workspace).where(Workspace.uninstalled_at.is_not(None)))] == []
    fake.clear()
    run_due(bot, FRIDAY)
    assert sent_to(fake, "UC1", "UD1", "UX1") == {"UC1": True, "UD1": True, "UX1": True}
