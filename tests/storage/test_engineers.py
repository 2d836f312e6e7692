"""Engineers: identity, scheduling, reports, and forgetting someone completely."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from storage.models import Answer, AnswerRevision, Assessment, CheckIn, Engineer, OneOnOne
from storage.repositories import Answers, Assessments, CheckIns, Engineers, OneOnOnes
from tests.storage.helpers import LEASE, NOW, WEEK, add_engineer


def test_get_or_create_returns_the_same_engineer(session_factory):
    with session_factory() as session, session.begin():
        engineers = Engineers(session)
        assert engineers.get("T1", "U1") is None
        created = engineers.get_or_create("T1", "U1")
        assert engineers.get_or_create("T1", "U1") is created
        assert engineers.get_or_create("T2", "U1") is not created
    with session_factory() as session:
        engineers = Engineers(session)
        engineer = engineers.get("T1", "U1")
        assert engineer.id == created.id and engineers.by_id(created.id).user_id == "U1"


def test_schedulable_means_levelled_and_not_paused(session_factory):
    ids = {
        "ready": add_engineer(session_factory, "U1"),
        "no level": add_engineer(session_factory, "U2", level_id=None),
        "paused": add_engineer(session_factory, "U3", paused_until=NOW + timedelta(days=1)),
        "pause over": add_engineer(session_factory, "U4", paused_until=NOW),
        "paused forever": add_engineer(session_factory, "U5", paused_until=NOW.replace(year=9999)),
    }
    with session_factory() as session:
        schedulable = [e.id for e in Engineers(session).all_schedulable(NOW)]
    assert schedulable == [ids["ready"], ids["pause over"]]


def test_reports_of_a_manager(session_factory):
    add_engineer(session_factory, "U2", manager_user_id="M1")
    add_engineer(session_factory, "U1", manager_user_id="M1")
    add_engineer(session_factory, "U3", manager_user_id="M2")
    add_engineer(session_factory, "U4", team_id="T2", manager_user_id="M1")
    with session_factory() as session:
        assert [e.user_id for e in Engineers(session).reports_of("T1", "M1")] == ["U1", "U2"]


def _give_history(session_factory, user_id: str, manager: str) -> int:
    engineer_id = add_engineer(session_factory, user_id, manager_user_id=manager)
    with session_factory() as session, session.begin():
        checkin = CheckIns(session).claim(engineer_id, WEEK, NOW, "a", NOW, LEASE)
        answers = Answers(session)
        answers.record(checkin, "q1", "Q", "first", "modal", NOW)
        answers.record(checkin, "q1", "Q", "second", "modal", NOW)  # + a revision
        answers.record(checkin, None, "", "reply", "thread", NOW, slack_ts=f"{user_id}.1")
        Assessments(session).add(engineer_id, "eng", {"craft": "L3"}, NOW)
        OneOnOnes(session).set("T1", manager, user_id, 2, "10:00", "UTC")
    return engineer_id


def _count(session, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return session.scalar(query)


def test_forget_deletes_everything_about_one_engineer_and_nothing_else(session_factory):
    alice = _give_history(session_factory, "ALICE", manager="BOB")
    bob = _give_history(session_factory, "BOB", manager="CAROL")  # Alice's manager
    carol_report = add_engineer(session_factory, "DAN", manager_user_id="ALICE")
    with session_factory() as session, session.begin():
        OneOnOnes(session).set("T1", "ALICE", "DAN", 1, "09:00", "UTC")
        OneOnOnes(session).set("T2", "X", "ALICE", 1, "09:00", "UTC")  # another workspace
    with session_factory() as session, session.begin():
        # engineer + 1 check-in + 2 answers + 1 revision + 1 assessment + 2 one-on-ones
        assert Engineers(session).forget("T1", "ALICE") == 8
    with session_factory() as session:
        assert session.get(Engineer, alice) is None
        for model in (CheckIn, Answer, Assessment):
            assert _count(session, model, engineer_id=alice) == 0
            assert _count(session, model, engineer_id=bob) > 0
        assert _count(session, AnswerRevision) == 1  # Bob's
        assert [
            (o.manager_user_id, o.report_user_id) for o in session.scalars(select(OneOnOne).order_by(OneOnOne.id))
        ] == [("CAROL", "BOB"), ("X", "ALICE")]
        assert session.get(Engineer, carol_report).manager_user_id is None
        assert session.get(Engineer, bob).manager_user_id == "CAROL"
    with session_factory() as session, session.begin():
        assert Engineers(session).forget("T1", "ALICE") == 0


def test_forget_a_manager_without_an_engineer_row(session_factory):
    report = add_engineer(session_factory, "U1", manager_user_id="M1")
    with session_factory() as session, session.begin():
        OneOnOnes(session).set("T1", "M1", "U1", None, None, None)
        assert Engineers(session).forget("T1", "M1") == 1
    with session_factory() as session:
        assert session.get(Engineer, report).manager_user_id is None
