"""Hostile checks of today's pacing, /growth prep mark and answer-ack changes.

The pacer on a fake clock (as tests/test_slack_pacing.py): senders that never report, reports
with no slot, round trips longer than the pace, 429 storms, and a client whose retries run out.
The prep mark with its read record when the relationship or the report goes between the read
and the record. The modal's one-SELECT save against someone else's check-in, a retried event,
and odd values. The database tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from datetime import date

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

import bot.growthlog.prep as prep_module
from bot.checkins.answering import save_modal_answers
from bot.growthlog.forget import forget_me
from bot.growthlog.prep import read_digest
from bot.growthlog.relationships import assign_manager
from bot.slack_pacing import (MAX_IN_FLIGHT_WAIT, MIN_RATE, Allowance, PacedWebClient, Pacer)
from storage.models import Answer, LogRead, OutboxMessage, ProcessedEvent
from storage.repositories import OneOnOnes
from tests.checkins.test_modal_save import NOW as SAVE_NOW
from tests.checkins.test_modal_save import TYPED, save, sent_checkin, stored
from tests.fake_slack import FakeSlack
from tests.growthlog.test_prep import MANAGER, NOW, catalog, seed_report  # noqa: F401 (a fixture)
from tests.test_slack_pacing import POST, FakeClock

# -- the pacer ---------------------------------------------------------------------------------


class RecordingClock(FakeClock):
    def __init__(self) -> None:
        super().__init__()
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        super().sleep(seconds)


def small_burst_pacer(rate: float = 50.0) -> tuple[Pacer, RecordingClock]:
    """A pacer that learned a burst of 2 at `rate` (settled): one call on its way at once."""
    clock = RecordingClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    pacer.shared.exchange("T1", POST, lambda state: (Allowance(rate=rate, burst=2, stage=3), None))
    pacer.slot("T1", POST)
    pacer.accepted("T1", POST)
    return pacer, clock


def test_a_sender_that_never_reports_holds_the_others_back_only_briefly():
    pacer, clock = small_burst_pacer()
    pacer.slot("T1", POST)          # let go, and never answered (a thread that died)
    started = clock()
    for _ in range(3):
        pacer.slot("T1", POST)
        pacer.accepted("T1", POST)
    assert clock() - started <= MAX_IN_FLIGHT_WAIT + 3 * (1 / 50) * 2
    assert all(math.isfinite(s) and s >= 0 for s in clock.sleeps)


def test_a_report_without_a_slot_neither_goes_negative_nor_stalls_the_next_call():
    pacer, clock = small_burst_pacer()
    for _ in range(5):
        pacer.released("T1", POST)
        pacer.accepted("T1", POST)
    assert pacer._key("T1", POST).in_flight == 0
    started = clock()
    pacer.slot("T1", POST)
    # One call may go at once: the reports without slots did not count as calls on their way.
    assert pacer._key("T1", POST).in_flight == 1
    assert clock() - started <= 2 / 50


def test_round_trips_longer_than_the_pace_add_no_negative_or_endless_wait():
    pacer, clock = small_burst_pacer(rate=50.0)
    for _ in range(20):
        pacer.slot("T1", POST)
        clock.sleep(0.5)               # answered 25 intervals later
        pacer.accepted("T1", POST)
    assert pacer._key("T1", POST).round_trip > pacer._key("T1", POST).interval
    before = clock()
    pacer.slot("T1", POST)
    assert clock() - before <= 2 / 50
    assert all(math.isfinite(s) and s >= 0 for s in clock.sleeps)


def test_a_storm_of_429s_right_after_each_pause_keeps_the_pace_finite_and_above_the_floor():
    state = Allowance(rate=50.0, burst=2, stage=3, last_refusal=0.0)
    now = 100.0
    for _ in range(500):
        state = state.refused(now, 1.0, 1e9, first_burst=2)  # a bound far over the pace, too
        now = state.paused_until + 0.01                       # refused again at once after it
        assert math.isfinite(state.rate) and state.rate >= MIN_RATE
    for bound in (None, 0.0, -5.0):
        later = state.refused(now + 20, 1.0, bound, first_burst=0)
        assert math.isfinite(later.rate) and later.rate >= MIN_RATE
    # The lease of the floor's pace is evenly spaced and finite, no division by zero.
    _, times = state.lease(now + 30, 4)
    assert all(b - a == pytest.approx(1 / state.rate, rel=0.01) for a, b in zip(times, times[1:]))


def test_a_429_left_when_the_retries_run_out_is_answered_and_pauses_the_senders():
    """The retry handler gives up after max_retry_count 429s: the last one was let go in a slot
    and is answered, so it must not stay 'on its way' (with a small burst, every later call
    would wait MAX_IN_FLIGHT_WAIT for it), and the pause Slack asked for holds here."""
    clock = RecordingClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    with FakeSlack() as fake:
        client = PacedWebClient(base_url=fake.base_url, token="xoxb-test", retry_handlers=[], pacer=pacer)
        client.retry_handlers[0].max_retry_count = 2
        team = client.team_id()
        fake.fail_next(POST, retry_after=3, times=3)
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel="U1", text="x")
        assert raised.value.response.status_code == 429
        assert len(fake.calls_to(POST)) == 3
        key = pacer._key(team, POST)
        assert key.in_flight == 0
        assert key.paused_until >= clock() + 2.5     # the last 429's Retry-After: 3 s


# -- /growth prep: the mark with the read record -------------------------------------------------


def pair(session_factory, manager: str = "U2", report: str = "U1"):
    with session_factory() as session:
        found = OneOnOnes(session).get("T1", manager, report)
        return None if found is None else found.last_prep_at


def read_records(session_factory) -> list[tuple[str, str]]:
    with session_factory() as session:
        return [(r.reader_user_id, r.what) for r in session.scalars(select(LogRead))]


def between_read_and_record(monkeypatch, change) -> None:
    build = prep_module.build_digest

    def built_then_changed(*args, **kwargs):
        digest = build(*args, **kwargs)
        change()
        return digest

    monkeypatch.setattr(prep_module, "build_digest", built_then_changed)


def test_a_manager_replaced_between_the_read_and_the_record_gets_no_mark(session_factory, uow, catalog, monkeypatch):
    seed_report(session_factory)

    def replace_manager():
        with session_factory.begin() as session:
            assign_manager(session, "T1", "U1", "U3")

    between_read_and_record(monkeypatch, replace_manager)
    digest = read_digest(uow, catalog, MANAGER, "U1", NOW, mark=True)
    # Read while allowed, it is shown as recorded (the record pins the owner, not the rule, as
    # for the log page); the mark checks the rule again and is not written.
    assert digest is not None
    assert read_records(session_factory) == [("U2", "prep")]
    assert pair(session_factory) is None
    assert pair(session_factory, "U3") is None


def test_a_report_forgotten_between_the_read_and_the_record_is_neither_shown_nor_marked(
        session_factory, uow, catalog, monkeypatch):
    seed_report(session_factory)
    between_read_and_record(monkeypatch, lambda: forget_me(uow, "T1", "U1"))
    assert read_digest(uow, catalog, MANAGER, "U1", NOW, mark=True) is None
    assert read_records(session_factory) == []
    assert pair(session_factory) is None


@pytest.mark.parametrize("report", ["U2", "U3", "U1' OR 1=1 --", "%", ""])
def test_a_crafted_report_name_marks_nothing(session_factory, uow, catalog, report):
    seed_report(session_factory)
    assert read_digest(uow, catalog, MANAGER, report, NOW, mark=True) is None
    with session_factory() as session:
        assert OneOnOnes(session).for_manager("T1", "U2") == []
    assert read_records(session_factory) == []


# -- the modal's save --------------------------------------------------------------------------


@pytest.mark.parametrize("submitter", [("T1", "U2"), ("T2", "U1"), ("", ""), ("T1", "u1")])
def test_a_submission_for_someone_elses_checkin_stores_and_records_nothing(session_factory, submitter):
    checkin_id = sent_checkin(session_factory)
    with session_factory.begin() as session:
        assert save_modal_answers(session, checkin_id, *submitter, TYPED, False, "view:x", SAVE_NOW) is None
    assert stored(session_factory, checkin_id) == {}
    with session_factory() as session:
        assert session.scalars(select(ProcessedEvent)).all() == []     # the owner's own retry still counts
        assert session.scalars(select(OutboxMessage)).all() == []
    with session_factory.begin() as session:
        assert save_modal_answers(session, checkin_id + 1000, "T1", "U1", TYPED, False, "view:y", SAVE_NOW) is None


def test_a_retried_submission_is_stored_and_confirmed_once(session_factory):
    checkin_id = sent_checkin(session_factory)
    first = save(session_factory, checkin_id, TYPED, "view:1")
    again = save(session_factory, checkin_id, {"q1": "a retry that differs"}, "view:1")
    assert (first.saved, first.duplicate) == (3, False)
    assert (again.saved, again.edited, again.duplicate) == (0, 0, True)
    assert stored(session_factory, checkin_id) == {q: (text, False) for q, text in TYPED.items()}
    with session_factory() as session:
        assert len(session.scalars(select(OutboxMessage)).all()) == 1


def test_odd_values_store_only_the_checkins_questions_typed(session_factory):
    checkin_id = sent_checkin(session_factory)
    saved = save(session_factory, checkin_id, {"q1": None, "q2": "  \n ", "q9": "not a question", "": "x",
                                               "q3": "kept"}, "view:1")
    assert (saved.saved, saved.edited) == (1, 0)
    assert stored(session_factory, checkin_id) == {"q3": ("kept", False)}
    nothing = save(session_factory, checkin_id, {}, "view:2")
    assert (nothing.saved, nothing.edited, nothing.duplicate) == (0, 0, False)
    with session_factory() as session:
        assert len(session.scalars(select(Answer)).all()) == 1


# -- the due pass's first, small claim -----------------------------------------------------------


@pytest.fixture
def desk(fake_slack, database_url, session_factory):
    from tests.checkins.desk import make_desk
    return make_desk(fake_slack, database_url, session_factory)


@pytest.mark.parametrize("engineers", [0, 1, 2, 3, 4, 6, 7])
def test_every_due_engineer_is_claimed_in_exactly_one_chunk_and_sent_one_dm(desk, monkeypatch, engineers):
    """FIRST_CHUNK then CHUNKs (here 2 then 3, to see every edge: none due, fewer than the first
    claim, exactly it, one past it, a whole chunk past it, one more) cover the due list once."""
    from bot.checkins import runner
    from tests.checkins.desk import add_engineers, checkin_dms, engineer_row
    from tests.checkins.test_due_pass import DUE

    monkeypatch.setattr(runner, "FIRST_CHUNK", 2)
    monkeypatch.setattr(runner, "CHUNK", 3)
    claimed: list[list[int]] = []
    claim = runner.DueRunner._claim_chunk

    def recording(self, engineer_ids, *args, **kwargs):
        claimed.append(list(engineer_ids))
        return claim(self, engineer_ids, *args, **kwargs)

    monkeypatch.setattr(runner.DueRunner, "_claim_chunk", recording)
    users = [f"U{n}" for n in range(engineers)]
    ids = add_engineers(desk.session_factory, [engineer_row(u, tz="Europe/Berlin", weekday=4, at="16:00")
                                               for u in users]) if users else {}
    report = desk.run(DUE)
    assert (report.sent, report.failed) == (engineers, 0)
    flat = [eid for chunk in claimed for eid in chunk]
    assert sorted(flat) == sorted(ids.values()) and len(flat) == len(set(flat))
    assert all(chunk for chunk in claimed)                           # no empty claim
    if claimed:
        assert len(claimed[0]) <= 2 and all(len(chunk) <= 3 for chunk in claimed[1:])
    assert all(len(checkin_dms(desk.fake, u)) == 1 for u in users)
    assert desk.run(DUE).sent == 0                                   # and nothing twice
    assert all(len(checkin_dms(desk.fake, u)) == 1 for u in users)


# -- nothing stored in the clear by the statements built once -----------------------------------


def raw_values(session_factory, sql: str) -> list[str]:
    from sqlalchemy import text
    with session_factory() as session:
        return [str(value) for (value,) in session.execute(text(sql))]


def test_the_one_statement_paths_store_answers_and_inbox_payloads_encrypted(session_factory):
    from storage.repositories.inbox import Inbox
    checkin_id = sent_checkin(session_factory)
    save(session_factory, checkin_id, {"q1": "SECRET-first-answer"}, "view:1")
    save(session_factory, checkin_id, {"q1": "SECRET-edited-answer", "q2": "SECRET-second"}, "view:2")
    assert stored(session_factory, checkin_id)["q1"] == ("SECRET-edited-answer", False)
    with session_factory.begin() as session:
        Inbox(session).add("event:1", "thread_reply", "T1", {"text": "SECRET-thread-reply"}, SAVE_NOW)
    for sql in ("SELECT text FROM answers", "SELECT previous_text FROM answer_revisions",
                "SELECT payload FROM inbox", "SELECT text FROM outbox", "SELECT blocks FROM outbox"):
        values = raw_values(session_factory, sql)
        assert values, sql
        assert not any("SECRET" in value for value in values), sql


def test_waiting_for_the_answer_clock_does_not_count_as_waiting_out_a_call_on_its_way():
    """At a slow pace (2/s, a Tier 2 method or a pace cut far down), a sender waits most of an
    interval after the last answer. If another sender is let go meanwhile, the first must still
    wait for that call's answer: time spent on the answer clock is not time spent blocked by a
    call that never came back (three on their way at once with a burst of two is a 429)."""
    pacer, clock = small_burst_pacer(rate=2.0)
    key = pacer._key("T1", POST)
    hooked = []
    sleep = clock.sleep

    def another_sender_goes_meanwhile(seconds: float) -> None:
        if not hooked:
            hooked.append(seconds)
            with key.lock:
                key.in_flight += 1      # let go by another thread while this one sleeps
        sleep(seconds)

    pacer._sleep = another_sender_goes_meanwhile
    pacer._wait_for_slot = lambda team, method: None     # the schedule's slot is had: only the in-flight gate
    started = clock()
    pacer.slot("T1", POST)
    # It went only once the other call had been waited out (MAX_IN_FLIGHT_WAIT of polling),
    # never with it still counted on its way, and never beyond the limit.
    assert key.in_flight == 1
    assert clock() - started >= hooked[0] + MAX_IN_FLIGHT_WAIT - 1e-9


def test_a_clock_set_back_does_not_hold_a_sender_on_the_answer_clock_for_the_jump():
    pacer, clock = small_burst_pacer(rate=50.0)
    clock.now -= 3600.0                                   # the wall clock stepped back an hour
    pacer._wait_for_slot = lambda team, method: None     # (the schedule's own times: see the report)
    started = clock()
    pacer.slot("T1", POST)
    assert clock() - started <= 1.0
