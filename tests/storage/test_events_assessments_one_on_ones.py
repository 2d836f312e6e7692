"""Processed events, assessments and one-on-ones."""

from __future__ import annotations

from datetime import timedelta

from storage.repositories import Assessments, OneOnOnes, ProcessedEvents
from tests.storage.helpers import LEASE, NOW, add_engineer, race


def test_an_event_is_processed_the_first_time_only(session_factory):
    with session_factory() as session, session.begin():
        events = ProcessedEvents(session)
        assert events.first_time("Ev1", NOW)
        assert not events.first_time("Ev1", NOW)
    with session_factory() as session, session.begin():
        events = ProcessedEvents(session)
        assert not events.first_time("Ev1", NOW)
        assert events.first_time("view:V1:abc", NOW)


def test_a_rolled_back_event_is_processed_again(session_factory):
    with session_factory() as session, session.begin():
        assert ProcessedEvents(session).first_time("Ev1", NOW)
        session.rollback()  # the listener failed; Slack will retry
    with session_factory() as session, session.begin():
        assert ProcessedEvents(session).first_time("Ev1", NOW)


def test_concurrent_deliveries_of_an_event_are_processed_once(session_factory):
    def deliver(_: int) -> bool:
        with session_factory() as session, session.begin():
            return ProcessedEvents(session).first_time("Ev1", NOW)

    assert sorted(race(6, deliver)) == [False] * 5 + [True]


def test_prune_forgets_old_events(session_factory):
    with session_factory() as session, session.begin():
        events = ProcessedEvents(session)
        events.first_time("old", NOW - timedelta(days=2))
        events.first_time("new", NOW)
        assert events.prune(NOW - timedelta(days=1)) == 1
        assert events.first_time("old", NOW) and not events.first_time("new", NOW)


def test_assessments_newest_first(session_factory):
    engineer_id = add_engineer(session_factory)
    with session_factory() as session, session.begin():
        assessments = Assessments(session)
        assessments.add(engineer_id, "eng", {"craft": "L3"}, NOW)
        assessments.add(engineer_id, "eng", {"craft": "L4", "delivery": "L3"}, NOW + timedelta(days=30))
    with session_factory() as session:
        assessments = Assessments(session)
        assert [a.picks for a in assessments.for_engineer(engineer_id)] == [
            {"craft": "L4", "delivery": "L3"},
            {"craft": "L3"},
        ]
        assert [a.created_at for a in assessments.for_engineer(engineer_id, limit=1)] == [NOW + timedelta(days=30)]
        assert assessments.for_engineer(engineer_id + 1) == []


def test_one_on_one_set_get_and_remove(session_factory):
    with session_factory() as session, session.begin():
        one_on_ones = OneOnOnes(session)
        first = one_on_ones.set("T1", "M1", "U1", 1, "10:00", "Europe/Paris")
        again = one_on_ones.set("T1", "M1", "U1", 3, "15:30", "Europe/Paris")
        one_on_ones.set("T1", "M1", "U2", None, None, None)
        assert again.id == first.id and (again.weekday, again.time) == (3, "15:30")
    with session_factory() as session, session.begin():
        one_on_ones = OneOnOnes(session)
        assert one_on_ones.get("T1", "M1", "U1").tz == "Europe/Paris"
        assert [o.report_user_id for o in one_on_ones.due_candidates()] == ["U1"]  # U2 has no schedule
        assert [o.report_user_id for o in one_on_ones.for_manager("T1", "M1")] == ["U1", "U2"]
        assert one_on_ones.remove_for_pair("T1", "M1", "U1") == 1
        assert one_on_ones.remove_for_pair("T1", "M1", "U1") == 0
        assert one_on_ones.get("T1", "M1", "U1") is None


def test_auto_prep_is_claimed_once_per_meeting(session_factory):
    meeting = NOW + timedelta(hours=3)
    with session_factory() as session, session.begin():
        one_on_one_id = OneOnOnes(session).set("T1", "M1", "U1", 0, "12:00", "UTC").id
    with session_factory() as session, session.begin():
        assert OneOnOnes(session).claim_auto_prep(one_on_one_id, meeting, "a", NOW, LEASE)
    with session_factory() as session, session.begin():
        one_on_ones = OneOnOnes(session)
        assert not one_on_ones.claim_auto_prep(one_on_one_id, meeting, "b", NOW, LEASE)  # live lease
        after_lease = NOW + LEASE * 2
        assert one_on_ones.claim_auto_prep(one_on_one_id, meeting, "b", after_lease, LEASE)  # "a" died
        assert not one_on_ones.mark_auto_prepped(one_on_one_id, "a", meeting, after_lease)
        assert one_on_ones.mark_auto_prepped(one_on_one_id, "b", meeting, after_lease)
    with session_factory() as session, session.begin():
        one_on_ones = OneOnOnes(session)
        much_later = NOW + timedelta(hours=2, minutes=59)
        assert not one_on_ones.claim_auto_prep(one_on_one_id, meeting, "c", much_later, LEASE)  # already sent
        stored = one_on_ones.get("T1", "M1", "U1")
        assert (stored.last_auto_prep_for, stored.last_prep_at, stored.prep_lease_until) == (
            meeting,
            NOW + LEASE * 2,
            None,
        )
        next_week = meeting + timedelta(days=7)
        assert one_on_ones.claim_auto_prep(one_on_one_id, next_week, "c", much_later, LEASE)


def test_concurrent_auto_prep_claims_have_one_winner(session_factory):
    meeting = NOW + timedelta(hours=3)
    with session_factory() as session, session.begin():
        one_on_one_id = OneOnOnes(session).set("T1", "M1", "U1", 0, "12:00", "UTC").id

    def claim(n: int) -> bool:
        with session_factory() as session, session.begin():
            return OneOnOnes(session).claim_auto_prep(one_on_one_id, meeting, f"p{n}", NOW, LEASE)

    assert sorted(race(6, claim)) == [False] * 5 + [True]


def test_manual_prep_is_recorded(session_factory):
    with session_factory() as session, session.begin():
        one_on_ones = OneOnOnes(session)
        meeting = one_on_ones.set("T1", "M1", "U1", 0, "12:00", "UTC")
        assert one_on_ones.mark_prepped(meeting.id, NOW)
        assert meeting.last_prep_at == NOW  # the loaded object is kept in step
        assert not one_on_ones.mark_prepped(meeting.id + 1, NOW)
