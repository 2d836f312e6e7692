"""Whether an answer's text can be stored as typed: checked on the server, whatever sent it.

Slack's client enforces the modal's `max_length` and never sends U+0000, but a crafted request
is not Slack's client, and a thread reply has no limit of ours at all. PostgreSQL cannot store
U+0000 in a text column (the INSERT fails after the ack, and the answer is lost), and neither
database can store half of a surrogate pair (`"\\ud83d"` in the JSON: the driver's UTF-8
encoding raises). An answer that breaks any of these is refused with a sentence saying why;
it is never cut, cleaned or dropped without a word. Plain Python: the caller passes the limit.
"""

from __future__ import annotations

from collections.abc import Mapping


def answer_problem(text: str, limit: int) -> str | None:
    """Why `text` cannot be saved, in one short sentence (it fits a modal's field error); None
    if it can. Length counts code points, never more than Slack's own count (UTF-16 units), so
    whatever Slack's client let through passes."""
    if "\x00" in text:
        return "This answer contains a NUL character (U+0000), which can't be stored. Remove it and save again."
    if len(text) > limit:
        return (f"This answer is {len(text):,} characters long; the most an answer can hold is {limit:,}. "
                "Shorten it and save again.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "This answer contains half of a character (a broken emoji?), which can't be stored. Retype it and save again."
    return None


def answer_errors(answers: Mapping[str, str], limit: int) -> dict[str, str]:
    """Question id -> why its answer cannot be saved, for each answer that cannot ({} if all can)."""
    return {qid: problem for qid, text in answers.items() if (problem := answer_problem(text, limit)) is not None}


def thread_reply_refusal(text: str, limit: int) -> str | None:
    """What to reply in the thread when a reply cannot be saved: why, and that nothing was."""
    problem = answer_problem(text, limit)
    if problem is None:
        return None
    return (f"I couldn't save that reply to your growth log: {problem[0].lower()}{problem[1:]} "
            .replace(" and save again.", " and send it again.") + "Nothing from it was saved.")
