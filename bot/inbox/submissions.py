"""What a written-down modal submission does: its answers saved, in one transaction with the
inbox item's "done" (bot.inbox.intake writes it down before the modal closes)."""

from __future__ import annotations

from datetime import datetime

from bot.checkins.answering import save_modal_answers
from storage.repositories.inbox import Inbox

MODAL_SUBMISSION = "modal_submission"


def submission_payload(checkin_id: int, team_id: str, user_id: str, values: dict[str, str], private: bool,
                       key: str, submitted_at: datetime) -> dict:
    """What the inbox keeps of a submission: what the save needs, nothing more of Slack's payload."""
    return {"checkin_id": checkin_id, "team_id": team_id, "user_id": user_id, "values": values,
            "private": private, "key": key, "submitted_at": submitted_at.isoformat()}


def process_modal_submission(services, item_id: int) -> list[int]:
    """Save inbox item `item_id`'s answers once; the confirmation queued (to send after the commit)."""
    with services.uow.writing() as session:
        body = Inbox(session).take(item_id, services.now())
        if body is None:
            return []  # done already
        # Stored as of the moment the engineer pressed Save: a submission recovered after a
        # crash still counts for the week it was written in.
        saved = save_modal_answers(session, int(body["checkin_id"]), body["team_id"], body["user_id"],
                                   dict(body["values"]), bool(body["private"]), body["key"],
                                   datetime.fromisoformat(body["submitted_at"]))
    return [saved.confirmation_id] if saved is not None and saved.confirmation_id else []
