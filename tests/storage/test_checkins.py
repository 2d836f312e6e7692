"""Check-ins: the exactly-once claim, sending, reminders."""

from __future__ import annotations

from datetime import timedelta

from storage.models import CheckIn
from storage.repositories import CheckIns, Engineers
from tests.storage.helpers import LEASE, NOW, WEEK, add_engineer, race


def claim(session_factory, engineer_id, owner, now=NOW, week=WEEK):
    """One unit of work: claim and commit, as the scheduler does before posting."""
    with session_factory() as session, session.begin():
        return CheckIns(session).claim(engineer_id, week, NOW, owner, now, LEASE)


def test_first_claim_creates_the_row_and_owns_it(session_factory):
    engineer_id = add_engineer(session_factory)
    row = claim(session_factory, engineer_id, "a")
    assert isinstance(row, CheckIn)
    assert (row.status, row.claim_owner, row.attempts) == ("sending", "a", 1)
    assert row.lease_until == NOW + LEASE and row.due_at == NOW and row.questions == []


def test_second_claim_within_the_lease_gets_nothing(session_factory):
    engineer_id = add_engineer(session_factory)
    assert claim(session_factory, engineer_id, "a") is not None
    assert claim(session_factory, engineer_id, "b", now=NOW + LEASE - timedelta(seconds=1)) is None
    with session_factory() as session:
        assert CheckIns(session).for_week(engineer_id, WEEK).claim_owner == "a"


def test_expired_lease_is_taken_over_and_counts_an_attempt(session_factory):
    # An instance killed mid-send leaves "sending" behind; after the lease, another sends.
    engineer_id = add_engineer(session_factory)
    claim(session_factory, engineer_id, "dead")
    row = claim(session_factory, engineer_id, "b", now=NOW + LEASE + timedelta(seconds=1))
    assert (row.claim_owner, row.attempts, row.status) == ("b", 2, "sending")
    with session_factory() as session, session.begin():
        checkins = CheckIns(session)
        assert not checkins.mark_sent(row.id, "dead", "D1", "1.1", NOW)  # the old owner lost it
        assert checkins.mark_sent(row.id, "b", "D1", "1.2", NOW + LEASE)


def test_sent_and_answered_rows_are_never_claimed(session_factory):
    engineer_id = add_engineer(session_factory)
    row = claim(session_factory, engineer_id, "a")
    with session_factory() as session, session.begin():
        assert CheckIns(session).mark_sent(row.id, "a", "D1", "1.1", NOW)
    later = NOW + timedelta(days=3)
    assert claim(session_factory, engineer_id, "b", now=later) is None
    with session_factory() as session, session.begin():
        assert CheckIns(session).mark_answered(row.id, later)
    assert claim(session_factory, engineer_id, "b", now=later) is None
    with session_factory() as session:
        stored = CheckIns(session).by_id(row.id)
        assert (stored.status, stored.attempts, stored.channel_id, stored.message_ts) == ("answered", 1, "D1", "1.1")
        assert stored.sent_at == NOW and stored.answered_at == later and stored.lease_until is None


def test_release_failed_makes_it_claimable_again(session_factory):
    engineer_id = add_engineer(session_factory)
    row = claim(session_factory, engineer_id, "a")
    with session_factory() as session, session.begin():
        checkins = CheckIns(session)
        assert not checkins.release_failed(row.id, "someone-else", "nope")
        assert checkins.release_failed(row.id, "a", "ratelimited")
        released = checkins.by_id(row.id)
        assert (released.status, released.claim_owner, released.attempts, released.last_error) == (
            "pending",
            None,
            1,
            "ratelimited",
        )
        assert checkins.unsent_due(NOW) == [released]
    again = claim(session_factory, engineer_id, "b")  # no need to wait for the lease
    assert (again.claim_owner, again.attempts) == ("b", 2)


def test_a_claim_rolled_back_leaves_nothing(session_factory):
    engineer_id = add_engineer(session_factory)
    with session_factory() as session, session.begin():
        assert CheckIns(session).claim(engineer_id, WEEK, NOW, "a", NOW, LEASE) is not None
        session.rollback()
    assert claim(session_factory, engineer_id, "b").attempts == 1


def test_concurrent_claims_have_exactly_one_winner(session_factory):
    engineer_id = add_engineer(session_factory)
    rows = race(8, lambda n: claim(session_factory, engineer_id, f"owner-{n}"))
    winners = [row.claim_owner for row in rows if row is not None]
    assert len(winners) == 1
    with session_factory() as session:
        row = CheckIns(session).for_week(engineer_id, WEEK)
        assert (row.claim_owner, row.attempts) == (winners[0], 1)


def test_concurrent_scheduler_ticks_read_then_claim(session_factory):
    # A scheduler tick reads before it writes. On SQLite a deferred transaction that read
    # and then writes after another writer committed fails at once with "database is
    # locked"; make_engine's BEGIN IMMEDIATE makes it wait its turn instead.
    engineer_ids = [add_engineer(session_factory, f"U{n}") for n in range(4)]

    def tick(n: int) -> int:
        claimed = 0
        with session_factory() as session, session.begin():
            for engineer in Engineers(session).all_schedulable(NOW):
                claimed += CheckIns(session).claim(engineer.id, WEEK, NOW, f"tick-{n}", NOW, LEASE) is not None
        return claimed

    assert sum(race(6, tick)) == len(engineer_ids)


def test_concurrent_takeover_of_an_expired_lease_has_one_winner(session_factory):
    engineer_id = add_engineer(session_factory)
    claim(session_factory, engineer_id, "dead")
    later = NOW + LEASE * 2
    rows = race(8, lambda n: claim(session_factory, engineer_id, f"owner-{n}", now=later))
    assert len([row for row in rows if row is not None]) == 1
    with session_factory() as session:
        assert CheckIns(session).for_week(engineer_id, WEEK).attempts == 2


def test_lookups(session_factory):
    engineer_id = add_engineer(session_factory)
    weeks = [WEEK - timedelta(weeks=n) for n in (2, 0, 1)]
    for week in weeks:
        row = claim(session_factory, engineer_id, "a", week=week)
        with session_factory() as session, session.begin():
            CheckIns(session).mark_sent(row.id, "a", "D1", f"ts-{week}", NOW)
    with session_factory() as session:
        checkins = CheckIns(session)
        assert checkins.latest(engineer_id).week_start == WEEK
        assert [c.week_start for c in checkins.recent(engineer_id, 2)] == [WEEK, WEEK - timedelta(weeks=1)]
        assert checkins.by_message("D1", f"ts-{weeks[0]}").week_start == weeks[0]
        assert checkins.by_message("D2", f"ts-{weeks[0]}") is None
        assert checkins.latest(engineer_id + 1) is None


def test_reminder_is_claimed_once(session_factory):
    engineer_id = add_engineer(session_factory)
    row = claim(session_factory, engineer_id, "a")
    with session_factory() as session, session.begin():
        checkins = CheckIns(session)
        assert not checkins.claim_reminder(row.id, "r1", NOW, LEASE)  # not sent yet
        checkins.mark_sent(row.id, "a", "D1", "1.1", NOW)
    day_later = NOW + timedelta(days=1)
    with session_factory() as session, session.begin():
        checkins = CheckIns(session)
        assert [c.id for c in checkins.awaiting_reminder(day_later)] == [row.id]
        assert checkins.claim_reminder(row.id, "r1", day_later, LEASE)
    with session_factory() as session, session.begin():
        assert not CheckIns(session).claim_reminder(row.id, "r2", day_later, LEASE)  # live lease
    after_lease = day_later + LEASE + timedelta(seconds=1)
    with session_factory() as session, session.begin():
        checkins = CheckIns(session)
        assert checkins.claim_reminder(row.id, "r2", after_lease, LEASE)  # r1 died mid-send
        assert not checkins.mark_reminder_sent(row.id, "r1", after_lease)
        assert checkins.mark_reminder_sent(row.id, "r2", after_lease)
    with session_factory() as session, session.begin():
        checkins = CheckIns(session)
        assert not checkins.claim_reminder(row.id, "r3", after_lease + LEASE * 10, LEASE)
        assert checkins.awaiting_reminder(after_lease + LEASE * 10) == []
        assert checkins.by_id(row.id).reminder_sent_at == after_lease


def test_no_reminder_candidates_for_engineers_who_turned_them_off(session_factory):
    engineer_id = add_engineer(session_factory, reminders_enabled=False)
    row = claim(session_factory, engineer_id, "a")
    with session_factory() as session, session.begin():
        checkins = CheckIns(session)
        checkins.mark_sent(row.id, "a", "D1", "1.1", NOW)
        assert checkins.awaiting_reminder(NOW + timedelta(days=2)) == []


def test_answered_check_ins_get_no_reminder(session_factory):
    engineer_id = add_engineer(session_factory)
    row = claim(session_factory, engineer_id, "a")
    with session_factory() as session, session.begin():
        checkins = CheckIns(session)
        checkins.mark_sent(row.id, "a", "D1", "1.1", NOW)
        checkins.mark_answered(row.id, NOW)
        assert not checkins.claim_reminder(row.id, "r1", NOW + timedelta(days=1), LEASE)
