"""Tests of the fake Slack Web API and the request-signing helpers, through the real slack_sdk/Bolt."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.fake_slack import FakeSlack
from tests.slack_requests import (
    block_action,
    event_callback,
    post_to_app,
    sign,
    slash_command,
    url_verification,
    view_submission,
)

SECRET = "test-signing-secret"


@pytest.fixture
def fake():
    with FakeSlack() as f:
        yield f


@pytest.fixture
def client(fake):
    return WebClient(base_url=fake.base_url, token="xoxb-test")


def test_base_url_joins_like_slack_sdk(fake, client):
    assert fake.base_url.endswith("/api/")
    assert client.auth_test()["user_id"] == "UBOT"
    call = fake.calls[0]
    assert call.method == "auth.test"
    assert call.headers["authorization"] == "Bearer xoxb-test"


def test_post_message_recorded_with_blocks_decoded(fake, client):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    r1 = client.chat_postMessage(channel="C1", text="hi", blocks=blocks)
    # form-encoded path (blocks as a JSON string) decodes too
    r2 = client.api_call("chat.postMessage", data={"channel": "C1", "text": "x", "blocks": json.dumps(blocks)})
    assert r1["channel"] == "C1" and r1["message"]["text"] == "hi"
    assert float(r1["ts"]) < float(r2["ts"])
    calls = fake.calls_to("chat.postMessage")
    assert [c.args["blocks"] for c in calls] == [blocks, blocks]
    assert fake.post_message_counts() == {"C1": 2}


def test_post_message_validation_and_unknown_method(fake, client):
    with pytest.raises(SlackApiError) as e:
        client.api_call("chat.postMessage", json={"channel": "C1"})
    assert e.value.response["error"] == "no_text"
    with pytest.raises(SlackApiError) as e:
        client.api_call("reactions.add", params={"name": "tada"})
    assert e.value.response["error"] == "unknown_method"
    assert fake.calls_to("reactions.add")[0].ok is False
    assert fake.post_message_counts() == {}


def test_history_returns_posted_messages_with_metadata(fake, client):
    meta = {"event_type": "checkin", "event_payload": {"week": 3}}
    first = client.chat_postMessage(channel="U1", text="one", metadata=meta)
    client.chat_postMessage(channel="U1", text="two")
    assert first["channel"] == "DU1"
    opened = client.conversations_open(users="U1")
    assert opened["channel"]["id"] == "DU1"
    history = client.conversations_history(channel="DU1", include_all_metadata=True)
    assert [m["text"] for m in history["messages"]] == ["two", "one"]
    assert history["messages"][1]["metadata"] == meta
    plain = client.conversations_history(channel="DU1", limit=1)
    assert "metadata" not in plain["messages"][0] and plain["has_more"] is True


def test_users_info_tz_and_errors(fake, client):
    fake.set_user("U1", tz="America/New_York", real_name="Ada")
    fake.set_user_error("U9", "user_not_found")
    user = client.users_info(user="U1")["user"]
    assert user["tz"] == "America/New_York" and user["real_name"] == "Ada"
    assert user["tz_offset"] in (-5 * 3600, -4 * 3600) and user["is_bot"] is False
    assert client.users_info(user="U2")["user"]["tz"] == "UTC"
    with pytest.raises(SlackApiError) as e:
        client.users_info(user="U9")
    assert e.value.response["error"] == "user_not_found"


def test_views_echo_an_id(fake, client):
    view = {"type": "modal", "callback_id": "cb", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    opened = client.views_open(trigger_id="t1", view=view)["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "cb"
    assert client.views_update(view_id=opened["id"], view=view)["view"]["id"] == opened["id"]
    home = client.views_publish(user_id="U1", view={"type": "home", "blocks": []})["view"]
    assert fake.published_views["U1"]["id"] == home["id"]
    assert fake.calls_to("views.open")[0].args["view"]["callback_id"] == "cb"


def test_files_upload_v2_end_to_end(fake, client):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10
    resp = client.files_upload_v2(
        channel="C1", file=png, filename="profile.png", title="Your profile", initial_comment="here"
    )
    assert resp["file"]["name"] == "profile.png" and resp["file"]["size"] == len(png)
    [up] = fake.uploaded_files
    assert (up.filename, up.title, up.content, up.channel_id, up.initial_comment) == (
        "profile.png", "Your profile", png, "C1", "here")
    assert [c.method for c in fake.calls] == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    assert fake.calls[0].args["length"] == str(len(png))


def test_ratelimited_surfaces_as_429_without_retry_handler(fake, client):
    fake.fail_next("chat.postMessage")
    with pytest.raises(SlackApiError) as e:
        client.chat_postMessage(channel="C1", text="hi")
    assert e.value.response.status_code == 429
    assert e.value.response.headers["Retry-After"] == "1"
    assert e.value.response["error"] == "ratelimited"
    assert fake.post_message_counts() == {}


def test_ratelimited_is_retried_by_retry_handler(fake):
    client = WebClient(base_url=fake.base_url, token="xoxb-test", retry_handlers=[RateLimitErrorRetryHandler()])
    fake.fail_next("chat.postMessage")
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 200]
    assert fake.post_message_counts() == {"C1": 1}


def test_fail_next_plain_error(fake, client):
    fake.fail_next("chat.postMessage", error="channel_not_found", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as e:
            client.chat_postMessage(channel="C1", text="hi")
        assert e.value.response.status_code == 200 and e.value.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]


def test_rate_limiter_token_bucket():
    with FakeSlack(rate_limit_per_second=20) as fake:
        client = WebClient(base_url=fake.base_url, token="xoxb-test")
        statuses = []
        for _ in range(30):
            try:
                client.chat_postMessage(channel="C1", text="x")
                statuses.append(200)
            except SlackApiError as e:
                statuses.append(e.response.status_code)
                assert int(e.response.headers["Retry-After"]) >= 1
        assert statuses.count(429) == fake.rate_limited_count > 0
        assert fake.post_message_counts()["C1"] == statuses.count(200) >= 20
        client.users_info(user="U1")  # not in the default method set


def test_response_url_recording(fake):
    WebhookClient(fake.response_url("r1")).send_dict({"text": "hello", "response_type": "ephemeral"})
    assert fake.responses_for("r1") == [{"text": "hello", "response_type": "ephemeral"}]
    assert fake.responses_for("other") == [] and len(fake.responses) == 1


def test_a_response_url_takes_five_posts_as_slack_does(fake):
    hook = WebhookClient(fake.response_url("r5"))
    statuses = [hook.send_dict({"text": f"part {n}"}).status_code for n in range(7)]
    assert statuses == [200] * 5 + [404, 404]
    assert len(fake.responses_for("r5")) == 5


def test_wait_for_async_calls(fake, client):
    threading.Timer(0.2, lambda: client.chat_postMessage(channel="C2", text="later")).start()
    [call] = fake.wait_for("chat.postMessage", timeout=5)
    assert call.args["channel"] == "C2"
    with pytest.raises(AssertionError):
        fake.wait_for("chat.update", timeout=0.1)
    fake.clear()
    assert fake.calls == [] and fake.post_message_counts() == {}


def test_sign_is_accepted_and_tampering_rejected():
    body, _ = slash_command()
    headers = sign(body, SECRET)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body.replace("senior", "staff"), headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    assert not verifier.is_valid_request(body, sign(body, SECRET, timestamp=int(time.time()) - 600))


# ---------------------------------------------------------------- Bolt end to end


@pytest.fixture
def bolt_app(fake):
    app = App(signing_secret=SECRET, client=WebClient(base_url=fake.base_url, token="xoxb-test"))
    seen: dict = {}

    @app.command("/ladder")
    def ladder(ack, respond, command):
        ack()
        respond(f"level {command['text']}")

    @app.action("pick")
    def pick(ack, body, say):
        ack()
        say(f"picked {body['actions'][0]['value']}")

    @app.view("reflect")
    def reflect(ack, view):
        seen["values"] = view["state"]["values"]
        ack()

    @app.event("app_mention")
    def mention(event, say):
        say("hi")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
            resp = app.dispatch(BoltRequest(body=raw, headers={k: v for k, v in self.headers.items()}))
            out = resp.body.encode()
            self.send_response(resp.status)
            for k, vs in resp.headers.items():
                for v in vs:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_bolt_accepts_built_requests(fake, bolt_app):
    url, seen = bolt_app
    status, _, _ = post_to_app(url, *slash_command(response_url=fake.response_url("r1")), SECRET)
    assert status == 200
    assert fake.wait_for_response("r1")[0]["text"] == "level senior"

    status, _, _ = post_to_app(url, *block_action("U1", "pick", "v1", channel_id="C7"), SECRET)
    assert status == 200
    args = fake.wait_for("chat.postMessage")[0].args
    assert (args["channel"], args["text"]) == ("C7", "picked v1")  # Bolt's say() also sends team_id

    body, ctype = view_submission("U1", "reflect", {"b1": {"a1": "I grew"}}, private_metadata="m")
    assert post_to_app(url, body, ctype, SECRET)[0] == 200
    assert seen["values"]["b1"]["a1"]["value"] == "I grew"
    assert json.loads(parse_qs(body)["payload"][0])["view"]["private_metadata"] == "m"

    event = {"type": "app_mention", "user": "U1", "text": "<@UBOT> hi", "channel": "C3", "ts": "1.2", "event_ts": "1.2"}
    status, _, _ = post_to_app(url, *event_callback(event), SECRET, retry_num=1, retry_reason="http_timeout")
    assert status == 200
    assert fake.wait_for("chat.postMessage", count=2)[1].args["channel"] == "C3"

    status, _, text = post_to_app(url, *url_verification("xyz"), SECRET)
    assert status == 200 and json.loads(text)["challenge"] == "xyz"

    body, ctype = slash_command()
    assert post_to_app(url, body, ctype, "wrong-secret")[0] == 401


def test_rate_limiter_grants_only_the_burst_asked_for_with_whole_second_retry_after():
    with FakeSlack(rate_limit_per_second=50, rate_limit_burst=2) as fake:
        client = WebClient(base_url=fake.base_url, token="xoxb-test")
        statuses, waits = [], []
        for _ in range(5):  # back to back, far faster than 50/s refills
            try:
                client.chat_postMessage(channel="C1", text="x")
                statuses.append(200)
            except SlackApiError as e:
                statuses.append(e.response.status_code)
                waits.append(e.response.headers["Retry-After"])
        assert statuses[:2] == [200, 200] and statuses.count(429) >= 2
        assert set(waits) == {"1"}  # 20 ms to the next token, said as Slack says it: whole seconds


def test_rate_limits_are_per_workspace_and_method():
    with FakeSlack(rate_limit_per_second=1, rate_limit_burst=1, rate_limit_methods=None,
                   token_teams={"xoxb-other": "T2"}) as fake:
        ours = WebClient(base_url=fake.base_url, token="xoxb-test")
        theirs = WebClient(base_url=fake.base_url, token="xoxb-other")
        assert ours.chat_postMessage(channel="C1", text="x")["ok"]
        assert theirs.chat_postMessage(channel="C1", text="x")["ok"]  # another workspace's bucket
        assert ours.users_info(user="U1")["ok"]                       # another method's bucket
        with pytest.raises(SlackApiError) as e:
            ours.chat_postMessage(channel="C1", text="x")
        assert e.value.response.status_code == 429
        assert theirs.auth_test()["team_id"] == "T2"


def test_channels_answer_info_members_and_permalinks_as_slack_does():
    with FakeSlack() as fake:
        fake.add_channel("C1", "team", members=["U1", "U2", "U3"])
        fake.add_channel("G1", "secret", private=True, bot_member=False, members=["U1"])
        client = WebClient(base_url=fake.base_url, token="xoxb-test")
        assert client.conversations_info(channel="C1")["channel"]["is_member"] is True
        for unseen in ("G1", "C404"):                  # private without the bot, or unknown: the same
            with pytest.raises(SlackApiError) as refused:
                client.conversations_info(channel=unseen)
            assert refused.value.response["error"] == "channel_not_found"
        first = client.conversations_members(channel="C1", limit=2)
        rest = client.conversations_members(channel="C1", limit=2, cursor=first["response_metadata"]["next_cursor"])
        assert first["members"] + rest["members"] == ["U1", "U2", "U3"] and not rest["response_metadata"]["next_cursor"]
        ts = client.chat_postMessage(channel="C1", text="Question")["ts"]
        fake.reply_in_thread("C1", ts, "U2", "An answer")
        assert [m["user"] for m in client.conversations_replies(channel="C1", ts=ts)["messages"]] == ["UBOT", "U2"]
        assert client.chat_getPermalink(channel="C1", message_ts=ts)["permalink"].endswith(ts.replace(".", ""))
