"""Models round-trip identically on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError

from storage.models import Answer, Assessment, CheckIn, Engineer
from tests.storage.helpers import NOW, WEEK, add_engineer

PARIS_WINTER = timezone(timedelta(hours=1))


def test_datetimes_come_back_aware_utc_and_equal(session_factory):
    noon_in_paris = datetime(2026, 1, 5, 12, 0, 0, 123456, tzinfo=PARIS_WINTER)
    with session_factory() as session, session.begin():
        session.add(Engineer(team_id="T1", user_id="U1", paused_until=noon_in_paris, tz_checked_at=NOW))
    with session_factory() as session:
        engineer = session.scalars(select(Engineer)).one()
        assert engineer.paused_until == noon_in_paris
        assert engineer.paused_until.tzinfo is UTC
        assert engineer.paused_until.hour == 11 and engineer.paused_until.microsecond == 123456
        assert engineer.tz_checked_at == NOW and engineer.tz_checked_at.tzinfo is UTC
        assert engineer.created_at.tzinfo is UTC


def test_datetimes_compare_correctly_in_sql(session_factory):
    # SQLite compares the stored text; every value is normalised to UTC first, so an
    # instant given in another offset still sorts by instant.
    add_engineer(session_factory, paused_until=datetime(2026, 1, 5, 12, tzinfo=PARIS_WINTER))
    with session_factory() as session:

        def later_than(moment):
            return session.scalars(select(Engineer.id).where(Engineer.paused_until > moment)).all()

        assert later_than(datetime(2026, 1, 5, 11, 30, tzinfo=PARIS_WINTER)) != []  # 10:30 UTC
        assert later_than(datetime(2026, 1, 5, 10, 30, tzinfo=timezone(timedelta(hours=-1)))) == []  # 11:30 UTC
        assert later_than(datetime(2026, 1, 5, 10, 59, 59, 999999, tzinfo=UTC)) != []


def test_naive_datetimes_are_refused(session_factory):
    with session_factory() as session, session.begin():
        session.add(Engineer(team_id="T1", user_id="U1", paused_until=datetime(2026, 1, 5, 12)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()
        session.rollback()


def test_defaults_and_json_round_trip(session_factory):
    engineer_id = add_engineer(session_factory)
    questions = [
        {"id": "q1", "text": "What did you ship? ✨", "kind": "reflection"},
        {"id": "q2", "text": "x", "kind": None},
    ]
    with session_factory() as session, session.begin():
        session.add(CheckIn(engineer_id=engineer_id, week_start=WEEK, due_at=NOW, questions=questions))
        session.add(
            Assessment(
                engineer_id=engineer_id, framework_id="eng", picks={"delivery": "L4", "craft": "L3"}, created_at=NOW
            )
        )
    with session_factory() as session:
        engineer = session.get(Engineer, engineer_id)
        assert (engineer.tz, engineer.reminders_enabled, engineer.rotation_offset) == ("UTC", True, 0)
        checkin = session.scalars(select(CheckIn)).one()
        assert checkin.questions == questions
        assert checkin.week_start == date(2026, 3, 2)
        assert (checkin.status, checkin.attempts) == ("pending", 0)
        assert session.scalars(select(Assessment)).one().picks == {"delivery": "L4", "craft": "L3"}


def test_unique_answer_per_question_but_null_question_ids_are_distinct(session_factory):
    engineer_id = add_engineer(session_factory)

    def answer(checkin_id, question_id):
        return Answer(
            checkin_id=checkin_id,
            engineer_id=engineer_id,
            question_id=question_id,
            question_text="",
            text="t",
            source="thread",
            created_at=NOW,
            updated_at=NOW,
        )

    with session_factory() as session, session.begin():
        checkin = CheckIn(engineer_id=engineer_id, week_start=WEEK, due_at=NOW)
        session.add(checkin)
        session.flush()
        session.add_all([answer(checkin.id, None), answer(checkin.id, None), answer(checkin.id, "q1")])
    with session_factory() as session, session.begin():
        session.add(answer(checkin.id, "q1"))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


def test_deleting_an_engineer_cascades_in_the_database(session_factory):
    # On SQLite this depends on PRAGMA foreign_keys=ON, set by make_engine.
    engineer_id = add_engineer(session_factory)
    with session_factory() as session, session.begin():
        session.add(CheckIn(engineer_id=engineer_id, week_start=WEEK, due_at=NOW))
    with session_factory() as session, session.begin():
        session.execute(Engineer.__table__.delete())
    with session_factory() as session:
        assert session.scalars(select(CheckIn)).all() == []
