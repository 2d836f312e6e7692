"""Answers: the private growth log, with revisions and deduped thread replies."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Answer, AnswerRevision, CheckIn, Engineer
from storage.repositories._common import insert_or_get, rowcount


class Answers:
    def __init__(self, session: Session):
        self.session = session

    def record(
        self,
        checkin: CheckIn,
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

    def add_first(self, checkin: CheckIn, answers: list[tuple[str, str, str]], source: str, now: datetime,
                  is_private: bool) -> bool:
        """Store (question id, question text, text) answers to a check-in that has none for those
        questions, in one INSERT; False, with nothing written, if one is there after all (another
        submission won a race), for the caller to `record` them one by one instead.

        The modal's save path: `record` costs a SELECT and a SAVEPOINT'd flush per answer, and an
        ack waits on all of it (benchmarks/answer_ack.py)."""
        rows = [{"checkin_id": checkin.id, "engineer_id": checkin.engineer_id, "question_id": question_id,
                 "question_text": question_text, "text": text, "source": source, "is_private": is_private,
                 "slack_ts": None, "created_at": now, "updated_at": now}
                for question_id, question_text, text in answers]
        try:
            with self.session.begin_nested():
                self.session.execute(insert(Answer), rows)
        except IntegrityError:
            return False
        return True

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
