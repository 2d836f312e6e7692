"""Installing the app in a workspace as a browser would: /slack/install, Slack, /slack/oauth_redirect."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

from tests import slack_requests as req
from tests.fake_slack import FakeSlack
from tests.running_bot import RunningBot, start_bot


def start_multi_workspace_bot(fake: FakeSlack, database_url: str, **overrides: str):
    """The bot in multi-workspace mode (client id and secret, no bot token) against `fake`."""
    return start_bot(fake, database_url, SLACK_BOT_TOKEN="", SLACK_CLIENT_ID=fake.client_id,
                     SLACK_CLIENT_SECRET=fake.client_secret, **overrides)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers or {}, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read().decode()


def install(bot: RunningBot, team_id: str, **workspace) -> tuple[int, str]:
    """Click "Add to Slack" and approve in `team_id`: the redirect's status and page."""
    status, headers, page = get(bot.url + "/slack/install")
    assert status == 200, page
    link = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', page).group(1).replace("&amp;", "&")
    state = parse_qs(urlsplit(link).query)["state"][0]
    cookie = headers["Set-Cookie"].split(";", 1)[0]               # what the browser sends back
    code = bot.fake.add_workspace(team_id, **workspace)          # Slack: the user approved the install
    return get(f"{bot.url}/slack/oauth_redirect?code={code}&state={state}", {"Cookie": cookie})[::2]


def send_event(bot: RunningBot, event: dict, team_id: str, event_id: str, enterprise_id: str | None = None,
               org_install: bool = False) -> int:
    import json

    body, ctype = req.event_callback(event, event_id=event_id, team_id=team_id)
    payload = json.loads(body)
    payload["enterprise_id"] = enterprise_id
    payload["authorizations"][0].update(enterprise_id=enterprise_id, is_enterprise_install=org_install)
    if org_install:
        payload["authorizations"][0]["team_id"] = None
    return bot.post(json.dumps(payload), ctype)[0]
