"""GET /metrics: what the bot did, in Prometheus text format, as an operator's scraper reads it."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families
from slack_sdk import WebClient

from bot.checkins.pacing import SharedBackoff
from bot.metrics import failure_reason
from bot.scheduling import make_due_runner
from tests.checkins.desk import add_engineer

FRI = 4
DUE = datetime(2026, 3, 13, 16, 0, tzinfo=UTC)  # a Friday, 16:00 UTC


def scrape(bot) -> dict[tuple, float]:
    with urllib.request.urlopen(bot.url + "/metrics", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def delta(before: dict, after: dict, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_metrics_after_a_due_pass_with_a_429_and_a_failure(running_bot):
    bot, fake = running_bot, running_bot.fake
    for user in ("U1", "U2", "U3"):
        add_engineer(bot.services.session_factory, user, tz="UTC", weekday=FRI, at="16:00")
    fake.fail_next("chat.postMessage", "ratelimited", retry_after=1)
    fake.fail_next("chat.postMessage", "channel_not_found")
    runner = make_due_runner(bot.services, WebClient(base_url=fake.base_url, token="xoxb-test"))
    before = scrape(bot)

    report = runner.run(DUE + timedelta(seconds=90))

    after = scrape(bot)
    assert (report.sent, report.failed) == (2, 1)
    assert delta(before, after, "growth_messages_claimed_total", kind="checkin") == 3
    assert delta(before, after, "growth_messages_sent_total", kind="checkin") == 2
    assert delta(before, after, "growth_messages_failed_total", kind="checkin", reason="channel_not_found") == 1
    assert delta(before, after, "growth_slack_rate_limited_total", client="senders") == 1
    assert 0.9 <= delta(before, after, "growth_slack_paused_seconds_total", client="senders") <= 1.5
    assert delta(before, after, "growth_checkin_lag_seconds_count") == 2
    lag = delta(before, after, "growth_checkin_lag_seconds_sum")
    assert 2 * 90 <= lag <= 2 * 100   # sent 90 s late, plus the pass's own time and the 429 pause
    assert delta(before, after, "growth_checkin_lag_seconds_bucket", le="60.0") == 0
    assert delta(before, after, "growth_checkin_lag_seconds_bucket", le="120.0") == 2


def test_a_retried_claim_whose_dm_is_already_there_counts_as_found(running_bot):
    bot, fake = running_bot, running_bot.fake
    add_engineer(bot.services.session_factory, "U1", tz="UTC", weekday=FRI, at="16:00")
    runner = make_due_runner(bot.services, WebClient(base_url=fake.base_url, token="xoxb-test"))
    runner.run(DUE)
    from storage.models import CheckIn, CheckInStatus

    with bot.services.session_factory.begin() as session:
        # As a sender that posted and died before recording it leaves the row.
        checkin = session.query(CheckIn).one()
        checkin.status, checkin.lease_until = CheckInStatus.SENDING.value, DUE
    before = scrape(bot)
    runner.run(DUE + timedelta(minutes=30))
    after = scrape(bot)
    assert delta(before, after, "growth_checkins_found_after_crash_total") == 1
    assert len([m for m in fake.messages_in("DU1") if m.get("metadata")]) == 1


def test_ack_latency_and_refusals_are_counted(running_bot):
    before = scrape(running_bot)
    assert running_bot.command("/ladder senior").status == 200
    req = urllib.request.Request(running_bot.url + "/slack/events", data=b"payload=null", method="POST")
    try:
        urllib.request.urlopen(req, timeout=5)
    except urllib.error.HTTPError as error:
        assert error.code == 401
    after = scrape(running_bot)
    assert delta(before, after, "growth_slack_ack_seconds_count", kind="command") == 1
    assert 0 < delta(before, after, "growth_slack_ack_seconds_sum", kind="command") < 3
    assert delta(before, after, "growth_http_requests_refused_total", reason="unsigned") == 1


def test_listener_429s_are_counted_too(running_bot):
    before = scrape(running_bot)
    running_bot.fake.fail_next("chat.postMessage", "ratelimited", retry_after=1)
    from bot.slack_client import make_web_client

    make_web_client("xoxb-test", running_bot.fake.base_url).chat_postMessage(channel="U1", text="hi")
    after = scrape(running_bot)
    assert delta(before, after, "growth_slack_rate_limited_total", client="listeners") == 1
    assert delta(before, after, "growth_slack_paused_seconds_total", client="listeners") >= 1


def test_pause_seconds_count_the_time_paused_not_the_sum_of_overlapping_429s():
    from prometheus_client import REGISTRY

    def paused() -> float:
        return REGISTRY.get_sample_value("growth_slack_paused_seconds_total", {"client": "senders"}) or 0.0

    now = [100.0]
    backoff = SharedBackoff(clock=lambda: now[0], sleep=lambda s: None)
    start = paused()
    backoff.pause_for(2)      # paused until 102
    now[0] = 101
    backoff.pause_for(2)      # until 103: one more second
    backoff.pause_for(1)      # until 102: inside the pause, nothing more
    assert paused() - start == 3


def test_failure_reasons_are_a_closed_set():
    class WeekOver(Exception):
        pass

    assert failure_reason("slack error: channel_not_found") == "channel_not_found"
    assert failure_reason("slack error: <!channel>\nforged") == "slack_other"
    assert failure_reason("TimeoutError: timed out") == "TimeoutError"
    assert failure_reason("weird text") == "other"
    assert failure_reason(WeekOver("the week is over")) == "week_over"


def test_healthz_and_metrics_answer_head_and_get_only(running_bot):
    request = urllib.request.Request(running_bot.url + "/metrics", method="HEAD")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
