"""Nothing crosses workspaces: two standalone workspaces and an Enterprise Grid org installed
org-wide with two workspaces of its own, one deployment. The same Slack user id in another
workspace (or another workspace of the same org) is another person: it can never read, export
or prep an engineer of the first, by any command or by a crafted payload naming them."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.growthlog.access import REFUSAL
from storage.repositories import Assessments
from tests import slack_requests as req
from tests.fake_slack import FakeSlack
from tests.growthlog import log_seed as seed
from tests.running_bot import blocks_text
from tests.workspaces.install import install, send_event, start_multi_workspace_bot

ORG = "E1"
OWNERS = {"UA": "TA", "UC": "TC"}          # engineer -> their workspace; both managed by "UM"
MANAGER = "UM"
SETTLE = 0.25


def marker(owner: str, kind: str) -> str:
    return f"zz{kind}{owner}zz"


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    from storage.db import upgrade_database

    url = f"sqlite:///{tmp_path_factory.mktemp('isolation') / 'bot.db'}"
    upgrade_database(url)
    with FakeSlack() as fake:
        running, stop = start_multi_workspace_bot(fake, url)
        assert install(running, "TA")[0] == 200
        assert install(running, "TB")[0] == 200
        assert install(running, "TC", enterprise_id=ORG, org_install=True)[0] == 200
        fake.add_workspace("TD", enterprise_id=ORG)   # a second workspace of the org (no code used)
        _seed(running)
        yield running
        stop()


def _seed(bot) -> None:
    matrix = bot.services.catalog.framework("engineering-levels").matrix
    picks = {capability.id: "senior" for _, capability in matrix.capabilities()}
    with bot.services.session_factory.begin() as session:
        for owner, team in OWNERS.items():
            engineer = seed.engineer(session, owner, manager=MANAGER, team_id=team)
            row = seed.checkin(session, engineer, date.today() - timedelta(days=date.today().weekday() + 7),
                               [("q1", marker(owner, "question"))])
            seed.answer(session, row, "q1", marker(owner, "answer"), at=datetime.now(UTC) - timedelta(days=3))
            Assessments(session).add(engineer.id, "engineering-levels", picks, datetime.now(UTC))
            seed.engineer(session, MANAGER, team_id=team)


def command(bot, line: str, user_id: str, team_id: str) -> tuple[dict | None, str]:
    token = f"r{time.monotonic_ns()}"
    name, _, text = line.partition(" ")
    body, ctype = req.slash_command(command=name, text=text, user_id=user_id, team_id=team_id,
                                    response_url=bot.fake.response_url(token))
    if team_id in ("TC", "TD"):  # an org-wide install: Slack says which org, and that it is org-wide
        fields = dict(parse_qsl(body)) | {"enterprise_id": ORG, "is_enterprise_install": "true"}
        body = urlencode(fields)
    status, _, text_body = bot.post(body, ctype)
    assert status == 200
    import json

    try:
        acked = json.loads(text_body) if text_body else None
    except ValueError:
        acked = None
    return acked, token


def everything_delivered(bot, acked: dict | None, token: str) -> str:
    fake = bot.fake
    texts = []
    if acked and acked.get("blocks"):
        texts += [str(acked.get("text", "")), blocks_text(acked["blocks"])]
    else:
        fake.wait_for_response(token)
    time.sleep(SETTLE)
    for body in fake.responses_for(token):
        texts.append(str(body.get("text", "")) + blocks_text(body.get("blocks") or []) if isinstance(body, dict)
                     else str(body))
    for call in fake.calls_to("chat.postMessage"):
        texts += [str(call.args.get("text", "")), blocks_text(call.args.get("blocks") or [])]
    for upload in fake.uploaded_files:
        texts += [upload.title, upload.content.decode("utf-8", "replace")]
    return "\n".join(texts)


PATHS = ["/growth log <@{owner}|someone>", "/growth export <@{owner}|someone>",
         "/growth profile <@{owner}|someone>", "/growth prep <@{owner}|someone>"]
# (reader, the reader's workspace) for each owner: the same user ids elsewhere, and the manager
# of the owner in another workspace, or in the org's other workspace.
STRANGERS = {"UA": [("UA", "TB"), (MANAGER, "TB"), (MANAGER, "TC"), (MANAGER, "TD")],
             "UC": [("UC", "TD"), (MANAGER, "TD"), (MANAGER, "TA"), ("UC", "TB")]}
CASES = [(path, owner, reader, team) for path in PATHS for owner in OWNERS for reader, team in STRANGERS[owner]]


@pytest.mark.parametrize("path, owner, reader, team", CASES,
                         ids=[f"{p.split()[1]}-{o}-by-{r}@{t}" for p, o, r, t in CASES])
def test_nobody_of_another_workspace_reads_exports_or_preps(bot, path, owner, reader, team):
    bot.fake.clear()
    acked, token = command(bot, path.format(owner=owner), reader, team)
    text = everything_delivered(bot, acked, token)
    assert marker(owner, "answer") not in text and marker(owner, "question") not in text
    if reader != owner:
        assert REFUSAL in text, text
    # else: the same user id elsewhere is its own person, reading its own (empty) log
    assert not any(marker(owner, "answer") in u.content.decode("utf-8", "replace") for u in bot.fake.uploaded_files)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("owner", OWNERS)
def test_the_manager_in_the_same_workspace_still_reads(bot, path, owner):
    # The control: the same request from the owner's own workspace works, so the refusals above
    # are about the workspace, not a broken path.
    bot.fake.clear()
    acked, token = command(bot, path.format(owner=owner), MANAGER, OWNERS[owner])
    text = everything_delivered(bot, acked, token)
    assert REFUSAL not in text
    if "profile" not in path:
        assert marker(owner, "answer") in text


def test_a_home_tab_in_another_workspace_shows_nothing_of_the_owner(bot):
    bot.fake.clear()
    assert send_event(bot, {"type": "app_home_opened", "user": MANAGER, "channel": "DUM", "tab": "home"},
                      "TB", f"EvH{time.monotonic_ns()}") == 200
    [publish] = bot.fake.wait_for("views.publish")
    assert publish.token in bot.fake.tokens_of("TB")
    text = blocks_text(publish.args["view"].get("blocks") or [])
    assert "UA" not in text and "UC" not in text and "zz" not in text


def test_an_org_wide_install_answers_in_each_workspace_of_the_org_with_the_org_token(bot):
    bot.fake.clear()
    for team in ("TC", "TD"):
        assert send_event(bot, {"type": "app_home_opened", "user": "UZ" + team, "channel": "D", "tab": "home"},
                          team, f"EvO{team}{time.monotonic_ns()}", enterprise_id=ORG, org_install=True) == 200
    publishes = bot.fake.wait_for("views.publish", 2)
    assert {call.token for call in publishes} <= set(bot.fake.tokens_of(ORG))
