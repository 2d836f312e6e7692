"""Two workspaces installed through Slack's OAuth flow, end to end: each gets its check-ins with
its own token; one uninstalls and only its sends stop; it comes back within the grace period and
finds its data; a purge leaves nothing of it in the database."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.outbox.sender import queue
from bot.scheduling import make_due_runner
from bot.workspace_lifecycle import purge, purge_expired
from storage.models import Answer, Base, CheckIn, Engineer
from storage.workspace_models import SLACK_BOTS, Workspace
from tests.checkins.desk import add_engineers, checkin_dms, engineer_row
from tests.fake_slack import FakeSlack
from tests.workspaces.install import install, send_event, start_multi_workspace_bot

FRIDAY = datetime(2026, 12, 4, 16, 5, tzinfo=UTC)


@pytest.fixture
def bot(database_url):
    with FakeSlack() as fake:
        bot, stop = start_multi_workspace_bot(fake, database_url)
        yield bot
        stop()


def tokens_used(fake: FakeSlack, method: str, channel: str) -> set[str]:
    return {call.token for call in fake.calls_to(method) if call.args.get("channel") == channel}


def rows_of(bot, team_id: str) -> dict[str, int]:
    """Rows left that belong to `team_id`, by table (via team_id or an engineer of it)."""
    found = {}
    with bot.services.session_factory() as session:
        engineer_ids = select(Engineer.id).where(Engineer.team_id == team_id)
        for table in Base.metadata.sorted_tables:
            if "team_id" in table.c:
                where = table.c.team_id == team_id
            elif "engineer_id" in table.c:
                where = table.c.engineer_id.in_(engineer_ids)
            else:
                continue
            count = session.scalar(select(func.count()).select_from(table).where(where))
            if count:
                found[table.name] = count
    return found


def wait_uninstalled(bot, team_id: str) -> None:
    """Bolt runs event listeners after the ack: wait for the uninstall to be recorded."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with bot.services.session_factory() as session:
            workspace = session.get(Workspace, team_id)
            if workspace is not None and workspace.uninstalled_at is not None:
                return
        time.sleep(0.02)
    raise AssertionError(f"{team_id} was not marked uninstalled")


def run_due(bot, now: datetime):
    return make_due_runner(bot.services, None).run(now)


def test_two_workspaces_install_uninstall_reinstall_and_purge(bot):
    fake = bot.fake
    assert install(bot, "TA")[0] == 200
    assert install(bot, "TB")[0] == 200
    [token_a], [token_b] = fake.tokens_of("TA"), fake.tokens_of("TB")
    # The code was traded for a token at SLACK_API_URL (the fake), with the app's own credentials.
    assert all(call.args["_basic"] == f"{fake.client_id}:{fake.client_secret}" for call in fake.calls_to("oauth.v2.access"))

    # A listener answers with the token of the workspace the request came from.
    assert send_event(bot, {"type": "app_home_opened", "user": "UA1", "channel": "DUA1", "tab": "home"}, "TA", "Ev1") == 200
    assert send_event(bot, {"type": "app_home_opened", "user": "UB1", "channel": "DUB1", "tab": "home"}, "TB", "Ev2") == 200
    publishes = fake.wait_for("views.publish", 2)
    assert {(c.args["user_id"], c.token) for c in publishes} == {("UA1", token_a), ("UB1", token_b)}

    add_engineers(bot.services.session_factory, [engineer_row("UA1", team_id="TA"), engineer_row("UB1", team_id="TB")])
    report = run_due(bot, FRIDAY)
    assert report.sent == 2, report
    assert tokens_used(fake, "chat.postMessage", "UA1") == {token_a}
    assert tokens_used(fake, "chat.postMessage", "UB1") == {token_b}

    # Workspace A uninstalls: its sends stop at once, B's go on.
    fake.revoke("TA")
    assert send_event(bot, {"type": "app_uninstalled"}, "TA", "Ev3") == 200
    wait_uninstalled(bot, "TA")
    with bot.services.session_factory() as session:
        assert session.scalars(select(SLACK_BOTS.c.team_id)).all() == ["TB"]
    fake.clear()
    report = run_due(bot, FRIDAY + timedelta(days=7))
    assert (report.sent, report.failed) == (1, 0)      # nothing is even tried for A
    assert checkin_dms(fake, "UB1") and not checkin_dms(fake, "UA1")
    with bot.services.uow.writing() as session:
        held = queue(session, "note-to-a", channel="UA1", text="hi", blocks=[], now=FRIDAY, team_id="TA")
    bot.services.outbox.send(held)
    bot.services.outbox.drain()
    assert not fake.calls_to("chat.postMessage", ok=True) or all(
        c.args.get("channel") != "UA1" for c in fake.calls_to("chat.postMessage"))

    # Within the grace period nothing is deleted; a reinstall finds everything and sends again.
    bot.services.now = lambda: FRIDAY + timedelta(days=20)
    assert purge_expired(bot.services) == {}
    assert install(bot, "TA")[0] == 200
    [_, new_token_a] = fake.tokens_of("TA")
    # The engineer and the week-1 check-in (none was claimed for week 2).
    assert rows_of(bot, "TA")["engineers"] == 1 and rows_of(bot, "TA")["checkins"] == 1
    fake.clear()
    report = run_due(bot, FRIDAY + timedelta(days=14))
    assert report.sent == 2
    assert tokens_used(fake, "chat.postMessage", "UA1") == {new_token_a}
    bot.services.outbox.drain()   # the message held while A was uninstalled goes now
    assert "hi" in [m.get("text") for m in fake.messages_in("DUA1")]

    # A purge removes all of it, and nothing of B.
    before_b = rows_of(bot, "TB")
    deleted = purge(bot.services, "TA")
    assert deleted["engineers"] == 1 and deleted["checkins"] == 2 and deleted["workspaces"] == 1
    assert rows_of(bot, "TA") == {}
    assert rows_of(bot, "TB") == before_b


def test_the_grace_period_ends_in_a_purge(bot):
    assert install(bot, "TA")[0] == 200
    add_engineers(bot.services.session_factory, [engineer_row("UA1", team_id="TA"), engineer_row("UB1", team_id="TB")])
    bot.services.now = lambda: FRIDAY
    send_event(bot, {"type": "app_uninstalled"}, "TA", "Ev9")
    wait_uninstalled(bot, "TA")
    bot.services.now = lambda: FRIDAY + timedelta(days=31)
    assert list(purge_expired(bot.services)) == ["TA"]
    assert rows_of(bot, "TA") == {}
    assert rows_of(bot, "TB") == {"engineers": 1}


def test_a_revoked_bot_token_stops_sends_and_a_revoked_user_token_does_not(bot):
    assert install(bot, "TA")[0] == 200 and install(bot, "TB")[0] == 200
    send_event(bot, {"type": "tokens_revoked", "tokens": {"oauth": ["UA1"]}}, "TB", "Ev10")
    send_event(bot, {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}}, "TA", "Ev11")
    wait_uninstalled(bot, "TA")
    time.sleep(0.2)   # the TB event was handled before TA's, on the same listener threads
    with bot.services.session_factory() as session:
        assert session.get(Workspace, "TB").uninstalled_at is None
        assert session.scalars(select(SLACK_BOTS.c.team_id)).all() == ["TB"]


def test_the_same_user_id_in_another_workspace_cannot_open_or_fill_a_check_in(bot):
    from bot import ids
    from bot.checkins.answering import NOT_YOURS
    from tests import slack_requests as req
    from tests.running_bot import blocks_text

    assert install(bot, "TA")[0] == 200 and install(bot, "TB")[0] == 200
    add_engineers(bot.services.session_factory, [engineer_row("UA1", team_id="TA")])
    assert run_due(bot, FRIDAY).sent == 1
    with bot.services.session_factory() as session:
        checkin_id = session.scalars(select(CheckIn.id)).one()
    body, ctype = req.block_action(user_id="UA1", action_id=ids.CHECKIN_ANSWER, value=str(checkin_id),
                                   response_url=bot.fake.response_url("crafted"), channel_id="DUA1", team_id="TB")
    assert bot.post(body, ctype)[0] == 200
    [refusal] = bot.fake.wait_for_response("crafted")
    assert NOT_YOURS in blocks_text(refusal.get("blocks") or [])
    assert not bot.fake.calls_to("views.open")


def test_one_workspace_failing_mid_pass_does_not_stop_the_others(bot, monkeypatch):
    # A lane's claim that waited out the write lock (a database hiccup) raised out of the pass and
    # ended it for every workspace. Now only that workspace's lane stops; the rest is retried.
    from bot.checkins import runner as due_runner

    assert install(bot, "TA")[0] == 200
    assert install(bot, "TB")[0] == 200
    add_engineers(bot.services.session_factory, [engineer_row("UA1", team_id="TA"), engineer_row("UB1", team_id="TB")])
    with bot.services.session_factory() as session:
        in_a = session.scalar(select(Engineer.id).where(Engineer.team_id == "TA"))
    claim = due_runner.DueRunner._claim_chunk

    def failing_for_a(self, engineer_ids, *args, **kwargs):
        if in_a in engineer_ids:
            raise RuntimeError("database is locked")
        return claim(self, engineer_ids, *args, **kwargs)

    monkeypatch.setattr(due_runner.DueRunner, "_claim_chunk", failing_for_a)
    report = run_due(bot, FRIDAY)
    assert report.sent == 1 and any("lane stopped" in error for error in report.errors), report
    assert checkin_dms(bot.fake, "UB1") and not checkin_dms(bot.fake, "UA1")

    monkeypatch.setattr(due_runner.DueRunner, "_claim_chunk", claim)
    assert run_due(bot, FRIDAY + timedelta(minutes=5)).sent == 1     # A's is sent on the next tick
    assert checkin_dms(bot.fake, "UA1")
