"""`growth-bot org import FILE`: validation with line numbers, all or nothing, DMs, admins only."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bot.growthlog.access import REFUSAL
from bot.growthlog.org_import import (
    Relationship,
    apply_relationships,
    check_users,
    parse_relationships,
)
from storage.repositories import Engineers, OneOnOnes
from tests.growthlog.files_seed import add_checkin, add_engineer
from tests.keys import TEST_KEY_ENV

GROWTH_BOT = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "growth-bot"


# -- parsing --------------------------------------------------------------------------------------


def test_a_valid_file_gives_rows_with_their_line_numbers():
    parsed = parse_relationships("engineer,manager\nU1,UMGR\n\nU2 , UMGR\n")
    assert parsed.errors == ()
    assert parsed.rows == (Relationship(2, "U1", "UMGR"), Relationship(4, "U2", "UMGR"))


def test_the_id_header_a_bom_and_extra_columns_are_accepted():
    parsed = parse_relationships("\ufeffName,Engineer_ID,Manager_ID\nAda,U1,W2\n")
    assert parsed.errors == () and parsed.rows == (Relationship(2, "U1", "W2"),)


def test_a_wrong_header_is_reported_on_line_1():
    parsed = parse_relationships("email,boss\nada@example.com,bob@example.com\n")
    assert parsed.rows == ()
    assert parsed.errors[0].startswith("line 1: the first line must be the header `engineer,manager`")


def test_bad_rows_are_reported_with_their_line_numbers():
    text = "engineer,manager\nU1,UMGR\nada@example.com,UMGR\nU3,\nU4,U4\nU1,UOTHER\n\"U5\nx\",UMGR\nU6,UMGR\n"
    errors = parse_relationships(text).errors
    assert errors[0].startswith("line 3: engineer `ada@example.com` is not a Slack user id")
    assert errors[1] == "line 4: the manager is missing"
    assert errors[2] == "line 5: U4 cannot be their own manager"
    assert errors[3] == "line 6: U1 is already on line 2; give each engineer one manager"
    assert errors[4].startswith("line 7: engineer `U5\nx`")
    assert len(errors) == 5  # line 9 (U6) is fine


def test_an_empty_file_or_a_header_alone_is_an_error():
    assert parse_relationships("").errors[0].startswith("line 1: the file is empty")
    assert "no rows" in parse_relationships("engineer,manager\n").errors[0]


def test_users_slack_does_not_know_are_errors_and_each_is_asked_about_once():
    asked = []

    def problem_with(user_id):
        asked.append(user_id)
        return "is not a user in this workspace" if user_id == "UGONE" else None

    rows = [Relationship(2, "U1", "UGONE"), Relationship(3, "U2", "UGONE"), Relationship(4, "U3", "UMGR")]
    assert check_users(rows, problem_with) == ["line 2: UGONE is not a user in this workspace",
                                               "line 3: UGONE is not a user in this workspace"]
    assert sorted(asked) == ["U1", "U2", "U3", "UGONE", "UMGR"]


# -- applying, on SQLite and PostgreSQL -----------------------------------------------------------


def test_applying_sets_managers_creates_engineers_and_counts_unchanged(session_factory):
    add_engineer(session_factory, "U1", manager_user_id="UMGR")
    add_engineer(session_factory, "U2", manager_user_id="UOLD")
    rows = [Relationship(2, "U1", "UMGR"), Relationship(3, "U2", "UMGR"), Relationship(4, "U3", "UMGR")]
    with session_factory.begin() as session:
        applied = apply_relationships(session, "T1", rows)
    assert [r.engineer for r in applied.changed] == ["U2", "U3"]
    assert [r.engineer for r in applied.unchanged] == ["U1"]
    with session_factory() as session:
        assert [e.user_id for e in Engineers(session).reports_of("T1", "UMGR")] == ["U1", "U2", "U3"]


def test_an_imported_manager_replaces_the_previous_one_and_their_1on1(session_factory):
    add_engineer(session_factory, "U2", manager_user_id="UOLD")
    with session_factory.begin() as session:
        OneOnOnes(session).set("T1", "UOLD", "U2", 3, "10:00", "UTC")
    with session_factory.begin() as session:
        apply_relationships(session, "T1", [Relationship(2, "U2", "UNEW")])
    with session_factory() as session:
        assert Engineers(session).get("T1", "U2").manager_user_id == "UNEW"
        assert OneOnOnes(session).get("T1", "UOLD", "U2") is None


# -- the command ----------------------------------------------------------------------------------


def run_import(tmp_path: Path, fake_slack, database_url: str, csv_text: str, *extra: str,
               admin: str | None = "UADMIN") -> subprocess.CompletedProcess:
    path = tmp_path / "org.csv"
    path.write_text(csv_text)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_", "ADMIN_"))}
    env.update(SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=fake_slack.base_url, DATABASE_URL=database_url,
               ADMIN_USER_IDS="UADMIN, UOTHERADMIN", **TEST_KEY_ENV)
    args = [str(GROWTH_BOT), "org", "import", str(path), "--team", "T1", *extra]
    if admin:
        args += ["--admin", admin]
    # cwd: a folder without a .env, so only the settings above apply.
    return subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)


def managers(session_factory) -> dict[str, str | None]:
    with session_factory() as session:
        return {e.user_id: e.manager_user_id
                for e in Engineers(session).reports_of("T1", "UMGR") + Engineers(session).reports_of("T1", "UM2")}


def test_import_sets_relationships_and_dms_everyone_concerned(running_bot, fake_slack, sqlite_url, tmp_path):
    factory = running_bot.services.session_factory
    add_engineer(factory, "U3", manager_user_id="UM2")  # already so: unchanged, no DM
    result = run_import(tmp_path, fake_slack, sqlite_url, "engineer,manager\nU1,UMGR\nU2,UMGR\nU3,UM2\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "org import: 2 imported, 1 unchanged, 0 errors (3 DMs sent)"
    assert managers(factory) == {"U1": "UMGR", "U2": "UMGR", "U3": "UM2"}
    to_engineer = fake_slack.messages_in("U1")[-1]["text"]
    assert "An admin set <@UMGR> as your manager" in to_engineer and "/growth manager" in to_engineer
    assert "<@UMGR>" in fake_slack.messages_in("U2")[-1]["text"]
    to_manager = fake_slack.messages_in("UMGR")
    assert len(to_manager) == 1 and "<@U1>, <@U2>" in to_manager[0]["text"]
    assert fake_slack.messages_in("U3") == [] and fake_slack.messages_in("UM2") == []


def test_importing_gives_the_manager_read_access_and_the_admin_none(running_bot, fake_slack, sqlite_url, tmp_path):
    from datetime import date

    add_checkin(running_bot.services.session_factory, "U1", date(2026, 3, 2),
                [("q1", "Shipped?", "The billing fix", False)])
    assert run_import(tmp_path, fake_slack, sqlite_url, "engineer,manager\nU1,UMGR\n").returncode == 0
    refused = running_bot.command("/growth export <@U1|ada>", user_id="UADMIN").followups()[0]["text"]
    assert refused == REFUSAL
    running_bot.command("/growth export <@U1|ada>", user_id="UMGR").followups()
    assert "The billing fix" in fake_slack.uploaded_files[-1].content.decode()


def test_one_bad_row_imports_nothing(running_bot, fake_slack, sqlite_url, tmp_path):
    result = run_import(tmp_path, fake_slack, sqlite_url, "engineer,manager\nU1,UMGR\nbob,UMGR\n")
    assert result.returncode == 1
    assert "nothing was imported" in result.stdout
    assert "line 3: engineer `bob` is not a Slack user id" in result.stderr
    assert managers(running_bot.services.session_factory) == {}
    assert fake_slack.calls_to("chat.postMessage") == []


def test_a_user_slack_does_not_know_imports_nothing(running_bot, fake_slack, sqlite_url, tmp_path):
    fake_slack.set_user_error("UGONE")
    result = run_import(tmp_path, fake_slack, sqlite_url, "engineer,manager\nU1,UMGR\nUGONE,UMGR\n")
    assert result.returncode == 1
    assert "line 3: UGONE is not a user in this workspace" in result.stderr
    assert managers(running_bot.services.session_factory) == {}


def test_only_a_listed_admin_may_import(running_bot, fake_slack, sqlite_url, tmp_path):
    for admin in ("UNOTADMIN", None):
        result = run_import(tmp_path, fake_slack, sqlite_url, "engineer,manager\nU1,UMGR\n", admin=admin)
        assert result.returncode == 2
        assert "ADMIN_USER_IDS" in result.stderr and "Traceback" not in result.stderr
    assert managers(running_bot.services.session_factory) == {}
    assert fake_slack.calls_to("users.info") == [] and fake_slack.calls_to("chat.postMessage") == []
