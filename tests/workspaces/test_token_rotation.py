"""Token rotation on: a token about to expire is refreshed, at SLACK_API_URL, both for a request
(Bolt's authorize) and for a send the bot makes on its own (bot.workspace_clients)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.scheduling import make_due_runner
from tests.checkins.desk import add_engineers, engineer_row
from tests.fake_slack import FakeSlack
from tests.workspaces.install import install, send_event, start_multi_workspace_bot


def test_rotating_tokens_are_refreshed_for_requests_and_for_sends(sqlite_url):
    # An hour to live: under the two hours before expiry at which both sides rotate.
    with FakeSlack(token_rotation=True, token_lifetime=3600) as fake:
        bot, stop = start_multi_workspace_bot(fake, sqlite_url)
        try:
            assert install(bot, "TA")[0] == 200
            [first] = fake.tokens_of("TA")
            add_engineers(bot.services.session_factory, [engineer_row("UA1", team_id="TA")])
            report = make_due_runner(bot.services, None).run(datetime(2026, 12, 4, 16, 5, tzinfo=UTC))
            assert report.sent == 1
            [post] = fake.calls_to("chat.postMessage")
            assert post.token != first and post.token in fake.tokens_of("TA")
            refreshes = [c for c in fake.calls_to("oauth.v2.access") if c.args.get("grant_type") == "refresh_token"]
            assert refreshes and all(c.args["_basic"] == f"{fake.client_id}:{fake.client_secret}" for c in refreshes)

            assert send_event(bot, {"type": "app_home_opened", "user": "UA1", "channel": "DUA1", "tab": "home"},
                              "TA", "Ev1") == 200
            [publish] = fake.wait_for("views.publish")
            assert publish.token not in (first, post.token) and publish.token in fake.tokens_of("TA")
        finally:
            stop()
