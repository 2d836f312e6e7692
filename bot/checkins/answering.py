"""Recording answers to a check-in: from the modal, and from replies in the DM thread.

Only the engineer a check-in was sent to may answer it. Slack retries (events it thinks were
not acknowledged, double-clicked submits) are stored once: thread replies dedupe on the
message ts, modal answers are keyed by (check-in, question), and the event id is remembered.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.views import View

from bot.blocks.checkin import build_answer_modal
from storage.models import AnswerSource, CheckIn, Engineer
from storage.repositories import Answers, CheckIns, ProcessedEvents

THREAD_REPLY_QUESTION = "Reply in the check-in thread"
NOT_YOURS = "That check-in isn't yours, so I can't open it. `/growth now` shows your own."


@dataclass(frozen=True)
class Saved:
    saved: int
    edited: int
    channel_id: str | None
    message_ts: str | None
    duplicate: bool = False


def _own_checkin(session, checkin_id: int, team_id: str, user_id: str) -> CheckIn | None:
    checkin = CheckIns(session).by_id(checkin_id)
    if checkin is None:
        return None
    engineer = session.get(Engineer, checkin.engineer_id)
    if engineer is None or engineer.team_id != team_id or engineer.user_id != user_id:
        return None
    return checkin


def answer_modal(session_factory, checkin_id: int, team_id: str, user_id: str) -> View | None:
    """The modal for answering (or editing answers to) one's own check-in; None if not theirs."""
    with session_factory() as session:
        checkin = _own_checkin(session, checkin_id, team_id, user_id)
        if checkin is None:
            return None
        answers = Answers(session).for_checkin(checkin.id)
        existing = {a.question_id: a.text for a in answers if a.question_id}
        private = any(a.is_private for a in answers if a.question_id)
        return build_answer_modal(checkin.id, list(checkin.questions), existing, private)


def submission_key(view_id: str, values: dict[str, str], private: bool) -> str:
    digest = hashlib.sha256(json.dumps([values, private], sort_keys=True).encode()).hexdigest()[:16]
    return f"view:{view_id}:{digest}"


def save_modal_answers(session_factory, checkin_id: int, team_id: str, user_id: str,
                       values: dict[str, str], private: bool, dedupe_key: str, now: datetime) -> Saved | None:
    """Store the submitted answers; None if the check-in is not the submitter's."""
    with session_factory.begin() as session:
        checkin = _own_checkin(session, checkin_id, team_id, user_id)
        if checkin is None:
            return None
        if not ProcessedEvents(session).first_time(dedupe_key, now):
            return Saved(0, 0, checkin.channel_id, checkin.message_ts, duplicate=True)
        answers = Answers(session)
        saved = edited = 0
        for question in checkin.questions:
            text = (values.get(question["id"]) or "").strip()
            if not text:
                continue
            answer, created = answers.record(checkin, question["id"], question["text"], text,
                                             AnswerSource.MODAL.value, now, is_private=private)
            if created:
                saved += 1
            elif answer.updated_at == now:
                edited += 1
        if saved or edited:
            CheckIns(session).mark_answered(checkin.id, now)
        return Saved(saved, edited, checkin.channel_id, checkin.message_ts)


def record_thread_reply(session_factory, team_id: str, user_id: str, channel_id: str, thread_ts: str,
                        ts: str, text: str, event_id: str | None, now: datetime) -> bool | None:
    """Store a reply typed in a check-in's thread. True if new, False if a retry we already have,
    None if the thread is not one of this user's check-ins."""
    with session_factory.begin() as session:
        checkin = CheckIns(session).by_message(channel_id, thread_ts)
        if checkin is None:
            return None
        engineer = session.get(Engineer, checkin.engineer_id)
        if engineer is None or engineer.team_id != team_id or engineer.user_id != user_id:
            return None
        if event_id and not ProcessedEvents(session).first_time(f"event:{event_id}", now):
            return False
        _, created = Answers(session).record(checkin, None, THREAD_REPLY_QUESTION, text,
                                             AnswerSource.THREAD.value, now, slack_ts=ts)
        if created:
            CheckIns(session).mark_answered(checkin.id, now)
        return created
