"""Hostile checks of team_access_revoked / team_access_granted (an org-wide Grid install removed
from, or added back to, some of the org's workspaces). Bolt runs no authorization at all for
team_access_revoked (it is one of its "no auth.test" events), so any org's event reaches the
listener; only the workspaces the bot knows in that org may ever change. The listeners are
called here as Bolt calls them, with the running bot's services, so what did not change is
known at once instead of waited for."""

from __future__ import annotations

from datetime import timedelta

from slack_bolt import BoltContext
from sqlalchemy import event, func, select

from bot.listeners.workspace_events import on_team_access_granted, on_team_access_revoked
from bot.workspace_lifecycle import purge
from storage.models import Engineer
from storage.workspace_models import Workspace
from tests.checkins.desk import add_engineers, engineer_row
from tests.workspaces.install import install
from tests.workspaces.test_install_e2e import FRIDAY, run_due
from tests.workspaces.test_isolation import command
from tests.workspaces.test_org_access import ORG, bot, sent_to, wait_known   # noqa: F401 - bot is a fixture


def revoked(bot, team_ids, enterprise_id: str | None = ORG) -> None:
    on_team_access_revoked({"type": "team_access_revoked", "team_ids": team_ids},
                           BoltContext(services=bot.services, enterprise_id=enterprise_id))


def granted(bot, team_ids, enterprise_id: str | None = ORG) -> None:
    on_team_access_granted({"type": "team_access_granted", "team_ids": team_ids},
                           BoltContext(services=bot.services, enterprise_id=enterprise_id))


def workspaces(bot) -> dict[str, tuple[str | None, bool]]:
    """Every known workspace: its org, and whether it is uninstalled."""
    with bot.services.session_factory() as session:
        return {w.team_id: (w.enterprise_id, w.uninstalled_at is not None) for w in session.scalars(select(Workspace))}


def test_payloads_of_no_use_change_nothing(bot):
    before = workspaces(bot)
    for team_ids in ("TD", {"TD": True}, None, 7, [["TD"]], [{"id": "TD"}], ["td"], ["TD "], ["E1"], [ORG],
                     ["T" * 32], ["TD\n"], ["T' OR 1=1 --"]):
        revoked(bot, team_ids)
        granted(bot, team_ids)
    revoked(bot, ["TD", "TC"], enterprise_id=None)            # no enterprise: not an org's event
    revoked(bot, ["TD", "TC"], enterprise_id="")
    assert workspaces(bot) == before
    assert before["TD"] == (ORG, False) and before["TX"] == (None, False)


def test_another_orgs_event_never_stops_this_orgs_or_a_standalone_workspace(bot):
    with bot.services.uow.writing() as session:                 # a workspace of another org, known here
        session.add(Workspace(team_id="TZ", enterprise_id="E2", installed_at=FRIDAY - timedelta(days=30)))
    before = workspaces(bot)
    revoked(bot, ["TC", "TD", "TX"], enterprise_id="E9")        # an org that names others' workspaces
    revoked(bot, ["TC", "TD", "TX"], enterprise_id="E2")
    revoked(bot, ["TX", "TZ"])                                   # this org naming what is not its own
    assert workspaces(bot) == before


def test_a_grant_for_a_workspace_never_seen_does_not_make_it_the_orgs(bot):
    # Org E1 names TN, which the bot never heard from; TN then installs the app on its own.
    granted(bot, ["TN"])
    assert install(bot, "TN")[0] == 200
    command(bot, "/ladder senior", "UHTN", "TN")
    wait_known(bot, "TN")
    add_engineers(bot.services.session_factory, [engineer_row("UN1", team_id="TN")])
    # E1 revoking TN (an event Bolt lets through unauthorized) must not stop a workspace that is
    # not the org's: the grant above must not have recorded it as the org's.
    revoked(bot, ["TN"])
    assert workspaces(bot)["TN"][1] is False
    bot.fake.clear()
    run_due(bot, FRIDAY)
    assert sent_to(bot.fake, "UN1", "UC1") == {"UN1": True, "UC1": True}


def test_a_grant_from_another_org_never_brings_back_a_workspace_this_org_removed(bot):
    revoked(bot, ["TD"])
    assert workspaces(bot)["TD"] == (ORG, True)
    granted(bot, ["TD", "TX"], enterprise_id="E9")
    assert workspaces(bot)["TD"] == (ORG, True) and workspaces(bot)["TX"] == (None, False)
    bot.fake.clear()
    run_due(bot, FRIDAY)
    assert sent_to(bot.fake, "UC1", "UD1", "UX1") == {"UC1": True, "UD1": False, "UX1": True}


def test_a_replayed_revoke_does_not_move_the_grace_period(bot):
    revoked(bot, ["TD"])
    with bot.services.session_factory() as session:
        first = session.get(Workspace, "TD").uninstalled_at
    real_now = bot.services.now
    bot.services.now = lambda: real_now() + timedelta(days=20)
    try:
        revoked(bot, ["TD"])                                     # Slack's retry, or a replay, weeks later
        granted(bot, ["TC"])                                     # a grant for one never removed: no change
    finally:
        bot.services.now = real_now
    with bot.services.session_factory() as session:
        assert session.get(Workspace, "TD").uninstalled_at == first
        assert session.get(Workspace, "TC").uninstalled_at is None


def test_a_grant_after_the_purge_brings_nothing_back_and_creates_nothing(bot):
    revoked(bot, ["TD"])
    purge(bot.services, "TD")
    granted(bot, ["TD"])
    with bot.services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Engineer).where(Engineer.team_id == "TD")) == 0
    bot.fake.clear()
    run_due(bot, FRIDAY)
    assert sent_to(bot.fake, "UC1", "UD1") == {"UC1": True, "UD1": False}


def test_a_huge_list_is_a_few_statements_not_one_per_id(bot):
    engine = bot.services.uow.engine
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    ids = [f"T{n:08d}" for n in range(20_000)] + ["TD"] * 1000
    event.listen(engine, "before_cursor_execute", count)
    try:
        revoked(bot, ids)
        revoked_statements = len(statements)
        statements.clear()
        granted(bot, ids)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # In one write transaction, which on SQLite holds every other writer (and so every ack) back:
    # a SELECT per id was 21,000 statements.
    assert revoked_statements <= 100, revoked_statements
    assert len(statements) <= 100, len(statements)
    found = workspaces(bot)
    assert found["TD"] == (ORG, False) and not any(team.startswith("T0") for team in found)
