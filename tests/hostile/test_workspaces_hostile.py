"""Hostile and clumsy clients of the multi-workspace install (#12): the OAuth redirect with bad
states and codes, Slack refusing the exchange, requests from workspaces that never installed or
have left, uninstall retried, what is sent after an uninstall, purge, and bad settings."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update

from bot.cli import main
from storage.workspace_models import SLACK_BOTS, SLACK_INSTALLATIONS, SLACK_OAUTH_STATES, Workspace
from tests import slack_requests as req
from tests.fake_slack import FakeSlack
from tests.keys import TEST_KEY_ENV
from tests.workspaces.install import get, install, send_event, start_multi_workspace_bot

FRIDAY = datetime(2026, 12, 4, 16, 5, tzinfo=UTC)


@pytest.fixture
def bot(database_url):
    with FakeSlack() as fake:
        bot, stop = start_multi_workspace_bot(fake, database_url)
        yield bot
        stop()


# ------------------------------------------------------------------ helpers

def begin_install(bot, query: str = "") -> tuple[str, str]:
    """The browser opens the install page: the state in its "Add to Slack" link, and its cookie."""
    status, headers, page = get(bot.url + "/slack/install" + query)
    assert status == 200, page
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page).group(1).replace("&amp;", "&")
    return parse_qs(urlsplit(link).query)["state"][0], headers["Set-Cookie"].split(";", 1)[0]


def redirect(bot, query: str, cookie: str | None = None) -> tuple[int, str]:
    status, _, page = get(f"{bot.url}/slack/oauth_redirect?{query}", {"Cookie": cookie} if cookie else {})
    return status, page


def installations(bot) -> dict[str, list]:
    with bot.services.session_factory() as session:
        return {"installations": sorted(session.scalars(select(SLACK_INSTALLATIONS.c.team_id)).all(), key=str),
                "bots": sorted(session.execute(select(SLACK_BOTS.c.team_id, SLACK_BOTS.c.bot_token)).all(), key=str),
                "workspaces": sorted(session.execute(select(Workspace.team_id, Workspace.uninstalled_at)).all())}


def assert_refused_page(status: int, page: str) -> None:
    assert 400 <= status < 500 or status == 502, (status, page)
    assert "Traceback" not in page and "Internal Server Error" not in page
    assert "<html" in page.lower()


# ------------------------------------------------------------------ the OAuth redirect

def test_forged_missing_and_cookieless_states_install_nothing(bot):
    assert install(bot, "TB")[0] == 200
    before = installations(bot)
    state, cookie = begin_install(bot)
    code = bot.fake.add_workspace("TA")
    for query, sent_cookie in ((f"code={code}&state=forged", "slack-app-oauth-state=forged"),
                               (f"code={code}&state=forged", cookie),
                               (f"code={code}", cookie),
                               (f"code={code}&state={state}", None),              # another browser's link
                               (f"code={code}&state={state}&state=x", "slack-app-oauth-state=x"),
                               ("state=" + state, cookie),                        # the code left out: state spent
                               (f"code={code}&state={state}", cookie)):           # replayed: spent
        assert_refused_page(*redirect(bot, query, sent_cookie))
    assert installations(bot) == before
    assert not bot.fake.calls_to("oauth.v2.access", ok=True)[1:]  # only TB's own install traded a code


def test_an_expired_state_is_refused(bot):
    state, cookie = begin_install(bot)
    with bot.services.uow.writing() as session:
        session.execute(update(SLACK_OAUTH_STATES).values(expire_at=datetime.now(UTC) - timedelta(seconds=1)))
    code = bot.fake.add_workspace("TA")
    assert_refused_page(*redirect(bot, f"code={code}&state={state}", cookie))
    assert installations(bot)["installations"] == []


def test_the_user_cancelling_on_slack_is_a_page_not_an_install(bot):
    state, cookie = begin_install(bot)
    status, page = redirect(bot, f"error=access_denied&state={state}", cookie)
    assert status == 200 and "Traceback" not in page
    assert installations(bot)["installations"] == []


@pytest.mark.parametrize(("error", "status", "after_work"), [
    ("invalid_code", None, False),        # Slack says no
    ("internal_error", 500, False),       # Slack is down
    ("timeout", 200, True),               # Slack traded the code and the answer never came
])
def test_slack_refusing_the_code_exchange_is_a_clear_page(bot, error, status, after_work):
    assert install(bot, "TB")[0] == 200
    before = installations(bot)
    state, cookie = begin_install(bot)
    code = bot.fake.add_workspace("TA")
    bot.fake.fail_next("oauth.v2.access", error, status=status, after_work=after_work, times=2)
    page_status, page = redirect(bot, f"code={code}&state={state}", cookie)
    assert_refused_page(page_status, page)
    assert installations(bot) == before


def test_a_bot_token_that_fails_auth_test_is_not_stored(bot):
    state, cookie = begin_install(bot)
    code = bot.fake.add_workspace("TA")
    bot.fake.fail_next("auth.test", "invalid_auth", times=2)
    assert_refused_page(*redirect(bot, f"code={code}&state={state}", cookie))
    assert installations(bot) == {"installations": [], "bots": [], "workspaces": []}


def test_the_same_code_twice_installs_once_and_overwrites_nothing(bot):
    assert install(bot, "TB")[0] == 200
    state, cookie = begin_install(bot)
    code = bot.fake.add_workspace("TA")
    assert redirect(bot, f"code={code}&state={state}", cookie)[0] == 200
    after_first = installations(bot)
    state, cookie = begin_install(bot)
    assert_refused_page(*redirect(bot, f"code={code}&state={state}", cookie))
    assert installations(bot) == after_first
    assert [team for team, _ in after_first["bots"]] == ["TA", "TB"]


@pytest.mark.parametrize("query", [
    "?team=T1%26scope%3Dadmin%26redirect_uri%3Dhttps%3A%2F%2Fevil.example",
    "?team=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "?team=&team=T2", "?%ff%fe=%ff", "?team", "?" + "a" * 4000, "?state=x&code=y",
])
def test_odd_install_queries_give_the_page_and_a_link_with_our_own_parameters_only(bot, query):
    status, _, page = get(bot.url + "/slack/install" + query)
    assert status == 200 and "<script>" not in page
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page).group(1).replace("&amp;", "&")
    params = parse_qs(urlsplit(link).query, keep_blank_values=True)
    assert all(len(values) == 1 for values in params.values()), params
    assert set(params) <= {"state", "client_id", "scope", "user_scope", "team"}
    assert params.get("team", ["T2"])[0] in ("T2",)


# ------------------------------------------------------------------ requests from workspaces not installed

def workspace_rows(bot) -> list:
    return installations(bot)["workspaces"]


def test_a_workspace_that_never_installed_is_refused_and_nothing_is_stored(bot):
    from storage.models import Engineer

    assert install(bot, "TB")[0] == 200
    before = installations(bot)
    assert send_event(bot, {"type": "app_home_opened", "user": "UX1", "channel": "DUX1", "tab": "home"},
                      "TX", "EvX1") == 200
    body, ctype = req.slash_command(command="/growth", text="setup", user_id="UX1", team_id="TX",
                                    response_url=bot.fake.response_url("never"))
    assert bot.post(body, ctype)[0] == 200
    [refusal] = bot.fake.wait_for_response("never")
    assert "reinstall" in json.dumps(refusal).lower()
    assert not bot.fake.calls_to("views.publish") and not bot.fake.calls_to("views.open")
    assert installations(bot) == before
    with bot.services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Engineer).where(Engineer.team_id == "TX")) == 0


def test_uninstall_and_revoke_events_for_a_workspace_never_installed_store_nothing(bot):
    assert install(bot, "TB")[0] == 200
    before = installations(bot)
    assert send_event(bot, {"type": "app_uninstalled"}, "TX", "EvX2") == 200
    assert send_event(bot, {"type": "tokens_revoked", "tokens": {"oauth": ["UX1"]}}, "TY", "EvX3") == 200
    assert send_event(bot, {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}}, "TZ", "EvX4") == 200
    time.sleep(0.3)   # event listeners run after the ack
    assert installations(bot) == before


def test_an_uninstall_retried_by_slack_is_one_uninstall(bot):
    from tests.workspaces.test_install_e2e import wait_uninstalled

    assert install(bot, "TA")[0] == 200 and install(bot, "TB")[0] == 200
    assert send_event(bot, {"type": "app_uninstalled"}, "TA", "EvU1") == 200
    wait_uninstalled(bot, "TA")
    first = installations(bot)
    body, ctype = req.event_callback({"type": "app_uninstalled"}, event_id="EvU1", team_id="TA")
    assert bot.post(body, ctype, retry_num=1, retry_reason="http_timeout")[0] == 200
    time.sleep(0.3)
    assert installations(bot) == first       # the uninstall time is the first one's
    assert [team for team, _ in first["bots"]] == ["TB"]


# ------------------------------------------------------------------ nothing sent after an uninstall

def test_after_an_uninstall_nothing_uses_its_token_and_the_other_workspace_still_sends(bot):
    from bot.leaders.reflections import run_leaders
    from bot.outbox.sender import queue
    from bot.scheduling import make_due_runner
    from tests.checkins.desk import add_engineers, engineer_row
    from tests.workspaces.test_install_e2e import wait_uninstalled

    fake = bot.fake
    bot.services.now = lambda: FRIDAY   # the outbox sends what is due by then
    assert install(bot, "TA")[0] == 200 and install(bot, "TB")[0] == 200
    token_a = set(fake.tokens_of("TA"))
    add_engineers(bot.services.session_factory, [
        engineer_row("UA1", team_id="TA", manager_user_id="UMA"),
        engineer_row("UB1", team_id="TB", manager_user_id="UMB")])
    with bot.services.uow.writing() as session:
        held = queue(session, "note-a", channel="UA1", text="for A", blocks=[], now=FRIDAY, team_id="TA")
    fake.revoke("TA")
    assert send_event(bot, {"type": "app_uninstalled"}, "TA", "EvU2") == 200
    wait_uninstalled(bot, "TA")
    fake.clear()

    bot.services.outbox.send(held)
    bot.services.outbox.drain()
    report = run_leaders(bot.services, bot.services.clients.sender(), FRIDAY)
    due = make_due_runner(bot.services, None).run(FRIDAY)

    assert not [c for c in fake.calls if c.token in token_a]
    assert due.sent == 1 and report.offered == 1
    assert {c.args.get("channel") for c in fake.calls_to("chat.postMessage")} == {"UB1", "UMB"}, [(c.method, c.args.get("channel"), c.error) for c in fake.calls]


# ------------------------------------------------------------------ growth-bot workspace purge

def growth_bot(args: list[str], environ: dict[str, str], cwd, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`growth-bot` as an operator runs it: a subprocess, with only these settings (no .env)."""
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd), **TEST_KEY_ENV, **environ}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL)


def multi_workspace_env(bot, database_url: str) -> dict[str, str]:
    return {"SLACK_CLIENT_ID": bot.fake.client_id, "SLACK_CLIENT_SECRET": bot.fake.client_secret,
            "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": bot.fake.base_url, "DATABASE_URL": database_url}


def test_purge_refuses_an_installed_workspace_and_asks_before_anything_else(sqlite_url, tmp_path):
    from tests.checkins.desk import add_engineers, engineer_row
    from tests.workspaces.test_install_e2e import rows_of, wait_uninstalled

    with FakeSlack() as fake:
        bot, stop = start_multi_workspace_bot(fake, sqlite_url)
        try:
            assert install(bot, "TA")[0] == 200 and install(bot, "TB")[0] == 200
            add_engineers(bot.services.session_factory, [engineer_row("UA1", team_id="TA"),
                                                         engineer_row("UB1", team_id="TB")])
            env = multi_workspace_env(bot, sqlite_url)
            before = rows_of(bot, "TA")

            refused = growth_bot(["workspace", "purge", "TA", "--yes"], env, tmp_path)
            assert refused.returncode == 2 and "still has the app installed" in refused.stderr
            assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
            assert rows_of(bot, "TA") == before

            send_event(bot, {"type": "app_uninstalled"}, "TA", "EvP1")
            wait_uninstalled(bot, "TA")
            no_terminal = growth_bot(["workspace", "purge", "TA"], env, tmp_path)           # stdin closed
            assert no_terminal.returncode == 1 and "Nothing deleted" in no_terminal.stdout
            assert "Traceback" not in no_terminal.stderr
            said_no = growth_bot(["workspace", "purge", "TA"], env, tmp_path, stdin="n\n")
            assert said_no.returncode == 1 and rows_of(bot, "TA")["engineers"] == 1

            said_yes = growth_bot(["workspace", "purge", "TA"], env, tmp_path, stdin="yes\n")
            assert said_yes.returncode == 0 and "engineers 1" in said_yes.stdout, said_yes.stderr
            again = growth_bot(["workspace", "purge", "TA", "--yes"], env, tmp_path)
            assert again.returncode == 0 and "Deleted 0 rows" in again.stdout
            assert rows_of(bot, "TA") == {} and rows_of(bot, "TB")["engineers"] == 1
            for bad in ("ta", "T", "TA;DROP", "", "U123", "T" + "A" * 5000):
                result = growth_bot(["workspace", "purge", bad, "--yes"], env, tmp_path)
                assert result.returncode == 2 and "Traceback" not in result.stderr, (bad, result.stderr)
            assert rows_of(bot, "TB")["engineers"] == 1
        finally:
            stop()


# ------------------------------------------------------------------ settings

@pytest.mark.parametrize("environ", [
    {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x"},
    {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "x"},
    {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CLIENT_SECRET": "s", "SLACK_APP_TOKEN": "xapp-1"},
    {"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "x"},
    {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "", "SLACK_SIGNING_SECRET": "x"},
    {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "   ", "SLACK_SIGNING_SECRET": "x"},
    {"SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x"},
    {"SLACK_CLIENT_SECRET": "s", "SLACK_APP_TOKEN": "xapp-1"},
    {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s"},
    {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": ""},
    {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x", "SLACK_APP_TOKEN": "xapp-1"},
    {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_APP_TOKEN": "xapp-1"},
    {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x", "SLACK_APP_TOKEN": "xoxb-1"},
    {"SLACK_CLIENT_ID": "xoxb-1", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x"},
    {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x", "SLACK_BOT_TOKEN": "xapp-1"},
    {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x",
     "UNINSTALL_RETENTION_DAYS": "soon"},
    {"SLACK_APP_TOKEN": "xapp-1"},
    {"SLACK_SIGNING_SECRET": "x"},
    {"SLACK_BOT_TOKEN": "xoxb-1"},
    {},
])
def test_every_inconsistent_slack_setting_is_one_line_and_exit_2(environ, tmp_path):
    result = growth_bot(["serve"], {"DATABASE_URL": f"sqlite:///{tmp_path}/bot.db", **environ}, tmp_path)
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("growth-bot: "), result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------ payloads whose workspaces disagree

@pytest.mark.parametrize(("team", "enterprise", "org_install"), [
    ("TB", None, False),          # workspace B's command naming a user of A
    ("TA", "E1", True),           # A's team id under an org-wide install of an org A is not in
    ("TA", "E1", False),          # A's team id with another org's enterprise id
    ("", "E1", True), ("TX", None, False),
])
def test_a_command_whose_workspace_disagrees_with_the_users_reads_nothing_of_theirs(bot, team, enterprise, org_install):
    from datetime import date

    from urllib.parse import parse_qsl, urlencode

    from tests.growthlog import log_seed as seed

    assert install(bot, "TA")[0] == 200 and install(bot, "TB")[0] == 200
    assert install(bot, "TC", enterprise_id="E1", org_install=True)[0] == 200
    with bot.services.session_factory.begin() as session:
        engineer = seed.engineer(session, "UA", manager="UM", team_id="TA")
        row = seed.checkin(session, engineer, date.today() - timedelta(days=date.today().weekday() + 7),
                           [("q1", "zzquestionzz")])
        seed.answer(session, row, "q1", "zzanswerzz", at=datetime.now(UTC) - timedelta(days=3))
    # A stranger naming A's engineer, and (from anywhere but A itself) that engineer's own id.
    asks = [("UZ", "log <@UA|ua>"), ("UZ", "export <@UA|ua>")]
    if team != "TA":
        asks += [("UA", "log"), ("UA", "export")]
    for number, (user, text) in enumerate(asks):
        body, ctype = req.slash_command(command="/growth", text=text, user_id=user, team_id=team,
                                        response_url=bot.fake.response_url(f"crossed{number}"))
        fields = dict(parse_qsl(body, keep_blank_values=True))
        fields.update(enterprise_id=enterprise or "", is_enterprise_install=str(org_install).lower())
        status, _, ack = bot.post(urlencode(fields), ctype)
        assert status == 200 and "zzanswerzz" not in ack, (user, text, status)
    time.sleep(0.5)
    delivered = json.dumps(bot.fake.responses) + json.dumps([c.args for c in bot.fake.calls])
    assert "zzanswerzz" not in delivered and "zzquestionzz" not in delivered
    assert not any(b"zzanswerzz" in u.content for u in bot.fake.uploaded_files)
