"""`growth-bot workspace purge` and `growth-bot org import` in multi-workspace mode."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.cli import main
from storage.models import Engineer
from tests.checkins.desk import add_engineers, engineer_row
from tests.fake_slack import FakeSlack
from tests.workspaces.install import install, start_multi_workspace_bot


@pytest.fixture
def bot(sqlite_url, monkeypatch, tmp_path):
    with FakeSlack() as fake:
        running, stop = start_multi_workspace_bot(fake, sqlite_url, ADMIN_USER_IDS="UADMIN")
        for name, value in {"SLACK_CLIENT_ID": fake.client_id, "SLACK_CLIENT_SECRET": fake.client_secret,
                            "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": fake.base_url, "DATABASE_URL": sqlite_url,
                            "ADMIN_USER_IDS": "UADMIN", "SLACK_BOT_TOKEN": ""}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)  # no .env of the checkout
        yield running
        stop()


def engineers_in(bot, team: str) -> int:
    with bot.services.session_factory() as session:
        return session.scalar(select(func.count()).select_from(Engineer).where(Engineer.team_id == team))


def test_purge_deletes_one_workspace_at_once(bot, capsys):
    add_engineers(bot.services.session_factory, [engineer_row("UA1", team_id="TA"), engineer_row("UB1", team_id="TB")])
    assert main(["workspace", "purge", "TA", "--yes"]) == 0
    assert "Deleted 1 rows of workspace TA: engineers 1." in capsys.readouterr().out
    assert (engineers_in(bot, "TA"), engineers_in(bot, "TB")) == (0, 1)


def test_purge_refuses_what_is_not_a_workspace_id(bot, capsys):
    assert main(["workspace", "purge", "UA1", "--yes"]) == 2
    assert "is not a workspace id" in capsys.readouterr().err


def test_org_import_needs_the_workspace_and_an_admin_of_it(bot, tmp_path, capsys):
    assert install(bot, "TA")[0] == 200 and install(bot, "TB")[0] == 200
    bot.fake.set_user("UADMIN", team_id="TB")
    bot.fake.set_user("UE", team_id="TA")
    bot.fake.set_user("UMGR", team_id="TA")
    csv = tmp_path / "org.csv"
    csv.write_text("engineer,manager\nUE,UMGR\n")
    assert main(["org", "import", str(csv), "--admin", "UADMIN"]) == 2
    assert "--team T… is required" in capsys.readouterr().err
    assert main(["org", "import", str(csv), "--admin", "UADMIN", "--team", "TA"]) == 2   # an admin of TB only
    assert "is not a user of TA" in capsys.readouterr().err
    assert engineers_in(bot, "TA") == 0
    assert main(["org", "import", str(csv), "--admin", "UADMIN", "--team", "TB"]) == 1    # UE, UMGR are not in TB
    assert engineers_in(bot, "TB") == 0
    bot.fake.set_user("UADMIN", team_id="TA")
    assert main(["org", "import", str(csv), "--admin", "UADMIN", "--team", "TA"]) == 0
    assert engineers_in(bot, "TA") == 1   # UE, with UMGR as manager
    assert {c.token for c in bot.fake.calls_to("chat.postMessage")} == set(bot.fake.tokens_of("TA"))
