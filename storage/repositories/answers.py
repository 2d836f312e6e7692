"""Answers: the private growth log, with revisions and deduped thread replies."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, exists, func, select, update
from sqlalchemy.orm import Session

from storage.models import Answer, AnswerRevision, CheckIn, Engineer
from storage.repositories._common import insert_or_get, insert_per_dialect, rowcount, run_prebuilt


@dataclass(frozen=True)
class AnswerTarget:
    """A check-in as the modal's save needs it: whose it is, what it asks, where its DM is, and
    what is already answered in it (read in the save's own transaction)."""

    id: int
    engineer_id: int
    questions: list[dict[str, Any]]
    channel_id: str | None
    message_ts: str | None
    answered: bool          # a question of it has an answer already: the save edits, not adds
    private_replies: bool   # it has thread replies kept private
    public_replies: bool    # it has thread replies not kept private


# The statements a modal answer's ack waits on, built once and run on the session's connection:
# built per call and run through the ORM, they cost more CPU than the database took to run them,
# and every ack on SQLite queues behind that one writer (benchmarks/answer_ack.py).
_ANSWERS, _CHECKINS, _ENGINEERS = Answer.__table__, CheckIn.__table__, Engineer.__table__


def _answers_of_checkin(*conditions: Any):
    return exists().where(_ANSWERS.c.checkin_id == _CHECKINS.c.id, *conditions)


# The access rule (only the engineer a check-in was sent to may answer it) is the WHERE clause.
_TARGET = (
    select(_CHECKINS.c.id, _CHECKINS.c.engineer_id, _CHECKINS.c.questions, _CHECKINS.c.channel_id,
           _CHECKINS.c.message_ts,
           _answers_of_checkin(_ANSWERS.c.question_id.is_not(None)).label("answered"),
           _answers_of_checkin(_ANSWERS.c.question_id.is_(None), _ANSWERS.c.is_private.is_(True)).label("private"),
           _answers_of_checkin(_ANSWERS.c.question_id.is_(None), _ANSWERS.c.is_private.is_(False)).label("public"))
    .join(_ENGINEERS, _ENGINEERS.c.id == _CHECKINS.c.engineer_id)
    .where(_CHECKINS.c.id == bindparam("checkin_id"), _ENGINEERS.c.team_id == bindparam("team_id"),
           _ENGINEERS.c.user_id == bindparam("user_id"))
)
# Answers to questions no other submission answered first: a race lost (PostgreSQL; SQLite's
# writers run one at a time) skips those rows, and the caller revises them instead.
_ADD_FIRST = insert_per_dialect(lambda insert: insert(_ANSWERS).on_conflict_do_nothing().returning(_ANSWERS.c.question_id))
_REPLIES_PRIVATE = (
    update(_ANSWERS)
    .where(_ANSWERS.c.checkin_id == bindparam("of_checkin"), _ANSWERS.c.engineer_id == bindparam("of_engineer"),
           _ANSWERS.c.question_id.is_(None), _ANSWERS.c.is_private != bindparam("private"))
    .values(is_private=bindparam("private"))
)


class Answers:
    def __init__(self, session: Session):
        self.session = session

    def record(
        self,
        checkin: CheckIn | AnswerTarget,
        question_id: str | None,
        question_text: str,
        text: str,
        source: str,
        now: datetime,
        slack_ts: str | None = None,
        is_private: bool | None = None,
    ) -> tuple[Answer, bool]:
        """Store an answer in `checkin`; return (answer, created).

        For a question already answered in this check-in, the answer is edited in place
        (created False): the old text goes to an `AnswerRevision` unless unchanged.
        A free thread reply (`question_id` None) carrying a `slack_ts` already stored is
        returned as it is (created False), so Slack's event retries store it once.
        `is_private` None keeps the existing flag (False for a new answer).
        """
        new = Answer(
            checkin_id=checkin.id,
            engineer_id=checkin.engineer_id,
            question_id=question_id,
            question_text=question_text,
            text=text,
            source=source,
            is_private=bool(is_private),
            slack_ts=slack_ts,
            created_at=now,
            updated_at=now,
        )
        if question_id is None and slack_ts is None:  # a free reply with nothing to dedupe on
            self.session.add(new)
            self.session.flush()
            return new, True
        if question_id is None:
            # A ts is unique within one channel only: two engineers' DMs can share one.
            same = select(Answer).where(Answer.engineer_id == checkin.engineer_id, Answer.slack_ts == slack_ts)
        else:
            same = select(Answer).where(Answer.checkin_id == checkin.id, Answer.question_id == question_id)
        existing = self.session.scalars(same).one_or_none()
        if existing is not None:
            answer = existing
        else:
            # Slack retries an event, a modal is submitted twice: the unique key settles it.
            answer, created = insert_or_get(self.session, new, same)
            if created:
                return answer, True
        if question_id is not None:
            self._revise(answer, question_text, text, now, is_private)
        return answer, False

    def target(self, checkin_id: int, team_id: str, user_id: str) -> AnswerTarget | None:
        """Check-in `checkin_id` if it is `user_id`'s (of `team_id`), with what is answered in it
        already; None if it is not theirs or not there. One SELECT."""
        row = self.session.connection().execute(
            _TARGET, {"checkin_id": checkin_id, "team_id": team_id, "user_id": user_id}).first()
        if row is None:
            return None
        return AnswerTarget(row.id, row.engineer_id, list(row.questions or []), row.channel_id, row.message_ts,
                            bool(row.answered), bool(row.private), bool(row.public))

    def add_first(self, checkin: CheckIn | AnswerTarget, answers: list[tuple[str, str, str]], source: str,
                  now: datetime, is_private: bool) -> set[str]:
        """Store (question id, question text, text) answers to a check-in that has none for those
        questions, in one INSERT; the question ids stored. One another submission answered first
        (it won a race) is left out, for the caller to `record` instead.

        The modal's save path: `record` costs a SELECT and a SAVEPOINT'd flush per answer, and an
        ack waits on all of it (benchmarks/answer_ack.py)."""
        rows = [{"checkin_id": checkin.id, "engineer_id": checkin.engineer_id, "question_id": question_id,
                 "question_text": question_text, "text": text, "source": source, "is_private": is_private,
                 "slack_ts": None, "created_at": now, "updated_at": now}
                for question_id, question_text, text in answers]
        if not rows:
            return set()
        # One statement: SQLAlchemy sends a multi-row INSERT … RETURNING for a list of rows.
        return set(run_prebuilt(self.session, _ADD_FIRST, rows).scalars())

    def set_replies_private(self, checkin: CheckIn | AnswerTarget, private: bool) -> int:
        """Give every thread reply in the check-in the privacy `private`; how many changed."""
        return rowcount(self.session.connection().execute(
            _REPLIES_PRIVATE, {"of_checkin": checkin.id, "of_engineer": checkin.engineer_id, "private": private}))

    def _revise(self, answer: Answer, question_text: str, text: str, now: datetime, is_private: bool | None) -> None:
        if answer.text != text:
            self.session.add(AnswerRevision(answer_id=answer.id, previous_text=answer.text, edited_at=now))
            answer.text = text
            answer.question_text = question_text
            answer.updated_at = now
        if is_private is not None and answer.is_private != is_private:
            # Not an edit of what was written: `updated_at` stays, so a manager never sees an
            # "(edited)" mark that only betrays a change of privacy.
            answer.is_private = is_private
        self.session.flush()

    def by_slack_ts(self, slack_ts: str, team_id: str | None, user_id: str | None) -> Answer | None:
        """The thread reply `user_id` (of `team_id`) wrote as Slack message `slack_ts`, if any.
        Only theirs: a ts is unique within one channel, not across everyone's DMs."""
        return self.session.scalars(
            select(Answer).join(Engineer, Engineer.id == Answer.engineer_id)
            .where(Answer.slack_ts == slack_ts, Engineer.team_id == team_id, Engineer.user_id == user_id)
        ).one_or_none()

    def edit_text(self, answer: Answer, text: str, now: datetime) -> bool:
        """Replace an answer's text (the old one kept as a revision); False if unchanged."""
        if answer.text == text:
            return False
        self._revise(answer, answer.question_text, text, now, None)
        return True

    def delete(self, answer: Answer) -> None:
        """Remove one answer and its revisions (the engineer deleted it in Slack)."""
        self.session.execute(delete(AnswerRevision).where(AnswerRevision.answer_id == answer.id))
        self.session.delete(answer)
        self.session.flush()

    def delete_older_than(self, cutoff: datetime, batch: int) -> tuple[int, int]:
        """Delete up to `batch` answers written before `cutoff`, with all their revisions, and
        up to `batch` revisions of newer answers edited before it (text older still); return
        (answers, revisions) deleted. The retention pass calls it until both come back short."""
        ids = list(self.session.scalars(select(Answer.id).where(Answer.created_at < cutoff)
                                        .order_by(Answer.id).limit(batch)))
        revisions = 0
        if ids:
            revisions = rowcount(self.session.execute(
                delete(AnswerRevision).where(AnswerRevision.answer_id.in_(ids))
                .execution_options(synchronize_session=False)))
        old = list(self.session.scalars(select(AnswerRevision.id).where(AnswerRevision.edited_at < cutoff)
                                        .order_by(AnswerRevision.id).limit(batch)))
        if old:
            revisions += rowcount(self.session.execute(
                delete(AnswerRevision).where(AnswerRevision.id.in_(old)).execution_options(synchronize_session=False)))
        answers = 0
        if ids:
            answers = rowcount(self.session.execute(
                delete(Answer).where(Answer.id.in_(ids)).execution_options(synchronize_session=False)))
        return answers, revisions

    def delete_own(self, answer_id: int, engineer_id: int) -> bool:
        """Delete `engineer_id`'s own answer and its revisions; False (nothing deleted) if the
        answer is someone else's or gone."""
        answer = self.session.get(Answer, answer_id)
        if answer is None or answer.engineer_id != engineer_id:
            return False
        self.delete(answer)
        return True

    def revisions(self, answer_id: int) -> list[AnswerRevision]:
        """Earlier texts of an answer, oldest first."""
        return list(
            self.session.scalars(
                select(AnswerRevision)
                .where(AnswerRevision.answer_id == answer_id)
                .order_by(AnswerRevision.edited_at, AnswerRevision.id)
            )
        )

    def set_private(self, answer_id: int, engineer_id: int, private: bool) -> bool:
        """Set the private flag on `engineer_id`'s own answer; False if it is not theirs or absent."""
        answer = self.session.get(Answer, answer_id)
        if answer is None or answer.engineer_id != engineer_id:
            return False
        answer.is_private = private
        self.session.flush()
        return True

    def for_engineer(
        self,
        engineer_id: int,
        *,
        since: datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
        include_private: bool = True,
    ) -> list[Answer]:
        """The engineer's answers, newest first; `since` is inclusive."""
        query = select(Answer).where(Answer.engineer_id == engineer_id)
        if since is not None:
            query = query.where(Answer.created_at >= since)
        if not include_private:
            query = query.where(Answer.is_private.is_(False))
        query = query.order_by(Answer.created_at.desc(), Answer.id.desc()).offset(offset).limit(limit)
        return list(self.session.scalars(query))

    def for_checkin(self, checkin_id: int) -> list[Answer]:
        """The check-in's answers in the order they were first given."""
        return list(
            self.session.scalars(
                select(Answer).where(Answer.checkin_id == checkin_id).order_by(Answer.created_at, Answer.id)
            )
        )

    def count_since(self, engineer_id: int, since: datetime) -> int:
        """How many answers the engineer gave at or after `since` (private ones included)."""
        return (
            self.session.scalar(
                select(func.count())
                .select_from(Answer)
                .where(Answer.engineer_id == engineer_id, Answer.created_at >= since)
            )
            or 0
        )

    def last_answer_at(self, engineer_ids: Iterable[int], include_private: bool = True) -> dict[int, datetime]:
        """When each engineer last answered, in one query; engineers who never did are absent.

        A manager's view passes `include_private=False`: even the date of a private answer
        would tell them one exists.
        """
        ids = list(engineer_ids)
        if not ids:
            return {}
        query = select(Answer.engineer_id, func.max(Answer.created_at)).where(Answer.engineer_id.in_(ids))
        if not include_private:
            query = query.where(Answer.is_private.is_(False))
        rows = self.session.execute(query.group_by(Answer.engineer_id))
        return {engineer_id: at for engineer_id, at in rows}
