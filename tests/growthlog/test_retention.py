"""ANSWER_RETENTION_MONTHS: the daily pass deletes answers, revisions, self-assessments and read
records older than the org's setting, once a day, in batches, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from bot.growthlog.retention import months_before, prune_before, run_retention
from storage.models import Answer, AnswerRevision, Assessment, LogRead
from storage.repositories import Answers, Assessments
from tests.growthlog import log_seed as seed

NOW = datetime(2028, 3, 15, 12, 0, tzinfo=UTC)
BOUNDARY = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)    # NOW - 24 months
DAY = timedelta(days=1)


def test_months_before_counts_calendar_months():
    assert months_before(NOW, 24) == BOUNDARY
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 10, tzinfo=UTC), 13) == datetime(2024, 12, 10, tzinfo=UTC)


def seed_around(session_factory, at: datetime) -> dict[str, int]:
    """An answer (edited once), a self-assessment and a read record a day before `at`, and the
    same a day after it."""
    ids = {}
    with session_factory.begin() as session:
        engineer = seed.engineer(session, "U1", manager="U2")
        for name, when in (("old", at - DAY), ("new", at + DAY)):
            week = (when - timedelta(days=when.weekday())).date()
            row = seed.checkin(session, engineer, week, [("q1", f"{name} question")])
            answer = seed.answer(session, row, "q1", f"{name} first", at=when)
            Answers(session).edit_text(answer, f"{name} edited", when + timedelta(hours=1))
            Assessments(session).add(engineer.id, "engineering-levels", {"c": "senior"}, when)
            session.add(LogRead(engineer_id=engineer.id, reader_user_id="U2", what="log", entries=1, read_at=when))
            ids[name] = answer.id
    return ids


def counts(session_factory) -> dict[str, int]:
    with session_factory() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Answer, AnswerRevision, Assessment, LogRead)}


def texts(session_factory) -> list[str]:
    with session_factory() as session:
        return sorted(session.scalars(select(Answer.text)))


def test_across_the_boundary_a_day_before_is_kept_and_a_day_after_is_gone(session_factory, uow):
    seed_around(session_factory, BOUNDARY)
    # Two days before NOW, both are younger than 24 months + a day: nothing goes.
    with freeze_time(NOW - 2 * DAY):
        assert run_retention(uow, 24, datetime.now(UTC)).answers == 0
    assert counts(session_factory) == {"answers": 2, "answer_revisions": 2, "assessments": 2, "log_reads": 2}
    with freeze_time(NOW):
        pruned = run_retention(uow, 24, datetime.now(UTC))
    assert (pruned.answers, pruned.revisions, pruned.assessments, pruned.reads) == (1, 1, 1, 1)
    assert texts(session_factory) == ["new edited"]
    assert counts(session_factory) == {"answers": 1, "answer_revisions": 1, "assessments": 1, "log_reads": 1}
    with session_factory() as session:
        # The revision left is the new answer's: nothing of the old one is left behind.
        assert session.scalar(select(AnswerRevision.previous_text)) == "new first"


def test_the_pass_runs_once_a_day_whoever_asks(session_factory, uow):
    seed_around(session_factory, BOUNDARY)
    first = run_retention(uow, 24, NOW)
    assert first is not None and first.answers == 1
    assert run_retention(uow, 24, NOW + timedelta(minutes=1)) is None     # the next tick, or another instance
    assert run_retention(uow, 24, NOW + timedelta(hours=11)) is None
    tomorrow = run_retention(uow, 24, NOW + DAY)
    assert tomorrow is not None and tomorrow.answers == 0
    assert run_retention(uow, None, NOW + 2 * DAY) is None                 # no setting: keep everything


def test_batches_delete_everything_old_in_short_transactions(session_factory, uow):
    with session_factory.begin() as session:
        engineer = seed.engineer(session, "U1")
        for n in range(7):
            when = BOUNDARY - timedelta(days=10 + 7 * n)
            row = seed.checkin(session, engineer, (when - timedelta(days=when.weekday())).date(), [("q1", "Q")])
            answer = seed.answer(session, row, "q1", f"old {n}", at=when)
            Answers(session).edit_text(answer, f"old {n} edited", when + DAY)
        fresh = seed.checkin(session, engineer, date(2028, 3, 6), [("q1", "Q")])
        seed.answer(session, fresh, "q1", "fresh", at=NOW - DAY)
    pruned = prune_before(uow, BOUNDARY, batch=2)
    assert (pruned.answers, pruned.revisions) == (7, 7)
    assert texts(session_factory) == ["fresh"]
    assert counts(session_factory)["answer_revisions"] == 0


def test_a_revision_older_than_the_cutoff_goes_even_under_a_newer_answer(session_factory, uow):
    with session_factory.begin() as session:
        engineer = seed.engineer(session, "U1")
        row = seed.checkin(session, engineer, date(2026, 3, 9), [("q1", "Q")])
        answer = seed.answer(session, row, "q1", "written before", at=BOUNDARY + DAY)
        Answers(session).edit_text(answer, "rewritten", BOUNDARY + 2 * DAY)
        session.add(AnswerRevision(answer_id=answer.id, previous_text="imported older text",
                                   edited_at=BOUNDARY - DAY))
    prune_before(uow, BOUNDARY)
    with session_factory() as session:
        assert list(session.scalars(select(AnswerRevision.previous_text))) == ["written before"]


@pytest.mark.parametrize("months, said", [(None, "Answers are kept until you delete them."),
                                          ("24", "Answers are kept for 24 months")])
def test_growth_help_states_the_orgs_setting(fake_slack, sqlite_url, months, said):
    from tests.running_bot import blocks_text, start_bot

    overrides = {"ANSWER_RETENTION_MONTHS": months} if months else {}
    bot, stop = start_bot(fake_slack, sqlite_url, **overrides)
    try:
        help_text = blocks_text(bot.command("/growth help", user_id="U1").followups()[0]["blocks"])
        assert said in help_text
        assert "`/growth reads`" in help_text and "`/growth reads weekly on|off`" in help_text
    finally:
        stop()


def test_the_schedulers_tick_runs_the_pass_from_the_setting_once_a_day(fake_slack, database_url, session_factory):
    from bot.scheduling import retention_pass
    from tests.checkins.desk import make_desk

    services = make_desk(fake_slack, database_url, session_factory, ANSWER_RETENTION_MONTHS="24").services
    seed_around(session_factory, BOUNDARY)
    services.now = lambda: NOW
    assert retention_pass(services).answers == 1
    assert retention_pass(services) is None          # every minute's tick asks; one does it
    assert texts(session_factory) == ["new edited"]
