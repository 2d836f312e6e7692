"""Every check-in and reminder is posted once through Slack's faults: a 500 or a dropped
connection before or after the work, a sender that died mid-send; and a `/growth now` Slack
refused is retried on the next tick, not on next week's day. Both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.models import CheckIn
from tests.checkins.desk import checkin_dms, make_desk, thread_replies
from tests.checkins.test_due_pass import DUE, MINUTE, WEEK, berliner

FAULTS = [("internal_error", 500, False), ("internal_error", 500, True), ("timeout", 200, True)]
FAULT_IDS = ["500-before-posting", "500-after-posting", "timeout-after-posting"]


@pytest.fixture
def desk(fake_slack, database_url, session_factory):
    return make_desk(fake_slack, database_url, session_factory, REMINDER_DELAY_HOURS="3")


@pytest.mark.parametrize("error,status,after_work", FAULTS, ids=FAULT_IDS)
def test_a_checkin_slack_fails_is_posted_once(desk, error, status, after_work):
    engineer_id = berliner(desk)
    desk.fake.fail_next("chat.postMessage", error, status=status, after_work=after_work)
    first = desk.run(DUE)
    # Posted after all: found at once and recorded as sent; not posted: retried next tick.
    assert (first.sent, first.failed) == ((1, 0) if after_work else (0, 1))
    desk.run(DUE + MINUTE)
    desk.run(DUE + 2 * MINUTE)
    assert len(checkin_dms(desk.fake, "U1")) == 1
    assert desk.checkin(engineer_id, WEEK).status == "sent"


@pytest.mark.parametrize("error,status,after_work", FAULTS, ids=FAULT_IDS)
def test_growth_now_that_slack_fails_is_retried_on_the_next_tick(desk, error, status, after_work):
    engineer_id = berliner(desk)
    early = DUE - timedelta(days=3)                       # Tuesday: days before the scheduled moment
    desk.fake.fail_next("chat.postMessage", error, status=status, after_work=after_work)
    report = desk.runner.send_one(engineer_id, early)
    assert report.sent == int(after_work)                 # never "failed" for a DM that is there
    desk.run(early + MINUTE)                              # the next tick
    assert len(checkin_dms(desk.fake, "U1")) == 1
    assert desk.checkin(engineer_id, WEEK).status == "sent"
    desk.run(DUE + MINUTE)                                # and the scheduled moment sends nothing more
    assert len(checkin_dms(desk.fake, "U1")) == 1


@pytest.mark.parametrize("error,status,after_work", FAULTS, ids=FAULT_IDS)
def test_a_reminder_slack_fails_is_posted_once(desk, error, status, after_work):
    berliner(desk)
    desk.run(DUE)
    [dm] = checkin_dms(desk.fake, "U1")
    desk.fake.fail_next("chat.postMessage", error, status=status, after_work=after_work)
    reminded_at = DUE + timedelta(hours=3) + MINUTE
    desk.run(reminded_at)
    desk.run(reminded_at + timedelta(minutes=11))         # after the failed claim's lease
    desk.run(reminded_at + timedelta(minutes=22))
    assert len(thread_replies(desk.fake, "U1", dm["ts"])) == 1


def test_a_reminder_whose_sender_died_after_posting_is_not_posted_again(desk):
    engineer_id = berliner(desk)
    desk.run(DUE)
    [dm] = checkin_dms(desk.fake, "U1")
    reminded_at = DUE + timedelta(hours=3) + MINUTE
    desk.run(reminded_at)
    with desk.session_factory.begin() as session:         # as if killed before recording the post
        checkin = session.get(CheckIn, desk.checkin(engineer_id, WEEK).id)
        checkin.reminder_sent_at, checkin.reminder_lease_until = None, reminded_at
    desk.run(reminded_at + timedelta(minutes=11))
    assert len(thread_replies(desk.fake, "U1", dm["ts"])) == 1
    assert desk.checkin(engineer_id, WEEK).reminder_sent_at is not None
